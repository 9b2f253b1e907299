using Crucible.Evaluation.Reporting;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>
/// Session 24, the bank's application-security review: series names come from an untrusted CSV header, and report.html
/// is opened in a browser. Names that would open an element, close a table or an attribute, or start a script come back
/// as text in every place the report shows them (marginals table, charts' titles and labels, heatmaps, their tables,
/// captions): no element is created and no attribute is broken out of.
/// </summary>
public sealed class ReportHtmlInjectionTests
{
    private static readonly string[] Names = ["<img src=x onerror=alert(1)>", "\"; alert(2); \"", "</td></tr></table><script>alert(3)</script>", "a' onmouseover='alert(4)"];

    private static SeriesSet Set(int rows, double phase) => new(Names,
        [.. Names.Select((_, j) => Enumerable.Range(0, rows).Select(t => 0.01 * Math.Sin((0.37 * (j + 1) * t) + phase) + (0.002 * Math.Cos(1.3 * t * (j + 1)))).ToArray())]);

    [Fact]
    public void HostileSeriesNames_ComeBackAsText_NoElementCreated()
    {
        var report = Evaluator.Evaluate(new EvaluationInput(Set(200, 0), Set(300, 0.4)), new EvaluationOptions { Utility = false });
        var html = ReportHtml.ToHtml(report);

        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script>alert", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("</table><script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("' onmouseover", html, StringComparison.Ordinal);
        Assert.DoesNotContain("\"; alert(2)", html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(3)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&quot;; alert(2); &quot;", html, StringComparison.Ordinal);
        Assert.Contains("a&#39; onmouseover=&#39;alert(4)", html, StringComparison.Ordinal);
    }

    [Fact]
    public void SeriesNamesWithTheSameSlug_GetDistinctChartIds()
    {
        // "日経" and "株価" both slug to "__", "a b" and "a_b" to "a_b": their charts had the same id and data-chart, so the
        // page had duplicate ids and a lookup by data-chart found the first series' chart for the second
        // "abs-X" beside "X": the ACF chart of the one and the ACF-of-|r| chart of the other were both acf-abs-X
        string[] names = ["日経", "株価", "a b", "a_b", "plain", "abs-plain", "X", "abs X", "abs-X"];
        SeriesSet Of(int rows, double phase) => new(names,
            [.. names.Select((_, j) => Enumerable.Range(0, rows).Select(t => 0.01 * Math.Sin((0.37 * (j + 1) * t) + phase)).ToArray())]);
        var html = ReportHtml.ToHtml(Evaluator.Evaluate(new EvaluationInput(Of(200, 0), Of(300, 0.4)), new EvaluationOptions { Utility = false }));

        var ids = System.Text.RegularExpressions.Regex.Matches(html, "\\sid=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Empty(ids.GroupBy(i => i, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key));
        Assert.Equal(names.Length, ids.Count(i => i.StartsWith("hist-", StringComparison.Ordinal)));
        // a name whose slug is its own keeps its id
        Assert.Contains("hist-plain", ids);
        Assert.Contains("hist-__", ids);
        Assert.Contains("hist-a_b", ids);
    }
}
