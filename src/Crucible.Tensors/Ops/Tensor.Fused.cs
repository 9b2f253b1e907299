using Crucible.Tensors.Kernels;
using static Crucible.Tensors.Kernels.Kernels;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>Elements of an elementwise pass per thread below which it stays on one thread.</summary>
    private const int ElementsPerThread = 1 << 15;

    /// <summary>
    /// The fused layer <c>y = act(x · Wᵀ + b) + residual</c>: x (…, in), weight (out, in), bias (out) or null, residual
    /// (…, out), or (…, 1, out) added to every row of the next-to-last dimension, or (1, …, 1, out) added to every row,
    /// or null → (…, out). One op instead of three (linear, activation, add): the bias, the activation and the
    /// residual are applied in one pass to each block of the GEMM's output by the thread that computed it, while it is
    /// in cache, and the backward pass (beside the forward, in <c>Affine</c>) takes the residual's gradient and the
    /// activation's derivative in one pass before the two GEMMs. The values are bit-identical to
    /// <c>residual + Linear(x, W, b).Silu()</c> (and likewise for the other activations).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias, Activation activation, Tensor? residual = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"Linear: weight must be (out, in), got {FormatShape(weight.Shape)}");
        int inF = weight.Shape[1], outF = weight.Shape[0];
        if (x.Rank < 1 || x.Shape[^1] != inF) throw new ArgumentException($"Linear: input {FormatShape(x.Shape)} does not end in {inF}");
        int rows = Numel(x.Shape.AsSpan(0, x.Rank - 1));
        var shape = (int[])[.. x.Shape[..^1], outF];
        float[] a = x.Data, w = weight.Data;
        return Affine(x, weight, rows, outF, bias, activation, residual, shape,
            (z, epilogue) => GemmWithEpilogue(false, true, rows, outF, inF, 1f, a, Math.Max(1, inF), w, Math.Max(1, inF), 0f, z, outF, epilogue),
            gz => Gemm(false, false, rows, inF, outF, 1f, gz, outF, w, inF, 1f, x.GradOrCreate(), inF),
            gz => Gemm(true, false, outF, inF, rows, 1f, gz, outF, a, inF, 1f, weight.GradOrCreate(), inF));
    }

    /// <summary>
    /// The shared core of the fused ops: y (rows, outF) = act(A · Wᵀ + b) + residual, recorded with inputs (x, weight,
    /// bias, residual). <paramref name="product"/> stores A·Wᵀ into its buffer (a GEMM with β = 0) and runs the given
    /// epilogue on each finished block; <paramref name="backwardInput"/> and <paramref name="backwardWeight"/> add
    /// the gradients of x and of weight given dz = dy · act′(z).
    /// </summary>
    private static Tensor Affine(
        Tensor x, Tensor weight, int rows, int outF, Tensor? bias, Activation activation, Tensor? residual, int[] shape,
        Action<float[], GemmEpilogue?> product, Action<float[]> backwardInput, Action<float[]> backwardWeight)
    {
        int n = rows * outF;
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outF)) throw new ArgumentException($"bias must be ({outF}), got {FormatShape(bias.Shape)}");
        int group = ResidualGroup(residual, shape);
        bool track = GradMode.IsEnabled && (x.RequiresGrad || weight.RequiresGrad || (bias?.RequiresGrad ?? false) || (residual?.RequiresGrad ?? false));

        // z = a·wᵀ + b, the pre-activation, kept for the backward pass only when an activation needs it. The GEMM
        // stores a·wᵀ; its epilogue adds b, applies act and adds the residual to each block while it is in cache.
        var y = TensorArena.Output(n);
        var z = track && activation != Activation.None ? TensorArena.Output(n) : y;
        float[]? b = bias?.Data, res = residual?.Data;
        GemmEpilogue? epilogue = activation == Activation.None && res is null && b is null ? null : (r0, r1, c0, c1) =>
        {
            int len = c1 - c0;
            for (int r = r0; r < r1; r++)
            {
                var zr = z.AsSpan((r * outF) + c0, len);
                BiasActivation(activation, zr, b is null ? default : b.AsSpan(c0, len),
                    res is null ? default : res.AsSpan(((r / group) * outF) + c0, len), zr, y.AsSpan((r * outF) + c0, len));
            }
        };
        product(z, epilogue);

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

            // one pass over dy: the residual's gradient (dy itself) and dz = dy · act′(z)
            bool residualRows = residual is { RequiresGrad: true } && group == 1;
            bool fresh = residualRows && residual!.Grad is null && !residual.IsLeaf;
            var rg = !residualRows ? null : fresh ? (residual!.Grad = TensorArena.Output(n)) : residual!.GradOrCreate();
            var gz = activation == Activation.None ? g : TensorArena.Output(n);
            if (rg is not null || activation != Activation.None)
            {
                EngineThreads.For(rows, Math.Max(1, ElementsPerThread / Math.Max(1, outF)), (r0, r1) =>
                {
                    var gs = g.AsSpan(r0 * outF, (r1 - r0) * outF);
                    if (rg is not null)
                    {
                        var rs = rg.AsSpan(r0 * outF, (r1 - r0) * outF);
                        if (fresh) gs.CopyTo(rs);
                        else System.Numerics.Tensors.TensorPrimitives.Add(rs, gs, rs);
                    }

                    if (activation != Activation.None) ActivationBackward(activation, z.AsSpan(r0 * outF, (r1 - r0) * outF), gs, gz.AsSpan(r0 * outF, (r1 - r0) * outF));
                });
            }

            if (residual is { RequiresGrad: true } && group > 1) Broadcast.AccumulateReduced(g, shape, residual.GradOrCreate(), residual.Shape);

            if (x.RequiresGrad) backwardInput(gz);
            if (weight.RequiresGrad) backwardWeight(gz);
            if (bias is { RequiresGrad: true }) AddColumnSums(gz, rows, outF, bias.GradOrCreate());
        });
    }

    /// <summary>
    /// 1 when the residual has the output's shape; L when it is (…, 1, C) against an output (…, L, C) (one row per
    /// group of L rows, e.g. a per-sample vector added at every time step); all rows when it is (1, …, 1, C).
    /// </summary>
    private static int ResidualGroup(Tensor? residual, int[] shape)
    {
        if (residual is null || SameShape(residual.Shape, shape)) return 1;
        if (residual.Rank == shape.Length && residual.Length == shape[^1] && residual.Shape[^1] == shape[^1])
        {
            return Numel(shape.AsSpan(0, shape.Length - 1));   // one row (1, …, 1, C) added to every row
        }

        if (shape.Length >= 2 && residual.Rank == shape.Length && residual.Shape[^2] == 1
            && SameShape(residual.Shape.AsSpan(0, shape.Length - 2), shape.AsSpan(0, shape.Length - 2)) && residual.Shape[^1] == shape[^1])
        {
            return shape[^2];
        }

        throw new ArgumentException($"residual must be {FormatShape(shape)} or {FormatShape([.. shape[..^2], 1, shape[^1]])}, got {FormatShape(residual.Shape)}");
    }
}
