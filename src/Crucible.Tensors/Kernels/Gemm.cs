using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Crucible.Tensors.Kernels;

/// <summary>
/// Single-precision general matrix multiply on row-major storage (BLAS's SGEMM with row-major operands):
/// <c>C = α · op(A) · op(B) + β · C</c>, op(X) = X or Xᵀ; C is M×N, op(A) M×K, op(B) K×N.
/// </summary>
public static partial class Kernels
{
    /// <summary>Above this many multiply-adds a GEMM is split over threads (by rows of C: deterministic).</summary>
    public const long ParallelThreshold = 1L << 20;

    /// <summary>Rows of C up to this many columns take the written-out axpy in the small GEMM (same values).</summary>
    internal const int SmallAxpy = 32;

    /// <summary>
    /// Whether a GEMM of <paramref name="m1"/> rows and one of <paramref name="m2"/> rows (same n, k, transposes) compute
    /// each row of C by the same float operations, so that a row of A gives the same bits in either: true when both
    /// take the same path (the packed kernel, every variant of which gives the same bits, or the small GEMM).
    /// </summary>
    public static bool SameRowArithmetic(int m1, int m2, int n, int k) => PackedGemm.ShouldUse(m1, n, k) == PackedGemm.ShouldUse(m2, n, k);

    /// <summary>
    /// <c>C = α · op(A) · op(B) + β · C</c>. Leading dimensions are row strides. With β = 0, C's old values are
    /// ignored (NaN in C does not propagate), as BLAS specifies.
    /// </summary>
    public static void Gemm(
        bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc) =>
        GemmWithEpilogue(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue: null);

