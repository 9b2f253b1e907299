using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Crucible.Data;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;
using Crucible.Evaluation;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Security;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace Crucible.Service.Tests;

/// <summary>
/// <c>GET /</c>: the page needs no key, is HTML and names no URL outside itself (the SVG namespace aside); in headless
/// Chromium against the service on a real Kestrel port, with a tiny conditional sequence model registered, a user
/// enters a key, picks the model, moves a condition slider, picks a stress preset and generates, and the fan chart, the
/// heatmap and the VaR/ES table appear with numbers. A model with calibrated-looking defaults (w = 2, a = 0.335) shows
/// them, an untouched page sends no guidance, sampler or steps and draws exactly the API's answer to the default
/// request, a changed regime guidance is sent and shown in the "as generated" line, and a tabular model shows no
/// guidance inputs and sends the sampler picked. A screenshot is kept under artifacts/test-results/web-page/.
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
        string model = Path.Combine(_dir, "model");
        TinySequenceModel.Train().Save(model);
        await using var web = await OpenAsync(model);
        var page = web.Page;
        await PickAsync(page, web.Ids[0]);
        var slider = page.Locator("input[data-condition=\"VIXCLS\"]");
        Assert.Equal(1, await page.Locator("#sliders input[type=range]").CountAsync());
        var before = double.Parse(await slider.InputValueAsync(), CultureInfo.InvariantCulture);
        await slider.FocusAsync();
        for (int i = 0; i < 20; i++) await slider.PressAsync("ArrowRight");
        var after = double.Parse(await slider.InputValueAsync(), CultureInfo.InvariantCulture);
        Assert.True(after > before, $"the slider did not move ({before} → {after})");
        Assert.True(await page.Locator("#stress option[value=\"gfc-2008\"]").IsDisabledAsync()); // not an archetype of this model
        Assert.Equal(1, await page.Locator("#stress option[data-feature=\"VIXCLS\"]").CountAsync());
        Assert.Equal("4", await page.InputValueAsync("#guidance")); // an uncalibrated model's default w
        await page.FillAsync("#guidance", "2");
        Assert.Equal("changed (model default 4)", await page.Locator("#guidance-note").InnerTextAsync());
        await page.FillAsync("#count", "40");
        await page.FillAsync("#seed", "3");

        var (body, answer) = await GenerateAsync(web);
        Assert.Equal(after, body.GetProperty("conditions").GetProperty("VIXCLS").GetDouble(), 9);
        Assert.False(body.TryGetProperty("stress", out _));
        Assert.False(body.TryGetProperty("regime_guidance", out _));
        Assert.Equal(2, body.GetProperty("guidance").GetDouble());
        await AssertDrawsAsync(web, answer, 40);

        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtefactFolder(), "web-page.png"), FullPage = true });
        Assert.Empty(web.Errors);
        Assert.All(web.Requests, u => Assert.StartsWith(web.Origin + "/", u, StringComparison.Ordinal));

        // a problem from the service is shown as its text: this model has no 'vol' condition
        await page.SelectOptionAsync("#stress", "vol=+2sd");
        await page.ClickAsync("#generate");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        var problem = await page.Locator("#error").InnerTextAsync();
        Assert.StartsWith("422", problem, StringComparison.Ordinal);
        Assert.Contains("unknown condition 'vol'", problem, StringComparison.Ordinal);
    }

    /// <summary>The page on a tiny sequence model saved with calibrated-looking defaults (w = 2, a = 0.335), that model picked.</summary>
    private async Task<WebSession> OpenCalibratedAsync()
    {
        string model = Path.Combine(_dir, "model");
        TinySequenceModel.Train(o => o with { GuidanceScale = 2, RegimeGuidance = 0.335 }).Save(model);
        var web = await OpenAsync(model);
        await PickAsync(web.Page, web.Ids[0]);
        return web;
    }

    [Fact]
    public async Task Browser_ShowsACalibratedModelsDefaults_AndAnUntouchedPageAsksForTheApiDefaultRequest()
    {
        await using var web = await OpenCalibratedAsync();
        var page = web.Page;
        Assert.Equal("2", await page.InputValueAsync("#guidance"));
        Assert.Equal("0.335", await page.InputValueAsync("#regime"));
        Assert.Equal("model default", await page.Locator("#guidance-note").InnerTextAsync());
        Assert.Equal("model default", await page.Locator("#regime-note").InnerTextAsync());
        Assert.Equal("DDIM", (await page.Locator("#sampler option:checked").InnerTextAsync()).Trim());
        await page.FillAsync("#count", "40");
        await page.FillAsync("#seed", "3");

        var (body, answer) = await GenerateAsync(web);
        Assert.Equal(["count", "model", "seed"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var api = await PostAsync(web, $$"""{"model":"{{web.Ids[0]}}","count":40,"seed":3}""");
        Assert.Equal(api.GetProperty("values").GetRawText(), answer.GetProperty("values").GetRawText());
        Assert.Equal(Meta(api, "csv_sha256"), Meta(answer, "csv_sha256"));
        // no condition named: the unconditional draw, so no guidance applied and none recorded (it recorded the model's
        // w = 2 and a = 0.335, k = 1, as if they had been applied)
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("metadata").GetProperty("guidance").ValueKind);
        Assert.False(answer.GetProperty("metadata").TryGetProperty("regime_guidance", out _));
        await AssertDrawsAsync(web, api, 40);
        Assert.Equal($"As generated: DDIM, 50 steps · run {answer.GetProperty("run_id").GetString()} · audit seq {answer.GetProperty("audit").GetProperty("seq").GetInt64()}",
            await page.Locator("#as-generated").InnerTextAsync());
        Assert.Empty(web.Errors);
    }

    [Fact]
    public async Task Browser_SendsAChangedRegimeGuidance_AndShowsItAsGenerated()
    {
        await using var web = await OpenCalibratedAsync();
        var page = web.Page;
        var slider = page.Locator("input[data-condition=\"VIXCLS\"]");
        await slider.FocusAsync();
        for (int i = 0; i < 40; i++) await slider.PressAsync("ArrowRight");
        var vix = double.Parse(await slider.InputValueAsync(), CultureInfo.InvariantCulture);
        await page.FillAsync("#regime", "1.5");
        Assert.Equal("changed (model default 0.335)", await page.Locator("#regime-note").InnerTextAsync());
        Assert.Equal("model default", await page.Locator("#guidance-note").InnerTextAsync());
        await page.FillAsync("#count", "40");
        await page.FillAsync("#seed", "3");

        var (body, answer) = await GenerateAsync(web);
        Assert.Equal(["conditions", "count", "model", "regime_guidance", "seed"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(1.5, body.GetProperty("regime_guidance").GetDouble());
        var api = await PostAsync(web, string.Create(CultureInfo.InvariantCulture,
            $$"""{"model":"{{web.Ids[0]}}","count":40,"seed":3,"conditions":{"VIXCLS":{{vix:R}}},"regime_guidance":1.5}"""));
        Assert.Equal(api.GetProperty("values").GetRawText(), answer.GetProperty("values").GetRawText());
        var meta = answer.GetProperty("metadata");
        Assert.Equal(2, meta.GetProperty("guidance").GetDouble()); // the model's w: guidance was not changed
        Assert.Equal(1.5, meta.GetProperty("regime_guidance").GetDouble());
        double k = meta.GetProperty("regime_factor").GetDouble();
        Assert.NotEqual(1, k); // a conditional request: regime guidance acted
        await AssertDrawsAsync(web, api, 40);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture,
            $"As generated: guidance w = 2 · regime guidance a = 1.5, k = {k:F4} · DDIM, 50 steps · run {answer.GetProperty("run_id").GetString()} · audit seq {answer.GetProperty("audit").GetProperty("seq").GetInt64()}"),
            await page.Locator("#as-generated").InnerTextAsync());
        Assert.Empty(web.Errors);
    }

    [Fact]
    public async Task Browser_AConditionBeyondTheTrainingRange_ShowsTheAnswersWarning_AndAnInRangeOneShowsNone()
    {
        await using var web = await OpenCalibratedAsync();
        var page = web.Page;
        await page.FillAsync("#count", "20");
        await page.FillAsync("#seed", "4");
        var (_, inRange) = await GenerateAsync(web);
        Assert.False(inRange.GetProperty("metadata").TryGetProperty("condition_warnings", out _));
        Assert.Equal("", await page.Locator("#condition-warnings").InnerTextAsync());

        // the slider reaches mean + 3 sd, beyond the tiny model's training range
        var slider = page.Locator("input[data-condition=\"VIXCLS\"]");
        await slider.FocusAsync();
        await slider.PressAsync("End");
        var (_, answer) = await GenerateAsync(web);
        var warnings = answer.GetProperty("metadata").GetProperty("condition_warnings").EnumerateArray().ToList();
        Assert.NotEmpty(warnings);
        Assert.Equal(string.Join("\n", warnings.Select(w => "Warning: " + w.GetProperty("message").GetString())),
            await page.Locator("#condition-warnings").InnerTextAsync());
        Assert.Contains("VIXCLS", await page.Locator("#condition-warnings").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Empty(web.Errors);
    }

    [Fact]
    public async Task Browser_TabularModel_ShowsNoGuidanceInputs_AndSendsThePickedSampler()
    {
        await using var web = await OpenAsync(fixture.ModelFolder);
        var page = web.Page;
        await PickAsync(page, web.Ids[0]);
        Assert.True(await page.Locator("#condbox").IsHiddenAsync());
        Assert.False(await page.Locator("#guidance").IsVisibleAsync());
        Assert.False(await page.Locator("#regime").IsVisibleAsync());
        await page.SelectOptionAsync("#sampler", "ddpm");
        Assert.True(await page.Locator("#steps").IsDisabledAsync()); // DDPM takes all T steps
        await page.SelectOptionAsync("#sampler", "dpm2m");
        await page.FillAsync("#steps", "10");
        await page.FillAsync("#count", "50");
        await page.FillAsync("#seed", "2");

        var (body, answer) = await GenerateAsync(web);
        Assert.Equal(["count", "model", "sampler", "sampling_steps", "seed"], body.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("dpm2m", body.GetProperty("sampler").GetString());
        Assert.Equal(10, body.GetProperty("sampling_steps").GetInt32());
        Assert.Equal("dpm2m", Meta(answer, "sampler"));
        await AssertDrawsAsync(web, answer, 50);
        Assert.Equal($"As generated: DPM-Solver++(2M), 10 steps · run {answer.GetProperty("run_id").GetString()} · audit seq {answer.GetProperty("audit").GetProperty("seq").GetInt64()}",
            await page.Locator("#as-generated").InnerTextAsync());
        Assert.Empty(web.Errors);
    }

    [Fact]
    public async Task Browser_SendsTheSeedExactly_AboveTwoToThe53_AndShowsTheServiceDefaultSteps()
    {
        await using var web = await OpenAsync(fixture.ModelFolder);
        var page = web.Page;
        await PickAsync(page, web.Ids[0]);
        // the fixture's model has T = 100: the service samples min(50, T) = 50 steps when none are sent
        Assert.Equal("50 (service default: min(50, T), T = 100)", await page.GetAttributeAsync("#steps", "placeholder"));
        await page.FillAsync("#count", "20");

        // 2^53 + 1 and 2^64 - 1: Number() sent 9007199254740992 and 18446744073709552000 (a 400: out of range)
        foreach (var seed in new[] { "9007199254740993", "18446744073709551615" })
        {
            await page.FillAsync("#seed", seed);
            var (body, answer) = await GenerateAsync(web);
            Assert.Equal(seed, body.GetProperty("seed").GetRawText());
            Assert.Equal(seed, answer.GetProperty("metadata").GetProperty("seed").GetRawText());
            var api = await PostAsync(web, $$"""{"model":"{{web.Ids[0]}}","count":20,"seed":{{seed}}}""");
            Assert.Equal(api.GetProperty("values").GetRawText(), answer.GetProperty("values").GetRawText());
        }

        // leading zeros are dropped (a JSON number has none); anything else is refused on the page, nothing is sent
        await page.FillAsync("#seed", "007");
        Assert.Equal("7", (await GenerateAsync(web)).Body.GetProperty("seed").GetRawText());
        int sent = web.Requests.Count(u => u.EndsWith("/v1/scenarios", StringComparison.Ordinal));
        foreach (var bad in new[] { "18446744073709551616", "1e3", "-1", "1.5", "" })
        {
            await page.FillAsync("#seed", bad);
            await page.ClickAsync("#generate");
            Assert.Contains("The seed must be a whole number from 0 to 18446744073709551615", await page.Locator("#error").InnerTextAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(sent, web.Requests.Count(u => u.EndsWith("/v1/scenarios", StringComparison.Ordinal)));
        Assert.Empty(web.Errors);
    }

    /// <summary>The service on a real Kestrel port with one model registered per folder, a key with read and generate,
    /// and a headless Chromium page on <c>/</c> with the key typed in and the models loaded.</summary>
    private Task<WebSession> OpenAsync(params string[] modelFolders) => OpenAsync(new WebOptions(), modelFolders);

    /// <summary>How <see cref="OpenAsync(WebOptions, string[])"/> starts the service and the page: more service
    /// arguments, the viewport (CSS px) and whether the key is typed in and the models loaded.</summary>
    private sealed record WebOptions(string[]? ServiceArgs = null, int Width = 1200, int Height = 1000, bool LoadModels = true);

    private async Task<WebSession> OpenAsync(WebOptions options, params string[] modelFolders)
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/setup.sh");
        string home = Path.Combine(_dir, "home"), keys = Path.Combine(_dir, "keys");
        var ids = new List<string>();
        using (var log = AuditLog.Open(CrucibleHome.Resolve(home)))
        {
            var registry = new ModelRegistry(CrucibleHome.Resolve(home), log);
            foreach (var folder in modelFolders) ids.Add(registry.Register(folder).Id);
        }

        var (key, line) = ApiKeyStore.NewKey("web", new HashSet<string> { "read", "generate" });
        File.WriteAllLines(keys, [line]);
        // the stricter setting (SVC-5): the page must send an Idempotency-Key, or every Generate would be a 400
        var app = ServiceApp.Build(["--urls", "http://127.0.0.1:0", "--Crucible:Home", home, "--Crucible:ApiKeysFile", keys, "--Crucible:RequireIdempotencyKey", "true", .. options.ServiceArgs ?? []]);
        await app.StartAsync();
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = options.Width, Height = options.Height } });
        var web = new WebSession(app, playwright, browser, page, app.Urls.Single().TrimEnd('/'), key, ids);
        page.Request += (_, r) => web.Requests.Add(r.Url);
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning") web.Errors.Add($"{m.Type}: {m.Text}");
        };
        page.PageError += (_, e) => web.Errors.Add("page error: " + e);
        await page.GotoAsync(web.Origin + "/");
        if (!options.LoadModels) return web;
        await page.FillAsync("#key", key);
        await page.ClickAsync("#load");
        return web;
    }

    private sealed class WebSession(WebApplication app, IPlaywright playwright, IBrowser browser, IPage page, string origin, string key, List<string> ids)
        : IAsyncDisposable
    {
        public IPage Page => page;

        public string Origin => origin;

        public string Key => key;

        public IReadOnlyList<string> Ids => ids;

        public List<string> Requests { get; } = [];

        public List<string> Errors { get; } = [];

        public async ValueTask DisposeAsync()
        {
            await browser.DisposeAsync();
            playwright.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Picks the model and waits until the page has read its manifest (Generate enabled again).</summary>
    private static async Task PickAsync(IPage page, string id)
    {
        await page.Locator($"#model option[value=\"{id}\"]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await page.SelectOptionAsync("#model", id);
        await page.Locator("#generate:enabled").WaitForAsync();
    }

    /// <summary>Clicks Generate; returns the body the page sent and the answer it drew, once it has drawn it.</summary>
    private static async Task<(JsonElement Body, JsonElement Answer)> GenerateAsync(WebSession web)
    {
        var response = web.Page.WaitForResponseAsync(web.Origin + "/v1/scenarios");
        await web.Page.ClickAsync("#generate");
        var answer = await response;
        Assert.Matches("^[0-9a-f]{32}$", await answer.Request.HeaderValueAsync("idempotency-key"));
        await web.Page.Locator("#generate:enabled").WaitForAsync(new() { Timeout = 15_000 });
        var shown = (await web.Page.Locator("#error").InnerTextAsync()).Trim();
        Assert.True(shown.Length == 0, shown);
        return (JsonDocument.Parse(answer.Request.PostData!).RootElement, JsonDocument.Parse(await answer.BodyAsync()).RootElement);
    }

    /// <summary>The JSON answer of <c>POST /v1/scenarios</c> with <paramref name="body"/>, asked directly (not by the page).</summary>
    private static async Task<JsonElement> PostAsync(WebSession web, string body)
    {
        using var client = new HttpClient { BaseAddress = new Uri(web.Origin) };
        client.DefaultRequestHeaders.Add("X-Api-Key", web.Key);
        client.DefaultRequestHeaders.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        using var response = await client.PostAsync(new Uri("/v1/scenarios", UriKind.Relative), ServiceFixture.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private static string? Meta(JsonElement answer, string name) => answer.GetProperty("metadata").GetProperty(name).GetString();

    /// <summary>
    /// The fan chart (two bands and a median over the steps and the origin), the heatmap (unit diagonal; the first
    /// off-diagonal cell) and the VaR/ES table the page shows against <see cref="Reference"/> of <paramref name="answer"/>.
    /// </summary>
    private static async Task AssertDrawsAsync(WebSession web, JsonElement answer, int count)
    {
        var page = web.Page;
        var (expectedRisk, expectedCorr) = Reference(answer);
        int steps = answer.GetProperty("metadata").GetProperty("steps_per_scenario").GetInt32();
        int series = answer.GetProperty("metadata").GetProperty("columns").GetArrayLength();

        var fan = page.Locator("svg#fan-chart");
        Assert.True(await fan.BoundingBoxAsync() is { Width: > 300, Height: > 200 });
        Assert.Equal(2, await fan.Locator("path.band").CountAsync());
        var median = await fan.Locator("polyline.median").GetAttributeAsync("points");
        Assert.Equal(steps + 1, median!.Split(' ').Length);

        var heat = page.Locator("svg#heatmap");
        Assert.True(await heat.BoundingBoxAsync() is { Width: > 50, Height: > 50 });
        Assert.Equal(series * series, await heat.Locator("rect.cell").CountAsync());
        Assert.EndsWith(": 1.000", await heat.Locator("rect.cell title").First.TextContentAsync(), StringComparison.Ordinal);
        var offDiagonal = await heat.Locator("rect.cell title").Nth(1).TextContentAsync() ?? "";
        Assert.Equal(expectedCorr, double.Parse(offDiagonal[(offDiagonal.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture), 0.00051);

        // 95% and 99%, in percent with 2 decimals, ES ≥ VaR
        var rows = page.Locator("#var-es tbody tr");
        Assert.Equal(2, await rows.CountAsync());
        for (int r = 0; r < 2; r++)
        {
            var cells = await rows.Nth(r).Locator("td").AllInnerTextsAsync();
            Assert.Equal(r == 0 ? "95%" : "99%", cells[0]);
            double var = Percent(cells[1]), es = Percent(cells[2]);
            Assert.True(es >= var - 1e-9, $"ES {es} < VaR {var}");
            Assert.Equal(100 * expectedRisk[r].VaR, var, 0.0051);
            Assert.Equal(100 * expectedRisk[r].Es, es, 0.0051);
        }

        Assert.Contains($"{count} scenarios, horizon {steps} step{(steps == 1 ? "" : "s")}", await page.Locator("#risk").InnerTextAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// What the page should draw from a scenario answer: the equal-weight portfolio's (log returns, rebalanced each step)
    /// horizon loss VaR and ES at 95% and 99% as `crucible stress` computes them (the library's
    /// <see cref="StressAnalysis"/>: loss = −the horizon log return, VaR the k-th largest, ES the mean of the k largest,
    /// k = ⌈n(1 − α)⌉), and the Pearson correlation of the first two series over all rows (a naive loop).
    /// </summary>
    private static ((double VaR, double Es)[] Risk, double Corr) Reference(JsonElement answer)
    {
        int steps = answer.GetProperty("metadata").GetProperty("steps_per_scenario").GetInt32();
        var names = answer.GetProperty("metadata").GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray();
        var rows = answer.GetProperty("values").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var set = new SeriesSet(names, [.. names.Select((_, j) => rows.Select(r => r[j]).ToArray())], [.. rows.Select((_, i) => 1 + (i / steps))]);
        var portfolio = new Portfolio("equal weight", [.. names.Select(c => new Holding(c, 1.0 / names.Length))]);
        var risk = StressAnalysis.Run(set, portfolio, [0.95, 0.99]).Levels.Select(l => (l.ValueAtRisk, l.ExpectedShortfall)).ToArray();
        double ma = rows.Average(r => r[0]), mb = rows.Average(r => r[1]);
        double sab = rows.Sum(r => (r[0] - ma) * (r[1] - mb)), saa = rows.Sum(r => (r[0] - ma) * (r[0] - ma)), sbb = rows.Sum(r => (r[1] - mb) * (r[1] - mb));
        return (risk, sab / Math.Sqrt(saa * sbb));
    }

    private static double Percent(string text)
    {
        Assert.EndsWith("%", text, StringComparison.Ordinal);
        return double.Parse(text.TrimEnd('%'), CultureInfo.InvariantCulture);
    }
}
