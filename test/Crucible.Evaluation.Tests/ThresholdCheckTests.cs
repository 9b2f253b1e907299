using System.Globalization;
using Crucible.Data;
using Crucible.Evaluation.Tests.Reporting;

namespace Crucible.Evaluation.Tests;

public class ThresholdCheckTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    [Fact]
    public void Evaluate_PassesAndFailsAgainstBounds()
    {
        var r = fixture.Report;
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var thresholds = ThresholdCheck.Parse(
            "{\"ks_max\": {\"max\": " + F(r.KsMax + 0.01) + "}, \"corr_distance\": {\"max\": " + F(r.CorrDistance / 2) + "}," +
            " \"privacy.dcr_train_median\": {\"min\": 0.0}, \"per_series.EQ_US.std.synthetic\": {\"min\": 1, \"max\": 2}}");
        var verdicts = ThresholdCheck.Evaluate(r, thresholds);
        Assert.Equal(5, verdicts.Count);
        Assert.True(verdicts[0].Passed);
        Assert.False(verdicts[1].Passed);
        Assert.True(verdicts[2].Passed);
        Assert.False(verdicts[3].Passed); // std of a daily return is far below 1
        Assert.True(verdicts[4].Passed);
        Assert.False(ThresholdCheck.AllPassed(verdicts));
        Assert.Equal(r.CorrDistance, verdicts[1].Actual);
    }

    [Fact]
    public void Evaluate_NaNNeverPasses()
    {
        var nanReport = fixture.Report with { KsMax = double.NaN };
        var v = ThresholdCheck.Evaluate(nanReport, [new Threshold("ks_max", ThresholdKind.Max, 1.0)]);
        Assert.False(v[0].Passed);
    }

    [Fact]
    public void Evaluate_UnknownKey_IsAnInputError()
    {
        var e = Assert.Throws<InvalidInputException>(() =>
            ThresholdCheck.Evaluate(fixture.ScenarioReport, [new Threshold("privacy.share_closer_to_train", ThresholdKind.Max, 0.55)]));
        Assert.Equal("unknown-metric", e.Rule);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("{\"ks_max\": 0.1}")]
    [InlineData("{\"ks_max\": {\"below\": 0.1}}")]
    [InlineData("{\"ks_max\": {\"max\": \"0.1\"}}")]
    [InlineData("{\"ks_max\": ")]
    public void Parse_RejectsMalformedFiles(string json) => Assert.Throws<InvalidInputException>(() => ThresholdCheck.Parse(json));

    [Fact]
    public void Parse_NaNBound_IsRefusedNamingTheLiteral_NotTheReadersMessage()
    {
        var e = Assert.Throws<InvalidInputException>(() => ThresholdCheck.Parse("{\"ks_max\": {\"max\": NaN}}", "t.json"));
        Assert.Equal("non-finite", e.Rule);
        Assert.Contains("NaN is not a JSON number", e.Message, StringComparison.Ordinal);
        Assert.Equal(new InputLocation("t.json", 1, 20), e.Location);
    }
}
