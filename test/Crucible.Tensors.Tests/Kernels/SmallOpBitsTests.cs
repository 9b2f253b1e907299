using System.Numerics.Tensors;
using Crucible.Tensors.Kernels;
using GemmKernels = Crucible.Tensors.Kernels.Kernels;

namespace Crucible.Tensors.Tests.Kernels;

/// <summary>
/// The short-row paths of the attention's ops give the exact bits of the loops they stand for: the small GEMM's
/// written-out axpy against the TensorPrimitives axpy it replaces, the layer norm's four-rows-at-a-time sums against
/// the row-by-row loop, the softmax over contiguous lines against the strided path. No tolerance: the sequence
/// model's pinned hashes depend on these bits. The layer norm is also held to the loop when its rows and its
/// parameters' columns are split across threads (hence the engine-threads collection).
/// </summary>
[Collection(nameof(Optim.EngineThreadsCollection))]
public class SmallOpBitsTests
{
    private static float[] Random(int n, System.Random rng, bool zeros = false)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = zeros && rng.Next(5) == 0 ? 0f : (float)((rng.NextDouble() * 4) - 2);
        return x;
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, the reference {expected[i]:R}");
        }
    }

    // the small GEMM's axpy loop as it was: C[i, :] = β·C[i, :] + Σ_p α·A[i, p]·B[p, :] by TensorPrimitives.MultiplyAdd
    private static void ReferenceAxpyGemm(bool transA, int m, int n, int k, float alpha, float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var crow = c.AsSpan(i * ldc, n);
            if (beta == 0f) crow.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(crow, beta, crow);
            for (int p = 0; p < k; p++)
            {
                float aip = transA ? a[(p * lda) + i] : a[(i * lda) + p];
                if (aip == 0f) continue;
                TensorPrimitives.MultiplyAdd(b.AsSpan(p * ldb, n), alpha * aip, crow, crow);
            }
        }
    }

    [Fact]
    public void SmallGemm_ShortRows_AreTheTensorPrimitivesAxpyBitForBit()
    {
        var rng = new System.Random(5);
        int cases = 0;
        for (int n = 1; n <= GemmKernels.SmallAxpy; n++)
        {
            foreach (int m in new[] { 1, 3, 20 })
            {
                foreach (int k in new[] { 1, 4, 16, 37 })
                {
                    if (PackedGemm.ShouldUse(m, n, k)) continue;                    // the blocked kernels have their own pinned bits
                    foreach (bool transA in new[] { false, true })
                    {
                        foreach (var (alpha, beta) in new[] { (1f, 0f), (0.7f, 1f), (-1.3f, 0.5f) })
                        {
                            int lda = (transA ? m : k) + 2, ldb = n + 1, ldc = n + 3;
                            var a = Random((transA ? k : m) * lda, rng, zeros: true);
                            var b = Random(k * ldb, rng);
                            var c = Random(m * ldc, rng);
                            var expected = (float[])c.Clone();
                            ReferenceAxpyGemm(transA, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);
                            GemmKernels.Gemm(transA, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                            AssertBits(expected, c, $"n {n} m {m} k {k} transA {transA} α {alpha} β {beta}");
                            cases++;
                        }
                    }
                }
            }
        }

        Assert.True(cases > 500, $"only {cases} small cases");
    }

    // the layer norm as it was, one row at a time: forward y and x̂, backward dx, dγ, dβ
    private static (float[] Y, float[] Dx, float[]? Dw, float[]? Db) ReferenceLayerNorm(float[] x, int rows, int n, float[]? w, float[]? b, float[] g, float eps)
    {
        var y = new float[x.Length];
        var xhat = new float[x.Length];
        var rstd = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * n, n);
            double mean = 0;
            foreach (float v in row) mean += v;
            mean /= n;
            double var = 0;
            foreach (float v in row) var += (v - mean) * (v - mean);
            var /= n;
            float rs = (float)(1.0 / Math.Sqrt(var + eps));
            rstd[r] = rs;
            for (int j = 0; j < n; j++)
            {
                float h = (float)((row[j] - mean) * rs);
                xhat[(r * n) + j] = h;
                y[(r * n) + j] = (h * (w?[j] ?? 1f)) + (b?[j] ?? 0f);
            }
        }

        var dx = new float[x.Length];
        var dw = w is null ? null : new float[n];
        var db = b is null ? null : new float[n];
        var dxhat = new float[n];
        for (int r = 0; r < rows; r++)
        {
            double meanD = 0, meanDX = 0;
            for (int j = 0; j < n; j++)
            {
                int idx = (r * n) + j;
                float d = g[idx] * (w?[j] ?? 1f);
                dxhat[j] = d;
                meanD += d;
                meanDX += d * xhat[idx];
                if (dw is not null) dw[j] += g[idx] * xhat[idx];
                if (db is not null) db[j] += g[idx];
            }

            meanD /= n;
            meanDX /= n;
            for (int j = 0; j < n; j++)
            {
                int idx = (r * n) + j;
                dx[idx] += (float)(rstd[r] * (dxhat[j] - meanD - (xhat[idx] * meanDX)));
            }
        }

        return (y, dx, dw, db);
    }

    [Theory]
    [InlineData(1, 64, true)]
    [InlineData(4, 64, true)]
    [InlineData(7, 5, true)]
    [InlineData(9, 64, false)]
    [InlineData(40, 33, true)]
    public void LayerNorm_FourRowsAtATime_IsTheRowByRowLoopBitForBit(int rows, int n, bool affine) =>
        AssertLayerNormIsTheRowByRowLoop(rows, n, affine, seed: (rows * 100) + n);

    // y, dx and (affine) dγ, dβ of Tensor.LayerNorm on random activations with an offset mean, as activations have,
    // against ReferenceLayerNorm bit for bit
    private static void AssertLayerNormIsTheRowByRowLoop(int rows, int n, bool affine, int seed)
    {
        var rng = new System.Random(seed);
        var xv = Random(rows * n, rng);
        for (int i = 0; i < xv.Length; i++) xv[i] = (xv[i] * 3) + 1;
        float[]? wv = affine ? Random(n, rng) : null, bv = affine ? Random(n, rng) : null;
        var g = Random(rows * n, rng);
        var x = new Tensor((float[])xv.Clone(), [rows, n], requiresGrad: true);
        var w = wv is null ? null : new Tensor((float[])wv.Clone(), [n], requiresGrad: true);
        var b = bv is null ? null : new Tensor((float[])bv.Clone(), [n], requiresGrad: true);
        var y = Tensor.LayerNorm(x, n, w, b);
        y.Backward(g);

        var (ey, edx, edw, edb) = ReferenceLayerNorm(xv, rows, n, wv, bv, g, 1e-5f);
        AssertBits(ey, y.Data, "y");
        AssertBits(edx, x.Grad!, "dx");
        if (affine)
        {
            AssertBits(edw!, w!.Grad!, "dγ");
            AssertBits(edb!, b!.Grad!, "dβ");
        }
    }

    [Theory]
    [InlineData(2051, 64, true, 1)]
    [InlineData(2051, 64, true, 2)]
    [InlineData(2051, 64, true, 4)]
    [InlineData(2560, 64, false, 2)]
    [InlineData(4001, 33, true, 3)]
    [InlineData(1027, 64, true, 2)]
    [InlineData(2051, 47, true, 2)]
    [InlineData(1500, 97, true, 3)]
    public void LayerNorm_SplitAcrossThreads_IsTheRowByRowLoopBitForBit(int rows, int n, bool affine, int threads)
    {
        // the demo's shapes (batch 128 × W 20 rows of H 64) and odd ones: the rows split into parts that end
        // mid-quad, the parameters' columns into parts of unequal width
        using var limit = EngineThreads.Limit(threads);
        AssertLayerNormIsTheRowByRowLoop(rows, n, affine, seed: (rows * 100) + n + threads);
    }

    [Fact]
    public void LayerNorm_InAnArenaWithStaleBuffers_IsTheRowByRowLoopBitForBit()
    {
        // y, x̂ and rstd are taken unzeroed from the arena: a second step reuses the first step's buffers (filled
        // with NaN here) and must still give the row-by-row loop's values
        const int Rows = 37, N = 19;
        var rng = new System.Random(2025);
        var xv = Random(Rows * N, rng);
        float[] wv = Random(N, rng), bv = Random(N, rng), g = Random(Rows * N, rng);
        var arena = new TensorArena();
        using (arena.Use())
        {
            var warm = Tensor.LayerNorm(new Tensor(new float[Rows * N], [Rows, N], requiresGrad: true), N, null, null);
            warm.Data.AsSpan().Fill(float.NaN);
            arena.Reset();
            var x = new Tensor((float[])xv.Clone(), [Rows, N], requiresGrad: true);
            var w = new Tensor((float[])wv.Clone(), [N], requiresGrad: true);
            var b = new Tensor((float[])bv.Clone(), [N], requiresGrad: true);
            var y = Tensor.LayerNorm(x, N, w, b);
            y.Backward(g);
            var (ey, edx, edw, edb) = ReferenceLayerNorm(xv, Rows, N, wv, bv, g, 1e-5f);
            AssertBits(ey, y.Data, "y");
            AssertBits(edx, x.Grad!, "dx");
            AssertBits(edw!, w.Grad!, "dγ");
            AssertBits(edb!, b.Grad!, "dβ");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Matmul_BatchesSplitAcrossThreads_AreTheOneThreadBits(int threads)
    {
        // the attention's products, (B, h, W, d) @ (B, h, d, Tk) and back, over enough batches to split: values and
        // both gradients as one thread computes them (the old loop), and the values as the plain loop over p
        const int B = 37, H = 4, W = 20, D = 16, Tk = 4;
        var rng = new System.Random(threads);
        var qv = Random(B * H * W * D, rng, zeros: true);
        var kv = Random(B * H * D * Tk, rng);
        var g = Random(B * H * W * Tk, rng);

        (float[] Y, float[] Dq, float[] Dk) Run(int t)
        {
            using var limit = EngineThreads.Limit(t);
            var q = new Tensor((float[])qv.Clone(), [B, H, W, D], requiresGrad: true);
            var k = new Tensor((float[])kv.Clone(), [B, H, D, Tk], requiresGrad: true);
            var y = q.Matmul(k);
            y.Backward(g);
            return (y.Data, q.Grad!, k.Grad!);
        }

        var (ey, edq, edk) = Run(1);
        var (y, dq, dk) = Run(threads);
        AssertBits(ey, y, "y");
        AssertBits(edq, dq, "dq");
        AssertBits(edk, dk, "dk");

        var reference = new float[B * H * W * Tk];
        for (int bi = 0; bi < B * H; bi++)
        {
            for (int i = 0; i < W; i++)
            {
                for (int p = 0; p < D; p++)
                {
                    float a = qv[(((bi * W) + i) * D) + p];
                    if (a == 0f) continue;
                    for (int j = 0; j < Tk; j++) reference[(((bi * W) + i) * Tk) + j] += kv[(((bi * D) + p) * Tk) + j] * a;
                }
            }
        }

        AssertBits(reference, y, "y against the plain loop");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Matmul_BroadcastBatches_StayInOrder(int threads)
    {
        // y (1, d, Tk) shared by every batch: its gradient sums the batches in order, as one thread does
        const int B = 300, W = 8, D = 16, Tk = 4;
        var rng = new System.Random(100 + threads);
        var qv = Random(B * W * D, rng);
        var kv = Random(D * Tk, rng);
        var g = Random(B * W * Tk, rng);

        (float[] Y, float[] Dq, float[] Dk) Run(int t)
        {
            using var limit = EngineThreads.Limit(t);
            var q = new Tensor((float[])qv.Clone(), [B, W, D], requiresGrad: true);
            var k = new Tensor((float[])kv.Clone(), [1, D, Tk], requiresGrad: true);
            var y = q.Matmul(k);
            y.Backward(g);
            return (y.Data, q.Grad!, k.Grad!);
        }

        var (ey, edq, edk) = Run(1);
        var (y, dq, dk) = Run(threads);
        AssertBits(ey, y, "y");
        AssertBits(edq, dq, "dq");
        AssertBits(edk, dk, "dk");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(20)]
    public void Softmax_OverContiguousLines_IsTheStridedPathBitForBit(int n)
    {
        // softmax over the last axis (contiguous lines) against softmax over axis 0 of the transpose (strided lines)
        var rng = new System.Random(n);
        const int lines = 37;
        var xv = Random(lines * n, rng);
        var g = Random(lines * n, rng);
        var x = new Tensor((float[])xv.Clone(), [lines, n], requiresGrad: true);
        var y = x.Softmax(-1);
        y.Backward(g);

        var xt = new Tensor((float[])xv.Clone(), [lines, n], requiresGrad: true);
        var yt = xt.Transpose(0, 1).Softmax(0).Transpose(0, 1);
        yt.Backward(g);
        AssertBits(yt.Data, y.Data, "y");
        AssertBits(xt.Grad!, x.Grad!, "dx");
    }

    [Theory]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.Relu)]
    public void ActivationBackward_DoesNotDependOnWhereTheSpanIsSplit(Activation activation)
    {
        // The fused ops' backward runs the kernel over row ranges whose bounds depend on the thread count, so each
        // element's derivative must not depend on whether it falls in a vector body or in a range's scalar tail.
        var rng = new System.Random(11);
        const int n = 4096;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 40) - 20);
        var g = Random(n, rng);
        var whole = new float[n];
        GemmKernels.ActivationBackward(activation, x, g, whole);
        var pieces = new float[n];
        for (int i = 0; i < n; i += 7)
        {
            int len = Math.Min(7, n - i);
            GemmKernels.ActivationBackward(activation, x.AsSpan(i, len), g.AsSpan(i, len), pieces.AsSpan(i, len));
        }

        AssertBits(whole, pieces, $"{activation}′ over 7-element pieces");
    }
}
