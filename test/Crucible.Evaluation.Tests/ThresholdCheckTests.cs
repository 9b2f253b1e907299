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
    public void Display_AFailThatRoundsOntoItsLimit_ShowsTheDigitsThatDecideIt()
    {
        // ks_max 0.1000004 against a max of 0.1 fails; at 6 significant digits the page read "≤ 0.1 | 0.1 | FAIL"
        var report = fixture.Report with { KsMax = 0.1000004 };
        var verdicts = ThresholdCheck.Evaluate(report, [new Threshold("ks_max", ThresholdKind.Max, 0.1)]);
        Assert.False(verdicts[0].Passed);
        Assert.Equal(("0.1000004", "0.1"), ThresholdCheck.Display(verdicts[0]));
        Assert.Contains("<td>ks_max</td><td>≤ 0.1</td><td>0.1000004</td><td class=\"fail\">FAIL</td>",
            Crucible.Evaluation.Reporting.ReportHtml.ToHtml(report, verdicts), StringComparison.Ordinal);

        // values that G6 tells apart keep 6 digits; NaN is named
        var plain = ThresholdCheck.Evaluate(fixture.Report with { KsMax = 0.123456789 }, [new Threshold("ks_max", ThresholdKind.Max, 0.2)]);
        Assert.Equal(("0.123457", "0.2"), ThresholdCheck.Display(plain[0]));
        var nan = ThresholdCheck.Evaluate(fixture.Report with { KsMax = double.NaN }, [new Threshold("ks_max", ThresholdKind.Max, 0.2)]);
        Assert.Equal(("NaN", "0.2"), ThresholdCheck.Display(nan[0]));
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

    [Theory]
    // a metric with no bound checked nothing and was silently dropped
    [InlineData("{\"ks_max\": {}}", "empty-threshold", 1, 12)]
    [InlineData("{\n  \"corr_distance\": {\"max\": 1},\n  \"ks_max\": { }\n}", "empty-threshold", 3, 13)]
    // a min above its max: a range no value can pass, at the min's value
    [InlineData("{\"ks_max\": {\"max\": 0.1, \"min\": 0.2}}", "min-above-max", 1, 32)]
    // a metric or a bound twice: JSON kept the last one (or both) silently
    [InlineData("{\"ks_max\": {\"max\": 0.1}, \"ks_max\": {\"max\": 0.2}}", "duplicate-key", 1, 26)]
    [InlineData("{\"ks_max\": {\"max\": 0.1, \"max\": 0.2}}", "duplicate-key", 1, 25)]
    // a number beyond double's range read as infinity
    [InlineData("{\"ks_max\": {\"max\": 1e999}}", "non-finite", 1, 20)]
    // the rules the parser already had, now located
    [InlineData("{\"ks_max\": {\"below\": 0.1}}", "malformed-thresholds", 1, 13)]
    [InlineData("{\"ks_max\": {\"max\": \"0.1\"}}", "malformed-thresholds", 1, 20)]
    [InlineData("{\"ks_max\": 0.1}", "malformed-thresholds", 1, 12)]
    [InlineData("[1, 2]", "malformed-thresholds", 1, 1)]
    public void Parse_MalformedEntry_IsRefusedAtItsLineAndColumnWithItsRule(string json, string rule, int line, int column)
    {
        var e = Assert.Throws<InvalidInputException>(() => ThresholdCheck.Parse(json, "t.json"));
        Assert.Equal(rule, e.Rule);
        Assert.Equal(new InputLocation("t.json", line, column), e.Location);
    }

    [Fact]
    public void Parse_MinEqualToMax_AndBothBounds_AreKept()
    {
        var t = ThresholdCheck.Parse("{\"ks_max\": {\"min\": 0.1, \"max\": 0.1}, \"corr_distance\": {\"max\": 2}}", "t.json");
        Assert.Equal(3, t.Count);
        Assert.Equal(new InputLocation("t.json", 1, 2), t[0].Location);
        Assert.Equal(new InputLocation("t.json", 1, 38), t[2].Location);
    }

    [Fact]
    public void Evaluate_UnknownMetric_NamesWhereTheFileDeclaredIt()
    {
        var thresholds = ThresholdCheck.Parse("{\"ks_max\": {\"max\": 1},\n \"no_such_metric\": {\"max\": 1}}", "t.json");
        var e = Assert.Throws<InvalidInputException>(() => ThresholdCheck.Evaluate(fixture.Report, thresholds));
        Assert.Equal("unknown-metric", e.Rule);
        Assert.Equal(new InputLocation("t.json", 2, 2), e.Location);
    }

    [Fact]
    public void Parse_NaNBound_IsRefusedNamingTheLiteral_NotTheReadersMessage()
    {
        var e = Assert.Throws<InvalidInputException>(() => ThresholdCheck.Parse("{\"ks_max\": {\"max\": NaN}}", "t.json"));
        Assert.Equal("non-finite", e.Rule);
        Assert.Contains("NaN is not a JSON number", e.Message, StringComparison.Ordinal);
        Assert.Equal(new InputLocation("t.json", 1, 20), e.Location);
    }

    [Fact]
    public void Load_OfAFolder_IsAClearError_NotAnUnauthorizedAccessException()
    {
        // --thresholds DIR: FileStream on a folder throws UnauthorizedAccessException, which is no IOException, so it
        // escaped Load's "unreadable" refusal; the CSV reader refuses a folder as not-a-file
        var dir = Directory.CreateTempSubdirectory("crucible-thresholds-");
        try
        {
            var e = Assert.Throws<InvalidInputException>(() => ThresholdCheck.Load(dir.FullName));
            Assert.Equal("not-a-file", e.Rule);
            Assert.Equal(dir.FullName, e.Location!.File);
        }
        finally
        {
            dir.Delete();
        }
    }
}
