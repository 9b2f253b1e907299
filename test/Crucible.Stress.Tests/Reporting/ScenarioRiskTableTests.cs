using System.Text.Json;
using Crucible.Evaluation;
using Crucible.Evaluation.Reporting;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reporting;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Tests.Reporting;

public sealed class ScenarioRiskTableTests
{
    private static readonly Portfolio SixtyForty = new("60/40", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);

    // count paths of `steps` rows, two series, scaled returns
    private static SeriesSet Paths(int count, int steps, double scale, int seed)
    {
        var rng = new System.Random(seed);
        var eq = new double[count * steps];
        var bd = new double[count * steps];
        for (int i = 0; i < eq.Length; i++)
        {
            eq[i] = scale * (rng.NextDouble() - 0.5);
            bd[i] = 0.3 * scale * (rng.NextDouble() - 0.5);
        }

        return new SeriesSet(["EQ", "BD"], [eq, bd], [.. Enumerable.Range(0, count * steps).Select(r => 1 + (r / steps))]);
    }

    [Fact]
    public void Section_HoldsEverySetsRisk_AsStressAnalysisComputesIt_InJsonAndHtml()
    {
        var calm = Paths(200, 5, 0.02, 1);
        var wild = Paths(200, 5, 0.08, 2);
        var rows = ScenarioRiskTable.Build(SixtyForty, [0.9, 0.99], [("calm", "small moves", calm), ("wild", "large moves", wild)]);
        var section = ScenarioRiskTable.ToSection(rows);
        Assert.Equal("stress", section.Key);

        using var doc = JsonDocument.Parse(section.Json);
        var sets = doc.RootElement.GetProperty("sets").EnumerateArray().ToArray();
        Assert.Equal(["calm", "wild"], sets.Select(s => s.GetProperty("name").GetString()));
        foreach (var (set, scenarios) in new[] { (sets[0], calm), (sets[1], wild) })
        {
            var direct = StressAnalysis.Run(scenarios, SixtyForty, [0.9, 0.99]);
            Assert.Equal(200, set.GetProperty("scenarios").GetInt32());
            Assert.Equal(direct.Levels[1].ExpectedShortfall, set.GetProperty("es").GetProperty("0.99").GetDouble(), 12);
            Assert.Equal(direct.Levels[0].ValueAtRisk, set.GetProperty("var").GetProperty("0.9").GetDouble(), 12);
            Assert.Equal(direct.Levels[1].ConditionalDrawdown, set.GetProperty("cdar").GetProperty("0.99").GetDouble(), 12);
            double sum = set.GetProperty("es_contributions").GetProperty("0.99").EnumerateObject().Sum(p => p.Value.GetDouble());
            Assert.Equal(direct.Levels[1].ExpectedShortfall, sum, 10);
        }

        Assert.True(sets[1].GetProperty("es").GetProperty("0.99").GetDouble() > 2 * sets[0].GetProperty("es").GetProperty("0.99").GetDouble());
        Assert.StartsWith("<section id=\"stress\">", section.Html, StringComparison.Ordinal);
        Assert.Equal(4, section.Html.Split("<tr><td>").Length - 1);
    }

    [Fact]
    public void ReportSections_FollowTheReportsOwnKeys_InJsonAndHtml()
    {
        var real = Paths(50, 5, 0.02, 3);
        var report = Evaluator.Evaluate(new EvaluationInput(real, Paths(50, 5, 0.02, 4), null), new EvaluationOptions());
        var section = new ReportSection("extra", """{"answer": 42}""", "<section id=\"extra\"><p>hello</p></section>");
        using var doc = JsonDocument.Parse(ReportJson.ToJson(report, sections: [section]));
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal("extra", keys[^1]);
        Assert.Contains("ks_mean", keys);
        Assert.Equal(42, doc.RootElement.GetProperty("extra").GetProperty("answer").GetInt32());
        var html = ReportHtml.ToHtml(report, sections: [section]);
        Assert.True(html.IndexOf("<section id=\"extra\">", StringComparison.Ordinal) > html.IndexOf("<section id=\"summary\">", StringComparison.Ordinal));
        Assert.EndsWith("</body></html>\n", html, StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => ReportJson.ToJson(report, sections: [section with { Json = "{not json" }]));
    }
}
