using Microsoft.Playwright;

namespace Crucible.Tests.Accessibility;

/// <summary>
/// A page written to disk, opened offline in headless Chromium (the one <c>scripts/setup.sh</c> installs) at a given
/// viewport: the launch every browser test of a generated HTML file shares (linked into each test project, as
/// <see cref="Wcag"/> is). Disposing it closes the browser and Playwright.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    /// <summary>Where <c>scripts/setup.sh</c> installs Chromium.</summary>
    public const string ExecutablePath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
    }

    /// <summary>The opened page.</summary>
    public IPage Page { get; }

    /// <summary>Opens <paramref name="path"/> in a new offline context whose viewport is <paramref name="width"/> ×
    /// <paramref name="height"/> CSS px; fails the test with the set-up step when Chromium is missing.</summary>
    public static async Task<HeadlessChromium> OpenFileAsync(string path, int width = 1280, int height = 900)
    {
        Assert.True(File.Exists(ExecutablePath), $"{ExecutablePath} is missing: run scripts/setup.sh");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true, Args = ["--no-sandbox"] });
            var context = await browser.NewContextAsync(new BrowserNewContextOptions { Offline = true, ViewportSize = new ViewportSize { Width = width, Height = height } });
            var page = await context.NewPageAsync();
            await page.GotoAsync(new Uri(path).AbsoluteUri);
            return new HeadlessChromium(playwright, browser, page);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
