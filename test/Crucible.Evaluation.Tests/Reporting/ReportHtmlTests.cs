using System.Xml.Linq;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Reporting;

public class ReportHtmlTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    [Fact]
    public void ToHtml_HasEveryChart_WithStableIds()
    {
        var html = ReportHtml.ToHtml(fixture.Report);
        var ids = new List<string> { "corr-real", "corr-synthetic", "tail-real", "tail-synthetic", "drawdowns", "dcr", "importance-return", "importance-volatility" };
        foreach (var s in fixture.Report.Columns) ids.AddRange([$"hist-{s}", $"qq-{s}", $"acf-{s}", $"acf-abs-{s}"]);
        foreach (var id in ids) Assert.Contains($"data-chart=\"{id}\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"var-es\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"utility-table\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ToHtml_IsSelfContained()
    {
        var html = ReportHtml.ToHtml(fixture.Report);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("href=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        // the only URL is the SVG namespace
        Assert.DoesNotContain("http", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Charts_AreWellFormedSvg()
    {
        var html = ReportHtml.ToHtml(fixture.ScenarioReport);
        var start = 0;
        var count = 0;
        while ((start = html.IndexOf("<svg", start, StringComparison.Ordinal)) >= 0)
        {
            var end = html.IndexOf("</svg>", start, StringComparison.Ordinal) + "</svg>".Length;
            var svg = XElement.Parse(html[start..end]);
            Assert.NotNull(svg.Attribute("data-chart"));
            start = end;
            count++;
        }
        Assert.Equal(4 * fixture.ScenarioReport.Columns.Length + 5, count); // no DCR or utility charts without a train set
    }

    [Fact]
    public void ToHtml_ShowsVerdicts()
    {
        var verdicts = ThresholdCheck.Evaluate(fixture.Report, [new Threshold("ks_max", ThresholdKind.Max, 0.0)]);
        var html = ReportHtml.ToHtml(fixture.Report, verdicts);
        Assert.Contains("1 of 1 thresholds failed", html, StringComparison.Ordinal);
        Assert.Contains("FAIL", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, 1.0, new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 })]
    [InlineData(-0.013, 0.021, new[] { -0.02, -0.01, 0.0, 0.01, 0.02, 0.03 })]
    public void NiceTicks_AreOneTwoFiveSteps(double lo, double hi, double[] expected)
    {
        var ticks = SvgChart.NiceTicks(lo, hi, 6);
        Assert.Equal(expected.Length, ticks.Length);
        for (var i = 0; i < ticks.Length; i++) Assert.Equal(expected[i], ticks[i], 1e-12);
    }
}
