using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Privacy;

/// <summary>Computes the gradient of each example's loss separately (what DP-SGD clips).</summary>
public interface IPerSampleGradients
{
    /// <summary>
    /// The per-example gradients of <paramref name="count"/> examples, row-major (count × P): row b is ∇θ ℓ_b flattened over
    /// <paramref name="parameters"/> in order (P = their total length). Parameter gradients are left cleared.
    /// </summary>
    float[] Compute(IReadOnlyList<Tensor> parameters, int count);
}

/// <summary>
/// Per-example gradients by a loop of microbatches of one: forward and backward once per example. Correct for any
/// model (norm layers, attention, convolutions, several noise draws per example averaged inside <paramref name="exampleLoss"/>),
/// at the price of <c>count</c> passes of batch 1 instead of one pass of batch <c>count</c>.
/// </summary>
/// <param name="exampleLoss">Builds the scalar loss of example b (0-based position in the batch), with autograd on.</param>
public sealed class MicrobatchGradients(Func<int, Tensor> exampleLoss) : IPerSampleGradients
{
    /// <inheritdoc />
    public float[] Compute(IReadOnlyList<Tensor> parameters, int count)
    {
        var p = parameters.Sum(t => t.Length);
        var result = new float[(long)count * p];
        foreach (var t in parameters) t.ZeroGrad();
        for (var b = 0; b < count; b++)
        {
            var loss = exampleLoss(b);
            if (loss.Length != 1) throw new InvalidOperationException("an example's loss must be a scalar");
            loss.Backward();
            var offset = (long)b * p;
            foreach (var t in parameters)
            {
                if (t.Grad is { } g) g.CopyTo(result.AsSpan((int)offset, t.Length));
                offset += t.Length;
                t.ZeroGrad();
            }
        }

        return result;
    }
}

/// <summary>
/// DP-SGD's clipped sum by a loop of microbatches of one, streamed: each example's gradient is clipped as soon as its
/// backward is done and added into the running sum, so a call holds O(P) (the sum and the parameters' gradients), not the
/// count × P per-example gradients of <see cref="MicrobatchGradients"/>. Bit for bit what
/// <see cref="PrivacyEngine.ClipAndSum"/> makes of <see cref="MicrobatchGradients.Compute"/> (kept as its oracle): the
/// squared norm summed in double over the parameters in order, the same factor (<see cref="PrivacyEngine.ClipFactorOfSquaredNorm"/>),
/// the examples added in order b = 0..count−1 into a double sum, a parameter the loss did not reach counted as zeros.
/// </summary>
/// <param name="exampleLoss">Builds the scalar loss of example b (0-based position in the batch), with autograd on.</param>
public sealed class MicrobatchClipping(Func<int, Tensor> exampleLoss) : IClippedGradientSum
{
    /// <summary>
    /// Whether the parameters' gradient buffers are zeroed in place and kept (each example's backward accumulates into the
    /// same buffers, and a trainer that steps again reuses them) instead of dropped; false (the default): they are left null.
    /// </summary>
    public bool KeepGradientBuffers { get; init; }

    /// <summary>
    /// A buffer of P doubles (the parameters' total length) that the clipped sum is written into and returned as, so that
    /// a trainer's steps reuse one; null (the default): each call returns a new array.
    /// </summary>
    public double[]? Sum { get; init; }

    /// <summary>
    /// An arena that each example's forward and backward run in, reset once its gradient is added (read from the loss what
    /// must outlive the example inside <c>exampleLoss</c>): the examples of a microbatch of one build graphs of one shape,
    /// so after the first the activations reuse its buffers; null (the default): they come from the heap.
    /// </summary>
    public TensorArena? Arena { get; init; }

