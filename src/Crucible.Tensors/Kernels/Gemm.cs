using System.Numerics.Tensors;

namespace Crucible.Tensors.Kernels;

/// <summary>
/// Single-precision general matrix multiply on row-major storage (BLAS's SGEMM with row-major operands):
/// <c>C = α · op(A) · op(B) + β · C</c>, op(X) = X or Xᵀ; C is M×N, op(A) M×K, op(B) K×N.
/// </summary>
public static partial class Kernels
{
    /// <summary>Above this many multiply-adds a GEMM is split over threads (by rows of C: deterministic).</summary>
    public const long ParallelThreshold = 1L << 20;

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
                    // row blocks of C: each row is computed by the same float operations on any thread, so the
                    // result does not depend on the thread count or the chunking
                    int chunks = Math.Min(m, threads * 4);
                    var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
                    Parallel.For(0, chunks, options, ch =>
                    {
                        int r0 = (int)((long)m * ch / chunks), r1 = (int)((long)m * (ch + 1) / chunks);
                        job.Rows(r0, r1);
                        epilogue?.Invoke(r0, r1, 0, n);
                    });
                }
                else
                {
                    job.Rows(0, m);
                    epilogue?.Invoke(0, m, 0, n);
                }
            }
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

                if (!transB)
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
