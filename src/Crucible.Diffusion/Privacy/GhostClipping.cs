using System.Buffers;
using Crucible.Tensors;

namespace Crucible.Diffusion.Privacy;

/// <summary>
/// Computes DP-SGD's clipped sum Σ_b min(1, C/(‖g_b‖₂ + 1e-6)) g_b of the per-example gradients g_b, flattened over the
/// parameters in order (length P), in double.
/// </summary>
public interface IClippedGradientSum
{
    /// <summary>The clipped sum over <paramref name="count"/> examples. Parameter gradients are left cleared.</summary>
    double[] ClippedSum(IReadOnlyList<Tensor> parameters, int count, double maxNorm);
}

/// <summary>The buffer a clipped sum is written into (<see cref="GhostClipping.Sum"/>, <see cref="MicrobatchClipping.Sum"/>).</summary>
internal static class ClippedSumBuffer
{
    /// <summary><paramref name="given"/> cleared when the caller keeps one (it must hold <paramref name="length"/> values), else a new array.</summary>
    /// <exception cref="ArgumentException">The given buffer's length is not the parameters' total length.</exception>
    public static double[] Take(double[]? given, int length)
    {
        if (given is null) return new double[length];
        if (given.Length != length) throw new ArgumentException($"the sum buffer has {given.Length} values for {length} parameters", "parameters");
        Array.Clear(given);
        return given;
    }
}

/// <summary>
/// Records the linear layers of one forward pass for <see cref="GhostClipping"/>: every layer goes through
/// <see cref="Linear"/>, which adds a zero "probe" to the layer's output so that backward exposes ∂L/∂y.
/// </summary>
public sealed class LinearTape
{
    private readonly List<(Tensor Weight, Tensor? Bias, Tensor Input, Tensor Probe)> _records = [];
    private float[] _zeros = []; // the probes' values: probes of one size share them (nothing writes a probe)

    /// <summary>The (weight, bias, input, output probe) of every layer recorded, in forward order.</summary>
    public IReadOnlyList<(Tensor Weight, Tensor? Bias, Tensor Input, Tensor Probe)> Records => _records;

    /// <summary>y = x Wᵀ + b, recorded: <paramref name="input"/> is (B, …, in), the result (B, …, out).</summary>
    public Tensor Linear(Tensor input, Tensor weight, Tensor? bias)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var y = Tensor.Linear(input, weight, bias);
        if (_zeros.Length != y.Length) _zeros = new float[y.Length];
        var probe = new Tensor(_zeros, y.Shape, requiresGrad: true); // y + 0: its gradient is ∂L/∂y
        _records.Add((weight, bias, input, probe));
        return y + probe;
    }
}

/// <summary>
/// Per-example clipping without materialising the per-example gradients ("ghost clipping", Goodfellow 2015; Li et al.
/// ICLR 2022), for models whose trainable parameters all belong to linear layers recorded on a <see cref="LinearTape"/>.
/// One batched forward and backward of the summed loss gives each layer's input x and output gradient δ; example b's
/// gradient of W is Σ_t δ_{b,t} x_{b,t}ᵀ over its T rows, whose squared Frobenius norm is
/// Σ_{t,s} (δ_{b,t}·δ_{b,s})(x_{b,t}·x_{b,s}) (‖δ_b‖²‖x_b‖² when T = 1), and of b, ‖Σ_t δ_{b,t}‖². With the clip factors
/// c_b the clipped sum of W's gradients is one product (c ⊙ δ)ᵀ X. Memory is O(B·width), not O(B·P).
/// </summary>
/// <param name="batchLossSum">Runs the batched forward through the tape and returns the SUM of the per-example losses.</param>
public sealed class GhostClipping(Func<LinearTape, Tensor> batchLossSum) : IClippedGradientSum
{
    /// <summary>The per-example L2 norms of the last call (before clipping), for tests and diagnostics.</summary>
    public double[] LastNorms { get; private set; } = [];

    /// <summary>
    /// Whether the parameters' gradient buffers are zeroed in place and kept (a trainer that steps again reuses them, as
    /// PyTorch 1.13's <c>zero_grad(set_to_none=False)</c>) instead of dropped; false (the default): they are left null.
    /// </summary>
    public bool KeepGradientBuffers { get; init; }

