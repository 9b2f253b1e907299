using Crucible.Evaluation.Privacy;

namespace Crucible.Evaluation.Tests.Privacy;

public sealed class RangeNormalisedDcrTests
{
    private static double Seconds(int day) => new DateTimeOffset(2025, 1, day, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    /// <summary>
    /// RELIABILITY.md PRIV-2: SDMetrics' DCR fixture (its dcr_utils unit test: six real and six synthetic rows with a
    /// numerical column holding a missing value, two categorical columns and a boolean with missing values, and two date
    /// columns) gives [0.188888, 0.2277777, 0.4, 0.274444, 0.221111, 0.4] (rtol 1e-5). Categories are coded as numbers
    /// (A = 0, B = 1, C = 2; false = 0, true = 1), dates as seconds, missing as NaN.
    /// </summary>
    [Fact]
    public void ReproducesTheSdmetricsFixture_IncludingItsMissingValueRules()
    {
        double nan = double.NaN;
        double[][] real =
        [
            [10, 20, nan, 40, 50, 60],
            [0, 1, 0, nan, 1, 2],
            [1, 2, 1, nan, 2, 3],
            [1, 0, 1, 0, nan, 0],
            [Seconds(1), Seconds(31), Seconds(10), Seconds(21), nan, Seconds(12)],
            [Seconds(1), Seconds(31), Seconds(10), Seconds(21), nan, Seconds(12)],
        ];
        double[][] synthetic =
        [
            [10, 25, 30, 21, 7, nan],
            [2, nan, 0, nan, 1, 2],
            [3, nan, 1, nan, 2, 3],
            [0, 1, 1, 0, 1, nan],
            [Seconds(10), Seconds(22), nan, Seconds(2), Seconds(30), Seconds(6)],
            [Seconds(10), Seconds(22), nan, Seconds(2), Seconds(30), Seconds(6)],
        ];
        DcrColumnKind[] kinds = [DcrColumnKind.Numerical, DcrColumnKind.Categorical, DcrColumnKind.Categorical, DcrColumnKind.Categorical,
            DcrColumnKind.Numerical, DcrColumnKind.Numerical];
        double[] expected = [0.188888, 0.2277777, 0.4, 0.274444, 0.221111, 0.4];
        var dcr = RangeNormalisedDcr.Compute(synthetic, real, kinds);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(dcr[i] - expected[i]) <= 1e-5 * expected[i], $"row {i}: {dcr[i]} vs {expected[i]}"); // RELIABILITY PRIV-2: rtol 1e-5

        // a set against itself is at distance 0 everywhere
        Assert.All(RangeNormalisedDcr.Compute(synthetic, synthetic, kinds), v => Assert.Equal(0, v));
    }

    [Theory]
    [InlineData(2.0, 2.0, 10.0, 0.0)]
    [InlineData(1.0, 2.0, 10.0, 0.1)]
    [InlineData(100.0, 1.0, 10.0, 1.0)] // capped at 1
    [InlineData(double.NaN, 1.0, 10.0, 1.0)]
    [InlineData(double.NaN, double.NaN, 10.0, 0.0)]
    [InlineData(3.0, 3.0, 0.0, 0.0)] // zero range: equal values
    [InlineData(3.0, 4.0, 0.0, 1.0)] // zero range: any difference
    public void NumericalValues_FollowTheRangeAndMissingRules(double s, double r, double range, double expected) =>
        Assert.Equal(expected, RangeNormalisedDcr.Value(s, r, DcrColumnKind.Numerical, range), 12);

    [Fact]
    public void AgreesWithAPlainLoop_OnRandomNumericalRows()
    {
        var rng = new System.Random(5);
        double[][] Columns(int rows) => [.. Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, rows).Select(_ => rng.NextDouble() * 10).ToArray())];
        var syn = Columns(40);
        var reference = Columns(30);
        var kinds = Enumerable.Repeat(DcrColumnKind.Numerical, 3).ToArray();
        var got = RangeNormalisedDcr.Compute(syn, reference, kinds, maxDegreeOfParallelism: 2);
        var ranges = reference.Select(c => c.Max() - c.Min()).ToArray();
        for (int i = 0; i < 40; i++)
        {
            double best = double.MaxValue;
            for (int r = 0; r < 30; r++)
            {
                best = Math.Min(best, Enumerable.Range(0, 3).Average(j => Math.Min(Math.Abs(syn[j][i] - reference[j][r]) / ranges[j], 1)));
            }

            Assert.Equal(best, got[i], 12);
        }
    }
}

