using System.Text;
using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>
/// A wide evaluation (hundreds of series) gives a page a browser opens: heatmaps in blocks, charts for the worst series
/// only. Before, 500 series gave a 120 MB page (four heatmaps of 250,000 cells with a tooltip each, 2,000 charts).
/// </summary>
public class ReportHtmlWideTests
{
    // d series of n rows: a common factor plus noise, from the seed's Philox stream; series k's noise scale grows with k
    // in the synthetic set, so the KS ranking is known: the last series differ most
    private static SeriesSet Panel(ulong seed, int d, int n, bool synthetic)
    {
        var rng = new Crucible.Tensors.Random.Philox(seed);
        var columns = new double[d][];
        for (var i = 0; i < d; i++) columns[i] = new double[n];
        for (var t = 0; t < n; t++)
        {
            var f = rng.NextNormal();
            for (var i = 0; i < d; i++)
            {
                var scale = synthetic ? 1 + (2.0 * i / d) : 1;
                columns[i][t] = 0.01 * scale * ((0.6 * f) + (0.8 * rng.NextNormal()));
            }
        }
        return new SeriesSet([.. Enumerable.Range(0, d).Select(i => $"S{i:D3}")], columns);
    }

    private static readonly Lazy<EvaluationReport> Wide = new(() =>
        Evaluator.Evaluate(new EvaluationInput(Panel(1, 200, 300, synthetic: false), Panel(2, 200, 300, synthetic: true))));

    [Fact]
    public void WideReport_PageStaysSmall_HeatmapsInBlocks_ChartsForTheWorstSeries()
    {
        var report = Wide.Value;
        var html = ReportHtml.ToHtml(report);
        var bytes = Encoding.UTF8.GetByteCount(html);
        // 3.6 MB with every drawn chart's figures table (its text alternative, WCAG 1.1.1); cell by cell it was 20 MB
        Assert.True(bytes < 4_000_000, $"{bytes} bytes for 200 series");

        // 200 series in blocks of 4: 50 × 50 cells per heatmap
        var corr = Chart(html, "corr-real");
        Assert.Contains("means over blocks of 4 series", corr, StringComparison.Ordinal);
        Assert.Equal(50 * 50, Count(corr, "<rect x="));   // the scale bar's rects are class="scale"
        Assert.Contains("S000…S003 / S004…S007: mean ", corr, StringComparison.Ordinal);

        // the heatmap's figures table (its text alternative) gives the blocks it draws, not the 200 × 200 matrix
        var figures = Between(html, "<summary>Figures: Correlation, real (means over blocks of 4 series)</summary>", "</table>");
        Assert.Equal(50, Count(figures, "<th scope=\"row\">"));
        Assert.Equal((50 * 50) + 1, Count(figures, "<td>")); // the block means and the empty corner cell of the header row
        Assert.Contains("<th scope=\"row\">S004…S007</th>", figures, StringComparison.Ordinal);

        // charts for 50 series: the 50 with the largest KS, here the last ones (their synthetic scale is widest)
        var charted = ReportHtml.ChartedSeries(report);
        Assert.Equal(ReportHtml.MaxSeriesCharts, charted.Length);
        var ks = report.PerSeries.Select(s => s.Ks).ToArray();
        var threshold = charted.Min(i => ks[i]);
        Assert.All(Enumerable.Range(0, 200).Except(charted), i => Assert.True(ks[i] <= threshold));
        Assert.Equal(50, Count(html, "data-chart=\"hist-"));
        Assert.Equal(50, Count(html, "data-chart=\"acf-abs-"));
        Assert.Contains("data-chart=\"hist-S199\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"charted-series\"", html, StringComparison.Ordinal);

        // every series stays in the tables, and the pairs that differ most are listed
        Assert.Equal(200, Count(Between(html, "id=\"var-es\"", "</table>"), "<tr><td>S"));
        var pairs = Between(html, "id=\"corr-largest-differences\"", "</table>");
        Assert.Equal(ReportHtml.CorrelationPairsListed, Count(pairs, "<tr><td>"));
    }

    [Fact]
    public void NarrowReport_IsDrawnCellByCell_AsBefore()
    {
        var report = Evaluator.Evaluate(new EvaluationInput(Panel(1, 6, 300, synthetic: false), Panel(2, 6, 300, synthetic: true)));
        var html = ReportHtml.ToHtml(report);
        Assert.Equal(36, Count(Chart(html, "corr-real"), "<rect x="));
        Assert.DoesNotContain("means over blocks", html, StringComparison.Ordinal);
        Assert.DoesNotContain("corr-largest-differences", html, StringComparison.Ordinal);
        Assert.DoesNotContain("charted-series", html, StringComparison.Ordinal);
        Assert.Equal(6, Count(html, "data-chart=\"hist-"));
    }

    [Fact]
    public void Blocks_AverageOffDiagonalEntries_LastBlockShorter()
    {
        // 5 × 5 with at most 2 blocks a side: blocks of 3 series, {0,1,2} and {3,4}
        double[][] m =
        [
            [1.0, 0.2, 0.4, 0.9, 0.7],
            [0.2, 1.0, 0.6, 0.1, 0.3],
            [0.4, 0.6, 1.0, double.NaN, 0.5],
            [0.9, 0.1, double.NaN, 1.0, -0.8],
            [0.7, 0.3, 0.5, -0.8, 1.0],
        ];
        var (means, labels, tips, size) = SvgHeatmap.Blocks(m, ["a", "b", "c", "d", "e"], 2);
        Assert.Equal(3, size);
        Assert.Equal(["a…c", "d…e"], labels);
        Assert.Equal((0.2 + 0.4 + 0.2 + 0.6 + 0.4 + 0.6) / 6, means[0][0], 12);   // the diagonal left out
        Assert.Equal((0.9 + 0.7 + 0.1 + 0.3 + 0.5) / 5, means[0][1], 12);         // NaN left out
        Assert.Equal(means[0][1], means[1][0], 12);
        Assert.Equal(-0.8, means[1][1], 12);
        Assert.Equal("a…c / d…e: mean 0.5 of 5 pairs, min 0.1, max 0.9", tips[0][1]);

        var single = SvgHeatmap.Blocks([[1.0, 0.5], [0.5, 1.0]], ["a", "b"], 1);
        Assert.Equal(2, single.BlockSize);
        Assert.Equal(0.5, single.Means[0][0], 12);
        var diagonalOnly = SvgHeatmap.Blocks([[1.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 1.0]], ["a", "b", "c"], 2);
        Assert.True(double.IsNaN(diagonalOnly.Means[1][1]));   // the one-series block {c} has no off-diagonal entry
        Assert.Equal("c / c: no off-diagonal value", diagonalOnly.Tips[1][1]);
    }

    private static string Chart(string html, string id)
    {
        var start = html.IndexOf($"data-chart=\"{id}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, id);
        return html[start..html.IndexOf("</svg>", start, StringComparison.Ordinal)];
    }

    private static string Between(string html, string from, string to)
    {
        var start = html.IndexOf(from, StringComparison.Ordinal);
        Assert.True(start >= 0, from);
        return html[start..html.IndexOf(to, start, StringComparison.Ordinal)];
    }

    private static int Count(string s, string what)
    {
        var n = 0;
        for (var i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