    /// <summary>
    /// A buffer of P doubles (the parameters' total length) that the clipped sum is written into and returned as, so that
    /// a trainer's steps reuse one; null (the default): each call returns a new array.
    /// </summary>
    public double[]? Sum { get; init; }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">A parameter that got a gradient is not a recorded layer's, or a layer's weight is used twice.</exception>
    public double[] ClippedSum(IReadOnlyList<Tensor> parameters, int count, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var offsets = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        var p = 0;
        for (var k = 0; k < parameters.Count; k++)
        {
            offsets[parameters[k]] = p;
            p += parameters[k].Length;
        }

        var sum = ClippedSumBuffer.Take(Sum, p);
        for (var k = 0; k < parameters.Count; k++) parameters[k].ZeroGrad(setToNone: !KeepGradientBuffers);
        var tape = new LinearTape();
        var loss = batchLossSum(tape);
        if (loss.Length != 1) throw new InvalidOperationException("the batch loss must be a scalar (the sum of per-example losses)");
        loss.Backward();

        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var layers = new List<(int WOffset, int BOffset, int In, int Out, int PerExample, float[] X, float[] D)>();
        var normSq = new double[count];
        foreach (var (weight, bias, input, probe) in tape.Records)
        {
            if (probe.Grad is not { } delta) continue; // the layer's output did not reach the loss
            if (!seen.Add(weight)) throw new NotSupportedException($"weight '{weight.Name}' is used by two recorded layers; ghost clipping needs one use per parameter");
            if (bias is not null && !seen.Add(bias)) throw new NotSupportedException($"bias '{bias.Name}' is used twice");
            int outF = weight.Shape[0], inF = weight.Shape[1];
            var rows = input.Length / inF;
            if (input.Shape[0] != count || rows % count != 0)
                throw new InvalidOperationException($"a recorded layer's input {Tensor.FormatShape(input.Shape)} does not start with the batch size {count}");
            var perExample = rows / count;
            var wOffset = offsets.TryGetValue(weight, out var wo) ? wo : -1;
            var bOffset = bias is not null && offsets.TryGetValue(bias, out var bo) ? bo : -1;
            var x = input.Data;
            for (var b = 0; b < count; b++)
            {
                var xb = x.AsSpan(b * perExample * inF, perExample * inF);
                var db = delta.AsSpan(b * perExample * outF, perExample * outF);
                if (wOffset >= 0) normSq[b] += WeightNormSquared(xb, db, perExample, inF, outF);
                if (bOffset >= 0) normSq[b] += BiasNormSquared(db, perExample, outF);
            }

            layers.Add((wOffset, bOffset, inF, outF, perExample, x, delta));
        }

        for (var k = 0; k < parameters.Count; k++)
        {
            var t = parameters[k];
            if (!seen.Contains(t) && t.Grad is { } g && g.AsSpan().ContainsAnyExcept(0f))
                throw new NotSupportedException($"parameter '{t.Name}' is not a recorded linear layer's; use MicrobatchClipping for this model");
            t.ZeroGrad(setToNone: !KeepGradientBuffers);
        }

        var norms = new double[count];
        var factor = new float[count];
        for (var b = 0; b < count; b++)
        {
            norms[b] = Math.Sqrt(normSq[b]);
            factor[b] = (float)Math.Min(1.0, maxNorm / (norms[b] + 1e-6));
        }

        LastNorms = norms;
        foreach (var (wOffset, bOffset, inF, outF, perExample, x, delta) in layers)
        {
            var rows = count * perExample;
            // the scaled output gradients and W's clipped sum are scratch of this call: pooled, not garbage of every step
            var pooled = ArrayPool<float>.Shared.Rent(rows * outF);
            var scaled = pooled.AsSpan(0, rows * outF);
            for (var r = 0; r < rows; r++)
            {
                var c = factor[r / perExample];
                for (var j = 0; j < outF; j++) scaled[(r * outF) + j] = c * delta[(r * outF) + j];
            }

            if (wOffset >= 0)
            {
                // Σ_b c_b δ_bᵀ x_b: (out × rows) · (rows × in)
                var pooledW = ArrayPool<float>.Shared.Rent(outF * inF);
                var gw = pooledW.AsSpan(0, outF * inF);
                global::Crucible.Tensors.Kernels.Kernels.Gemm(true, false, outF, inF, rows, 1f, scaled, outF, x, inF, 0f, gw, inF);
                for (var i = 0; i < gw.Length; i++) sum[wOffset + i] = gw[i];
                ArrayPool<float>.Shared.Return(pooledW);
            }

            if (bOffset >= 0)
            {
                for (var r = 0; r < rows; r++)
                {
                    for (var j = 0; j < outF; j++) sum[bOffset + j] += scaled[(r * outF) + j];
                }
            }

            ArrayPool<float>.Shared.Return(pooled);
        }

        return sum;
    }


    private static double WeightNormSquared(ReadOnlySpan<float> x, ReadOnlySpan<float> d, int rows, int inF, int outF)
    {
        double s = 0;
        for (var t = 0; t < rows; t++)
        {
            for (var u = 0; u < rows; u++)
            {
                s += Dot(d.Slice(t * outF, outF), d.Slice(u * outF, outF)) * Dot(x.Slice(t * inF, inF), x.Slice(u * inF, inF));
            }
        }

        return s;
    }

    private static double BiasNormSquared(ReadOnlySpan<float> d, int rows, int outF)
    {
        double s = 0;
        for (var j = 0; j < outF; j++)
        {
            double g = 0;
            for (var t = 0; t < rows; t++) g += d[(t * outF) + j];
            s += g * g;
        }

        return s;
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
