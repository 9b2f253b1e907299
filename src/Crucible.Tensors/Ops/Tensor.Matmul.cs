using Crucible.Tensors.Kernels;
using static Crucible.Tensors.Kernels.Kernels;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Batched matrix product with broadcasting batch dims: x (…, M, K) @ y (…, K, N) → (…, M, N).
    /// Both operands need at least 2 dims.
    /// </summary>
    public Tensor Matmul(Tensor y)
    {
        var x = this;
        ArgumentNullException.ThrowIfNull(y);
        if (x.Rank < 2 || y.Rank < 2) throw new ArgumentException($"Matmul needs 2-d or higher operands, got {FormatShape(x.Shape)} and {FormatShape(y.Shape)}");
        int m = x.Shape[^2], k = x.Shape[^1], n = y.Shape[^1];
        if (y.Shape[^2] != k) throw new ArgumentException($"Matmul: inner dims differ in {FormatShape(x.Shape)} @ {FormatShape(y.Shape)}");
        var xb = x.Shape[..^2];
        var yb = y.Shape[..^2];
        var batch = Broadcast.Shape(xb, yb);
        int nb = Numel(batch);
        var shape = (int[])[.. batch, m, n];
        var output = TensorArena.Output(nb * m * n);
        var plan = new Broadcast(batch, xb, yb);
        // without a broadcast batch dim, batch i of the output is batch i of both operands: no table
        var offsets = Numel(xb) == nb && Numel(yb) == nb ? null : BatchOffsets(plan, nb);
        float[] xd = x.Data, yd = y.Data;

        // many small products (the attention's, one per sample and head): the batches split across the engine's
        // threads, each product whole on one thread by the small GEMM, so every element takes the same operations
        int minBatches = SmallBatchedGemm(m, n, k) ? Math.Max(1, BatchedWorkPerThread / Math.Max(1, m * n * k)) : int.MaxValue;
        EngineThreads.For(nb, minBatches, (b0, b1) =>
        {
            for (int bi = b0; bi < b1; bi++)
            {
                var (xo, yo) = offsets is null ? (bi, bi) : offsets[bi];
                Gemm(false, false, m, n, k, 1f, xd.AsSpan(xo * m * k), Math.Max(1, k), yd.AsSpan(yo * k * n), n, 0f, output.AsSpan(bi * m * n, m * n), n);
            }
        });

        return Result(output, shape, [x, y], o =>
        {
            var g = o.Grad!;

            // the gradient buffers fetched here, as the loop's first batch would (the arena is the caller's); the
            // batches split across threads only where no two write the same slice (no broadcast batch, x ≠ y)
            float[]? gx = nb > 0 && x.RequiresGrad ? x.GradOrCreate() : null;
            float[]? gy = nb > 0 && y.RequiresGrad ? y.GradOrCreate() : null;
            bool disjoint = !ReferenceEquals(x, y) && Numel(xb) == nb && Numel(yb) == nb;
            int minBackward = disjoint && SmallBatchedGemm(m, k, n) && SmallBatchedGemm(k, n, m) ? minBatches : int.MaxValue;
            EngineThreads.For(nb, minBackward, (b0, b1) =>
            {
                for (int bi = b0; bi < b1; bi++)
                {
                    var (xo, yo) = offsets is null ? (bi, bi) : offsets[bi];
                    var gb = g.AsSpan(bi * m * n, m * n);

                    // dX = dY · Yᵀ  (M×N · N×K); dY = Xᵀ · dY  (K×M · M×N); β = 1 accumulates (and sums broadcast batches)
                    if (gx is not null) Gemm(false, true, m, k, n, 1f, gb, n, yd.AsSpan(yo * k * n), n, 1f, gx.AsSpan(xo * m * k), k);
                    if (gy is not null) Gemm(true, false, k, n, m, 1f, xd.AsSpan(xo * m * k), k, gb, n, 1f, gy.AsSpan(yo * k * n), n);
                }
            });
        });
    }

    /// <summary>Multiply-adds of a batched matmul's small products per thread, below which it stays on one thread.</summary>
    private const int BatchedWorkPerThread = 1 << 15;

    // whether an (m×k)·(k×n) product takes the small GEMM on the calling thread (not the packed kernel, not split)
    private static bool SmallBatchedGemm(int m, int n, int k) =>
        !PackedGemm.ShouldUse(m, n, k) && (long)m * n * k < ParallelThreshold;

    private static (int X, int Y)[] BatchOffsets(Broadcast plan, int nb)
    {
        // batch index -> (x batch, y batch), walking the plan's runs
        var result = new (int, int)[nb];
        int run = plan.Run, i = 0;
        for (int o = 0; o < plan.Outer; o++)
        {
            var (xo, yo) = plan.Offsets(o);
            for (int r = 0; r < run && i < nb; r++, i++) result[i] = (xo + (r * plan.XInc), yo + (r * plan.YInc));
        }

        return result;
    }

    /// <summary>
    /// y = x · Wᵀ + b, PyTorch's <c>F.linear</c>: x (…, in), weight (out, in), bias (out) or null → (…, out).
    /// (The bias is added to each block of the product as the GEMM finishes it: the fused op with no activation.)
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias) => Linear(x, weight, bias, Activation.None);
}
