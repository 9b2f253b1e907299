using System.Numerics;
using Crucible.Evaluation.Risk;

namespace Crucible.Stress.Tests.Backtesting;

/// <summary>
/// Session 18: the Basel traffic light for n test days at coverage p = 1 − α (Basel Committee 1996): green while
/// P(X ≤ k) &lt; 0.95, yellow while &lt; 0.9999, red from there, X ~ Binomial(n, p); the fixed 0–4 / 5–9 / ≥ 10 is the
/// 250-day, 99 % case only.
/// </summary>
public sealed class TrafficLightBoundsTests
{
    // RELIABILITY MRM-6
    [Fact]
    public void At250DaysAnd99Percent_TheBoundsAreBasels_0To4_5To9_10AndMore()
    {
        var b = VarBacktest.Bounds(250, 0.99);
        Assert.Equal((5, 10), (b.YellowFrom, b.RedFrom));
        Assert.Equal("green 0–4, yellow 5–9, red ≥10 for 250 observations at 99%", b.ToString());
        Assert.Equal([.. Enumerable.Repeat(TrafficLight.Green, 5), .. Enumerable.Repeat(TrafficLight.Yellow, 5), .. Enumerable.Repeat(TrafficLight.Red, 241)],
            Enumerable.Range(0, 251).Select(k => VarBacktest.Zone(k, 250, 0.99)));
    }

    // RELIABILITY MRM-6
    /// <summary>The bounds against an exact rational computation (python3 fractions.Fraction and math.comb, session 18).</summary>
    [Theory]
    [InlineData(250, 0.95, 18, 27)]
    [InlineData(500, 0.975, 18, 27)]
    [InlineData(1000, 0.99, 15, 24)]
    [InlineData(5000, 0.99, 62, 78)]
    [InlineData(52, 0.99, 2, 5)]
    [InlineData(52, 0.95, 5, 10)]
    [InlineData(200, 0.99, 5, 9)]
    [InlineData(125, 0.99, 3, 7)]
    public void Bounds_MatchTheExactBinomial(int n, double alpha, int yellowFrom, int redFrom)
    {
        var b = VarBacktest.Bounds(n, alpha);
        Assert.Equal((yellowFrom, redFrom), (b.YellowFrom, b.RedFrom));
        Assert.Equal((yellowFrom, redFrom), ExactBounds(n, alpha));
    }

    // RELIABILITY MRM-6
    /// <summary>
    /// Session 21: the bounds of trading years that are not 250 days, and of other α, against scipy.stats.binom.cdf
    /// (Debian /usr/bin/python3, scipy; the smallest k with cdf ≥ 0.95 and ≥ 0.9999): a 252- or 251-day year at 99 % keeps
    /// 0–4/5–9/≥10, other α and partial years do not.
    /// </summary>
    [Theory]
    [InlineData(252, 0.99, 5, 10)]
    [InlineData(251, 0.99, 5, 10)]
    [InlineData(260, 0.99, 5, 10)]
    [InlineData(252, 0.975, 11, 17)]
    [InlineData(252, 0.95, 19, 27)]
    [InlineData(130, 0.99, 3, 7)]
    [InlineData(100, 0.99, 3, 6)]
    [InlineData(500, 0.99, 9, 15)]
    public void Bounds_MatchScipy_ForOtherYearLengthsAndAlphas(int n, double alpha, int yellowFrom, int redFrom)
    {
        var b = VarBacktest.Bounds(n, alpha);
        Assert.Equal((yellowFrom, redFrom), (b.YellowFrom, b.RedFrom));
    }

    [Fact]
    public void Describe_NamesTheThresholdsForThatNAndAlpha()
    {
        Assert.Equal("green 0–17, yellow 18–26, red ≥27 for 250 observations at 95%", VarBacktest.Bounds(250, 0.95).ToString());
        Assert.Equal("green 0–17, yellow 18–26, red ≥27 for 500 observations at 97.5%", VarBacktest.Bounds(500, 0.975).ToString());
        Assert.Equal("green 0–1, yellow 2–4, red ≥5 for 52 observations at 99%", VarBacktest.Bounds(52, 0.99).ToString());
    }

