using Crucible.Data.Statistics;

namespace Crucible.Data.Tests.Statistics;

public class NormalDistributionTests
{
    // Reference values: 0.5 * erfc(-x / sqrt(2)) in double precision (CPython math.erfc).
    [Theory]
    [InlineData(-10.0, 7.619853024160593e-24)]
    [InlineData(-5.0, 2.866515718791946e-07)]
    [InlineData(-1.96, 0.024997895148220435)]
    [InlineData(-1.0, 0.15865525393145707)]
    [InlineData(0.0, 0.5)]
    [InlineData(0.5, 0.6914624612740131)]
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(1.96, 0.9750021048517795)]
    [InlineData(3.0, 0.9986501019683699)]
    public void Cdf_MatchesReferenceValues(double x, double expected)
    {
        var actual = NormalDistribution.Cdf(x);
        Assert.True(Math.Abs(actual - expected) <= 1e-14 * Math.Max(expected, 1e-300) + 1e-16,
            $"Cdf({x}) = {actual:R}, expected {expected:R}");
    }

    [Fact]
    public void Erfc_AndCdf_AtTheInfinities_AreTheirLimits()
    {
        // CPython: math.erfc(inf) = 0.0, math.erfc(-inf) = 2.0 (these were NaN: the continued fraction computed ∞ · 0; a NaN
        // CDF made the PRV accountant's adaptive quadrature split every interval to depth ~47, hanging for σ ≤ 0.1)
        Assert.Equal(0.0, NormalDistribution.Erfc(double.PositiveInfinity));
        Assert.Equal(2.0, NormalDistribution.Erfc(double.NegativeInfinity));
        Assert.Equal(0.0, NormalDistribution.Erfc(1e200));
        Assert.Equal(2.0, NormalDistribution.Erfc(-1e200));
        Assert.Equal(1.0, NormalDistribution.Cdf(double.PositiveInfinity));
        Assert.Equal(0.0, NormalDistribution.Cdf(double.NegativeInfinity));
        Assert.Equal(double.NegativeInfinity, NormalDistribution.LogErfc(double.PositiveInfinity));
    }

    [Theory]
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.025, -1.959963984540054)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.8413447460685429, 1.0)]
    [InlineData(0.99, 2.3263478740408408)]
    [InlineData(1e-6, -4.753424308822899)]
    public void InvCdf_MatchesReferenceValues(double p, double expected)
    {
        var actual = NormalDistribution.InvCdf(p);
        Assert.True(Math.Abs(actual - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"InvCdf({p}) = {actual:R}, expected {expected:R}");
    }

    [Fact]
    public void InvCdf_FarTail_WithinDocumentedAccuracy()
    {
        var actual = NormalDistribution.InvCdf(1e-10);
        Assert.True(Math.Abs(actual - -6.361340902404056) <= 1e-9 * 6.36, $"InvCdf(1e-10) = {actual:R}");
    }

    [Fact]
    public void InvCdf_EdgesAndInvalid()
    {
        Assert.Equal(double.NegativeInfinity, NormalDistribution.InvCdf(0));
        Assert.Equal(double.PositiveInfinity, NormalDistribution.InvCdf(1));
        Assert.True(double.IsNaN(NormalDistribution.InvCdf(-0.1)));
        Assert.True(double.IsNaN(NormalDistribution.InvCdf(double.NaN)));
        Assert.True(double.IsNaN(NormalDistribution.Cdf(double.NaN)));
    }

    // below about 1e-310 the Halley step overflowed (exp(x²/2) = ∞ times Φ(x) − p, then ∞/∞) and Φ⁻¹ was NaN for a valid
    // probability; there the rational approximation (relative error 1.15e-9) is returned unrefined. Reference: bisection
    // on ½ erfc(−x/√2) in 50-digit arithmetic (mpmath)
    [Theory]
    [InlineData(double.Epsilon, -38.467405617144344)]
    [InlineData(1e-320, -38.26912534303265)]
    [InlineData(1e-312, -37.78504989441962)]
    public void InvCdf_SubnormalProbabilities_AreFinite(double p, double expected)
    {
        var actual = NormalDistribution.InvCdf(p);
        Assert.True(Math.Abs(actual - expected) <= 1e-8 * Math.Abs(expected), $"InvCdf({p:R}) = {actual:R}");
    }

    [Fact]
    public void InvCdf_InvertsCdf_AcrossTheRange()
    {
        for (var x = -8.0; x <= 6.0; x += 0.01) // above 6, 1 - Φ(x) < 1e-9 and p = Φ(x) keeps too few digits
        {
            var p = NormalDistribution.Cdf(x);
            if (p is <= 0 or >= 1) continue;
            var back = NormalDistribution.InvCdf(p);
            // Upper tail: p = 1 - tiny carries only the rounding of p, so 1 - p (and x) lose digits there.
            var tolerance = x > 5 ? 1e-4 : x > 3 ? 1e-8 : 1e-9;
            Assert.True(Math.Abs(back - x) <= tolerance, $"InvCdf(Cdf({x})) = {back:R}");
        }
    }

    [Fact]
    public void Erfc_IsContinuousWhereTheMethodChanges()
    {
        var below = NormalDistribution.Erfc(Math.BitDecrement(2.0));
        var at = NormalDistribution.Erfc(2.0);
        Assert.True(Math.Abs(below - at) / at < 1e-12, $"{below:R} vs {at:R}");
    }

    [Fact]
    public void LogErfc_MatchesErfcWhereRepresentable_AndAsymptoticsBeyond()
    {
        foreach (var x in new[] { -3.0, -0.5, 0.0, 0.3, 1.9, 2.0, 2.1, 5.0, 10.0, 25.0 })
            Assert.Equal(Math.Log(NormalDistribution.Erfc(x)), NormalDistribution.LogErfc(x), 1e-12 * Math.Max(1, Math.Abs(NormalDistribution.LogErfc(x))));
        // erfc(x) ~ e^{−x²}/(x√π)(1 − 1/(2x²)) for large x.
        var big = 1e4;
        Assert.Equal(-big * big - Math.Log(big * Math.Sqrt(Math.PI)) + Math.Log(1 - 1 / (2 * big * big)), NormalDistribution.LogErfc(big), 1e-6);
    }
}
