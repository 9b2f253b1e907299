using Crucible.Governance.Cards;
using Crucible.Tests.Accessibility;
using Microsoft.Playwright;

namespace Crucible.Service.Tests;

/// <summary>
/// The HTML model card (<c>crucible model-card --html</c>, <see cref="ModelCard.ToHtml"/>) of the fixture's trained model
/// in headless Chromium (here because this project has Playwright and a real model folder): a language, a title, one
/// main landmark and ordered headings, header cells on every table (WCAG 3.1.1, 2.4.2, 1.3.1), text contrast of at least
/// 4.5:1 from the rendered styles (1.4.3) and reflow at 320 CSS px with its 64-hex-digit hashes (1.4.10).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ModelCardHtmlAccessibilityTests(ServiceFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-card-a11y-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(1280)]
    [InlineData(320)]
    public async Task ModelCardHtml_HasLandmarksHeadingsAndTableHeaders_ContrastAndReflow(int width)
    {
        var card = ModelCard.Build(fixture.ModelFolder);
        var path = Path.Combine(_dir, "card.html");
        card.Write(Path.Combine(_dir, "card.md"), path);

        await using var chromium = await HeadlessChromium.OpenFileAsync(path, width);
        var page = chromium.Page;

        Assert.Equal("en", await page.GetAttributeAsync("html", "lang"));
        Assert.Equal(card.Title, await page.TitleAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Main).CountAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Main).Locator("h1").CountAsync());
        var levels = await page.Locator("h1, h2, h3, h4, h5, h6").EvaluateAllAsync<int[]>("hs => hs.map(h => Number(h.tagName[1]))");
        Assert.Equal(1, levels[0]);
        for (var i = 1; i < levels.Length; i++) Assert.True(levels[i] <= levels[i - 1] + 1, $"heading h{levels[i]} follows h{levels[i - 1]}");
        var tables = page.Locator("table");
        Assert.True(await tables.CountAsync() > 0);
        Assert.Equal(await tables.CountAsync(), await page.Locator("table:has(th)").CountAsync());

        await Wcag.AssertTextContrastAsync(page, atLeast: 20);
        await Wcag.AssertReflowsAsync(page);
    }
}