    /// <inheritdoc />
    public double[] ClippedSum(IReadOnlyList<Tensor> parameters, int count, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        // indexed loops, not foreach over the interface (a boxed enumerator per loop, several per example)
        var p = 0;
        for (var i = 0; i < parameters.Count; i++) p += parameters[i].Length;
        var sum = ClippedSumBuffer.Take(Sum, p);
        for (var i = 0; i < parameters.Count; i++) parameters[i].ZeroGrad(setToNone: !KeepGradientBuffers);
        if (Arena is not { } arena)
        {
            for (var b = 0; b < count; b++) AddClipped(parameters, b, maxNorm, sum);
            return sum;
        }

        // the arena is made current once for all the examples (each Use sets an AsyncLocal: garbage per example), and
        // reset after each example
        using (arena.Use())
        {
            for (var b = 0; b < count; b++)
            {
                try
                {
                    AddClipped(parameters, b, maxNorm, sum);
                }
                finally
                {
                    arena.Reset();
                }
            }
        }

        return sum;
    }

    // sum += min(1, C/(‖g_b‖₂ + 1e-6)) g_b, g_b read from the parameters' gradients, which are then cleared
    private void AddClipped(IReadOnlyList<Tensor> parameters, int b, double maxNorm, double[] sum)
    {
        var loss = exampleLoss(b);
        if (loss.Length != 1) throw new InvalidOperationException("an example's loss must be a scalar");
        loss.Backward();
        var sq = 0.0;
        for (var k = 0; k < parameters.Count; k++)
        {
            if (parameters[k].Grad is not { } g) continue; // zeros: sq + 0 · 0 = sq
            foreach (var v in g) sq += (double)v * v;
        }

        var factor = PrivacyEngine.ClipFactorOfSquaredNorm(sq, maxNorm);
        var offset = 0;
        for (var k = 0; k < parameters.Count; k++)
        {
            var t = parameters[k];
            var row = sum.AsSpan(offset, t.Length);
            if (t.Grad is { } g)
            {
                for (var i = 0; i < row.Length; i++) row[i] += factor * g[i];
            }
            else
            {
                for (var i = 0; i < row.Length; i++) row[i] += factor * 0f; // as the naive row's zeros: NaN when the norm is
            }

            offset += t.Length;
            t.ZeroGrad(setToNone: !KeepGradientBuffers);
        }
    }

}

/// <summary>
/// Vectorised per-example gradients for models whose trainable layers are all <see cref="PerSampleLinear"/> (with any
/// per-example, parameter-free ops between them), the way Opacus's <c>grad_sample/linear.py</c> does it: one batched
/// forward and backward of the summed loss, then for every layer ∂ℓ_b/∂W = Σ_t δ_{b,t}ᵀ x_{b,t} and ∂ℓ_b/∂b = Σ_t δ_{b,t}
/// from the saved input x and the output gradient δ (which the layer exposes through a zero "probe" it adds to its output).
/// </summary>
/// <param name="batchLossSum">Runs the batched forward and returns the SUM over the batch of the per-example losses.</param>
public sealed class LinearLayerGradients(Func<Tensor> batchLossSum) : IPerSampleGradients
{
    /// <inheritdoc />
    /// <exception cref="NotSupportedException">A parameter does not belong to a <see cref="PerSampleLinear"/> used in the forward.</exception>
    public float[] Compute(IReadOnlyList<Tensor> parameters, int count)
    {
        var offsets = new Dictionary<Tensor, long>(ReferenceEqualityComparer.Instance);
        long p = 0;
        foreach (var t in parameters)
        {
            offsets[t] = p;
            p += t.Length;
        }

        var result = new float[count * p];
        foreach (var t in parameters) t.ZeroGrad();
        using var recorder = GradSampleRecorder.Start();
        var loss = batchLossSum();
        if (loss.Length != 1) throw new InvalidOperationException("the batch loss must be a scalar (the sum of per-example losses)");
        loss.Backward();
        var covered = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (layer, input, probe) in recorder.Records)
        {
            var delta = probe.Grad;
            if (delta is null) continue; // the layer's output did not reach the loss
            int inF = layer.InFeatures, outF = layer.OutFeatures;
            var rows = input.Length / inF;
            if (input.Shape[0] != count || rows % count != 0)
                throw new InvalidOperationException($"PerSampleLinear input {Tensor.FormatShape(input.Shape)} does not start with the batch size {count}");
            var perExample = rows / count; // rows of the layer's input that belong to one example (e.g. time steps)
            var wOffset = offsets.TryGetValue(layer.Weight, out var wo) ? wo : -1;
            var bOffset = layer.Bias is not null && offsets.TryGetValue(layer.Bias, out var bo) ? bo : -1;
            if (wOffset >= 0) covered.Add(layer.Weight);
            if (bOffset >= 0) covered.Add(layer.Bias!);
            for (var b = 0; b < count; b++)
            {
                var x = input.Data.AsSpan(b * perExample * inF, perExample * inF);
                var d = delta.AsSpan(b * perExample * outF, perExample * outF);
                if (wOffset >= 0)
                {
                    // ∂ℓ_b/∂W (out × in) += δ_bᵀ (out × T) · x_b (T × in)
                    global::Crucible.Tensors.Kernels.Kernels.Gemm(true, false, outF, inF, perExample, 1f, d, outF, x, inF, 1f,
                        result.AsSpan((int)(b * p + wOffset), outF * inF), inF);
                }

                if (bOffset >= 0)
                {
                    var gb = result.AsSpan((int)(b * p + bOffset), outF);
                    for (var t = 0; t < perExample; t++) System.Numerics.Tensors.TensorPrimitives.Add(gb, d.Slice(t * outF, outF), gb);
                }
            }
        }

