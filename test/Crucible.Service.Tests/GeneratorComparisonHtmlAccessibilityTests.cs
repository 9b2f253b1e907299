using Crucible.Evaluation;
using Crucible.Stress.Reporting;
using Crucible.Tests.Accessibility;
using Microsoft.Playwright;

namespace Crucible.Service.Tests;

/// <summary>
/// The generator comparison page (<c>crucible compare --html</c>, <see cref="GeneratorComparison.ToHtmlPage"/>) in
/// headless Chromium (here because this project has Playwright), as report.html and the model card are checked: a
/// language, a title, one main landmark, header cells on its table (WCAG 3.1.1, 2.4.2, 1.3.1), text contrast of at least
/// 4.5:1 from the rendered styles (1.4.3) and reflow at 320 CSS px (1.4.10).
/// </summary>
public sealed class GeneratorComparisonHtmlAccessibilityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-comparison-a11y-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // three generators' rows as GeneratorComparison.Build makes them (the page only shows them): 19 lags of the mean ACF of |r|
    private static GeneratorComparisonTable Table()
    {
        double[] Acf(double start) => [.. Enumerable.Range(1, 19).Select(l => start / l)];
        ComparisonRow Row(string name, double k) => new(name, 0.05 * k, 0.001 * k, 0.2 * k, 0.03 * k, 0.04 * k, 1.5 * k, 0.1 * k,
            new Pair(0.031, 0.031 * k), new Pair(0.042, 0.042 * k), new Pair(0.08, 0.08 * k), new VectorPair(Acf(0.3), Acf(0.3 * k)));
        return new GeneratorComparisonTable(20, 500, 480, 0.99, "equal weight", [Row("stationary-bootstrap", 0.9), Row("fhs-garch-t", 1.1), Row("crucible-sequence", 1.2)]);
    }

    [Theory]
    [InlineData(1280)]
    [InlineData(320)]
    public async Task ComparisonHtml_HasLandmarksAndTableHeaders_ContrastAndReflow(int width)
    {
        var path = Path.Combine(_dir, "comparison.html");
        File.WriteAllText(path, GeneratorComparison.ToHtmlPage(Table()));

        await using var chromium = await HeadlessChromium.OpenFileAsync(path, width);
        var page = chromium.Page;

        Assert.Equal("en", await page.GetAttributeAsync("html", "lang"));
        Assert.Equal("Crucible generator comparison", await page.TitleAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Main).CountAsync());
        Assert.Equal(await page.Locator("table").CountAsync(), await page.Locator("table:has(th)").CountAsync());
        Assert.True(await page.Locator("svg[data-chart=\"comparison-acf-abs\"]").BoundingBoxAsync() is { Width: > 200 });
        await Wcag.AssertTextContrastAsync(page, atLeast: 10);
        await Wcag.AssertReflowsAsync(page);
    }
}
