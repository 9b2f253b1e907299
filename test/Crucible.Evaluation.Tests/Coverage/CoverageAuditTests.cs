using System.Text.Json;
using Crucible.Data;
using Crucible.Data.Segments;
using Crucible.Evaluation.Coverage;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Coverage;

public sealed class CoverageAuditTests
{
    // real: 200 rows, synthetic: 300 rows of two series A, B given by closed forms (the same in the numpy reference)
    private static SeriesSet Real() => new(["A", "B"],
    [
        [.. Enumerable.Range(0, 200).Select(t => (0.02 * Math.Sin(0.7 * t)) + (0.01 * Math.Cos(1.3 * t)))],
        [.. Enumerable.Range(0, 200).Select(t => 0.015 * Math.Sin((1.1 * t) + 0.3))],
    ]);

    private static SeriesSet Synthetic() => new(["A", "B"],
    [
        [.. Enumerable.Range(0, 300).Select(s => 0.024 * Math.Sin((0.37 * s) + 0.1))],
        [.. Enumerable.Range(0, 300).Select(s => 0.016 * Math.Cos(0.91 * s))],
    ]);

    private static SegmentMap Map(double tolerance = 0.2) => SegmentMap.Parse(
        "{\"tolerance\": " + tolerance.ToString(System.Globalization.CultureInfo.InvariantCulture)
        + """, "asset_class": {"A": "x", "B": "x"}, "single": {"A": "a"}}""", "test");

    [Fact]
    public void Run_MatchesNumpyReference()
    {
        // reference: /usr/bin/python3 with numpy.percentile (linear), mean(x < q), and ES = mean of the ⌈n·p⌉ worst losses;
        // the segment return is log(0.5·e^A + 0.5·e^B)
        var report = CoverageAudit.Run(Real(), Synthetic(), Map());
        Assert.Equal(1, report.Horizon);
        var ab = report.Segments.Single(s => s.Dimension == "asset_class");
        Assert.Equal(["A", "B"], ab.Series);
        Assert.Equal((200, 300), (ab.RealEvents, ab.SyntheticEvents));
        (double Threshold, double Fr, double Fs, double Er, double Es)[] expected =
        [
            (-0.019461417206159907, 0.01, 0.006666666666666667, 0.020097995807795595, 0.01956276653526209),
            (-0.015523128224367268, 0.05, 0.08333333333333333, 0.017946615307567592, 0.01821445012004404),
        ];
        for (int k = 0; k < 2; k++)
        {
            var l = ab.Levels[k];
            Assert.Equal(expected[k].Threshold, l.Threshold, 1e-15);
            Assert.Equal(expected[k].Fr, l.TailFrequency.Real, 1e-15);
            Assert.Equal(expected[k].Fs, l.TailFrequency.Synthetic, 1e-15);
            Assert.Equal(expected[k].Er, l.Es.Real, 1e-15);
            Assert.Equal(expected[k].Es, l.Es.Synthetic, 1e-15);
        }

        // 1 %: 0.0067 < 0.8 × 0.01 flags it; 5 %: more synthetic tail events than real, ES within 20 %
        Assert.True(ab.Levels[0].UnderStressed);
        Assert.False(ab.Levels[1].UnderStressed);
        Assert.True(ab.UnderStressed);

        var a = report.Segments.Single(s => s.Dimension == "single");
        Assert.Equal(-0.029019803070564718, a.Levels[0].Threshold, 1e-15);
        Assert.Equal(0.0, a.Levels[0].TailFrequency.Synthetic);
        Assert.Equal(0.029382175517847813, a.Levels[0].Es.Real, 1e-15);
        Assert.Equal(0.023940570064493887, a.Levels[0].Es.Synthetic, 1e-15);
        Assert.Equal(["B"], report.Unassigned.Single(u => u.Key == "single").Value);
        Assert.Equal(2, report.UnderStressed.Count);
    }

    [Fact]
    public void Run_FlagsAnUnderStressingGenerator_AndNotAFaithfulOrHarsherOne()
    {
        var real = Real();
        SeriesSet Scaled(double f) => new(real.Names, [.. real.Columns.Select(c => c.Select(v => v * f).ToArray())]);
        var map = SegmentMap.Parse("""{"asset_class": {"A": "x", "B": "x"}}""", "test");
        Assert.False(CoverageAudit.Run(real, real, map).Segments[0].UnderStressed); // a copy of history covers it exactly
        Assert.False(CoverageAudit.Run(real, Scaled(1.5), map).Segments[0].UnderStressed); // harsher is not under-stressed
        var soft = CoverageAudit.Run(real, Scaled(0.5), map).Segments[0];
        Assert.True(soft.UnderStressed);
        Assert.All(soft.Levels, l => Assert.True(l.Es.Synthetic < 0.8 * l.Es.Real));

        // the tolerance is declared: at 0.5 the 1 % frequency 0.0067 (≥ 0.5 × 0.01) and ES 0.0196 (≥ 0.5 × 0.0201) pass
        Assert.False(CoverageAudit.Run(Real(), Synthetic(), Map(0.5)).Segments.Single(s => s.Dimension == "asset_class").UnderStressed);
        Assert.True(CoverageAudit.Run(Real(), Synthetic(), Map(0.5), tolerance: 0.2).Segments.Single(s => s.Dimension == "asset_class").UnderStressed);
    }