/// <summary>
/// The screened range-normalised DCR (a lower bound of every reference row's sum by a reciprocal rounded down, exact
/// sums only where the bound does not exceed the smallest so far) against five vector passes per column over every
/// reference row, kept as its oracle (<see cref="RangeNormalisedDcr.ComputeReference"/>): the same bits on numerical
/// columns of awkward sizes (tails of the 32-row tiles, several 2,048-row chunks), on lattices where many sums tie,
/// with ranges that are powers of two (exact reciprocals), far from zero, and with distances capped at 1.
/// </summary>
public sealed class ScreenedRangeNormalisedDcrTests
{
    private static double[][] Columns(double[] rows, int d) =>
        [.. Enumerable.Range(0, d).Select(j => Enumerable.Range(0, rows.Length / d).Select(r => rows[(r * d) + j]).ToArray())];

    private static double[] Uniform(ulong seed, int rows, int d, double scale, double offset = 0)
    {
        var rng = new Crucible.Tensors.Random.Philox(seed, 6);
        return [.. Enumerable.Range(0, rows * d).Select(_ => offset + (scale * ((2 * rng.NextDouble()) - 1)))];
    }

    private static void AssertSameBits(double[] synRows, double[] refRows, int d)
    {
        var (syn, reference) = (Columns(synRows, d), Columns(refRows, d));
        var kinds = Enumerable.Repeat(DcrColumnKind.Numerical, d).ToArray();
        var expected = RangeNormalisedDcr.ComputeReference(syn, reference, kinds);
        foreach (var threads in new[] { 1, 2 })
        {
            var actual = RangeNormalisedDcr.Compute(syn, reference, kinds, threads);
            Assert.Equal(expected.Length, actual.Length);
            for (var i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(actual[i]),
                    $"row {i}: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    [Theory]
    [InlineData(1, 31, 1)]
    [InlineData(17, 33, 10)]
    [InlineData(40, 4100, 10)]
    [InlineData(9, 5000, 3)]
    [InlineData(100, 700, 26)]
    public void Random_SameBitsAsTheVectorPasses(int ns, int nr, int d)
    {
        AssertSameBits(Uniform((ulong)(ns + nr), ns, d, 0.03, 0.001), Uniform((ulong)(ns * nr), nr, d, 0.02), d);
    }

    [Theory]
    [InlineData(60, 3000, 4)]
    [InlineData(45, 70, 6)]
    public void Lattice_ManyTiedSums_SameBitsAsTheVectorPasses(int ns, int nr, int d)
    {
        // values on {0, 0.25, …, 2}: ranges of 2 (a reciprocal exactly 0.5), many equal sums, rows equal to references
        var rng = new Crucible.Tensors.Random.Philox((ulong)nr, 7);
        var refs = Enumerable.Range(0, nr * d).Select(_ => rng.NextInt(9) * 0.25).ToArray();
        refs[0] = 0;
        refs[d] = 2;
        var syn = Enumerable.Range(0, ns * d).Select(_ => rng.NextInt(9) * 0.25).ToArray();
        Array.Copy(refs, 5 * d, syn, 0, d);
        AssertSameBits(syn, refs, d);
    }

    [Fact]
    public void FarFromZero_AndBeyondTheRange_SameBitsAsTheVectorPasses()
    {
        // prices near 1e4 with a narrow range (the reciprocal's rounding matters), and synthetic values far outside the
        // reference range (every term capped at 1)
        var refs = Uniform(3, 2500, 5, 0.7, 1e4);
        var syn = Uniform(4, 80, 5, 0.9, 1e4).Concat(Uniform(5, 20, 5, 50, 1e4)).ToArray();
        AssertSameBits(syn, refs, 5);
    }

    [Theory]
    [InlineData(3.3306690738754696e-16)]
    [InlineData(1e-9)]
    [InlineData(3e-8)]
    public void NearTiesInVisitOrder_SameBitsAsTheVectorPasses(double step)
    {
        // per synthetic row, 40 references that differ from it in the first column only, each a step closer than the one
        // before (a few doubles, or about single precision's resolution): the nearest comes last, so a screen that can
        // exceed an exact sum skips it (red with the screen's slack left out)
        const int d = 3, k = 40;
        var rng = new Crucible.Tensors.Random.Philox(12, 8);
        var syn = new List<double>();
        var refs = new List<double> { 0, 0, 0, 1, 1, 1 };
        for (var i = 0; i < 50; i++)
        {
            double s0 = 0.25 + (0.5 * rng.NextDouble()), s1 = rng.NextDouble(), s2 = rng.NextDouble();
            syn.AddRange([s0, s1, s2]);
            for (var j = 0; j < k; j++) refs.AddRange([s0 + 1e-3 + ((k - j) * step), s1, s2]);
        }
        AssertSameBits([.. syn], [.. refs], d);
    }
}