    [Fact]
    public void SoFewDaysThatZeroExceptionsReachALevel_StayGreenAtZero()
    {
        // P(X ≤ 0) = 0.99⁵ = 0.951 ≥ 0.95: the level would put 0 exceptions in the yellow zone; no exception is no evidence against the VaR
        var five = VarBacktest.Bounds(5, 0.99);
        Assert.Equal((1, 2), (five.YellowFrom, five.RedFrom));
        Assert.Equal("green 0, yellow 1, red ≥2 for 5 observations at 99%", five.ToString());
        Assert.Equal(TrafficLight.Green, VarBacktest.Zone(0, 0, 0.99));
        Assert.Equal(TrafficLight.Red, VarBacktest.Zone(1, 0, 0.99));
        Assert.Throws<ArgumentOutOfRangeException>(() => VarBacktest.Bounds(-1, 0.99));
        Assert.Throws<ArgumentOutOfRangeException>(() => VarBacktest.Bounds(250, 1));
    }

    /// <summary>P(X ≤ k) against python3's exact fractions (float of the Fraction), and against the exact sum here.</summary>
    [Theory]
    [InlineData(4, 250, 0.01, 0.8921876269036253)]
    [InlineData(5, 250, 0.01, 0.9588168159301517)]
    [InlineData(9, 250, 0.01, 0.9997498099312595)]
    [InlineData(10, 250, 0.01, 0.999946101370953)]
    [InlineData(17, 500, 0.025, 0.9184818944227462)]
    [InlineData(50, 5000, 0.01, 0.5375171649663754)]
    [InlineData(70, 5000, 0.01, 0.9971640038776621)]
    public void BinomialCdf_IsExactToRounding_ForThousandsOfDays(int k, int n, double p, double expected)
    {
        double cdf = VarBacktest.BinomialCdf(k, n, p);
        Assert.True(Math.Abs(cdf - expected) <= 1e-12 * expected, $"{cdf:R} vs {expected:R}");
        Assert.True(Math.Abs(cdf - ExactCdf(k, n, p)) <= 1e-12, $"{cdf:R} vs {ExactCdf(k, n, p):R}");
    }

    [Fact]
    public void BinomialCdf_OfManyDays_NeitherUnderflowsNorOverflows()
    {
        // 0.99^100000 = e^-1005 underflows a double: summed in log space the CDF is still a probability
        double below = VarBacktest.BinomialCdf(900, 100_000, 0.01), middle = VarBacktest.BinomialCdf(1000, 100_000, 0.01);
        // python3, math.lgamma terms summed in order (session 18): 0.0006608413335312069 and 0.5084094734220339; bounds 1052 and 1119
        Assert.Equal(0.0006608413335312069, below, 1e-12);
        Assert.Equal(0.5084094734220339, middle, 1e-10);
        Assert.Equal(1.0, VarBacktest.BinomialCdf(100_000, 100_000, 0.01), 1e-10);           // 100,000 log-space sums: rounding stays near 1e-12
        var b = VarBacktest.Bounds(100_000, 0.99);
        Assert.Equal((1052, 1119), (b.YellowFrom, b.RedFrom));   // ≈ n p + 1.645 σ and n p + 3.72 σ, σ = √(n p (1 − p)) = 31.5
    }

    // p = 1 − α as a rational with a power-of-ten denominator; P(X ≤ k) = Σ C(n, i) a^i (d − a)^(n − i) / d^n exactly
    private static (BigInteger A, BigInteger D) Rational(double p)
    {
        var d = BigInteger.Pow(10, 6);
        return (new BigInteger(Math.Round(p * 1e6)), d);
    }

    private static double ExactCdf(int k, int n, double p)
    {
        var (a, d) = Rational(p);
        BigInteger sum = 0, c = 1;
        for (int i = 0; i <= k; i++)
        {
            sum += c * BigInteger.Pow(a, i) * BigInteger.Pow(d - a, n - i);
            c = c * (n - i) / (i + 1);
        }

        var scaled = sum * BigInteger.Pow(10, 17) / BigInteger.Pow(d, n);
        return (double)scaled / 1e17;
    }

    private static (int YellowFrom, int RedFrom) ExactBounds(int n, double alpha)
    {
        var (a, d) = Rational(1 - alpha);
        BigInteger sum = 0, c = 1, total = BigInteger.Pow(d, n);
        int yellow = -1;
        for (int k = 0; k <= n; k++)
        {
            sum += c * BigInteger.Pow(a, k) * BigInteger.Pow(d - a, n - k);
            c = c * (n - k) / (k + 1);
            if (yellow < 0 && sum * 100 >= total * 95) yellow = k;
            if (sum * 10_000 >= total * 9_999) return (Math.Max(1, yellow), Math.Max(Math.Max(1, yellow), k));
        }

        throw new InvalidOperationException("P(X ≤ n) = 1");
    }
}