    /// <summary>
    /// <see cref="Gemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, float, Span{float}, int)"/>
    /// followed by <paramref name="epilogue"/> on disjoint blocks of C that cover it, each called once its values
    /// are final, on the thread that computed it (so a bias-activation pass runs in parallel, while the block is
    /// still in cache).
    /// </summary>
    internal static void GemmWithEpilogue(
        bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, GemmEpilogue? epilogue)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "negative GEMM dimension");
        if (m == 0 || n == 0) return;
        CheckOperand(a, transA ? k : m, transA ? m : k, lda, nameof(a));
        CheckOperand(b, transB ? n : k, transB ? k : n, ldb, nameof(b));
        CheckOperand(c, m, n, ldc, nameof(c));

        unsafe
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* pc = c)
            {
                if (PackedGemm.ShouldUse(m, n, k))
                {
                    PackedGemm.Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, EngineThreads.MaxDegreeOfParallelism, epilogue);
                    return;
                }

                var job = new GemmJob(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                long work = (long)m * n * k;
                int threads = EngineThreads.MaxDegreeOfParallelism;
                if (work >= ParallelThreshold && m >= 2 && threads > 1)
                {
                    RowBlocks(job, m, n, Math.Min(m, threads * 4), epilogue);
                }
                else
                {
                    job.Rows(0, m);
                    epilogue?.Invoke(0, m, 0, n);
                }
            }
        }
    }

    // row blocks of C: each row is computed by the same float operations on any thread, so the result does not
    // depend on the thread count or the chunking. (Its own method: the closure is allocated only when it runs, not on
    // every small GEMM, as the attention's thousands per pass are.)
    private static void RowBlocks(GemmJob job, int m, int n, int chunks, GemmEpilogue? epilogue) =>
        ForkJoin.Run(chunks, ch =>
        {
            int r0 = (int)((long)m * ch / chunks), r1 = (int)((long)m * (ch + 1) / chunks);
            job.Rows(r0, r1);
            epilogue?.Invoke(r0, r1, 0, n);
        });

    /// <summary>
    /// C (m×n) = Σ_j A_j · op(B)[j·tapK .. (j+1)·tapK, :] + β·C, β = 0 or 1, where row i of A_j is the tapK floats of
    /// <paramref name="a"/> at offset <c>rowTable[j·m + i]</c>, or zeros where the offset is −1: a GEMM over gathered
    /// rows (an implicit im2col, so a convolution reads its taps straight from the input rows). op(B) is
    /// (taps·tapK)×n. <paramref name="epilogue"/> as in <see cref="GemmWithEpilogue"/>.
    /// </summary>
    internal static unsafe void GemmGathered(
        int m, int n, int taps, int tapK, ReadOnlySpan<float> a, ReadOnlySpan<int> rowTable, bool transB, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, GemmEpilogue? epilogue)
    {
        if (m < 0 || n < 0 || taps < 0 || tapK < 0) throw new ArgumentOutOfRangeException(nameof(m), "negative GEMM dimension");
        if (rowTable.Length < (long)taps * m) throw new ArgumentException("the row table needs taps × m entries", nameof(rowTable));
        foreach (int offset in rowTable[..(taps * m)])
        {
            if (offset < -1 || (offset >= 0 && (long)offset + tapK > a.Length)) throw new ArgumentException($"row offset {offset} outside a", nameof(rowTable));
        }

        int k = taps * tapK;
        CheckOperand(b, transB ? n : k, transB ? k : n, ldb, nameof(b));
        CheckOperand(c, m, n, ldc, nameof(c));
        if (m == 0 || n == 0) return;
        if (!Vector512.IsHardwareAccelerated)
        {
            // the packed kernels only: materialise the gathered rows, then an ordinary GEMM
            var rows = new float[(long)m * k];
            for (int j = 0; j < taps; j++)
            {
                for (int i = 0; i < m; i++)
                {
                    int offset = rowTable[(j * m) + i];
                    if (offset >= 0) a.Slice(offset, tapK).CopyTo(rows.AsSpan((i * k) + (j * tapK), tapK));
                }
            }

            GemmWithEpilogue(false, transB, m, n, k, 1f, rows, Math.Max(1, k), b, ldb, beta, c, ldc, epilogue);
            return;
        }

        fixed (float* pa = a)
        fixed (int* pt = rowTable)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            PackedGemm.RunGathered(m, n, taps, tapK, pa, pt, transB, pb, ldb, beta, pc, ldc, EngineThreads.MaxDegreeOfParallelism, epilogue);
        }
    }

    /// <summary>
    /// C (m×n) = α · Aᵀ · B + β·C, β = 0 or 1, A (k×m, row stride lda), where B (k×n, n = taps·tapN) has gathered rows per
    /// tap: B[p, j·tapN + q] = b[rowTable[j·k + p] + q], or 0 where the offset is −1 (a convolution's weight gradient
    /// dYᵀ · im2col(x) without materialising im2col). Falls back to materialising B when the tiles cannot gather.
    /// </summary>
    internal static unsafe void GemmTransAGatheredB(
        int m, int taps, int tapN, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, ReadOnlySpan<int> rowTable,
        float beta, Span<float> c, int ldc)
    {
        if (m < 0 || taps < 0 || tapN < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "negative GEMM dimension");
        if (rowTable.Length < (long)taps * k) throw new ArgumentException("the row table needs taps × k entries", nameof(rowTable));
        foreach (int offset in rowTable[..(taps * k)])
        {
            if (offset < -1 || (offset >= 0 && (long)offset + tapN > b.Length)) throw new ArgumentException($"row offset {offset} outside b", nameof(rowTable));
        }

        int n = taps * tapN;
        CheckOperand(a, k, m, lda, nameof(a));
        CheckOperand(c, m, n, ldc, nameof(c));
        if (m == 0 || n == 0) return;
        if (!PackedGemm.GatheredBSupported(tapN) || !PackedGemm.ShouldUse(m, n, k))
        {
            var rows = new float[(long)k * n];
            for (int j = 0; j < taps; j++)
            {
                for (int p = 0; p < k; p++)
                {
                    int offset = rowTable[(j * k) + p];
                    if (offset >= 0) b.Slice(offset, tapN).CopyTo(rows.AsSpan((p * n) + (j * tapN), tapN));
                }
            }

            Gemm(true, false, m, n, k, alpha, a, lda, rows, n, beta, c, ldc);
            return;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (int* pt = rowTable)
        fixed (float* pc = c)
        {
            PackedGemm.RunGatheredB(m, taps, tapN, k, alpha, pa, lda, pb, pt, beta, pc, ldc, EngineThreads.MaxDegreeOfParallelism);
        }
    }

    private static void CheckOperand(ReadOnlySpan<float> x, int rows, int cols, int ld, string name)
    {
        if (ld < Math.Max(1, cols)) throw new ArgumentException($"leading dimension {ld} < {cols}", name);
        if (rows > 0 && cols > 0 && (((long)(rows - 1) * ld) + cols) > x.Length) throw new ArgumentException("operand is too short", name);
    }

    private readonly unsafe struct GemmJob(
        bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        public void Rows(int r0, int r1)
        {
            _ = m;
            float[]? col = null;   // Aᵀ·Bᵀ only: A's column i, gathered once per row and reused
            for (int i = r0; i < r1; i++)
            {
                var crow = new Span<float>(c + ((long)i * ldc), n);
                if (beta == 0f) crow.Clear();
                else if (beta != 1f) TensorPrimitives.Multiply(crow, beta, crow);
                if (k == 0) continue;

                if (!transB && n <= SmallAxpy)
                {
                    // as below, with the axpy written out for short rows (the attention's few keys and head widths),
                    // where a TensorPrimitives call costs more than its work: the same (B[p, j] · s) + C[i, j] per
                    // element, multiply and add each rounded (MultiplyAdd does not fuse), in the same order of p
                    float* cr = c + ((long)i * ldc);
                    for (int p = 0; p < k; p++)
                    {
                        float aip = transA ? a[((long)p * lda) + i] : a[((long)i * lda) + p];
                        if (aip == 0f) continue;
                        float s = alpha * aip;
                        float* br = b + ((long)p * ldb);
                        int j = 0;
                        if (Vector128.IsHardwareAccelerated)
                        {
                            var vs = Vector128.Create(s);
                            for (; j <= n - 4; j += 4) Vector128.Store((Vector128.Load(br + j) * vs) + Vector128.Load(cr + j), cr + j);
                        }

                        for (; j < n; j++) cr[j] = (br[j] * s) + cr[j];
                    }
                }
                else if (!transB)
                {
                    // C[i, :] += α · A[i, p] · B[p, :]   (an axpy per p; B rows are contiguous)
                    for (int p = 0; p < k; p++)
                    {
                        float aip = transA ? a[((long)p * lda) + i] : a[((long)i * lda) + p];
                        if (aip == 0f) continue;
                        var brow = new ReadOnlySpan<float>(b + ((long)p * ldb), n);
                        TensorPrimitives.MultiplyAdd(brow, alpha * aip, crow, crow);
                    }
                }
                else if (!transA)
                {
                    // C[i, j] += α · dot(A[i, :], B[j, :])
                    var arow = new ReadOnlySpan<float>(a + ((long)i * lda), k);
                    for (int j = 0; j < n; j++)
                    {
                        crow[j] += alpha * TensorPrimitives.Dot(arow, new ReadOnlySpan<float>(b + ((long)j * ldb), k));
                    }
                }
                else
                {
                    // Aᵀ · Bᵀ: gather A's column i, then dot with B's rows
                    col ??= new float[k];
                    for (int p = 0; p < k; p++) col[p] = a[((long)p * lda) + i];
                    for (int j = 0; j < n; j++)
                    {
                        crow[j] += alpha * TensorPrimitives.Dot(col, new ReadOnlySpan<float>(b + ((long)j * ldb), k));
                    }
                }
            }
        }
    }
}

/// <summary>A pass over the block C[rowStart..rowEnd, colStart..colEnd] of a finished GEMM (bias, activation, …).</summary>
internal delegate void GemmEpilogue(int rowStart, int rowEnd, int colStart, int colEnd);
