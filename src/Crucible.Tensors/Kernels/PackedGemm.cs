using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crucible.Tensors.Kernels;

/// <summary>
/// The fast SGEMM path: Goto &amp; van de Geijn's blocking ("Anatomy of High-Performance Matrix Multiplication",
/// TOMS 2008). B is packed into KC×NR column strips, A into MR×KC row strips (α and transposes are applied while
/// packing), and an MR×NR register-blocked micro-kernel of Vector512 FMAs (Vector256 fallback) updates C.
/// </summary>
/// <remarks>
/// Every element of C is accumulated over p = 0..K−1 in the same order whatever the thread count or the tile it
/// falls in, so results are bit-identical on 1 and on N threads. Threads split the rows of C.
/// </remarks>
internal static unsafe class PackedGemm
{
    private const int MR = 8;          // rows of the micro-tile
    private const int KC = 256;        // depth of a packed panel (A strip MR×KC + B strip KC×NR stay in L1/L2)
    private const int MC = 128;        // rows of A packed at once (MC×KC×4 = 128 KB, in L2)
    private const int NC = 2048;       // columns of B packed at once (KC×NC×4 = 2 MB)

    private static int NR => Vector512.IsHardwareAccelerated ? 32 : 16;

    /// <summary>Whether the packed path is available and worth it for this shape.</summary>
    public static bool ShouldUse(int m, int n, int k) =>
        (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated) && (long)m * n * k >= 16 * 16 * 16 && n >= 8 && k >= 4;

    /// <summary>C = α · op(A) · op(B) + β · C (shapes already validated by the caller).</summary>
    public static void Run(
        bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int threads)
    {
        // β first, so the kernels only ever accumulate
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + ((long)i * ldc), n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }

        if (k == 0 || alpha == 0f) return;

        int parts = Math.Max(1, Math.Min(threads, m / MR));
        if ((long)m * n * k < Kernels.ParallelThreshold) parts = 1;
        if (parts == 1)
        {
            RowRange(transA, transB, 0, m, n, k, alpha, a, lda, b, ldb, c, ldc);
            return;
        }

