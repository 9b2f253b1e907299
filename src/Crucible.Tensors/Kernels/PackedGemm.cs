using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Crucible.Tensors.Kernels;

/// <summary>
/// The fast SGEMM path: Goto &amp; van de Geijn's blocking ("Anatomy of High-Performance Matrix Multiplication",
/// TOMS 2008) around an MR×NR register-blocked micro-kernel of Vector512 FMAs (Vector256 fallback).
/// </summary>
/// <remarks>
/// <para>
/// Packing only where it pays. The micro-kernel reads op(A) in place whenever Vector512 is available: A's rows
/// (op(A) = A) or A's rows as columns (op(A) = Aᵀ, MR consecutive values per k); only the last partial strip of
/// MR rows is copied, zero padded. B is read in place when op(B) = B (NR consecutive values per k), except the
/// last partial strip of NR columns; op(B) = Bᵀ is packed into KC×NR strips. Both are packed (A into MR×KC
/// strips with α applied) only for large problems, where the copies buy cache and TLB locality (rows of a wide
/// matrix alias in L1), and always on Vector256-only hardware, whose kernel reads packed strips only. Small
/// problems thus pay no copies: 64³ runs straight from the caller's rows.
/// </para>
/// <para>
/// Two gathered forms serve the time-major convolution without an im2col matrix: A's rows, or B's rows, taken per
/// tap from a row table (<see cref="RunGathered"/>, <see cref="RunGatheredB"/>). An epilogue (bias, activation,
/// residual) runs on each MC×NC block as soon as its last K panel is done, on the thread that computed it.
/// </para>
/// <para>
/// Every element of C is computed by the same float operations whatever the thread count: the tile grid, the
/// K panels and the in-place/packed choice depend on the shape only, a tile's sum runs over p in order, and each
/// panel ends with <c>C ← C + α·acc</c> (multiply, then add; the first panel stores α·acc when β = 0). Threads split
/// the row strips or the column strips of C, never K, so results are bit-identical on 1 and on N threads.
/// </para>
/// </remarks>
internal static unsafe class PackedGemm
{
    private const int MR = 8;          // rows of the micro-tile
    private const int KC = 256;        // depth of a panel (an MR×KC strip of A and a KC×NR strip of B: 8 + 32 KB)
    private const int MC = 128;        // rows of A per block (MC×KC×4 = 128 KB, in L2)
    private const int NC = 2048;       // columns of B per panel

    /// <summary>From this many multiply-adds on, op(A) and op(B) are packed (always with Vector256 only).</summary>
    private const long PackThreshold = 1L << 27;

    private static int NR => Vector512.IsHardwareAccelerated ? 32 : 16;

    /// <summary>Whether the blocked path is available and worth it for this shape.</summary>
    public static bool ShouldUse(int m, int n, int k) =>
        (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated) && (long)m * n * k >= 16 * 16 * 16 && n >= 8 && k >= 4;

