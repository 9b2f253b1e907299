using Crucible.Evaluation.Reporting;
using Microsoft.Playwright;

namespace Crucible.Evaluation.Tests.Reporting;

/// <summary>
/// Opens report.html in headless Chromium (Debian's <c>chromium</c>, installed by scripts/setup.sh) with the network
/// cut off, and checks that every chart renders with a non-empty box and that the page asks for nothing but itself.
/// </summary>
public class ReportHtmlBrowserTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task ReportHtml_RendersEveryChart_Offline()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/setup.sh");
        var dir = Directory.CreateTempSubdirectory("crucible-html-");
        try
        {
            var path = Path.Combine(dir.FullName, "report.html");
            ReportHtml.Write(fixture.Report, path);

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
                if (m.Type == "error") errors.Add(m.Text);
            };
            await page.GotoAsync(new Uri(path).AbsoluteUri);

            var expected = new List<string> { "corr-real", "corr-synthetic", "tail-real", "tail-synthetic", "drawdowns", "dcr" };
            foreach (var s in fixture.Report.Columns) expected.AddRange([$"hist-{s}", $"qq-{s}", $"acf-{s}", $"acf-abs-{s}"]);
            foreach (var id in expected)
            {
                var chart = page.Locator($"[data-chart=\"{id}\"]");
                Assert.Equal(1, await chart.CountAsync());
                var box = await chart.BoundingBoxAsync();
                Assert.True(box is { Width: > 100, Height: > 100 }, $"{id} has no visible box");
            }
            Assert.True(await page.Locator("[data-chart=\"hist-EQ_US\"] g.hist rect").CountAsync() > 10);
            Assert.True(await page.Locator("#var-es tr").CountAsync() == fixture.Report.Columns.Length + 2);
            Assert.All(requests, u => Assert.StartsWith("file://", u, StringComparison.Ordinal));
            Assert.Empty(errors);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
