using Crucible.Tensors.Kernels;
using static Crucible.Tensors.Kernels.Kernels;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>Rows of an elementwise pass per thread below which it stays on one thread.</summary>
    private const int ElementsPerThread = 1 << 15;

    /// <summary>
    /// The fused layer <c>y = act(x · Wᵀ + b) + residual</c>: x (…, in), weight (out, in), bias (out) or null, residual
    /// (…, out) or null → (…, out). One op instead of three (linear, activation, add): the bias is the GEMM's starting
    /// value, the activation and the residual are applied to each block of the output by the thread that computed
    /// it while it is in cache, and the backward pass (beside the forward below) takes the activation's derivative
    /// in one pass before the two GEMMs. The values are bit-identical to <c>residual + Linear(x, W, b).Silu()</c>.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias, Activation activation, Tensor? residual = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"Linear: weight must be (out, in), got {FormatShape(weight.Shape)}");
        int inF = weight.Shape[1], outF = weight.Shape[0];
        if (x.Rank < 1 || x.Shape[^1] != inF) throw new ArgumentException($"Linear: input {FormatShape(x.Shape)} does not end in {inF}");
        int rows = x.Length / Math.Max(1, inF);
        var shape = (int[])[.. x.Shape[..^1], outF];
        return Affine(x, x.Data, rows, inF, weight, weight.Data, outF, bias, activation, residual, shape, backwardInput: null, backwardWeight: null);
    }

    /// <summary>
    /// The shared core of the fused ops: y (rows, outF) = act(a (rows, inF) · w (outF, inF)ᵀ + b) + residual, recorded
    /// with inputs (x, weight, bias, residual). <paramref name="backwardInput"/> turns dA (rows, inF) into x's gradient
    /// (null: A is x itself); <paramref name="backwardWeight"/> turns dW (outF, inF) into weight's gradient (null: w is
    /// weight's own data).
    /// </summary>
    private static Tensor Affine(
        Tensor x, float[] a, int rows, int inF, Tensor weight, float[] w, int outF, Tensor? bias, Activation activation, Tensor? residual,
        int[] shape, Action<float[]>? backwardInput, Action<float[]>? backwardWeight)
    {
        int n = rows * outF;
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF)) throw new ArgumentException($"bias must be ({outF}), got {FormatShape(bias.Shape)}");
        if (residual is not null && !SameShape(residual.Shape, shape)) throw new ArgumentException($"residual must be {FormatShape(shape)}, got {FormatShape(residual.Shape)}");
        bool track = GradMode.IsEnabled && (x.RequiresGrad || weight.RequiresGrad || (bias?.RequiresGrad ?? false) || (residual?.RequiresGrad ?? false));

        // z = a·wᵀ + b, the pre-activation; kept for the backward pass only when an activation needs it
        var y = TensorArena.Output(n);
        var z = track && activation != Activation.None ? TensorArena.Output(n) : y;
        if (bias is not null)
        {
            for (int r = 0; r < rows; r++) bias.Data.CopyTo(z, r * outF);
        }

        float[]? res = residual?.Data;
        GemmEpilogue? epilogue = activation == Activation.None && res is null ? null : (r0, r1, c0, c1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int at = (r * outF) + c0, len = c1 - c0;
                ActivationForward(activation, z.AsSpan(at, len), res is null ? default : res.AsSpan(at, len), y.AsSpan(at, len));
            }
        };
        GemmWithEpilogue(false, true, rows, outF, inF, 1f, a, inF, w, inF, bias is null ? 0f : 1f, z, outF, epilogue);

        Tensor[] inputs = (bias, residual) switch
        {
            (null, null) => [x, weight],
            (not null, null) => [x, weight, bias],
            (null, not null) => [x, weight, residual],
            _ => [x, weight, bias, residual],
        };
        return Result(y, shape, inputs, o =>
        {
            var g = o.Grad!;
            if (residual is { RequiresGrad: true }) Broadcast.AccumulateReduced(g, shape, residual.GradOrCreate(), residual.Shape);

            // dz = dy · act′(z)
            var gz = g;
            if (activation != Activation.None)
            {
                gz = TensorArena.Output(n);
                EngineThreads.For(rows, Math.Max(1, ElementsPerThread / Math.Max(1, outF)), (r0, r1) =>
                    ActivationBackward(activation, z.AsSpan(r0 * outF, (r1 - r0) * outF), g.AsSpan(r0 * outF, (r1 - r0) * outF), gz.AsSpan(r0 * outF, (r1 - r0) * outF)));
            }

            // dA = dz · W (rows×out · out×in); dW = dzᵀ · A (out×rows · rows×in); db = Σ_rows dz
            if (x.RequiresGrad)
            {
                if (backwardInput is null) Gemm(false, false, rows, inF, outF, 1f, gz, outF, w, inF, 1f, x.GradOrCreate(), inF);
                else
                {
                    var da = TensorArena.Output(rows * inF);
                    Gemm(false, false, rows, inF, outF, 1f, gz, outF, w, inF, 0f, da, inF);
                    backwardInput(da);
                }
            }

            if (weight.RequiresGrad)
            {
                if (backwardWeight is null) Gemm(true, false, outF, inF, rows, 1f, gz, outF, a, inF, 1f, weight.GradOrCreate(), inF);
                else
                {
                    var dw = TensorArena.Output(outF * inF);
                    Gemm(true, false, outF, inF, rows, 1f, gz, outF, a, inF, 0f, dw, inF);
                    backwardWeight(dw);
                }
            }

            if (bias is { RequiresGrad: true }) AddColumnSums(gz, rows, outF, bias.GradOrCreate());
        });
    }
}
