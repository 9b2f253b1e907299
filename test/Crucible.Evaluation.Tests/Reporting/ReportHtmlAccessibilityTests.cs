using System.Globalization;
using Crucible.Evaluation.Reporting;
using Crucible.Tests.Accessibility;
using Microsoft.Playwright;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>
/// report.html for a reader on a keyboard and a screen reader, on a zoomed screen or on paper (WCAG 2.2 AA), in headless
/// Chromium: a language, a title, one main landmark and ordered headings (3.1.1, 2.4.2, 1.3.1); every chart a text
/// alternative and its figures as a table (1.1.1, 1.4.1); pass/fail as words, not colour alone (1.4.1); text contrast
/// of at least 4.5:1 from the rendered styles, every state colour included (1.4.3); every folded table reached by Tab
/// with a visible focus and no trap (2.1.1, 2.1.2, 2.4.7); reflow at 320 CSS px (1.4.10); a print stylesheet that keeps
/// charts and tables whole and prints no control.
/// </summary>
public sealed class ReportHtmlAccessibilityTests(ReportFixture fixture) : IClassFixture<ReportFixture>, IDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-report-a11y-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The fixture's report (one threshold failing) in Chromium at <paramref name="width"/> CSS px, offline.</summary>
    private async Task<(IPlaywright Playwright, IBrowser Browser, IPage Page)> OpenAsync(int width = 1280)
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/setup.sh");
        var path = Path.Combine(_dir, "report.html");
        ReportHtml.Write(fixture.Report, path, ThresholdCheck.Evaluate(fixture.Report, [
            new Threshold("ks_max", ThresholdKind.Max, 0.5),
            new Threshold("corr_distance", ThresholdKind.Max, 0.01),
        ]));
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ["--no-sandbox"] });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { Offline = true, ViewportSize = new ViewportSize { Width = width, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(path).AbsoluteUri);
        return (playwright, browser, page);
    }

    [Fact]
    public async Task ReportHtml_HasLandmarksAndOrderedHeadings_AndEveryChartATextAlternativeAndItsFiguresAsATable()
    {
        var (playwright, browser, page) = await OpenAsync();
        using var _ = playwright;
        await using var __ = browser;

        Assert.Equal("en", await page.GetAttributeAsync("html", "lang"));
        Assert.Equal("Crucible evaluation report", await page.TitleAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Main).CountAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Main).Locator("h1").CountAsync());
        var levels = await page.Locator("h1, h2, h3, h4, h5, h6").EvaluateAllAsync<int[]>("hs => hs.map(h => Number(h.tagName[1]))");
        Assert.Equal(1, levels[0]);
        for (var i = 1; i < levels.Length; i++) Assert.True(levels[i] <= levels[i - 1] + 1, $"heading h{levels[i]} follows h{levels[i - 1]}");

        // pass and fail are words in the verdict cells, not only green and red
        Assert.Equal(["pass", "FAIL"], await page.Locator("#verdicts td:last-child").AllInnerTextsAsync());

        var charts = page.Locator("svg[data-chart]");
        int count = await charts.CountAsync();
        Assert.True(count > 10);
        for (var i = 0; i < count; i++)
        {
            var chart = charts.Nth(i);
            var id = await chart.GetAttributeAsync("data-chart");
            Assert.Equal("img", await chart.GetAttributeAsync("role"));
            Assert.False(string.IsNullOrWhiteSpace(await chart.GetAttributeAsync("aria-label")), $"{id} has no text alternative");
            var figures = page.Locator($"figure:has(svg[data-chart=\"{id}\"]) details.figures");
            Assert.True(await figures.CountAsync() == 1, $"{id} has no table of its figures");
            Assert.True(await figures.Locator("table tr").CountAsync() > 2, $"{id}'s table of figures is empty");
        }

        // the figures are the report's: the real correlation matrix, and the first series' histogram bins
        var corr = fixture.Report.Correlation.Real;
        var rows = page.Locator("figure:has(svg[data-chart=\"corr-real\"]) table tr");
        Assert.Equal(corr.Length + 1, await rows.CountAsync());
        Assert.Equal(fixture.Report.Columns, (await rows.First.Locator("th").AllTextContentsAsync()).ToArray());
        for (var r = 0; r < corr.Length; r++)
        {
            var cells = await rows.Nth(r + 1).Locator("td").AllTextContentsAsync();
            Assert.Equal(corr[r].Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)), cells);
        }
        var name = fixture.Report.Columns[0];
        var h = fixture.Report.Charts.Histograms[0];
        var bins = page.Locator($"figure:has(svg[data-chart=\"hist-{ReportHtml.Slug(name)}\"]) table tr");
        Assert.Equal(h.Edges.Length, await bins.CountAsync()); // a header and one row per bin
        Assert.Equal(["return from", "return to", "real", "synthetic"], await bins.First.Locator("th").AllTextContentsAsync());
        var first = await bins.Nth(1).Locator("td").AllTextContentsAsync();
        Assert.Equal(h.Edges[0], double.Parse(first[0], CultureInfo.InvariantCulture), Math.Abs(h.Edges[0]) * 1e-5);
        Assert.Equal(h.Real[0] / (h.Real.Sum() * (h.Edges[1] - h.Edges[0])), double.Parse(first[2], CultureInfo.InvariantCulture), 1e-4 * double.Parse(first[2], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ReportHtml_TextContrast_IsAtLeastWcagAA_ForEveryStateColour()
    {
        var (playwright, browser, page) = await OpenAsync();
        using var _ = playwright;
        await using var __ = browser;
        await page.EvaluateAsync("() => document.querySelectorAll('details').forEach(d => d.open = true)");
        // every state colour the stylesheet has, whether or not this report shows it (a Basel zone is one of three)
        await page.EvaluateAsync("""
            () => {
              const p = document.createElement('p');
              for (const c of ['pass', 'fail', 'zone-green', 'zone-yellow', 'zone-red', 'meta']) {
                const s = document.createElement('span'); s.className = c; s.textContent = c + ' '; p.appendChild(s);
              }
              document.body.appendChild(p);
            }
            """);
        await Wcag.AssertTextContrastAsync(page, atLeast: 200);
    }

    [Fact]
    public async Task ReportHtml_KeyboardReachesEveryChartsFigures_WithAVisibleFocus_AndLeavesThePage()
    {
        var (playwright, browser, page) = await OpenAsync();
        using var _ = playwright;
        await using var __ = browser;
        int charts = await page.Locator("svg[data-chart]").CountAsync();
        var reached = 0;
        for (var i = 0; i < charts + 5; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var tag = await page.EvaluateAsync<string>("() => (document.activeElement || document.body).tagName.toLowerCase()");
            if (tag == "body") break;
            Assert.Equal("summary", tag);
            await Wcag.AssertVisibleFocusAsync(page);
            reached++;
        }
        Assert.Equal(charts, reached);

        // Enter opens the focused chart's figures; Shift+Tab goes back
        await page.Keyboard.PressAsync("Shift+Tab");
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal(1, await page.Locator("details.figures[open]").CountAsync());
        Assert.True(await page.Locator("details.figures[open] table").IsVisibleAsync());
    }

    [Fact]
    public async Task ReportHtml_ReflowsAt320CssPixels_AndPrintsChartsAndTablesWhole_WithoutControls()
    {
        var (playwright, browser, page) = await OpenAsync(width: 320);
        using var _ = playwright;
        await using var __ = browser;
        await Wcag.AssertReflowsAsync(page);
        var box = await page.Locator("svg[data-chart=\"drawdowns\"]").BoundingBoxAsync();
        Assert.True(box is { Width: > 200 and <= 320 }, $"the drawdown chart is {box?.Width} px wide at 320");

        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Print });
        var print = await page.EvaluateAsync<string[]>("""
            () => Array.from(document.querySelectorAll('figure, table, svg, summary'))
              .filter(e => e.tagName === 'SUMMARY' ? e.getClientRects().length > 0 : getComputedStyle(e).breakInside !== 'avoid' && e.getClientRects().length > 0)
              .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.tagName === 'SUMMARY' ? ' is printed' : ' may break across pages'))
            """);
        Assert.Empty(print);
    }
}
