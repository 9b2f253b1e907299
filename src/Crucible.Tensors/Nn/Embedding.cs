using Crucible.Tensors.Random;

namespace Crucible.Tensors.Nn;

/// <summary>
/// A lookup table (PyTorch's <c>nn.Embedding</c>): output[…, :] = weight[index[…], :].
/// Parameter: <c>weight</c> (numEmbeddings, dim), initialised N(0, 1) from the constructor's <see cref="Philox"/>.
/// </summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table and fills it from <paramref name="rng"/>.</summary>
    public Embedding(int numEmbeddings, int dim, Philox rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numEmbeddings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        Weight = RegisterParameter("weight", Init.Normal(Tensor.Zeros([numEmbeddings, dim]), rng));
    }

    /// <summary>The table: (numEmbeddings, dim).</summary>
    public Tensor Weight { get; }

    /// <summary>Looks up <paramref name="indices"/>; the output has shape indexShape + (dim), (N, dim) by default.</summary>
    // indices: (N) or indexShape -> (…, dim)
    public Tensor Forward(ReadOnlySpan<int> indices, int[]? indexShape = null)
    {
        if (indexShape is not null && Tensor.Numel(indexShape) != indices.Length)
        {
            throw new ArgumentException($"index shape {Tensor.FormatShape(indexShape)} does not hold {indices.Length} indices", nameof(indexShape));
        }

        return Weight.IndexSelect(indices, indexShape);
    }
}
