using Crucible.Tensors.Random;

namespace Crucible.Tensors.Nn;

/// <summary>
/// Affine map y = x · Wᵀ + b (PyTorch's <c>nn.Linear</c>): x (…, in) → (…, out).
/// Parameters, in state-dict order: <c>weight</c> (out, in), <c>bias</c> (out).
/// </summary>
/// <remarks>
/// Initialisation as PyTorch's <c>reset_parameters</c>: weight by <see cref="Init.KaimingUniform"/> with a = √5,
/// i.e. U(−1/√in, 1/√in), then bias U(−1/√in, 1/√in); both drawn in that order from the <see cref="Philox"/>
/// passed to the constructor, which is advanced by out·in (+ out) floats.
/// </remarks>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer and initialises it from <paramref name="rng"/>.</summary>
    public Linear(int inFeatures, int outFeatures, Philox rng, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Init.KaimingUniform(Tensor.Zeros([outFeatures, inFeatures]), rng));
        if (bias)
        {
            float bound = 1f / MathF.Sqrt(inFeatures);
            Bias = RegisterParameter("bias", Init.Uniform(Tensor.Zeros([outFeatures]), rng, -bound, bound));
        }
    }

    /// <summary>The number of input features.</summary>
    public int InFeatures { get; }

    /// <summary>The number of output features.</summary>
    public int OutFeatures { get; }

    /// <summary>W: (out, in).</summary>
    public Tensor Weight { get; }

    /// <summary>b: (out), or null without bias.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    // input: (…, in) -> (…, out)
    public override Tensor Forward(Tensor input) => Tensor.Linear(input, Weight, Bias);
}
