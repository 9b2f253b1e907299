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