    [Fact]
    public void Run_UsesHorizonWindowsForScenarioPaths()
    {
        // synthetic: 50 scenarios of 3 steps; the real events are then every 3-step window (stride 1) of the real path
        var real = Real();
        var ids = Enumerable.Range(0, 150).Select(i => i / 3).ToArray();
        var synth = new SeriesSet(["A", "B"], [real.Columns[0][..150], real.Columns[1][..150]], ids);
        var map = SegmentMap.Parse("""{"single": {"A": "a"}}""", "test");
        var report = CoverageAudit.Run(real, synth, map);
        Assert.Equal(3, report.Horizon);
        var seg = report.Segments[0];
        Assert.Equal((198, 50), (seg.RealEvents, seg.SyntheticEvents));
        var windows = Enumerable.Range(0, 198).Select(t => real.Columns[0][t] + real.Columns[0][t + 1] + real.Columns[0][t + 2]).ToArray();
        var level = CoverageAudit.Level(windows, [.. Enumerable.Range(0, 50).Select(k => real.Columns[0][3 * k] + real.Columns[0][(3 * k) + 1] + real.Columns[0][(3 * k) + 2])], 0.05, 0.2);
        // (the segment return of one series is log(1·e^r), equal to r up to rounding)
        Assert.Equal(level.Threshold, seg.Levels[1].Threshold, 1e-15);
        Assert.Equal(level.TailFrequency, seg.Levels[1].TailFrequency);
        Assert.Equal(level.Es.Real, seg.Levels[1].Es.Real, 1e-15);
        Assert.Equal(level.Es.Synthetic, seg.Levels[1].Es.Synthetic, 1e-15);
    }

    [Fact]
    public void Run_RefusesAMapThatNamesNoSeries()
    {
        var e = Assert.Throws<InvalidInputException>(() => CoverageAudit.Run(Real(), Synthetic(), SegmentMap.Parse("""{"region": {"SPY": "us"}}""", "f.json")));
        Assert.Equal("SEG-E-NONE", e.Rule);
    }

    [Fact]
    public void Run_WarnsOfADimensionThatNamesNoSeriesOfTheData_InTheReport()
    {
        // a shared segments file may name series a data set lacks; a whole dimension that names none is reported, not dropped silently
        var map = SegmentMap.Parse("""{"asset_class": {"A": "x", "B": "x"}, "region": {"ZZZ": "us", "YYY": "europe"}}""", "f.json");
        var coverage = CoverageAudit.Run(Real(), Synthetic(), map);
        Assert.Equal(["asset_class"], coverage.Segments.Select(s => s.Dimension).Distinct());
        var ignored = Assert.Single(coverage.Ignored);
        Assert.Equal("region", ignored.Key);
        Assert.Equal(["ZZZ", "YYY"], ignored.Value);
        Assert.Equal("segment dimension 'region' names none of the data's series (ZZZ, YYY): it is not audited", Assert.Single(coverage.Warnings));

        var report = Evaluator.Evaluate(new EvaluationInput(Real(), Synthetic()), new EvaluationOptions { Segments = map, Utility = false });
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report));
        var c = doc.RootElement.GetProperty("coverage");
        Assert.Equal(["ZZZ", "YYY"], c.GetProperty("ignored").GetProperty("region").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(coverage.Warnings, c.GetProperty("warnings").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("<ul id=\"coverage-warnings\"><li class=\"fail\">segment dimension &#39;region&#39;", ReportHtml.ToHtml(report), StringComparison.Ordinal);

        // a file whose every dimension matches warns of nothing
        Assert.Empty(CoverageAudit.Run(Real(), Synthetic(), Map()).Warnings);
    }

    [Fact]
    public void Evaluate_WithSegments_WritesTheCoverageSectionAndMetric()
    {
        var report = Evaluator.Evaluate(new EvaluationInput(Real(), Synthetic()), new EvaluationOptions { Segments = Map(), Utility = false });
        Assert.NotNull(report.Coverage);
        Assert.Contains(report.ScalarMetrics(), kv => kv.Key == "coverage.under_stressed_segments" && kv.Value == 2);
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report));
        var c = doc.RootElement.GetProperty("coverage");
        Assert.Equal(0.2, c.GetProperty("tolerance").GetDouble());
        Assert.Equal(["asset_class=x", "single=a"], c.GetProperty("under_stressed").EnumerateArray().Select(e => e.GetString()));
        var first = c.GetProperty("segments")[0];
        Assert.Equal("asset_class", first.GetProperty("dimension").GetString());
        Assert.Equal(0.006666666666666667, first.GetProperty("levels")[0].GetProperty("tail_frequency")[1].GetDouble(), 1e-15);
        var html = ReportHtml.ToHtml(report);
        Assert.Contains("<section id=\"coverage\">", html, StringComparison.Ordinal);
        Assert.Contains("Under-stressed: asset_class=x, single=a", html, StringComparison.Ordinal);

        // a declared threshold on the count fails when a segment is under-stressed
        var verdicts = ThresholdCheck.Evaluate(report, ThresholdCheck.Parse("""{"coverage.under_stressed_segments": {"max": 0}}"""));
        Assert.False(Assert.Single(verdicts).Passed);

        // without segments nothing changes
        var plain = Evaluator.Evaluate(new EvaluationInput(Real(), Synthetic()), new EvaluationOptions { Utility = false });
        Assert.Null(plain.Coverage);
        Assert.DoesNotContain("\"coverage\"", ReportJson.ToJson(plain), StringComparison.Ordinal);
    }
}
