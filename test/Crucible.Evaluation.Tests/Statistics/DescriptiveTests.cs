using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Tests.Statistics;

public class DescriptiveTests
{
    [Fact]
    public void Skewness_IsNaN_ForFewerThanThreeEntries()
    {
        Assert.True(double.IsNaN(Descriptive.Skewness([])));
        Assert.True(double.IsNaN(Descriptive.Skewness([1.0])));
        Assert.True(double.IsNaN(Descriptive.Skewness([1.0, 2.0])));
        Assert.False(double.IsNaN(Descriptive.Skewness([1.0, 2.0, 4.0])));
    }

    [Fact]
    public void ExcessKurtosis_IsNaN_ForFewerThanFourEntries()
    {
        Assert.True(double.IsNaN(Descriptive.ExcessKurtosis([1.0, 2.0, 4.0])));
        Assert.False(double.IsNaN(Descriptive.ExcessKurtosis([1.0, 2.0, 4.0, 8.0])));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.0123)]
    [InlineData(-250.5)]
    public void HigherMoments_AreNaN_ForConstantSeries(double value)
    {
        var x = Enumerable.Repeat(value, 50).ToArray();
        Assert.True(double.IsNaN(Descriptive.Skewness(x)));
        Assert.True(double.IsNaN(Descriptive.ExcessKurtosis(x)));
        Assert.Equal(0.0, Descriptive.Variance(x));
        Assert.Equal(value, Descriptive.Mean(x));
    }

    [Theory]
    [InlineData(0.1, 3)]
    [InlineData(0.01458700657690197, 306)]
    public void ConstantSeries_WhoseSumOverNRoundsAway_HasItsValueAsMean_AndNoCorrelation(double value, int n)
    {
        // fl(Σx)/n ≠ value for these (0.1 + 0.1 + 0.1 = 0.30000000000000004): centring on it left ±1-ulp residues
        var x = Enumerable.Repeat(value, n).ToArray();
        var y = Enumerable.Range(0, n).Select(i => Math.Sin(i)).ToArray();
        Assert.Equal(value, Descriptive.Mean(x));
        Assert.Equal(0.0, Descriptive.Variance(x));
        Assert.True(double.IsNaN(Descriptive.Correlation(x, y)));
        Assert.True(double.IsNaN(Descriptive.Correlation(y, x)));
    }

    [Fact]
    public void Skewness_MatchesClosedForm_ForSmallSample()
    {
        // x = 1, 2, 4: mean 7/3, m2 = 14/9, m3 = 20/27; G1 = sqrt(6) · (20/27) / (14/9)^1.5
        var expected = Math.Sqrt(6.0) * (20.0 / 27) / Math.Pow(14.0 / 9, 1.5);
        Assert.Equal(expected, Descriptive.Skewness([1.0, 2.0, 4.0]), 1e-14);
    }

    [Fact]
    public void Variance_UsesBesselCorrection_PopulationVarianceDoesNot()
    {
        double[] x = [1, 2, 3, 4];
        Assert.Equal(5.0 / 3, Descriptive.Variance(x), 1e-15);
        Assert.Equal(1.25, Descriptive.PopulationVariance(x), 1e-15);
        Assert.True(double.IsNaN(Descriptive.Variance([1.0])));
    }

    [Fact]
    public void PercentileAndMedian_OfDataWithNaN_AreNaN_LikeNumpy()
    {
        // numpy: percentile([1, nan, 3, 4], 50) = median(...) = nan, as this class promises ("NaN propagates"); Array.Sort
        // puts NaN first, so the median was 3 and the 0th percentile NaN, the rest shifted by one rank
        double[] x = [1, double.NaN, 3, 4];
        Assert.True(double.IsNaN(Descriptive.Median(x)));
        Assert.True(double.IsNaN(Descriptive.Percentile(x, 50)));
        Assert.True(double.IsNaN(Descriptive.Percentile(x, 100)));
        var sorted = (double[])x.Clone();
        Array.Sort(sorted);
        Assert.True(double.IsNaN(Descriptive.SortedPercentile(sorted, 80)));
    }

    [Fact]
    public void Percentile_InterpolatesLinearly_LikeNumpy()
    {
        double[] x = [10, 1, 4, 7];
        // numpy: percentile([1,4,7,10], 5) = 1 + 0.15·3 = 1.45; 50 → 5.5; 100 → 10
        Assert.Equal(1.45, Descriptive.Percentile(x, 5), 1e-14);
        Assert.Equal(5.5, Descriptive.Percentile(x, 50), 1e-14);
        Assert.Equal(10, Descriptive.Percentile(x, 100));
        Assert.Equal(1, Descriptive.Percentile(x, 0));
        Assert.Equal(5.5, Descriptive.Median(x));
        Assert.True(double.IsNaN(Descriptive.Percentile([], 50)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Descriptive.Percentile(x, 101));
    }

    [Theory]
    [InlineData(new[] { 1.0, 2, double.PositiveInfinity }, 50, 2.0)] // weight 0 on +∞: the finite neighbour (was ∞·0 = NaN)
    [InlineData(new[] { 1.0, 2, double.PositiveInfinity }, 60, double.PositiveInfinity)] // weight 0.2 on +∞
    [InlineData(new[] { 1.0, 2, double.PositiveInfinity }, 75, double.PositiveInfinity)] // weight ½ on +∞ (was ∞ − ∞)
    [InlineData(new[] { 1.0, 2, double.PositiveInfinity }, 100, double.PositiveInfinity)] // the maximum itself (was ∞ − ∞)
    [InlineData(new[] { 1.0, double.PositiveInfinity, double.PositiveInfinity }, 75, double.PositiveInfinity)] // between ∞ and ∞
    [InlineData(new[] { double.NegativeInfinity, 1, 2 }, 0, double.NegativeInfinity)] // the minimum itself
    [InlineData(new[] { double.NegativeInfinity, 1, 2 }, 10, double.NegativeInfinity)] // weight 0.8 on −∞ (was −∞ + ∞)
    [InlineData(new[] { double.NegativeInfinity, 1, 2 }, 25, double.NegativeInfinity)]
    [InlineData(new[] { double.NegativeInfinity, 1, 2 }, 50, 1.0)]
    [InlineData(new[] { double.NegativeInfinity, double.PositiveInfinity }, 0, double.NegativeInfinity)] // weight 0 on +∞
    [InlineData(new[] { double.NegativeInfinity, double.PositiveInfinity }, 100, double.PositiveInfinity)]
    [InlineData(new[] { double.NegativeInfinity, double.PositiveInfinity }, 50, double.NaN)] // −∞ and +∞ both weighted: undefined
    public void Percentile_BesideAnInfiniteValue_IsItsLimit_NotNaN(double[] data, double p, double expected)
    {
        // linear interpolation a + (b − a)·γ with an infinite endpoint: that endpoint where its weight is above 0, the
        // other where it is 0; NaN only between −∞ and +∞ both weighted (∞ − ∞)
        Assert.Equal(expected, Descriptive.Percentile(data, p));
        Assert.Equal(expected, Descriptive.SortedPercentile(data, p));
    }

    [Fact]
    public void Mean_IsCompensated_ForCancellingTerms()
    {
        Assert.Equal(1.0 / 3, Descriptive.Mean([1e16, 1.0, -1e16]));
        double[] x = [1e16, .. Enumerable.Repeat(1.0, 18), -1e16]; // 20 terms: the vectorised path
        Assert.Equal(18.0 / 20, Descriptive.Mean(x));
    }

    [Fact]
    public void Ranks_AverageTies()
    {
        Assert.Equal([1.0, 2.5, 2.5, 4.0], Descriptive.Ranks([0.1, 0.2, 0.2, 0.3]));
        Assert.Equal([2.0, 2.0, 2.0], Descriptive.Ranks([5.0, 5.0, 5.0]));
    }

    private static void AssertPositiveZero(double x) => Assert.True(x == 0 && !double.IsNegative(x), x.ToString("R", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// The mean of an all −0 column (a CSV of "-0.0", numpy's output for a flat series) was −0, the constant's own value,
    /// and report.json printed "-0"; the median and interpolated percentiles of zeros could be −0 too
    /// (−0 − 0·(1 − γ)). Each now returns +0 for a zero result, and nothing else changes.
    /// </summary>
    [Fact]
    public void MeanMedianAndPercentiles_OfZeros_ArePositiveZero_AndOnlyTheSignOfAZeroChanges()
    {
        double[][] zeros = [[-0.0], [-0.0, -0.0], [-0.0, -0.0, -0.0], [-0.0, 0.0], [0.0, -0.0], [-0.0, 0.0, -0.0, -0.0]];
        foreach (var x in zeros)
        {
            AssertPositiveZero(Descriptive.Mean(x));
            AssertPositiveZero(Descriptive.Median(x));
            foreach (var p in new[] { 0, 10, 25, 50, 75, 99.9, 100 }) AssertPositiveZero(Descriptive.Percentile(x, p));
        }

        AssertPositiveZero(Descriptive.Mean([-double.Epsilon, 0.0])); // −4.9e−324 / 2 rounds to −0
        Assert.Equal(-0.25, Descriptive.Mean([-0.25, -0.25]));
        Assert.Equal(-double.Epsilon, Descriptive.Mean([-double.Epsilon, -double.Epsilon]));
        Assert.Equal(-0.5, Descriptive.Median([-1.0, -0.0]));
        Assert.Equal(-0.25, Descriptive.Percentile([-1.0, -0.0], 75)); // numpy: -0.25
        Assert.Equal(0.0, Descriptive.Variance([-0.0, -0.0, -0.0]));
    }
}
