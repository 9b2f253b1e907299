using Crucible.Evaluation.Risk;

namespace Crucible.Evaluation.Tests.Risk;

public class RiskMeasuresTests
{
    [Theory]
    [InlineData(250, 0.99, 3)]
    [InlineData(100, 0.99, 1)]
    [InlineData(101, 0.99, 2)]
    [InlineData(10, 0.99, 1)]
    [InlineData(1000, 0.95, 50)]
    [InlineData(20, 0.95, 1)] // 20 × 0.05 is 1.0000000000000009 in binary
    // n(1 − α) in binary is off by more than the old 1e-9 guard above about 1e8 rows: 20000001, 50000001, 2000001
    [InlineData(2_000_000_000, 0.99, 20_000_000)]
    [InlineData(2_000_000_000, 0.975, 50_000_000)]
    [InlineData(200_000_000, 0.99, 2_000_000)]
    [InlineData(2_000_000_001, 0.99, 20_000_001)]
    public void TailCount_IsCeilingOfTailMass(int n, double alpha, int k) => Assert.Equal(k, RiskMeasures.TailCount(n, alpha));

    [Fact]
    public void ValueAtRiskAndExpectedShortfall_UseTheKLargestLosses()
    {
        var r = Enumerable.Range(1, 250).Select(i => i * 0.001 - 0.1).ToArray(); // losses 0.099, 0.098, 0.097 are the largest
        var (v, es) = RiskMeasures.ValueAtRiskAndExpectedShortfall(r, 0.99);
        Assert.Equal(0.097, v, 1e-15);
        Assert.Equal(0.098, es, 1e-15);
    }

    /// <summary>
    /// VaR is the k-th largest loss −r: where that return is 0 (a collapsed generator's flat scenarios, a rate that did
    /// not move on 99% of days) it was −0, and report.json printed per_series var and portfolio var as "-0". A zero VaR
    /// is now +0; other values, and ES, are unchanged.
    /// </summary>
    [Fact]
    public void ValueAtRisk_OfAZeroKthReturn_IsPositiveZero()
    {
        double[] flat = new double[250];
        double[] mostlyUp = [.. Enumerable.Range(0, 250).Select(i => i < 3 ? 0.0 : 0.001 * i)];
        foreach (var r in new[] { flat, mostlyUp, [.. flat.Select(_ => -0.0)] })
        {
            var (v, es) = RiskMeasures.ValueAtRiskAndExpectedShortfall(r, 0.99);
            Assert.True(v == 0 && !double.IsNegative(v), $"VaR {v:R}");
            Assert.True(es == 0 && !double.IsNegative(es), $"ES {es:R}");
        }
        Assert.Equal(-0.003, RiskMeasures.ValueAtRisk([.. Enumerable.Range(1, 250).Select(i => 0.001 * i)], 0.99), 1e-15); // a gain in the tail
    }

    [Fact]
    public void MaxDrawdown_OfKnownPath()
    {
        // up log(2), down log(4): P = 1, 2, 0.5 → drawdown 1 − 0.5/2 = 0.75
        Assert.Equal(0.75, RiskMeasures.MaxDrawdown([Math.Log(2), -Math.Log(4)]), 1e-15);
        Assert.Equal(0.0, RiskMeasures.MaxDrawdown([0.01, 0.02]));
        Assert.Equal(0.0, RiskMeasures.MaxDrawdown([]));
    }

    [Fact]
    public void WipedOutStep_IsATotalDrawdown_FromThenOn()
    {
        // a NaN portfolio log return is a day whose gross return was not positive (PortfolioStepLogReturn: a levered or
        // short book that lost all its capital); NaN compared false, so the drawdown skipped it and every later step:
        // such a path had max drawdown 0 and its CDaR left it out (NaN sorts first, below every drawdown)
        var wiped = RiskMeasures.PortfolioLogReturns([[0.01, 0.0, 0.02], [0.0, 1.0, 0.0]], [2.0, -1.0]);
        Assert.True(double.IsNaN(wiped[1]));
        Assert.Equal(1.0, RiskMeasures.MaxDrawdown(wiped));
        Assert.Equal([0.0, 1.0, 1.0], RiskMeasures.DrawdownSeries(wiped));
        Assert.Equal(1.0, RiskMeasures.ConditionalDrawdownAtRisk(wiped, 0.5));
        var paths = Enumerable.Range(0, 199).Select(i => new[] { -0.001 * i }).Append(wiped).ToArray();
        Assert.Equal(1.0, RiskMeasures.ConditionalDrawdownAtRisk(paths, 0.995));
    }