        foreach (var t in parameters)
        {
            if (!covered.Contains(t) && t.Grad is not null)
                throw new NotSupportedException($"parameter '{t.Name}' has no vectorised per-sample rule; use MicrobatchGradients for this model");
            t.ZeroGrad();
        }

        return result;
    }
}

/// <summary>Collects (layer, input, output probe) triples during a forward pass on this thread.</summary>
public sealed class GradSampleRecorder : IDisposable
{
    [ThreadStatic]
    private static GradSampleRecorder? s_current;

    private readonly GradSampleRecorder? _previous;
    private readonly List<(PerSampleLinear Layer, Tensor Input, Tensor Probe)> _records = [];

    private GradSampleRecorder(GradSampleRecorder? previous) => _previous = previous;

    /// <summary>The recorder active on this thread, or null.</summary>
    public static GradSampleRecorder? Current => s_current;

    /// <summary>The records of the forward passes run since <see cref="Start"/>.</summary>
    public IReadOnlyList<(PerSampleLinear Layer, Tensor Input, Tensor Probe)> Records => _records;

    /// <summary>Starts recording on this thread until disposed.</summary>
    public static GradSampleRecorder Start() => s_current = new GradSampleRecorder(s_current);

    internal void Record(PerSampleLinear layer, Tensor input, Tensor probe) => _records.Add((layer, input, probe));

    /// <inheritdoc />
    public void Dispose() => s_current = _previous;
}

/// <summary>
/// A <see cref="Linear"/> layer (same parameters, names, initialisation and maths) that exposes what per-example
/// gradients need while a <see cref="GradSampleRecorder"/> is active: its input and the gradient of its output.
/// </summary>
public sealed class PerSampleLinear : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer, initialised from <paramref name="rng"/> exactly as <see cref="Linear"/> is.</summary>
    public PerSampleLinear(int inFeatures, int outFeatures, Philox rng, bool bias = true)
    {
        var inner = new Linear(inFeatures, outFeatures, rng, bias);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", inner.Weight);
        if (inner.Bias is not null) Bias = RegisterParameter("bias", inner.Bias);
    }

    /// <summary>The number of input features.</summary>
    public int InFeatures { get; }

    /// <summary>The number of output features.</summary>
    public int OutFeatures { get; }

    /// <summary>W: (out, in).</summary>
    public Tensor Weight { get; }

    /// <summary>b: (out), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    // input: (B, …, in) -> (B, …, out)
    public override Tensor Forward(Tensor input)
    {
        var y = Tensor.Linear(input, Weight, Bias);
        if (GradSampleRecorder.Current is not { } recorder || !y.RequiresGrad) return y;
        var probe = Tensor.Zeros(y.Shape, requiresGrad: true); // y + 0: its gradient is ∂L/∂y
        recorder.Record(this, input, probe);
        return y + probe;
    }
}
