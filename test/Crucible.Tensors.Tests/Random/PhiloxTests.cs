using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Random;

public class PhiloxTests
{
    // Known-answer vectors of Random123 (D. E. Shaw Research), file tests/kat_vectors, lines "philox4x32 R":
    // columns are rounds, counter (4 words), key (2 words), expected output (4 words).
    [Theory]
    [InlineData(10, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u,
        0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(10, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
        0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(10, 0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
        0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    [InlineData(7, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u,
        0x5f6fb709u, 0x0d893f64u, 0x4f121f81u, 0x4f730a48u)]
    [InlineData(7, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
        0x5207ddc2u, 0x45165e59u, 0x4d8ee751u, 0x8c52f662u)]
    [InlineData(7, 0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
        0x4dfccabau, 0x190a87f0u, 0xc47362bau, 0xb6b5242au)]
    // RELIABILITY MRM-1
    public void Block_MatchesRandom123KnownAnswers(
        int rounds, uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        Span<uint> output = stackalloc uint[4];
        Philox.Block([c0, c1, c2, c3], [k0, k1], output, rounds);
        Assert.Equal([e0, e1, e2, e3], output.ToArray());
    }

    [Fact]
    public void NextUInt32_FreshGeneratorReturnsBlockZero()
    {
        // seed 0, stream 0, counter 0: the all-zero KAT vector.
        var g = new Philox(0);
        Assert.Equal([0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u],
            new[] { g.NextUInt32(), g.NextUInt32(), g.NextUInt32(), g.NextUInt32() });
    }

    [Fact]
    public void NextUInt32_MapsSeedStreamAndCounterOntoKeyAndCounterWords()
    {
        // key = (seed lo, seed hi), counter = (block lo, block hi, stream lo, stream hi): the pi-digits KAT vector.
        var g = new Philox(seed: 0x299f31d0_a4093822UL, stream: 0x03707344_13198a2eUL);
        g.Advance(0x85a308d3_243f6a88UL);
        Assert.Equal([0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u],
            new[] { g.NextUInt32(), g.NextUInt32(), g.NextUInt32(), g.NextUInt32() });

        var ones = new Philox(ulong.MaxValue, ulong.MaxValue);
        ones.Advance(ulong.MaxValue);
        Assert.Equal([0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu],
            new[] { ones.NextUInt32(), ones.NextUInt32(), ones.NextUInt32(), ones.NextUInt32() });
    }

    [Fact]
    public void Block_ThrowsForBadArguments()
    {
        var output = new uint[4];
        Assert.Throws<ArgumentException>(() => Philox.Block(new uint[3], new uint[2], output));
        Assert.Throws<ArgumentException>(() => Philox.Block(new uint[4], new uint[1], output));
        Assert.Throws<ArgumentException>(() => Philox.Block(new uint[4], new uint[2], new uint[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Philox.Block(new uint[4], new uint[2], output, 0));
    }

    [Fact]
    public void NextUInt64_IsLowWordThenHighWord()
    {
        var a = new Philox(42);
        var b = new Philox(42);
        ulong lo = b.NextUInt32(), hi = b.NextUInt32();
        Assert.Equal((hi << 32) | lo, a.NextUInt64());
    }

    [Fact]
    public void NextFloatAndNextDouble_UseHighBits()
    {
        var a = new Philox(7);
        var b = new Philox(7);
        Assert.Equal((b.NextUInt32() >> 8) / 16777216f, a.NextFloat());
        Assert.Equal((b.NextUInt64() >> 11) / 9007199254740992.0, a.NextDouble());
    }

    [Fact]
    public void NextDouble_UniformMomentsWithinFiveStandardErrors()
    {
        const int n = 1_000_000;
        var g = new Philox(20240601);
        double sum = 0, sumSq = 0, min = 1, max = 0;
        for (int i = 0; i < n; i++)
        {
            double u = g.NextDouble();
            sum += u;
            sumSq += u * u;
            min = Math.Min(min, u);
            max = Math.Max(max, u);
        }
        double mean = sum / n;
        double variance = sumSq / n - mean * mean;
        // U(0,1): mean 1/2, variance 1/12; SE(mean) = sqrt(1/12 / n); SE(var) = sqrt((1/80 - 1/144) / n).
        Assert.InRange(mean, 0.5 - 5 * Math.Sqrt(1.0 / 12 / n), 0.5 + 5 * Math.Sqrt(1.0 / 12 / n));
        double seVar = Math.Sqrt((1.0 / 80 - 1.0 / 144) / n);
        Assert.InRange(variance, 1.0 / 12 - 5 * seVar, 1.0 / 12 + 5 * seVar);
        Assert.True(min >= 0 && max < 1);
    }

    [Fact]
    public void FillUniform_MeanWithinFiveStandardErrorsAndBelowOne()
    {
        const int n = 1_000_000;
        var values = new float[n];
        new Philox(99).FillUniform(values);
        double mean = values.Average(v => (double)v);
        Assert.InRange(mean, 0.5 - 5 * Math.Sqrt(1.0 / 12 / n), 0.5 + 5 * Math.Sqrt(1.0 / 12 / n));
        Assert.All(values, v => Assert.InRange(v, 0f, 0.99999994f));
        Assert.Equal(new Philox(99).NextFloat(), values[0]);
    }

    [Fact]
    public void NextNormal_MomentsMatchStandardNormal()
    {
        const int n = 1_000_000;
        var g = new Philox(314159);
        var x = new double[n];
        for (int i = 0; i < n; i++)
            x[i] = g.NextNormal();
        double mean = x.Average();
        double m2 = 0, m3 = 0, m4 = 0;
        foreach (double v in x)
        {
            double d = v - mean;
            m2 += d * d;
            m3 += d * d * d;
            m4 += d * d * d * d;
        }
        m2 /= n;
        m3 /= n;
        m4 /= n;
        double skew = m3 / Math.Pow(m2, 1.5);
        double excessKurtosis = m4 / (m2 * m2) - 3;
        // Five standard errors: mean sqrt(1/n), variance sqrt(2/n), skewness sqrt(6/n), kurtosis sqrt(24/n).
        Assert.InRange(mean, -5 * Math.Sqrt(1.0 / n), 5 * Math.Sqrt(1.0 / n));
        Assert.InRange(m2, 1 - 5 * Math.Sqrt(2.0 / n), 1 + 5 * Math.Sqrt(2.0 / n));
        Assert.InRange(skew, -5 * Math.Sqrt(6.0 / n), 5 * Math.Sqrt(6.0 / n));
        Assert.InRange(excessKurtosis, -5 * Math.Sqrt(24.0 / n), 5 * Math.Sqrt(24.0 / n));
    }

    [Fact]
    public void FillNormal_PassesKolmogorovSmirnovAgainstPhi()
    {
        const int n = 100_000;
        const float mean = 2f, std = 3f;
        var values = new float[n];
        new Philox(271828).FillNormal(values, mean, std);
        Array.Sort(values);
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = SpecialFunctions.NormalCdf((values[i] - mean) / std);
            d = Math.Max(d, Math.Max((i + 1.0) / n - f, f - (double)i / n));
        }
        // Asymptotic KS critical value at alpha = 0.001: 1.9495 / sqrt(n).
        Assert.True(d < 1.9495 / Math.Sqrt(n), $"KS statistic D = {d:G6} exceeds {1.9495 / Math.Sqrt(n):G6}");
    }

    [Fact]
    public void NextNormal_ReturnsBoxMullerPairFromTwoUniforms()
    {
        var g = new Philox(5);
        var u = new Philox(5);
        double u1 = 1.0 - u.NextDouble(), u2 = u.NextDouble();
        double r = Math.Sqrt(-2 * Math.Log(u1));
        Assert.Equal(r * Math.Cos(2 * Math.PI * u2), g.NextNormal());
        Assert.Equal(r * Math.Sin(2 * Math.PI * u2), g.NextNormal());
        Assert.Equal(u.NextUInt32(), g.NextUInt32()); // the pair consumed exactly four words
    }

    [Fact]
    public void FillNormal_DoesNotDependOnChunking()
    {
        var whole = new float[1001];
        new Philox(11, 3).FillNormal(whole, 0.5f, 2f);
        var parts = new float[1001];
        var g = new Philox(11, 3);
        g.FillNormal(parts.AsSpan(0, 333), 0.5f, 2f);
        g.FillNormal(parts.AsSpan(333, 1), 0.5f, 2f);
        g.FillNormal(parts.AsSpan(334), 0.5f, 2f);
        Assert.Equal(whole, parts);
    }

    [Fact]
    public void Streams_AreDifferentAndSeedsAreDifferent()
    {
        var s0 = new Philox(1, 0);
        var s1 = new Philox(1, 1);
        var t0 = new Philox(2, 0);
        var a = Enumerable.Range(0, 1000).Select(_ => s0.NextUInt32()).ToArray();
        var b = Enumerable.Range(0, 1000).Select(_ => s1.NextUInt32()).ToArray();
        var c = Enumerable.Range(0, 1000).Select(_ => t0.NextUInt32()).ToArray();
        // Independent 32-bit streams share a value at a given position with probability 2^-32 each.
        Assert.True(a.Zip(b).Count(p => p.First == p.Second) <= 1);
        Assert.True(a.Zip(c).Count(p => p.First == p.Second) <= 1);
    }

    [Fact]
    public void SameSeedAndStream_GiveSameSequence()
    {
        var a = new Philox(123456789, 17);
        var b = new Philox(123456789, 17);
        for (int i = 0; i < 1000; i++)
            Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void Split_IsDeterministicAndIndependentOfPosition()
    {
        var parent = new Philox(77, 5);
        var childBefore = parent.Split(3);
        for (int i = 0; i < 17; i++)
            parent.NextUInt32();
        var childAfter = parent.Split(3);
        var other = parent.Split(4);
        var fresh = new Philox(77, 5);
        var parentValues = Enumerable.Range(0, 100).Select(_ => fresh.NextUInt32()).ToArray();

        var a = Enumerable.Range(0, 100).Select(_ => childBefore.NextUInt32()).ToArray();
        var b = Enumerable.Range(0, 100).Select(_ => childAfter.NextUInt32()).ToArray();
        var c = Enumerable.Range(0, 100).Select(_ => other.NextUInt32()).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, parentValues);
        Assert.NotEqual(new Philox(77, 6).Split(3).NextUInt64(), new Philox(77, 5).Split(3).NextUInt64());
    }

    [Fact]
    public void Advance_MatchesDrawingFourWordsPerBlock()
    {
        var jumped = new Philox(2024, 9);
        jumped.Advance(250);
        var walked = new Philox(2024, 9);
        for (int i = 0; i < 4 * 250; i++)
            walked.NextUInt32();
        for (int i = 0; i < 20; i++)
            Assert.Equal(walked.NextUInt32(), jumped.NextUInt32());
    }

    [Fact]
    public void Advance_DiscardsRestOfCurrentBlock()
    {
        var g = new Philox(8);
        g.NextUInt32();              // block 0, word 0
        g.Advance(2);                // block counter 1 -> 3
        var reference = new Philox(8);
        reference.Advance(3);
        Assert.Equal(reference.NextUInt32(), g.NextUInt32());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(37)]
    public void GetStateSetState_RoundTripResumesExactly(int wordsBefore)
    {
        var g = new Philox(31337, 4);
        for (int i = 0; i < wordsBefore; i++)
            g.NextUInt32();
        g.NextNormal(); // leaves the second value of the pair cached
        var state = g.GetState();
        Assert.True(state.HasCachedNormal);

        double[] expected = [.. Enumerable.Range(0, 50).Select(_ => g.NextNormal()), g.NextUInt32(), g.NextDouble()];
        var restored = Philox.FromState(state);
        double[] actual = [.. Enumerable.Range(0, 50).Select(_ => restored.NextNormal()), restored.NextUInt32(), restored.NextDouble()];
        Assert.Equal(expected, actual);

        g.SetState(state);
        double[] again = [.. Enumerable.Range(0, 50).Select(_ => g.NextNormal()), g.NextUInt32(), g.NextDouble()];
        Assert.Equal(expected, again);
    }

    [Fact]
    public void SetState_ThrowsForForeignOrInconsistentState()
    {
        var g = new Philox(1);
        Assert.Throws<ArgumentException>(() => g.SetState(new Philox(2).GetState()));
        Assert.Throws<ArgumentException>(() => g.SetState(new PhiloxState(1, 0, 5, 7, false, 0)));
    }

    [Fact]
    public void GetStateSetState_AfterTheLastBlockOfTheCounter_ResumesExactly()
    {
        // block 2^64 − 1 is the last of the 64-bit block counter, which then wraps to block 0: the state holds Counter = 0
        // with words of that last block left (it was refused as "a partly consumed block at counter 0")
        var g = new Philox(7, 3);
        g.Advance(ulong.MaxValue);
        g.NextUInt32();
        var state = g.GetState();
        Assert.Equal((0UL, 1), (state.Counter, state.BufferIndex));
        var last = new uint[4];
        Philox.Block([uint.MaxValue, uint.MaxValue, 3, 0], [7, 0], last);
        var fresh = new Philox(7, 3);
        uint[] expected = [last[1], last[2], last[3], fresh.NextUInt32(), fresh.NextUInt32()];

        var restored = Philox.FromState(state);
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => restored.NextUInt32()));
        g.SetState(state);
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => g.NextUInt32()));
    }

    [Fact]
    public void NextInt_ChiSquareUniformForSmallRange()
    {
        const int k = 10, n = 1_000_000;
        var counts = new long[k];
        var g = new Philox(4242);
        for (int i = 0; i < n; i++)
            counts[g.NextInt(k)]++;
        // chi-square with 9 degrees of freedom; critical value at alpha = 0.001 is 27.877.
        double chi2 = ChiSquare(counts, (double)n / k);
        Assert.True(chi2 < 27.877, $"chi2 = {chi2:F2}");
    }

    [Fact]
    public void NextInt_UnbiasedForRangeWhereModuloWouldBeBiased()
    {
        // s = 0x60000000: x mod s would give values below 2^32 - 2s three preimages and the rest two, so the first
        // third of [0, s) would get 3/8 of the mass instead of 1/3. Lemire's rejection removes that.
        const int s = 0x60000000, n = 300_000;
        var counts = new long[3];
        var g = new Philox(777);
        for (int i = 0; i < n; i++)
        {
            int v = g.NextInt(s);
            Assert.InRange(v, 0, s - 1);
            counts[v / (s / 3)]++;
        }
        // 2 degrees of freedom; critical value at alpha = 0.001 is 13.816.
        double chi2 = ChiSquare(counts, n / 3.0);
        Assert.True(chi2 < 13.816, $"chi2 = {chi2:F2}, counts = {string.Join(", ", counts)}");
    }

    [Fact]
    public void NextInt_ThrowsForNonPositiveBoundAndReturnsZeroForOne()
    {
        var g = new Philox(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.NextInt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.NextInt(-3));
        Assert.Equal(0, g.NextInt(1));
    }

    [Fact]
    public void Shuffle_IsAPermutationAndDeterministic()
    {
        int[] a = [.. Enumerable.Range(0, 100)];
        int[] b = [.. Enumerable.Range(0, 100)];
        new Philox(9).Shuffle<int>(a);
        new Philox(9).Shuffle<int>(b);
        Assert.Equal(a, b);
        Assert.NotEqual(Enumerable.Range(0, 100), a);
        Assert.Equal(Enumerable.Range(0, 100), a.Order());
    }

    [Fact]
    public void Shuffle_EachPositionEquallyLikely()
    {
        const int n = 5, trials = 50_000;
        var counts = new long[n];
        var g = new Philox(1001);
        var values = new int[n];
        for (int t = 0; t < trials; t++)
        {
            for (int i = 0; i < n; i++)
                values[i] = i;
            g.Shuffle<int>(values);
            counts[Array.IndexOf(values, 0)]++;
        }
        // 4 degrees of freedom; critical value at alpha = 0.001 is 18.467.
        double chi2 = ChiSquare(counts, (double)trials / n);
        Assert.True(chi2 < 18.467, $"chi2 = {chi2:F2}");
    }

    private static double ChiSquare(long[] counts, double expected) =>
        counts.Sum(c => (c - expected) * (c - expected) / expected);
}