    /// <summary>C = α · op(A) · op(B) + β · C (shapes already validated by the caller).</summary>
    public static void Run(
        bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int threads, GemmEpilogue? epilogue = null) =>
        Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, packA: null, packB: null, epilogue);

    /// <summary>
    /// C = Σ_j A_j · op(B)[j·tapK .. (j+1)·tapK, :] + β·C (β = 0 or 1) with gathered rows: row i of A_j is the tapK floats
    /// at <c>a + rowTable[j·m + i]</c>, or zeros where that offset is −1 (an implicit im2col: convolution taps read
    /// straight from the input rows). K = taps·tapK; panels never straddle taps.
    /// </summary>
    public static void RunGathered(
        int m, int n, int taps, int tapK, float* a, int* rowTable, bool transB, float* b, int ldb, float beta, float* c, int ldc,
        int threads, GemmEpilogue? epilogue)
    {
        if (beta != 0f && beta != 1f) throw new ArgumentOutOfRangeException(nameof(beta), "a gathered GEMM takes β = 0 or 1");
        int k = taps * tapK;
        if (k == 0)
        {
            if (beta == 0f)
            {
                for (int i = 0; i < m; i++) new Span<float>(c + ((long)i * ldc), n).Clear();
            }

            epilogue?.Invoke(0, m, 0, n);
            return;
        }

        var job = new Job(false, transB, k, 1f, a, 0, b, ldb, c, ldc, false, !Vector512.IsHardwareAccelerated || transB, beta == 0f, epilogue)
        {
            RowTable = rowTable,
            TapK = tapK,
            M = m,
        };
        Split(job, m, n, (long)m * n * k, threads);
    }

    /// <summary>
    /// C = α · Aᵀ · B + β·C (β = 0 or 1) with B's rows gathered per tap: B[p, j·tapN + q] = b[rowTable[j·k + p] + q], or 0
    /// where the offset is −1 (the weight gradient of a convolution, dW = dYᵀ · im2col(x), without materialising
    /// im2col). A (k×m) is read in place; n = taps·tapN; tapN must be a multiple of the tile width.
    /// </summary>
    public static void RunGatheredB(
        int m, int taps, int tapN, int k, float alpha, float* a, int lda, float* b, int* rowTable, float beta, float* c, int ldc, int threads)
    {
        if (beta != 0f && beta != 1f) throw new ArgumentOutOfRangeException(nameof(beta), "a gathered GEMM takes β = 0 or 1");
        if (!Vector512.IsHardwareAccelerated || tapN % NR != 0) throw new InvalidOperationException("gathered B needs Vector512 and whole strips per tap");
        int n = taps * tapN;
        if (k == 0 || alpha == 0f)
        {
            if (beta == 0f)
            {
                for (int i = 0; i < m; i++) new Span<float>(c + ((long)i * ldc), n).Clear();
            }

            return;
        }

        var job = new Job(true, false, k, alpha, a, lda, b, 0, c, ldc, false, false, beta == 0f, null)
        {
            BRowTable = rowTable,
            BTapN = tapN,
        };
        Split(job, m, n, (long)m * n * k, threads);
    }

    /// <summary>Whether <see cref="RunGatheredB"/> can take taps of this width.</summary>
    public static bool GatheredBSupported(int tapN) => Vector512.IsHardwareAccelerated && tapN % 32 == 0;

    /// <summary>The same with the packing choice forced (null: by shape), so tests reach every path on small shapes.</summary>
    internal static void Run(
        bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, int threads, bool? packA, bool? packB,
        GemmEpilogue? epilogue = null)
    {
        // β = 0: the first K panel stores (so C's old values, NaN included, are never read); other β: scaled first
        bool overwrite = beta == 0f && k > 0 && alpha != 0f;
        if (!overwrite && beta != 1f)
        {
            for (int i = 0; i < m; i++)
            {
                var row = new Span<float>(c + ((long)i * ldc), n);
                if (beta == 0f) row.Clear();
                else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        }

        if (k == 0 || alpha == 0f)
        {
            epilogue?.Invoke(0, m, 0, n);
            return;
        }

        long work = (long)m * n * k;
        bool v512 = Vector512.IsHardwareAccelerated;
        bool large = work >= PackThreshold;
        bool doPackA = !v512 || (packA ?? large), doPackB = !v512 || transB || (packB ?? large);
        var job = new Job(transA, transB, k, alpha, a, lda, b, ldb, c, ldc, doPackA, doPackB, overwrite, epilogue);
        Split(job, m, n, work, threads);
    }

    // runs the job on one thread, or on whole row or column strips per thread
    private static void Split(Job job, int m, int n, long work, int threads)
    {
        int nr = NR;
        int rowStrips = (m + MR - 1) / MR, colStrips = (n + nr - 1) / nr;
        int parts = 1;
        if (threads > 1 && work >= Kernels.ParallelThreshold) parts = Math.Min(threads, Math.Max(rowStrips, colStrips));
        if (parts == 1)
        {
            job.Block(0, m, 0, n);
            return;
        }

        // whole strips per part. Split by columns when only op(B) is packed and it is not small next to op(A): each
        // thread then packs its own columns instead of all of them. Else split the larger of m and n, so that every
        // thread reads the smaller operand whole (op(A) is m×k, op(B) k×n) and only its share of the larger.
        bool byRows = job.PackB && !job.PackA ? (long)n * 4 < m : m >= n;
        if (byRows && rowStrips < parts) byRows = false;
        else if (!byRows && colStrips < parts) byRows = true;
        int strips = byRows ? rowStrips : colStrips;
        parts = Math.Min(parts, strips);
        ForkJoin.Run(parts, part =>
        {
            int s0 = (int)((long)strips * part / parts), s1 = (int)((long)strips * (part + 1) / parts);
            int r0 = 0, r1 = m, c0 = 0, c1 = n;
            if (byRows) (r0, r1) = (s0 * MR, Math.Min(m, s1 * MR));
            else (c0, c1) = (s0 * nr, Math.Min(n, s1 * nr));
            if (r1 <= r0 || c1 <= c0) return;
            job.Block(r0, r1, c0, c1);
        });
    }

    private readonly struct Job(
        bool transA, bool transB, int k, float alpha,
        float* a, int lda, float* b, int ldb, float* c, int ldc, bool packA, bool packB, bool overwrite, GemmEpilogue? epilogue)
    {
        public bool PackA => packA;

        public bool PackB => packB;

        /// <summary>Gathered rows of A (see <see cref="RunGathered"/>), or null.</summary>
        public int* RowTable { get; init; }

        /// <summary>The K extent of one tap of a gathered A.</summary>
        public int TapK { get; init; }

        /// <summary>The rows of C (the stride of the row table).</summary>
        public int M { get; init; }

        /// <summary>Gathered rows of B (see <see cref="RunGatheredB"/>), or null; its stride is K.</summary>
        public int* BRowTable { get; init; }

        /// <summary>The columns of one tap of a gathered B.</summary>
        public int BTapN { get; init; }

        /// <summary>
        /// C[r0..r1, c0..c1] (+)= α · op(A)[r0..r1, :] · op(B)[:, c0..c1], then the epilogue on each MC×NC block as
        /// soon as its last K panel is done (while the block is in cache).
        /// </summary>
        public void Block(int r0, int r1, int c0, int c1)
        {
            int nr = NR;
            int kcMax = Math.Min(KC, k);
            int ncMax = Math.Min(NC, RoundUp(c1 - c0, nr));
            int mcMax = Math.Min(MC, RoundUp(r1 - r0, MR));

            // scratch: op(B) strips (all of a panel when packing B, else only a partial last strip), op(A)
            // strips (a whole block when packing A, else only a partial last strip), and one C tile
            float[] bufB = ArrayPool<float>.Shared.Rent((kcMax * (packB ? ncMax : nr)) + 16);
            float[] bufA = ArrayPool<float>.Shared.Rent((kcMax * (packA ? mcMax : MR)) + 16);
            float[]? zeros = RowTable is null && BRowTable is null ? null : ArrayPool<float>.Shared.Rent(kcMax + 48);
            float* tile = stackalloc float[MR * 32];
            try
            {
                fixed (float* pb = bufB)
                fixed (float* pa = bufA)
                fixed (float* pz = zeros)
                {
                    if (zeros is not null) new Span<float>(pz, kcMax + 48).Clear();
                    for (int jc = c0; jc < c1; jc += NC)
                    {
                        int nc = Math.Min(NC, c1 - jc);
                        for (int pc = 0, kc; pc < k; pc += kc)
                        {
                            kc = Math.Min(KC, k - pc);
                            if (RowTable is not null)
                            {
                                // whole taps per panel when they fit (one accumulation over them), else one tap in parts
                                kc = TapK <= KC ? Math.Min(k - pc, KC / TapK * TapK) : Math.Min(kc, TapK - (pc % TapK));
                            }

                            if (packB) PackB(transB, b, ldb, pc, jc, kc, nc, nr, pb);
                            else if (nc % nr != 0 && BRowTable is null) PackB(false, b, ldb, pc, jc + nc - (nc % nr), kc, nc % nr, nr, pb);
                            for (int ic = r0; ic < r1; ic += MC)
                            {
                                int mc = Math.Min(MC, r1 - ic);
                                if (packA) PackA(transA, a, lda, ic, pc, mc, kc, alpha, pa);
                                else if (mc % MR != 0 && RowTable is not null) PackGathered(ic + mc - (mc % MR), pc, mc % MR, kc, pa);
                                else if (mc % MR != 0) PackA(transA, a, lda, ic + mc - (mc % MR), pc, mc % MR, kc, 1f, pa);
                                Panel(ic, mc, jc, nc, pc, kc, pa, pb, pz, tile, overwrite && pc == 0);
                                if (pc + kc == k) epilogue?.Invoke(ic, ic + mc, jc, jc + nc);
                            }
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(bufB);
                ArrayPool<float>.Shared.Return(bufA);
                if (zeros is not null) ArrayPool<float>.Shared.Return(zeros);
            }
        }

        // one full tile of a gathered A: the 8 rows' pointers for this panel's tap (zeros for padding rows)
        private void GatheredRows(int row, int pc, int kc, float* zeros, float* bStrip, int bStep, float* dst, int ldd, bool store) =>
            Kernel8x32(kc, new GatheredTapsA(TapK, pc % TapK, M, RowTable + ((long)(pc / TapK) * M) + row, a, zeros), new StridedB(bStrip, bStep), dst, ldd, 1f, store);

        // the last partial strip of a gathered A, as PackA's layout (MR values per k, zero padded)
        private void PackGathered(int ic, int pc, int mh, int kc, float* dst)
        {
            for (int p = 0; p < kc; p++)
            {
                int j = (pc + p) / TapK, q = (pc + p) % TapK;
                for (int i = 0; i < MR; i++)
                {
                    int offset = i < mh ? RowTable[((long)j * M) + ic + i] : -1;
                    dst[(p * MR) + i] = offset < 0 ? 0f : a[offset + q];
                }
            }
        }

        // one KC panel of an MC×NC block: every MR×NR tile, column strips outer so a B strip stays in L1
        private void Panel(int ic, int mc, int jc, int nc, int pc, int kc, float* pa, float* pb, float* zeros, float* tile, bool store)
        {
            int nr = NR;
            float tileAlpha = packA ? 1f : alpha;    // packed A carries α already
            for (int jr = 0; jr < nc; jr += nr)
            {
                int nw = Math.Min(nr, nc - jr);
                float* bStrip;
                int bStep;
                if (packB) { bStrip = pb + ((long)jr * kc); bStep = nr; }
                else if (BRowTable is not null) { bStrip = null; bStep = 0; }
                else if (nw < nr) { bStrip = pb; bStep = nr; }
                else { bStrip = b + ((long)pc * ldb) + jc + jr; bStep = ldb; }

                for (int ir = 0; ir < mc; ir += MR)
                {
                    int mh = Math.Min(MR, mc - ir);
                    float* cTile = c + ((long)(ic + ir) * ldc) + jc + jr;
                    bool full = mh == MR && nw == nr;
                    float* dst = full ? cTile : tile;
                    int ldd = full ? ldc : nr;

                    if (BRowTable is not null)
                    {
                        // B's rows gathered for this strip's tap: one row pointer per k
                        int col = jc + jr, j = col / BTapN;
                        int* bTab = BRowTable + ((long)j * k) + pc;
                        float* bq = b + (col % BTapN);
                        var gathered = new GatheredB(bTab, bq, zeros);
                        if (mh < MR) Kernel8x32(kc, new StridedA(pa, MR), gathered, dst, ldd, tileAlpha, store || !full);
                        else Kernel8x32(kc, new StridedA(a + ((long)pc * lda) + ic + ir, lda), gathered, dst, ldd, tileAlpha, store || !full);
                    }
                    else if (packA) Strided(kc, pa + ((long)ir * kc), MR, bStrip, bStep, dst, ldd, tileAlpha, store || !full);
                    else if (mh < MR) Strided(kc, pa, MR, bStrip, bStep, dst, ldd, tileAlpha, store || !full);
                    else if (transA) Strided(kc, a + ((long)pc * lda) + ic + ir, lda, bStrip, bStep, dst, ldd, tileAlpha, store || !full);
                    else if (RowTable is not null) GatheredRows(ic + ir, pc, kc, zeros, bStrip, bStep, dst, ldd, store || !full);
                    else Rows(kc, a + ((long)(ic + ir) * lda) + pc, lda, bStrip, bStep, dst, ldd, tileAlpha, store || !full);

                    if (!full)
                    {
                        // edge tile: α·acc stored into the scratch tile, its valid part stored into or added to C
                        for (int i = 0; i < mh; i++)
                        {
                            float* crow = cTile + ((long)i * ldc);
                            float* trow = tile + (i * nr);
                            if (store) new ReadOnlySpan<float>(trow, nw).CopyTo(new Span<float>(crow, nw));
                            else for (int j = 0; j < nw; j++) crow[j] += trow[j];
                        }
                    }
                }
            }
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
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* d = strip + ((long)p * nr);
                    float* src = b + ((long)(pc + p) * ldb) + jc + jr;
                    if (nw == nr) Buffer.MemoryCopy(src, d, nr * sizeof(float), nr * sizeof(float));
                    else
                    {
                        for (int j = 0; j < nw; j++) d[j] = src[j];
                        for (int j = nw; j < nr; j++) d[j] = 0f;
                    }
                }
            }
            else if (nw == nr && Avx.IsSupported)
            {
                // op(B)[q, j] = B[j, q]: 8×8 blocks of B's rows transposed in registers, the last kc mod 8 values one by one
                int p8 = kc & ~7;
                for (int j0 = 0; j0 < nr; j0 += 8)
                {
                    float* src = b + ((long)(jc + jr + j0) * ldb) + pc;
                    for (int p = 0; p < p8; p += 8) Transpose8x8(src + p, ldb, strip + ((long)p * nr) + j0, nr);
                    for (int j = 0; j < 8; j++)
                    {
                        for (int p = p8; p < kc; p++) strip[((long)p * nr) + j0 + j] = src[((long)j * ldb) + p];
                    }
                }
            }
            else
            {
                // op(B)[q, j] = B[j, q]: walk B's rows (contiguous in q) and scatter into the strip's columns
                for (int j = 0; j < nw; j++)
                {
                    float* src = b + ((long)(jc + jr + j) * ldb) + pc;
                    for (int p = 0; p < kc; p++) strip[((long)p * nr) + j] = src[p];
                }

                for (int j = nw; j < nr; j++)
                {
                    for (int p = 0; p < kc; p++) strip[((long)p * nr) + j] = 0f;
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
            if (!transA && mh == MR && Avx.IsSupported)
            {
                // 8×8 blocks of A's rows, scaled by α and transposed in registers; the last kc mod 8 values one by one
                int p8 = kc & ~7;
                float* src = a + ((long)(ic + ir) * lda) + pc;
                for (int p = 0; p < p8; p += 8) Transpose8x8(src + p, lda, strip + (p * MR), MR, scale: true, alpha);
                for (int i = 0; i < MR; i++)
                {
                    for (int p = p8; p < kc; p++) strip[(p * MR) + i] = alpha * src[((long)i * lda) + p];
                }
            }
            else if (!transA)
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
                    if (mh == MR)
                    {
                        Vector256.Store(Vector256.Create(alpha) * Vector256.Load(src), d);
                        continue;
                    }

                    for (int i = 0; i < mh; i++) d[i] = alpha * src[i];
                    for (int i = mh; i < MR; i++) d[i] = 0f;
                }
            }
        }
    }

    // dst[q·dstStride + r] = src[r·srcStride + q] (times α when scale), r, q = 0..7: an 8×8 transpose in Vector256
    // registers; each value is the scalar path's α·x (one rounding) or x itself, so packing by blocks changes no bit
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, long srcStride, float* dst, long dstStride, bool scale = false, float alpha = 1f)
    {
        var r0 = Vector256.Load(src);
        var r1 = Vector256.Load(src + srcStride);
        var r2 = Vector256.Load(src + (2 * srcStride));
        var r3 = Vector256.Load(src + (3 * srcStride));
        var r4 = Vector256.Load(src + (4 * srcStride));
        var r5 = Vector256.Load(src + (5 * srcStride));
        var r6 = Vector256.Load(src + (6 * srcStride));
        var r7 = Vector256.Load(src + (7 * srcStride));
        if (scale)
        {
            var va = Vector256.Create(alpha);
            (r0, r1, r2, r3) = (va * r0, va * r1, va * r2, va * r3);
            (r4, r5, r6, r7) = (va * r4, va * r5, va * r6, va * r7);
        }

        // pairs of rows interleaved, then quads, then the 128-bit halves exchanged: u_q holds column q (low half, rows
        // 0..3) and column q + 4 (high half) of rows 0..3, u_{q+4} the same of rows 4..7
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Vector256.Store(Avx.Permute2x128(u0, u4, 0x20), dst);
        Vector256.Store(Avx.Permute2x128(u1, u5, 0x20), dst + dstStride);
        Vector256.Store(Avx.Permute2x128(u2, u6, 0x20), dst + (2 * dstStride));
        Vector256.Store(Avx.Permute2x128(u3, u7, 0x20), dst + (3 * dstStride));
        Vector256.Store(Avx.Permute2x128(u0, u4, 0x31), dst + (4 * dstStride));
        Vector256.Store(Avx.Permute2x128(u1, u5, 0x31), dst + (5 * dstStride));
        Vector256.Store(Avx.Permute2x128(u2, u6, 0x31), dst + (6 * dstStride));
        Vector256.Store(Avx.Permute2x128(u3, u7, 0x31), dst + (7 * dstStride));
    }

    // op(A)[r, p] = a[p·aStep + r] (a packed strip, aStep = MR, or Aᵀ read in place, aStep = lda); op(B)[p, :] = b + p·bStep
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Strided(int kc, float* a, int aStep, float* b, int bStep, float* c, int ldc, float alpha, bool store)
    {
        if (Vector512.IsHardwareAccelerated) Kernel8x32(kc, new StridedA(a, aStep), new StridedB(b, bStep), c, ldc, alpha, store);
        else Kernel8x16(kc, new StridedA(a, aStep), new StridedB(b, bStep), c, ldc, alpha, store);   // packed strips, α = 1
    }

    // op(A)[r, p] = a[r·lda + p] (A's rows read in place); Vector512 only
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows(int kc, float* a, int lda, float* b, int bStep, float* c, int ldc, float alpha, bool store) =>
        Kernel8x32(kc, new RowsA(a, lda), new StridedB(b, bStep), c, ldc, alpha, store);

    /// <summary>
    /// Where a micro-tile reads op(A)[0..7, p], p = 0, 1, … in order: a struct, so that <see cref="Kernel8x32"/> (and the Vector256
    /// <see cref="Kernel8x16"/>) is compiled once per operand layout with every call inlined (TensorPrimitives' operator pattern).
    /// </summary>
    private interface ITileA
    {
        /// <summary>
        /// Starts the next run of p (at most kc long) and returns its length. Where op(A)'s rows are read through row
        /// pointers, op(A)[i, p] = r_i[p] over the run; else the r_i are unused (null).
        /// </summary>
        int Run(int kc, out float* r0, out float* r1, out float* r2, out float* r3, out float* r4, out float* r5, out float* r6, out float* r7);

        /// <summary>op(A)[i, p] for the current p (i a constant, p counting from 0 within the run, r the run's r_i).</summary>
        float At(int i, int p, float* r);

        /// <summary>Moves on to the next p.</summary>
        void Next();
    }

    /// <summary>Where a micro-tile reads op(B)[p, 0..NR−1], p = 0, 1, … in order.</summary>
    private interface ITileB
    {
        /// <summary>op(B)[p, 0..NR−1] for the current p.</summary>
        float* Row();

        /// <summary>Moves on to the next p.</summary>
        void Next();
    }

    // op(A)[i, p] = a[p·aStep + i]: a packed strip (aStep = MR) or Aᵀ read in place (aStep = lda)
    private struct StridedA(float* a, int aStep) : ITileA
    {
        private float* a = a;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly int Run(int kc, out float* r0, out float* r1, out float* r2, out float* r3, out float* r4, out float* r5, out float* r6, out float* r7)
        {
            r0 = r1 = r2 = r3 = r4 = r5 = r6 = r7 = null;
            return kc;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly float At(int i, int p, float* r) => a[i];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Next() => a += aStep;
    }

    // op(A)[i, p] = a[i·lda + p]: A's rows read in place, through the row pointers r_i = a + i·lda
    private readonly struct RowsA(float* a, int lda) : ITileA
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Run(int kc, out float* r0, out float* r1, out float* r2, out float* r3, out float* r4, out float* r5, out float* r6, out float* r7)
        {
            r0 = a;
            r1 = a + lda;
            r2 = a + (2L * lda);
            r3 = a + (3L * lda);
            r4 = a + (4L * lda);
            r5 = a + (5L * lda);
            r6 = a + (6L * lda);
            r7 = a + (7L * lda);
            return kc;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float At(int i, int p, float* r) => r[p];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Next()
        {
        }
    }

    // a gathered A over a panel of whole taps (or part of one tap, from q): row i of tap j is at a + t[j·stride + i]
    // (zeros where −1); each run is the rest of one tap, and the sum runs over p in order across taps
    private struct GatheredTapsA(int tapK, int q, int stride, int* t, float* a, float* zeros) : ITileA
    {
        private int q = q;
        private int* t = t;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Run(int kc, out float* r0, out float* r1, out float* r2, out float* r3, out float* r4, out float* r5, out float* r6, out float* r7)
        {
            int len = Math.Min(kc, tapK - q);
            r0 = t[0] < 0 ? zeros : a + t[0] + q;
            r1 = t[1] < 0 ? zeros : a + t[1] + q;
            r2 = t[2] < 0 ? zeros : a + t[2] + q;
            r3 = t[3] < 0 ? zeros : a + t[3] + q;
            r4 = t[4] < 0 ? zeros : a + t[4] + q;
            r5 = t[5] < 0 ? zeros : a + t[5] + q;
            r6 = t[6] < 0 ? zeros : a + t[6] + q;
            r7 = t[7] < 0 ? zeros : a + t[7] + q;
            q = 0;
            t += stride;
            return len;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly float At(int i, int p, float* r) => r[p];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Next()
        {
        }
    }

    // op(B)[p, :] = b + p·bStep: a packed strip (bStep = nr) or B's rows read in place (bStep = ldb)
    private struct StridedB(float* b, int bStep) : ITileB
    {
        private float* b = b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly float* Row() => b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Next() => b += bStep;
    }

    // B's rows gathered per k: op(B)[p, :] = bq + bTab[p] (zeros where bTab[p] = −1)
    private struct GatheredB(int* bTab, float* bq, float* zeros) : ITileB
    {
        private int* bTab = bTab;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly float* Row()
        {
            int offset = *bTab;
            return offset < 0 ? zeros : bq + offset;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Next() => bTab++;
    }

    // C[8×32] (+)= α · Σ_p op(A)[0..7, p] ⊗ op(B)[p, 0..31]: 16 Vector512 accumulators, 2 loads and 8 broadcasts per p,
    // the sum over p in order (across A's runs); one body for every operand layout, compiled once per (TA, TB)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32<TA, TB>(int kc, TA a, TB b, float* c, int ldc, float alpha, bool store)
        where TA : struct, ITileA
        where TB : struct, ITileB
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        if (Sse.IsSupported)
        {
            // the tile of C is read (or written) only after the k loop: fetch its lines now, so that the rows at
            // ldc apart (a cache miss each once C outgrows L2) arrive during the loop instead of stalling the stores
            for (int i = 0; i < MR; i++)
            {
                float* row = c + ((long)i * ldc);
                Sse.Prefetch0(row);
                Sse.Prefetch0(row + 16);
                Sse.Prefetch0(row + 31);
            }
        }

        while (kc > 0)
        {
            int len = a.Run(kc, out float* r0, out float* r1, out float* r2, out float* r3, out float* r4, out float* r5, out float* r6, out float* r7);
            for (int p = 0; p < len; p++)
            {
                float* bp = b.Row();
                var b0 = Vector512.Load(bp);
                var b1 = Vector512.Load(bp + 16);
                var a0 = Vector512.Create(a.At(0, p, r0));
                c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
                c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
                var a1 = Vector512.Create(a.At(1, p, r1));
                c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
                c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
                var a2 = Vector512.Create(a.At(2, p, r2));
                c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
                c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
                var a3 = Vector512.Create(a.At(3, p, r3));
                c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
                c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
                var a4 = Vector512.Create(a.At(4, p, r4));
                c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
                c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
                var a5 = Vector512.Create(a.At(5, p, r5));
                c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
                c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
                var a6 = Vector512.Create(a.At(6, p, r6));
                c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
                c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
                var a7 = Vector512.Create(a.At(7, p, r7));
                c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
                c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
                a.Next();
                b.Next();
            }

            kc -= len;
        }

        Store8x32(c, ldc, alpha, store, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    // C ← C + α·acc (or C ← α·acc), row by row: a multiply then an add, so an edge tile stored into scratch and then
    // added to C rounds exactly as a full tile does
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8x32(
        float* c, int ldc, float alpha, bool store,
        Vector512<float> c00, Vector512<float> c01, Vector512<float> c10, Vector512<float> c11,
        Vector512<float> c20, Vector512<float> c21, Vector512<float> c30, Vector512<float> c31,
        Vector512<float> c40, Vector512<float> c41, Vector512<float> c50, Vector512<float> c51,
        Vector512<float> c60, Vector512<float> c61, Vector512<float> c70, Vector512<float> c71)
    {
        var va = Vector512.Create(alpha);
        if (store)
        {
            Set(c, va, c00, c01);
            Set(c + ldc, va, c10, c11);
            Set(c + (2L * ldc), va, c20, c21);
            Set(c + (3L * ldc), va, c30, c31);
            Set(c + (4L * ldc), va, c40, c41);
            Set(c + (5L * ldc), va, c50, c51);
            Set(c + (6L * ldc), va, c60, c61);
            Set(c + (7L * ldc), va, c70, c71);
            return;
        }

        Add(c, va, c00, c01);
        Add(c + ldc, va, c10, c11);
        Add(c + (2L * ldc), va, c20, c21);
        Add(c + (3L * ldc), va, c30, c31);
        Add(c + (4L * ldc), va, c40, c41);
        Add(c + (5L * ldc), va, c50, c51);
        Add(c + (6L * ldc), va, c60, c61);
        Add(c + (7L * ldc), va, c70, c71);

        static void Add(float* row, Vector512<float> va, Vector512<float> lo, Vector512<float> hi)
        {
            Vector512.Store(Vector512.Load(row) + (va * lo), row);
            Vector512.Store(Vector512.Load(row + 16) + (va * hi), row + 16);
        }

        static void Set(float* row, Vector512<float> va, Vector512<float> lo, Vector512<float> hi)
        {
            Vector512.Store(va * lo, row);
            Vector512.Store(va * hi, row + 16);
        }
    }

    // Vector256 fallback: C[8×16] (+)= α · Σ_p op(A)[0..7, p] ⊗ op(B)[p, 0..15], 16 Vector256 accumulators, the same body
    // as Kernel8x32 at half the width (used on packed strips, α = 1 there: packed A carries α)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x16<TA, TB>(int kc, TA a, TB b, float* c, int ldc, float alpha, bool store)
        where TA : struct, ITileA
        where TB : struct, ITileB
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector256<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector256<float> c60 = default, c61 = default, c70 = default, c71 = default;
        while (kc > 0)
        {
            int len = a.Run(kc, out float* r0, out float* r1, out float* r2, out float* r3, out float* r4, out float* r5, out float* r6, out float* r7);
            for (int p = 0; p < len; p++)
            {
                float* bp = b.Row();
                var b0 = Vector256.Load(bp);
                var b1 = Vector256.Load(bp + 8);
                var a0 = Vector256.Create(a.At(0, p, r0));
                c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
                c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
                var a1 = Vector256.Create(a.At(1, p, r1));
                c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
                c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
                var a2 = Vector256.Create(a.At(2, p, r2));
                c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
                c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
                var a3 = Vector256.Create(a.At(3, p, r3));
                c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
                c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
                var a4 = Vector256.Create(a.At(4, p, r4));
                c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
                c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
                var a5 = Vector256.Create(a.At(5, p, r5));
                c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
                c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
                var a6 = Vector256.Create(a.At(6, p, r6));
                c60 = Vector256.FusedMultiplyAdd(a6, b0, c60);
                c61 = Vector256.FusedMultiplyAdd(a6, b1, c61);
                var a7 = Vector256.Create(a.At(7, p, r7));
                c70 = Vector256.FusedMultiplyAdd(a7, b0, c70);
                c71 = Vector256.FusedMultiplyAdd(a7, b1, c71);
                a.Next();
                b.Next();
            }

            kc -= len;
        }

        var va = Vector256.Create(alpha);
        Row(c, va, c00, c01, store);
        Row(c + ldc, va, c10, c11, store);
        Row(c + (2L * ldc), va, c20, c21, store);
        Row(c + (3L * ldc), va, c30, c31, store);
        Row(c + (4L * ldc), va, c40, c41, store);
        Row(c + (5L * ldc), va, c50, c51, store);
        Row(c + (6L * ldc), va, c60, c61, store);
        Row(c + (7L * ldc), va, c70, c71, store);

        // C ← C + α·acc (or C ← α·acc): a multiply then an add, as Store8x32
        static void Row(float* row, Vector256<float> va, Vector256<float> lo, Vector256<float> hi, bool store)
        {
            Vector256.Store(store ? va * lo : Vector256.Load(row) + (va * lo), row);
            Vector256.Store(store ? va * hi : Vector256.Load(row + 8) + (va * hi), row + 8);
        }
    }
}
