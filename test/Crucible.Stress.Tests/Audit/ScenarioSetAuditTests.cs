using Crucible.Stress.Audit;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Tests.Generators;

namespace Crucible.Stress.Tests.Audit;

public sealed class ScenarioSetAuditTests
{
    private static readonly Portfolio SixtyForty = new("60/40", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);

    private static ScenarioWindows Scale(ScenarioWindows w, double k) => w with { Values = w.Values.Select(v => v * k).ToArray() };

    [Fact]
    public void Compare_PassesTheSameModel_FlagsBenignAndOutOfSupportSets()
    {
        var fitted = new StationaryBootstrap(10).Fit(GeneratorTests.Panel(2000, 3), 0);
        var reference = RiskProfile.Of(fitted.Sample(2000, 10, 1).ToSeriesSet(), SixtyForty, 0.95);
        var series = fitted.Columns;
        var thresholds = new AuditThresholds();
        var same = RiskProfile.Of(fitted.Sample(2000, 10, 2).ToSeriesSet(), SixtyForty, 0.95);
        Assert.Empty(ScenarioSetAudit.Compare(same, reference, series, thresholds));

        var calm = RiskProfile.Of(Scale(fitted.Sample(2000, 10, 3), 0.4).ToSeriesSet(), SixtyForty, 0.95);
        var benign = ScenarioSetAudit.Compare(calm, reference, series, thresholds);
        Assert.Contains(benign, f => f.Metric == "es" && f.Verdict == "benign");
        Assert.Contains(benign, f => f.Metric == "volatility.EQ" && f.Verdict == "benign");
        Assert.All(benign, f => Assert.True(f.Deviation < 0));

        var wild = RiskProfile.Of(Scale(fitted.Sample(2000, 10, 4), 4).ToSeriesSet(), SixtyForty, 0.95);
        Assert.Contains(ScenarioSetAudit.Compare(wild, reference, series, thresholds), f => f.Metric == "es" && f.Verdict == "out-of-support");
    }

    [Theory]
    [InlineData(-0.02, -0.01)] // both tails gains: ln(ES/ES_ref) = ln 2 read as twice the risk
    [InlineData(-0.02, 0.05)] // a gain against a loss: ln of a negative ratio, NaN
    [InlineData(0.05, 0.0)] // a reference of no loss: ln(∞)
    public void Compare_ANonPositiveES_IsNotApplicable_WithTheReason_NotAFigure(double es, double referenceEs)
    {
        var set = new RiskProfile([0.01, 0.005], 0.3, es, 0.04);
        var reference = new RiskProfile([0.01, 0.005], 0.3, referenceEs, 0.04);
        var finding = Assert.Single(ScenarioSetAudit.Compare(set, reference, ["EQ", "BD"], new AuditThresholds()));
        Assert.Equal(("es", "not-applicable"), (finding.Metric, finding.Verdict));
        Assert.True(double.IsNaN(finding.Deviation));
        Assert.Contains("ES ≤ 0", finding.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_AZeroCdarOrVolatilityOnBothSides_IsInSupport_AndAZeroAgainstAFigureIsNot()
    {
        // no drawdown and a constant series on both sides: ln(0/0) was NaN, flagged out-of-support; equal zeros are a ratio of 1
        var set = new RiskProfile([0.01, 0.0], 0.3, 0.05, 0.0);
        var reference = new RiskProfile([0.01, 0.0], 0.3, 0.05, 0.0);
        Assert.Empty(ScenarioSetAudit.Compare(set, reference, ["EQ", "BD"], new AuditThresholds()));

        // a zero against a figure stays out of support, either way round (ln 0 = −∞, ln ∞ = ∞)
        var moving = new RiskProfile([0.01, 0.004], 0.3, 0.05, 0.03);
        Assert.Equal([("cdar", "out-of-support"), ("volatility.BD", "out-of-support")],
            ScenarioSetAudit.Compare(set, moving, ["EQ", "BD"], new AuditThresholds()).Select(f => (f.Metric, f.Verdict)));
        Assert.Equal([("cdar", "out-of-support"), ("volatility.BD", "out-of-support")],
            ScenarioSetAudit.Compare(moving, set, ["EQ", "BD"], new AuditThresholds()).Select(f => (f.Metric, f.Verdict)));
    }

    [Fact]
    public void Profile_MatchesItsDefinition()
    {
        var set = new StationaryBootstrap(5).Fit(GeneratorTests.Panel(500, 4), 0).Sample(300, 5, 1).ToSeriesSet();
        var profile = RiskProfile.Of(set, SixtyForty, 0.9);
        Assert.Equal(Math.Sqrt(Garch11StudentT.SampleVariance(set.Columns[0])), profile.Volatility[0], 15);
        Assert.Equal(Crucible.Stress.Risk.StressAnalysis.Run(set, SixtyForty, [0.9]).Levels[0].ExpectedShortfall, profile.ExpectedShortfall, 15);
        Assert.InRange(profile.MeanCorrelation, 0.2, 0.8); // the panel's innovations correlate at 0.5
    }
}
