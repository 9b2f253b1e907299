using Crucible.Evaluation.Reporting;
using Microsoft.Playwright;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>
/// Opens report.html in headless Chromium (Debian's <c>chromium</c>, installed by scripts/setup.sh) with the network
/// cut off, and checks that every chart the issue lists renders with a non-empty box, that the verdict, VaR/ES and
/// utility tables are there, that the page asks for nothing but itself, and that it logs no console or page error.
/// The page and a full-page screenshot are kept under artifacts/test-results/report-html/ as test artefacts.
/// </summary>
public class ReportHtmlBrowserTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    private const string ChromiumPath = "/usr/bin/chromium";

    private static string ArtefactFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crucible.slnx")))
                return Directory.CreateDirectory(Path.Combine(dir.FullName, "artifacts", "test-results", "report-html")).FullName;
        }
        return Directory.CreateTempSubdirectory("crucible-report-html-").FullName;
    }

    [Fact]
    public async Task ReportHtml_RendersEveryChart_Offline_WithoutErrors()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/setup.sh");
        var folder = ArtefactFolder();
        var path = Path.Combine(folder, "report.html");
        var report = fixture.Report;
        var verdicts = ThresholdCheck.Evaluate(report, [
            new Threshold("ks_max", ThresholdKind.Max, 0.5),
            new Threshold("corr_distance", ThresholdKind.Max, 0.01),
            new Threshold("utility.volatility.mse_ratio", ThresholdKind.Max, 1.5),
        ]);
        ReportHtml.Write(report, path, verdicts);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { Offline = true });
        var page = await context.NewPageAsync();
        var requests = new List<string>();
        var errors = new List<string>();
        page.Request += (_, r) => requests.Add(r.Url);
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning") errors.Add($"{m.Type}: {m.Text}");
        };
        page.PageError += (_, e) => errors.Add("page error: " + e);
        await page.GotoAsync(new Uri(path).AbsoluteUri);

        // every chart of the issue: histograms and QQ plots, correlation (and tail) heatmaps, ACF and ACF|r|,
        // drawdown distribution, DCR histogram; and the utility importance charts
        var expected = new List<string> { "corr-real", "corr-synthetic", "tail-real", "tail-synthetic", "drawdowns", "dcr",
            "importance-return", "importance-volatility" };
        foreach (var s in report.Columns) expected.AddRange([$"hist-{s}", $"qq-{s}", $"acf-{s}", $"acf-abs-{s}"]);
        foreach (var id in expected)
        {
            var chart = page.Locator($"[data-chart=\"{id}\"]");
            Assert.Equal(1, await chart.CountAsync());
            var box = await chart.BoundingBoxAsync();
            Assert.True(box is { Width: > 100, Height: > 100 }, $"{id} has no visible box");
        }
        Assert.Equal(expected.Count, await page.Locator("svg[data-chart]").CountAsync());
        Assert.True(await page.Locator("[data-chart=\"hist-EQ_US\"] g.hist rect").CountAsync() > 10);
        Assert.True(await page.Locator("[data-chart=\"qq-EQ_US\"] g.scatter circle").CountAsync() > 100);
        Assert.Equal(report.Columns.Length * report.Columns.Length, await page.Locator("[data-chart=\"corr-real\"] rect:not(.scale)").CountAsync());
        Assert.True(await page.Locator("[data-chart=\"acf-abs-EQ_US\"] polyline.line").CountAsync() == 2);
        Assert.Equal(report.Columns.Length, await page.Locator("[data-chart=\"importance-volatility\"] g.scatter circle").CountAsync());

        // summary verdicts against the declared thresholds, the VaR/ES table, the utility table
        Assert.Equal("1 of 3 thresholds failed", (await page.Locator("#verdict").InnerTextAsync()).Trim());
        Assert.Equal(4, await page.Locator("#verdicts tr").CountAsync());
        Assert.Equal(1, await page.Locator("#verdicts td.fail").CountAsync());
        Assert.Equal(report.Columns.Length + 2, await page.Locator("#var-es tr").CountAsync());
        Assert.Equal(3, await page.Locator("#utility-table tr").CountAsync());
        Assert.Contains("closer to train than to holdout", await page.Locator("#share-closer").InnerTextAsync(), StringComparison.Ordinal);

        Assert.All(requests, u => Assert.StartsWith("file://", u, StringComparison.Ordinal));
        Assert.Empty(errors);

        var png = Path.Combine(folder, "report.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = png, FullPage = true });
        Assert.True(new FileInfo(png).Length > 10_000, "the screenshot is empty");
    }
}
