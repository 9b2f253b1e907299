using Crucible.Evaluation.Reporting;
using Crucible.Tests.Accessibility;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>
/// Series names as a desk writes them ("Consumer Discretionary", "US 10Y Treasury yield") are read whole in the
/// heatmaps of report.html, in headless Chromium: every label lies inside its chart, and a name too long for any margin
/// is drawn cut with "…" and kept whole in its tooltip and the figures table.
/// </summary>
public sealed class ReportHtmlLabelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-report-labels-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Names = ["Consumer Discretionary", "US 10Y Treasury yield", "日本国債 10年 利回り", "EQ", "Long " + new string('x', 200)];

    private static SeriesSet Of(int rows, double phase) => new(Names,
        [.. Names.Select((_, j) => Enumerable.Range(0, rows).Select(t => (0.01 * Math.Sin((0.37 * (j + 1) * t) + phase)) + (0.003 * Math.Cos(1.7 * t * (j + 2)))).ToArray())]);

    [Fact]
    public async Task HeatmapLabels_LieInsideTheirChart_ALongNameCutWithItsFullNameKept()
    {
        var report = Evaluator.Evaluate(new EvaluationInput(Of(300, 0), Of(300, 0.4)), new EvaluationOptions { Utility = false });
        var path = Path.Combine(_dir, "report.html");
        ReportHtml.Write(report, path);
        await using var chromium = await HeadlessChromium.OpenFileAsync(path, width: 1600);
        var page = chromium.Page;

        // the labels' boxes against their chart's: a row label ran off the left edge ("r Discretionary") and a column
        // label off the bottom ("Consumer D"), cut by the chart's edge
        var outside = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('svg[data-chart^="corr-"], svg[data-chart^="tail-"]')].flatMap(svg => {
              const s = svg.getBoundingClientRect();
              return [...svg.querySelectorAll('text')].filter(t => { const b = t.getBoundingClientRect();
                return b.left < s.left - 0.5 || b.right > s.right + 0.5 || b.top < s.top - 0.5 || b.bottom > s.bottom + 0.5; })
                .map(t => svg.dataset.chart + ': ' + t.textContent);
            })
            """);
        Assert.Empty(outside);

        // the long name: cut on the chart with its whole name as the label's tooltip, whole in the figures table
        var chart = page.Locator("svg[data-chart=\"corr-real\"]");
        var drawn = await chart.Locator("text").EvaluateAllAsync<string[]>("ts => ts.map(t => [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join(''))");
        foreach (var name in Names[..4]) Assert.Equal(2, drawn.Count(d => d == name)); // the others whole, a row and a column label each
        var cut = drawn.Where(d => d.StartsWith("Long x", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, cut.Count);
        Assert.All(cut, c => Assert.EndsWith("…", c, StringComparison.Ordinal));
        Assert.Equal(2, await chart.Locator("text > title").CountAsync());
        Assert.All(await chart.Locator("text > title").AllTextContentsAsync(), t => Assert.Equal(Names[4], t));
        Assert.Contains(Names[4], await page.Locator("figure:has(svg[data-chart=\"corr-real\"]) table").TextContentAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EQ_US", "EQ_EU", "EQ_JP", "RATES_10Y", "CREDIT_HY")] // the test fixtures' series: CREDIT_HY ends 1 px above the old bottom edge
    [InlineData("NoDur", "Durbl", "Manuf", "Enrgy", "HiTec", "Telcm", "Shops", "Hlth", "Utils", "Other", "DGS3MO", "DGS10", "DFF")] // the demo's
    public void LabelsTheFixedMarginsHeld_KeepTheirChartsSize(params string[] names)
    {
        // a heatmap is 86 px + its cells + 54 px wide and 28 px + its cells + 60 px high for labels that fitted those
        // margins: the page of such names keeps its bytes (a too generous width estimate grew the fixtures' chart 15 px)
        var matrix = names.Select((_, i) => names.Select((_, j) => i == j ? 1.0 : 0.1).ToArray()).ToArray();
        var svg = System.Xml.Linq.XElement.Parse(SvgHeatmap.Render("h", "Correlation", matrix, names));
        var cell = Math.Clamp(300.0 / names.Length, 8, 40);
        Assert.Equal(SvgChart.F(86 + (names.Length * cell) + 54), svg.Attribute("width")!.Value);
        Assert.Equal(SvgChart.F(28 + (names.Length * cell) + 60), svg.Attribute("height")!.Value);
    }
}