    [Fact]
    public void Drawdown_OfAPathWhoseLevelOverflows_IsMeasuredInLogSpace()
    {
        // exp(Σr) overflows past Σr ≈ 709.78 (prices read as log returns): P/peak was ∞/∞ = NaN and compared false, so the
        // fall of log(4) after the peak gave max drawdown 0; the drawdown is 1 − exp(Σr − max Σr) = 0.75
        double[] r = [400, 400, -Math.Log(4), 1];
        Assert.Equal(0.75, RiskMeasures.MaxDrawdown(r), 1e-12);
        var dd = RiskMeasures.DrawdownSeries(r);
        Assert.Equal(0.0, dd[1]);
        Assert.Equal(0.75, dd[2], 1e-12);
        Assert.Equal(1 - (Math.E / 4), dd[3], 1e-12);
        Assert.Equal(0.0, RiskMeasures.MaxDrawdown([400, 400, 1]));
    }

    [Fact]
    public void ConditionalDrawdownAtRisk_OfSet_AveragesWorstScenarios()
    {
        var paths = Enumerable.Range(0, 200).Select(i => new[] { -0.001 * i }).ToArray();
        // k = 2: the two worst max drawdowns, 1 − e^−0.199 and 1 − e^−0.198
        var expected = (1 - Math.Exp(-0.199) + 1 - Math.Exp(-0.198)) / 2;
        Assert.Equal(expected, RiskMeasures.ConditionalDrawdownAtRisk(paths, 0.99), 1e-15);
    }

    [Fact]
    public void PortfolioLogReturns_AreLogOfWeightedGrossReturns()
    {
        var p = RiskMeasures.PortfolioLogReturns([[0.1], [-0.2]], [0.6, 0.4]);
        Assert.Equal(Math.Log(0.6 * Math.Exp(0.1) + 0.4 * Math.Exp(-0.2)), p[0], 1e-15);
    }

    [Fact]
    public void PortfolioLogReturns_OfWeightsNotSummingToOne_KeepTheRestInCash()
    {
        // 75 % invested: a day on which nothing moves is flat, not ln 0.75; a levered long/short book earns Σ w (e^r − 1)
        Assert.Equal([0.0], RiskMeasures.PortfolioLogReturns([[0.0], [0.0]], [0.5, 0.25]));
        var p = RiskMeasures.PortfolioLogReturns([[0.1], [-0.2]], [1.2, -0.3]);
        Assert.Equal(Math.Log(1 + (1.2 * (Math.Exp(0.1) - 1)) - (0.3 * (Math.Exp(-0.2) - 1))), p[0], 1e-15);
        Assert.True(double.IsNaN(RiskMeasures.PortfolioLogReturns([[-1.0], [0.5]], [2.0, -1.0])[0])); // wiped out
    }
}

public class VarBacktestTests
{
    [Theory]
    [InlineData(0, TrafficLight.Green)]
    [InlineData(4, TrafficLight.Green)]
    [InlineData(5, TrafficLight.Yellow)]
    [InlineData(9, TrafficLight.Yellow)]
    [InlineData(10, TrafficLight.Red)]
    public void Zone_FollowsBaselThresholds(int exceptions, TrafficLight zone) => Assert.Equal(zone, VarBacktest.Zone(exceptions, 250, 0.99));

    [Fact]
    public void KupiecStatistic_IsZero_WhenTheExceptionRateIsExact()
    {
        Assert.Equal(0.0, VarBacktest.KupiecStatistic(5, 500, 0.99), 1e-12);
        Assert.Equal(1.0, VarBacktest.ChiSquareOneSurvival(0.0));
    }

    [Fact]
    public void KupiecStatistic_WithNoExceptions_IsMinusTwoTLogOneMinusP() =>
        Assert.Equal(-2 * 250 * Math.Log(0.99), VarBacktest.KupiecStatistic(0, 250, 0.99), 1e-12);

    [Fact]
    public void ChiSquareOneSurvival_At95PercentQuantile_IsFivePercent() =>
        Assert.Equal(0.05, VarBacktest.ChiSquareOneSurvival(3.841458820694124), 1e-12);

    [Fact]
    public void Run_CountsLossesStrictlyAboveTheVaR()
    {
        double[] r = [-0.05, -0.03, 0.01, -0.031, 0.02];
        var result = VarBacktest.Run(r, 0.03, 0.99);
        Assert.Equal(2, result.Exceptions);
        Assert.Equal(5, result.Observations);
    }
}
