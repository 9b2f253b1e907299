using Crucible.Tensors.Kernels;

namespace Crucible.Tensors.Tests.Kernels;

/// <summary>
/// The blocked GEMM's paths (operands read in place, A packed, B packed, both), forced on small odd shapes so every
/// edge is hit: partial row strips (m mod 8), partial column strips (n mod 32), several K panels (k &gt; 256),
/// leading dimensions wider than the rows, α ≠ 1 and all β cases, in all four transpose modes.
/// </summary>
public class PackedGemmTests
{
    private static float[] Data(int n, int seed)
    {
        var rng = new System.Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 2) - 1);
        return x;
    }

    public static TheoryData<bool, bool, int, int, int, int> Cases()
    {
        var data = new TheoryData<bool, bool, int, int, int, int>();
        foreach (bool ta in new[] { false, true })
        {
            foreach (bool tb in new[] { false, true })
            {
                data.Add(ta, tb, 64, 64, 64, 0);       // the gemm benchmark's small shape: whole tiles only
                data.Add(ta, tb, 13, 45, 7, 0);        // one partial row strip, a full and a partial column strip
                data.Add(ta, tb, 8, 32, 300, 3);       // two K panels, padded leading dimensions
                data.Add(ta, tb, 37, 20, 520, 1);      // three K panels, n narrower than a strip (the denoisers' 20)
                data.Add(ta, tb, 150, 70, 33, 5);      // more rows than one MC block
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public unsafe void EveryPath_MatchesNaive(bool transA, bool transB, int m, int n, int k, int pad)
    {
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        var a = Data(aRows * lda, 1);
        var b = Data(bRows * ldb, 2);
        var c0 = Data(m * ldc, 3);
        foreach (float beta in new[] { 0f, 1f, 0.5f })
        {
            var naive = (float[])c0.Clone();
            NaiveKernels.Gemm(transA, transB, m, n, k, 0.75f, a, lda, b, ldb, beta, naive, ldc);
            foreach (var (packA, packB) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                var fast = (float[])c0.Clone();
                fixed (float* pa = a)
                fixed (float* pb = b)
                fixed (float* pc = fast)
                {
                    PackedGemm.Run(transA, transB, m, n, k, 0.75f, pa, lda, pb, ldb, beta, pc, ldc, threads: 1, packA, packB);
                }

                string label = $"gemm {(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')} {m}x{n}x{k} pad={pad} beta={beta} packA={packA} packB={packB}";
                GradCheck.Close(label, naive, fast, 1e-4, 1e-4);
                for (int i = 0; i < m; i++)
                {
                    // the padding between rows of C is never written
                    for (int j = n; j < ldc; j++) Assert.Equal(c0[(i * ldc) + j], fast[(i * ldc) + j]);
                }
            }
        }
    }

    [Theory]
    [InlineData(false, false, 130, 40, 300)]   // more row strips than column strips: threads split the rows
    [InlineData(true, true, 130, 40, 300)]
    [InlineData(false, true, 9, 300, 600)]     // more column strips: threads split the columns
    [InlineData(true, false, 9, 300, 600)]
    public unsafe void Threads_GiveBitIdenticalResults_WhicheverWayTheySplit(bool transA, bool transB, int m, int n, int k)
    {
        Assert.True((long)m * n * k >= global::Crucible.Tensors.Kernels.Kernels.ParallelThreshold);
        var a = Data(m * k, 4);
        var b = Data(k * n, 5);
        foreach (var (packA, packB) in new[] { (false, false), (true, true) })
        {
            float[] Multiply(int threads)
            {
                var c = Data(m * n, 6);
                fixed (float* pa = a)
                fixed (float* pb = b)
                fixed (float* pc = c)
                {
                    PackedGemm.Run(transA, transB, m, n, k, 0.5f, pa, transA ? m : k, pb, transB ? k : n, 1f, pc, n, threads, packA, packB);
                }

                return c;
            }

            var one = Multiply(1);
            Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), Multiply(2).Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), Multiply(3).Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Theory]
    [InlineData(37, 45, 3, 20, false)]     // partial strips, a gathered A against a transposed (packed) B
    [InlineData(64, 64, 3, 64, true)]      // the TCN's conv shape, B in place
    [InlineData(19, 33, 2, 300, false)]    // taps wider than a K panel
    [InlineData(300, 40, 3, 64, true)]     // enough work for threads
    public void Gathered_MatchesTheMaterialisedRows(int m, int n, int taps, int tapK, bool bInPlace)
    {
        var rng = new System.Random(m + n);
        var a = Data(500 * tapK, 7);
        var table = new int[taps * m];
        for (int i = 0; i < table.Length; i++) table[i] = rng.Next(6) == 0 ? -1 : rng.Next(500) * tapK;
        int k = taps * tapK;

        // the rows as an explicit matrix (k columns), for the naive reference
        var rows = new float[m * k];
        for (int j = 0; j < taps; j++)
        {
            for (int i = 0; i < m; i++)
            {
                if (table[(j * m) + i] >= 0) a.AsSpan(table[(j * m) + i], tapK).CopyTo(rows.AsSpan((i * k) + (j * tapK), tapK));
            }
        }

        bool transB = !bInPlace;
        var b = Data(k * n, 8);
        int ldb = transB ? k : n;
        foreach (float beta in new[] { 0f, 1f })
        {
            var c0 = Data(m * n, 9);
            var naive = (float[])c0.Clone();
            NaiveKernels.Gemm(false, transB, m, n, k, 1f, rows, k, b, ldb, beta, naive, n);
            float[] Run(int threads)
            {
                using var limit = EngineThreads.Limit(threads);
                var c = (float[])c0.Clone();
                global::Crucible.Tensors.Kernels.Kernels.GemmGathered(m, n, taps, tapK, a, table, transB, b, ldb, beta, c, n, null);
                return c;
            }

            var one = Run(1);
            GradCheck.Close($"gathered {m}x{n} taps={taps}x{tapK} beta={beta}", naive, one, 1e-4, 1e-4);
            Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), Run(2).Select(BitConverter.SingleToInt32Bits));
        }

        Assert.Throws<ArgumentException>(() => global::Crucible.Tensors.Kernels.Kernels.GemmGathered(
            m, n, taps, tapK, a, [.. table[..^1], a.Length], transB, b, ldb, 0f, new float[m * n], n, null));
    }

    [Theory]
    [InlineData(64, 3, 64, 6144)]     // the TCN's weight gradient: whole strips, several K panels, threads
    [InlineData(13, 2, 32, 100)]      // a partial row strip
    [InlineData(9, 3, 20, 50)]        // taps narrower than a strip: the materialising fallback
    public void GatheredB_MatchesTheMaterialisedRows(int m, int taps, int tapN, int k)
    {
        var rng = new System.Random(m + k);
        var b = Data(400 * tapN, 10);
        var table = new int[taps * k];
        for (int i = 0; i < table.Length; i++) table[i] = rng.Next(5) == 0 ? -1 : rng.Next(400) * tapN;
        int n = taps * tapN;
        var rows = new float[k * n];
        for (int j = 0; j < taps; j++)
        {
            for (int p = 0; p < k; p++)
            {
                if (table[(j * k) + p] >= 0) b.AsSpan(table[(j * k) + p], tapN).CopyTo(rows.AsSpan((p * n) + (j * tapN), tapN));
            }
        }

        var a = Data(k * m, 11);
        foreach (float beta in new[] { 0f, 1f })
        {
            var c0 = Data(m * n, 12);
            var naive = (float[])c0.Clone();
            NaiveKernels.Gemm(true, false, m, n, k, 0.5f, a, m, rows, n, beta, naive, n);
            float[] Run(int threads)
            {
                using var limit = EngineThreads.Limit(threads);
                var c = (float[])c0.Clone();
                global::Crucible.Tensors.Kernels.Kernels.GemmTransAGatheredB(m, taps, tapN, k, 0.5f, a, m, b, table, beta, c, n);
                return c;
            }

            var one = Run(1);
            GradCheck.Close($"gathered B {m}x{n}x{k} beta={beta}", naive, one, 1e-4, 1e-4);
            Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), Run(2).Select(BitConverter.SingleToInt32Bits));
        }
    }
}
