using System.Globalization;
using Crucible.Evaluation.Reporting;
using Crucible.Tests.Accessibility;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>
/// A series named in Hebrew or Arabic, or with a bidi control in its name, in report.html in headless Chromium: the
/// text and numbers that follow the name keep their order on screen (the Unicode bidi algorithm joins numbers that follow
/// right-to-left text into its run and shows them reversed).
/// </summary>
public sealed class ReportHtmlBidiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-report-bidi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SeriesSet Of(string[] names, int rows, double phase, double frequency = 0.37) => new(names,
        [.. names.Select((_, j) => Enumerable.Range(0, rows).Select(t => (0.01 * Math.Sin((frequency * (j + 1) * t) + phase)) + (0.004 * Math.Cos(1.7 * t * (j + 2)))).ToArray())]);

    [Theory]
    [InlineData("מדד תא 35")] // Hebrew: the TA-35 index
    [InlineData("\u202Eabc")] // a right-to-left override left open
    public async Task NumbersAfterARightToLeftName_KeepTheirOrderOnScreen(string name)
    {
        string[] names = [name, "EQ"];
        var report = Evaluator.Evaluate(new EvaluationInput(Of(names, 300, 0), Of(names, 300, 0.4, 0.53), Of(names, 300, 0.2)));
        var u = report.Utility!;
        string trtr = N(u.Return.ImportanceTrtr[0]), tstr = N(u.Return.ImportanceTstr[0]), next = N(u.Return.ImportanceTrtr[1]);
        Assert.NotEqual(trtr, tstr);
        var path = Path.Combine(_dir, "report.html");
        ReportHtml.Write(report, path);
        await using var chromium = await HeadlessChromium.OpenFileAsync(path);
        var page = chromium.Page;

        // the importance chart's caption "NAME TRTR / TSTR, EQ TRTR / TSTR": the x position on screen of each number,
        // found in the caption's text in logical order (one line: the caption is wide enough)
        var xs = await page.EvaluateAsync<double[]>("""
            ([numbers]) => {
              const caption = document.querySelector('figure:has(svg[data-chart="importance-return"]) figcaption');
              const text = caption.textContent;
              const nodes = [], walker = document.createTreeWalker(caption, NodeFilter.SHOW_TEXT);
              while (walker.nextNode()) nodes.push(walker.currentNode);
              let from = 0;
              return numbers.map(n => {
                const at = text.indexOf(n, from); from = at + n.length;
                let offset = at;
                for (const node of nodes) {
                  if (offset < node.data.length) { const r = document.createRange(); r.setStart(node, offset); r.setEnd(node, offset + n.length); return r.getBoundingClientRect().left; }
                  offset -= node.data.length;
                }
                return NaN;
              });
            }
            """, new object[] { new[] { trtr, tstr, next } });
        Assert.True(xs[0] < xs[1] && xs[1] < xs[2], $"{trtr} at {xs[0]}, {tstr} at {xs[1]}, {next} at {xs[2]}");
    }

    private static string N(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
}
