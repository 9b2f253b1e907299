using System.Net;
using System.Text.RegularExpressions;
using Crucible.Data;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Security;
using Microsoft.Playwright;

namespace Crucible.Service.Tests;

/// <summary>
/// <c>GET /</c>: the page needs no key, is HTML and names no URL outside itself (the SVG namespace aside); in headless
/// Chromium against the service on a real Kestrel port, with a tiny conditional sequence model registered, a user
/// enters a key, picks the model, moves a condition slider, picks a stress preset and generates, and the fan chart, the
/// heatmap and the VaR/ES table appear with numbers. A screenshot is kept under artifacts/test-results/web-page/.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed partial class WebPageTests(ServiceFixture fixture) : IDisposable
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string SvgNamespace = "http://www.w3.org/2000/svg";
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-service-web-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"(https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex ExternalUrl();

    [Fact]
    public async Task Root_IsHtml_WithoutAKey_AndNamesNoExternalUrl()
    {
        using var client = fixture.Client(null);
        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<title>Crucible scenarios</title>", html, StringComparison.Ordinal);
        Assert.Contains("/v1/scenarios", html, StringComparison.Ordinal);
        var stripped = html.Replace(SvgNamespace, "", StringComparison.Ordinal);
        Assert.DoesNotMatch(ExternalUrl(), stripped);
        Assert.DoesNotContain(" src=", stripped, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("connect-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

        // the /v1 surface still needs a key
        using var models = await client.GetAsync(new Uri("/v1/models", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
    }

    private static string ArtefactFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crucible.slnx")))
                return Directory.CreateDirectory(Path.Combine(dir.FullName, "artifacts", "test-results", "web-page")).FullName;
        }
        return Directory.CreateTempSubdirectory("crucible-web-page-").FullName;
    }

    [Fact]
    public async Task Browser_GeneratesFromASequenceModel_AndDrawsTheFanChartHeatmapAndVarTable()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/setup.sh");
        string model = Path.Combine(_dir, "model"), home = Path.Combine(_dir, "home");
        TinySequenceModel.Train().Save(model);
        string id;
        using (var log = AuditLog.Open(CrucibleHome.Resolve(home)))
        {
            id = new ModelRegistry(CrucibleHome.Resolve(home), log).Register(model).Id;
        }

        var (key, line) = ApiKeyStore.NewKey("web", new HashSet<string> { "read", "generate" });
        string keys = Path.Combine(_dir, "keys");
        File.WriteAllLines(keys, [line]);

        await using var app = ServiceApp.Build(["--urls", "http://127.0.0.1:0", "--Crucible:Home", home, "--Crucible:ApiKeysFile", keys]);
        await app.StartAsync();
        var origin = app.Urls.Single().TrimEnd('/');

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 1000 } });
        var requests = new List<string>();
        var errors = new List<string>();
        page.Request += (_, r) => requests.Add(r.Url);
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning") errors.Add($"{m.Type}: {m.Text}");
        };
        page.PageError += (_, e) => errors.Add("page error: " + e);
        await page.GotoAsync(origin + "/");

        await page.FillAsync("#key", key);
        await page.ClickAsync("#load");
        await page.Locator($"#model option[value=\"{id}\"]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await page.SelectOptionAsync("#model", id);
        var slider = page.Locator("input[data-condition=\"VIXCLS\"]");
        await slider.WaitForAsync();
        Assert.Equal(1, await page.Locator("#sliders input[type=range]").CountAsync());
        var before = double.Parse(await slider.InputValueAsync(), System.Globalization.CultureInfo.InvariantCulture);
        await slider.FocusAsync();
        for (int i = 0; i < 20; i++) await slider.PressAsync("ArrowRight");
        var after = double.Parse(await slider.InputValueAsync(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(after > before, $"the slider did not move ({before} → {after})");
        Assert.True(await page.Locator("#stress option[value=\"gfc-2008\"]").IsDisabledAsync()); // not an archetype of this model
        Assert.Equal(1, await page.Locator("#stress option[data-feature=\"VIXCLS\"]").CountAsync());
        await page.FillAsync("#guidance", "2");
        await page.FillAsync("#count", "40");
        await page.FillAsync("#seed", "3");

        var scenarioResponse = page.WaitForResponseAsync(origin + "/v1/scenarios");
        await page.ClickAsync("#generate");
        var answer = await scenarioResponse;
        var sent = answer.Request;
        var (expectedRisk, expectedCorr) = Reference(System.Text.Json.JsonDocument.Parse(await answer.BodyAsync()).RootElement);
        var body = System.Text.Json.JsonDocument.Parse(sent.PostData!).RootElement;
        Assert.Equal(after, body.GetProperty("conditions").GetProperty("VIXCLS").GetDouble(), 9);
        Assert.False(body.TryGetProperty("stress", out _));
        Assert.Equal(2, body.GetProperty("guidance").GetDouble());

        await page.Locator("#var-es, #error:not(:empty)").First.WaitForAsync(new() { Timeout = 15_000 });
        var shown = (await page.Locator("#error").InnerTextAsync()).Trim();
        Assert.True(shown.Length == 0, shown);
        Assert.Empty(errors);

        // fan chart: two bands and a median line over 5 steps + the origin
        var fan = page.Locator("svg#fan-chart");
        Assert.True(await fan.BoundingBoxAsync() is { Width: > 300, Height: > 200 });
        Assert.Equal(2, await fan.Locator("path.band").CountAsync());
        var median = await fan.Locator("polyline.median").GetAttributeAsync("points");
        Assert.Equal(6, median!.Split(' ').Length);

        // heatmap: 2 × 2 cells, unit diagonal
        var heat = page.Locator("svg#heatmap");
        Assert.True(await heat.BoundingBoxAsync() is { Width: > 50, Height: > 50 });
        Assert.Equal(4, await heat.Locator("rect.cell").CountAsync());
        Assert.EndsWith(": 1.000", await heat.Locator("rect.cell title").First.TextContentAsync(), StringComparison.Ordinal);
        var offDiagonal = await heat.Locator("rect.cell title").Nth(1).TextContentAsync() ?? "";
        Assert.Equal(expectedCorr, double.Parse(offDiagonal[(offDiagonal.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture), 0.00051);

        // VaR/ES table: 95% and 99%, numbers in percent, ES ≥ VaR
        var rows = page.Locator("#var-es tbody tr");
        Assert.Equal(2, await rows.CountAsync());
        for (int r = 0; r < 2; r++)
        {
            var cells = await rows.Nth(r).Locator("td").AllInnerTextsAsync();
            Assert.Equal(r == 0 ? "95%" : "99%", cells[0]);
            double var = Percent(cells[1]), es = Percent(cells[2]);
            Assert.True(es >= var - 1e-9, $"ES {es} < VaR {var}");
            Assert.Equal(100 * expectedRisk[r].VaR, var, 0.0051); // the page shows 2 decimals
            Assert.Equal(100 * expectedRisk[r].Es, es, 0.0051);
        }
        Assert.Contains("40 scenarios, horizon 5 steps", await page.Locator("#risk").InnerTextAsync(), StringComparison.Ordinal);

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtefactFolder(), "web-page.png"), FullPage = true });
        Assert.Empty(errors);
        Assert.All(requests, u => Assert.StartsWith(origin + "/", u, StringComparison.Ordinal));

        // a problem from the service is shown as its text: this model has no 'vol' condition
        await page.SelectOptionAsync("#stress", "vol=+2sd");
        await page.ClickAsync("#generate");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        var problem = await page.Locator("#error").InnerTextAsync();
        Assert.StartsWith("422", problem, StringComparison.Ordinal);
        Assert.Contains("unknown condition 'vol'", problem, StringComparison.Ordinal);
        await app.StopAsync();
    }

    /// <summary>
    /// A naive reference for what the page draws from a scenario answer: the equal-weight portfolio (log returns,
    /// rebalanced each step) horizon loss's VaR and ES at 95% and 99% (linearly interpolated quantile, ES the mean loss
    /// at or beyond it), and the Pearson correlation of the first two series over all rows.
    /// </summary>
    private static ((double VaR, double Es)[] Risk, double Corr) Reference(System.Text.Json.JsonElement answer)
    {
        int steps = answer.GetProperty("metadata").GetProperty("steps_per_scenario").GetInt32();
        var rows = answer.GetProperty("values").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        int n = rows.Length / steps;
        var losses = new double[n];
        for (int s = 0; s < n; s++)
        {
            double wealth = 1;
            for (int t = 0; t < steps; t++) wealth *= 1 + rows[(s * steps) + t].Average(x => Math.Exp(x) - 1);
            losses[s] = -(wealth - 1);
        }
        Array.Sort(losses);
        var risk = new[] { 0.95, 0.99 }.Select(a =>
        {
            double h = (n - 1) * a;
            int i = (int)Math.Floor(h);
            double v = i + 1 < n ? losses[i] + ((h - i) * (losses[i + 1] - losses[i])) : losses[i];
            return (v, losses.Where(l => l >= v).Average());
        }).ToArray();
        double ma = rows.Average(r => r[0]), mb = rows.Average(r => r[1]);
        double sab = rows.Sum(r => (r[0] - ma) * (r[1] - mb)), saa = rows.Sum(r => (r[0] - ma) * (r[0] - ma)), sbb = rows.Sum(r => (r[1] - mb) * (r[1] - mb));
        return (risk, sab / Math.Sqrt(saa * sbb));
    }

    private static double Percent(string text)
    {
        Assert.EndsWith("%", text, StringComparison.Ordinal);
        return double.Parse(text.TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
    }
}
