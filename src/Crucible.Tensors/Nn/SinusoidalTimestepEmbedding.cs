namespace Crucible.Tensors.Nn;

/// <summary>
/// The sinusoidal embedding of a scalar time (Vaswani et al. 2017 §3.5; used for diffusion steps by Ho et al. 2020):
/// with half = d/2, f_i = exp(−ln(10000) · i / half) for i = 0 … half−1, and a_{b,i} = scale · t_b · f_i,
/// output (B, d) = [sin(a), cos(a)] concatenated along the feature axis. No parameters.
/// </summary>
/// <remarks>
/// This matches, operation for operation in float32, the peer code
/// <c>f = exp(-log(10000) * arange(half) / half); x = t[:, None] * 1000 * f[None]; cat([x.sin(), x.cos()], 1)</c>
/// with <see cref="Scale"/> = 1000, which that code applies to t/T in [0, 1). The default scale is 1 (integer
/// steps t). The output carries no gradient: t is data, not a parameter.
/// </remarks>
public sealed class SinusoidalTimestepEmbedding : Module<Tensor, Tensor>
{
    /// <summary>Creates the embedding of even width <paramref name="dim"/>.</summary>
    public SinusoidalTimestepEmbedding(int dim, float scale = 1f)
    {
        if (dim <= 0 || dim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(dim), $"dim must be positive and even, got {dim}");
        Dim = dim;
        Scale = scale;
    }

    /// <summary>d, the output width.</summary>
    public int Dim { get; }

    /// <summary>The factor applied to t before the frequencies (1000 in the peer code for t/T in [0, 1)).</summary>
    public float Scale { get; }

    /// <inheritdoc />
    // input: (B) -> (B, d)
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 1) throw new ArgumentException($"expected t of shape (B), got {Tensor.FormatShape(input.Shape)}", nameof(input));
        return Embed(input.Data, Dim, Scale);
    }

    /// <summary>The embedding as a function: t (B) → (B, d).</summary>
    public static Tensor Embed(ReadOnlySpan<float> t, int dim, float scale = 1f)
    {
        if (dim <= 0 || dim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(dim), $"dim must be positive and even, got {dim}");
        int half = dim / 2, b = t.Length;

        // float32 throughout, in the peer code's order of operations: f = exp((−ln 10000 · i) / half)
        var f = new float[half];
        float negLog = (float)-Math.Log(10000.0);
        for (int i = 0; i < half; i++) f[i] = MathF.Exp(negLog * i / half);
        // the angles in place, then vectorised sin and cos of each row (TensorPrimitives; PyTorch's are vectorised too)
        var output = TensorArena.Output(b * dim);
        for (int r = 0; r < b; r++)
        {
            float ts = t[r] * scale;
            var row = output.AsSpan(r * dim, dim);
            System.Numerics.Tensors.TensorPrimitives.Multiply(f, ts, row[half..]);
            System.Numerics.Tensors.TensorPrimitives.Sin(row[half..], row[..half]);
            System.Numerics.Tensors.TensorPrimitives.Cos(row[half..], row[half..]);
        }

        return new Tensor(output, [b, dim]);
    }
}
