using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Tests.Statistics;

/// <summary>
/// StudentT.InverseCdf computes the ln Γ terms of its incomplete beta once per call instead of once per bisection step:
/// the same bits as the bisection on the public Cdf that it was (kept here as the oracle), over tails, centre and ν.
/// </summary>
public class StudentTQuantileBitsTests
{
    // the previous InverseCdf, step for step, on StudentT.Cdf
    private static double InverseCdfOnCdf(double p, double nu)
    {
        if (p > 0.5) return -InverseCdfOnCdf(1 - p, nu);
        if (p == 0.5) return 0;
        double lo = -1, hi = 0;
        while (StudentT.Cdf(lo, nu) > p) lo *= 2;
        for (var i = 0; i < 200 && hi - lo > 1e-15 * Math.Abs(lo); i++)
        {
            var mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (StudentT.Cdf(mid, nu) > p) hi = mid;
            else lo = mid;
        }
        return 0.5 * (lo + hi);
    }

    [Theory]
    [InlineData(2.05)]
    [InlineData(3)]
    [InlineData(4.37)]
    [InlineData(7.9)]
    [InlineData(30)]
    [InlineData(1000)]
    public void InverseCdf_SameBitsAsBisectionOnCdf(double nu)
    {
        var ps = new List<double> { 1e-300, 1e-12, 1e-6, 0.001, 0.025, 0.1, 0.3, 0.4999, 0.5, 0.5001, 0.9, 0.975, 0.999, 1 - 1e-9 };
        const int n = 997;
        for (var rank = 0; rank < n; rank += 7) ps.Add((rank + 1.0) / (n + 1));
        foreach (var p in ps)
        {
            var expected = InverseCdfOnCdf(p, nu);
            var actual = StudentT.InverseCdf(p, nu);
            Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual), $"p = {p:R}, ν = {nu}: expected {expected:R}, got {actual:R}");
        }
    }

    [Fact]
    public void InverseCdf_RefusesNonPositiveDegreesOfFreedom()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.InverseCdf(0.1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => StudentT.InverseCdf(0.9, double.NaN));
    }
}