        // rows split in multiples of MR so every part packs whole strips
        int strips = (m + MR - 1) / MR;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            int s0 = (int)((long)strips * part / parts), s1 = (int)((long)strips * (part + 1) / parts);
            int r0 = s0 * MR, r1 = Math.Min(m, s1 * MR);
            if (r1 > r0) RowRange(transA, transB, r0, r1, n, k, alpha, a, lda, b, ldb, c, ldc);
        });
    }

    private static void RowRange(
        bool transA, bool transB, int r0, int r1, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int nr = NR;
        int ncMax = Math.Min(NC, RoundUp(n, nr));
        int kcMax = Math.Min(KC, k);
        int mcMax = Math.Min(MC, RoundUp(r1 - r0, MR));
        float[] bufB = ArrayPool<float>.Shared.Rent((kcMax * ncMax) + 16);
        float[] bufA = ArrayPool<float>.Shared.Rent((mcMax * kcMax) + 16);
        float* tile = stackalloc float[MR * 32];
        try
        {
            fixed (float* pb = bufB)
            fixed (float* pa = bufA)
            {
                for (int jc = 0; jc < n; jc += NC)
                {
                    int nc = Math.Min(NC, n - jc);
                    for (int pc = 0; pc < k; pc += KC)
                    {
                        int kc = Math.Min(KC, k - pc);
                        PackB(transB, b, ldb, pc, jc, kc, nc, nr, pb);
                        for (int ic = r0; ic < r1; ic += MC)
                        {
                            int mc = Math.Min(MC, r1 - ic);
                            PackA(transA, a, lda, ic, pc, mc, kc, alpha, pa);
                            for (int jr = 0; jr < nc; jr += nr)
                            {
                                int nw = Math.Min(nr, nc - jr);
                                float* bStrip = pb + ((long)jr * kc);
                                for (int ir = 0; ir < mc; ir += MR)
                                {
                                    int mh = Math.Min(MR, mc - ir);
                                    float* aStrip = pa + ((long)ir * kc);
                                    float* cTile = c + ((long)(ic + ir) * ldc) + jc + jr;
                                    if (mh == MR && nw == nr)
                                    {
                                        MicroKernel(kc, aStrip, bStrip, cTile, ldc);
                                    }
                                    else
                                    {
                                        // edge tile: compute into a zeroed scratch tile, add the valid part
                                        new Span<float>(tile, MR * nr).Clear();
                                        MicroKernel(kc, aStrip, bStrip, tile, nr);
                                        for (int i = 0; i < mh; i++)
                                        {
                                            for (int j = 0; j < nw; j++) cTile[((long)i * ldc) + j] += tile[(i * nr) + j];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bufB);
            ArrayPool<float>.Shared.Return(bufA);
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    // packed B: strips of nr columns; strip s holds, for p = 0..kc−1, the nr values op(B)[pc+p, jc+s·nr ..] (zero padded)
    private static void PackB(bool transB, float* b, int ldb, int pc, int jc, int kc, int nc, int nr, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int nw = Math.Min(nr, nc - jr);
            float* strip = dst + ((long)jr * kc);
            for (int p = 0; p < kc; p++)
            {
                float* d = strip + ((long)p * nr);
                if (!transB)
                {
                    float* src = b + ((long)(pc + p) * ldb) + jc + jr;
                    if (nw == nr) Buffer.MemoryCopy(src, d, nr * sizeof(float), nr * sizeof(float));
                    else
                    {
                        for (int j = 0; j < nw; j++) d[j] = src[j];
                        for (int j = nw; j < nr; j++) d[j] = 0f;
                    }
                }
                else
                {
                    // op(B)[q, j] = B[j, q]
                    for (int j = 0; j < nw; j++) d[j] = b[((long)(jc + jr + j) * ldb) + pc + p];
                    for (int j = nw; j < nr; j++) d[j] = 0f;
                }
            }
        }
    }

    // packed A: strips of MR rows; strip s holds, for p = 0..kc−1, the MR values α·op(A)[ic+s·MR .., pc+p] (zero padded)
    private static void PackA(bool transA, float* a, int lda, int ic, int pc, int mc, int kc, float alpha, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mh = Math.Min(MR, mc - ir);
            float* strip = dst + ((long)ir * kc);
            if (!transA)
            {
                for (int i = 0; i < MR; i++)
                {
                    if (i < mh)
                    {
                        float* src = a + ((long)(ic + ir + i) * lda) + pc;
                        for (int p = 0; p < kc; p++) strip[(p * MR) + i] = alpha * src[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++) strip[(p * MR) + i] = 0f;
                    }
                }
            }
            else
            {
                // op(A)[i, p] = A[p, i]: rows of A are contiguous in i
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + ((long)(pc + p) * lda) + ic + ir;
                    float* d = strip + (p * MR);
                    for (int i = 0; i < mh; i++) d[i] = alpha * src[i];
                    for (int i = mh; i < MR; i++) d[i] = 0f;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernel(int kc, float* a, float* b, float* c, int ldc)
    {
        if (Vector512.IsHardwareAccelerated) Kernel8x32(kc, a, b, c, ldc);
        else Kernel8x16(kc, a, b, c, ldc);
    }

    // C[8×32] += Σ_p a[p, 0..7] ⊗ b[p, 0..31]: 16 Vector512 accumulators, 2 B loads and 8 broadcasts per p
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            a += MR;
            b += 32;
        }

        Add(c, c00, c01);
        Add(c + ldc, c10, c11);
        Add(c + (2L * ldc), c20, c21);
        Add(c + (3L * ldc), c30, c31);
        Add(c + (4L * ldc), c40, c41);
        Add(c + (5L * ldc), c50, c51);
        Add(c + (6L * ldc), c60, c61);
        Add(c + (7L * ldc), c70, c71);

        static void Add(float* row, Vector512<float> lo, Vector512<float> hi)
        {
            Vector512.Store(Vector512.Load(row) + lo, row);
            Vector512.Store(Vector512.Load(row + 16) + hi, row + 16);
        }
    }

    // Vector256 fallback: C[8×16] with 16 Vector256 accumulators
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x16(int kc, float* a, float* b, float* c, int ldc)
    {
        Span<Vector256<float>> acc = stackalloc Vector256<float>[2 * MR];
        acc.Clear();
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            for (int i = 0; i < MR; i++)
            {
                var ai = Vector256.Create(a[i]);
                acc[2 * i] = Vector256.FusedMultiplyAdd(ai, b0, acc[2 * i]);
                acc[(2 * i) + 1] = Vector256.FusedMultiplyAdd(ai, b1, acc[(2 * i) + 1]);
            }

            a += MR;
            b += 16;
        }

        for (int i = 0; i < MR; i++)
        {
            float* row = c + ((long)i * ldc);
            Vector256.Store(Vector256.Load(row) + acc[2 * i], row);
            Vector256.Store(Vector256.Load(row + 8) + acc[(2 * i) + 1], row + 8);
        }
    }
}
