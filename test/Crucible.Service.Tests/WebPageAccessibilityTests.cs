using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Crucible.Tests.Accessibility;
using Microsoft.Playwright;

namespace Crucible.Service.Tests;

/// <summary>
/// The scenario explorer for a risk manager who works by keyboard and screen reader on a zoomed screen (WCAG 2.2 AA):
/// every control has an accessible name (1.3.1, 4.1.2), the page has a language, a title, landmarks and ordered headings
/// (3.1.1, 2.4.2, 1.3.1), the charts have a text alternative and their figures as tables (1.1.1), Tab reaches every
/// control in order with a visible focus and no trap and the generation runs and is read without a mouse (2.1.1, 2.1.2,
/// 2.4.3, 2.4.7), progress and errors (401, 422, 429) are announced (4.1.3), text contrast is at least 4.5:1 from the
/// rendered styles (1.4.3) and the page reflows at 320 CSS px (1.4.10).
/// </summary>
public sealed partial class WebPageTests
{
    /// <summary>The page on a tiny conditional sequence model (so the conditions fieldset shows), picked.</summary>
    private async Task<WebSession> OpenSequenceAsync(WebOptions options)
    {
        string model = Path.Combine(_dir, "model");
        TinySequenceModel.Train().Save(model);
        var web = await OpenAsync(options, model);
        if (options.LoadModels) await PickAsync(web.Page, web.Ids[0]);
        return web;
    }

    [Fact]
    public void Wcag_ContrastRatio_MatchesKnownPairs()
    {
        Assert.Equal(4.54, Wcag.ContrastRatio(Wcag.Hex("#767676"), Wcag.Hex("#ffffff")), 2);
        Assert.Equal(21, Wcag.ContrastRatio(Wcag.Hex("#000000"), Wcag.Hex("#ffffff")), 9);
        Assert.Equal(1, Wcag.ContrastRatio(Wcag.Hex("#23395d"), Wcag.Hex("#23395d")), 9);
        Assert.True(Wcag.ContrastRatio(Wcag.Hex("#777777"), Wcag.Hex("#ffffff")) < 4.5); // the page's old .muted grey: 4.48
        // half-transparent black over white is mid grey (127.5), as the browser composites it
        Assert.Equal(127.5, new Wcag.Rgba(0, 0, 0, 0.5).Over(Wcag.Hex("#ffffff")).G, 9);
    }

    [Fact]
    public async Task Browser_EveryControlHasAnAccessibleName_ThePageHasLandmarks_AndTheChartsTheirFiguresAsTables()
    {
        await using var web = await OpenSequenceAsync(new WebOptions());
        var page = web.Page;
        await page.FillAsync("#count", "40");
        await page.FillAsync("#seed", "3");
        var (_, answer) = await GenerateAsync(web);

        Assert.Equal("en", await page.GetAttributeAsync("html", "lang"));
        Assert.Equal("Crucible scenarios", await page.TitleAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Main).CountAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Banner).CountAsync());
        var levels = await page.Locator("h1, h2, h3, h4, h5, h6").EvaluateAllAsync<int[]>("hs => hs.map(h => Number(h.tagName[1]))");
        Assert.Equal(1, levels[0]);
        for (var i = 1; i < levels.Length; i++) Assert.True(levels[i] <= levels[i - 1] + 1, $"heading h{levels[i]} follows h{levels[i - 1]}");

        // each control by its role and the name a screen reader says (Chromium's accessible name, as Playwright computes it)
        foreach (var (role, name) in new (AriaRole, string)[]
        {
            (AriaRole.Button, "Load models"), (AriaRole.Combobox, "Model"), (AriaRole.Slider, "VIXCLS"),
            (AriaRole.Combobox, "Stress preset"), (AriaRole.Spinbutton, "Guidance w"), (AriaRole.Spinbutton, "Regime guidance a"),
            (AriaRole.Spinbutton, "Scenarios"), (AriaRole.Textbox, "Seed"), (AriaRole.Combobox, "Sampler"),
            (AriaRole.Spinbutton, "Sampling steps"), (AriaRole.Button, "Generate"),
        })
        {
            Assert.True(await page.GetByRole(role, new() { Name = name }).CountAsync() == 1, $"no {role} named '{name}'");
        }
        Assert.Equal("key", await page.GetByLabel("API key (read + generate)").GetAttributeAsync("id"));
        // the slider's name is its condition, not its value too
        Assert.Equal(1, await page.GetByRole(AriaRole.Slider, new() { Name = "VIXCLS", Exact = true }).CountAsync());

        // and every visible control on the page has some name: its label, aria-labelledby, aria-label or its text
        var unnamed = await page.EvaluateAsync<string[]>("""
            () => Array.from(document.querySelectorAll('input, select, button, summary, textarea, [tabindex]'))
              .filter(e => e.getClientRects().length)
              .filter(e => {
                const by = (e.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean).map(id => document.getElementById(id)?.textContent || '').join(' ');
                const labels = Array.from(e.labels || []).map(l => l.textContent).join(' ');
                const own = ['BUTTON', 'SUMMARY'].includes(e.tagName) ? e.textContent : '';
                return !(by + (e.getAttribute('aria-label') || '') + labels + own).trim();
              })
              .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))
            """);
        Assert.Empty(unnamed);

        // the charts: a text alternative each, and the figures as tables (fan chart by step, the correlation matrix)
        int steps = answer.GetProperty("metadata").GetProperty("steps_per_scenario").GetInt32();
        var fanLabel = await page.GetAttributeAsync("svg#fan-chart", "aria-label") ?? "";
        var (median, low, high) = HorizonQuantiles(answer);
        var said = Regex.Match(fanLabel, $"at step {steps} the median is (-?[0-9.]+)%, the 25–75% band -?[0-9.]+% to -?[0-9.]+%, the 5–95% band (-?[0-9.]+)% to (-?[0-9.]+)%");
        Assert.True(said.Success, fanLabel);
        Assert.Equal(100 * median, Number(said.Groups[1].Value), 0.0051);
        Assert.Equal(100 * low, Number(said.Groups[2].Value), 0.0051);
        Assert.Equal(100 * high, Number(said.Groups[3].Value), 0.0051);
        Assert.StartsWith("Correlation heatmap of ", await page.GetAttributeAsync("svg#heatmap", "aria-label") ?? "", StringComparison.Ordinal);
        Assert.Equal(1, await page.GetByRole(AriaRole.Img, new() { Name = "Fan chart" }).CountAsync());

        var fanRows = page.Locator("#fan-table tbody tr");
        Assert.Equal(steps + 1, await fanRows.CountAsync());
        Assert.Equal(["step", "5%", "25%", "median", "75%", "95%"], await page.Locator("#fan-table thead th").AllTextContentsAsync());
        var last = await fanRows.Nth(steps).Locator("th, td").AllTextContentsAsync();
        Assert.Equal(100 * median, Percent(last[3]), 0.0051);
        Assert.Equal(100 * low, Percent(last[1]), 0.0051);

        var (_, corr) = Reference(answer);
        int series = answer.GetProperty("metadata").GetProperty("columns").GetArrayLength();
        Assert.Equal(series, await page.Locator("#corr-table tbody tr").CountAsync());
        Assert.Equal("row", await page.Locator("#corr-table tbody tr th").First.GetAttributeAsync("scope"));
        var first = await page.Locator("#corr-table tbody tr").First.Locator("td").AllTextContentsAsync();
        Assert.Equal("1.000", first[0]);
        Assert.Equal(corr, double.Parse(first[1], CultureInfo.InvariantCulture), 0.00051);
        Assert.Empty(web.Errors);
    }

    /// <summary>
    /// The median and the 5% and 95% quantiles (linear between order statistics, as the page computes them) of the
    /// equal-weight portfolio's cumulative return at the horizon, rebalanced each step, from the answer's log returns.
    /// </summary>
    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static (double Median, double Low, double High) HorizonQuantiles(JsonElement answer)
    {
        int steps = answer.GetProperty("metadata").GetProperty("steps_per_scenario").GetInt32();
        var rows = answer.GetProperty("values").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var ends = new List<double>();
        for (var s = 0; s + steps <= rows.Length; s += steps)
        {
            double wealth = 1;
            for (var t = 0; t < steps; t++) wealth *= 1 + rows[s + t].Average(r => Math.Exp(r) - 1);
            ends.Add(wealth - 1);
        }
        ends.Sort();
        double Q(double q)
        {
            double h = (ends.Count - 1) * q;
            int i = (int)Math.Floor(h);
            return i + 1 < ends.Count ? ends[i] + ((h - i) * (ends[i + 1] - ends[i])) : ends[i];
        }

        return (Q(0.5), Q(0.05), Q(0.95));
    }

    [Fact]
    public async Task Browser_KeyboardOnly_TabsThroughEveryControlInOrderWithAVisibleFocus_GeneratesAndReadsTheResult()
    {
        await using var web = await OpenSequenceAsync(new WebOptions(LoadModels: false));
        var page = web.Page;

        // the key, then Load by Enter: the models load and the status says so
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("key", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await Wcag.AssertVisibleFocusAsync(page);
        await page.Keyboard.TypeAsync(web.Key);
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("load", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await Wcag.AssertVisibleFocusAsync(page);
        await page.Keyboard.PressAsync("Enter");
        await page.Locator("#generate:enabled").WaitForAsync();
        Assert.Equal("1 model loaded", await page.GetByRole(AriaRole.Status).InnerTextAsync());

        // Tab on from Load reaches every other control in reading order, each with a visible focus outline, then leaves
        var order = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var id = await page.EvaluateAsync<string>("() => document.activeElement === document.body ? '' : document.activeElement.id || document.activeElement.tagName.toLowerCase()");
            if (id.Length == 0) break;
            order.Add(id);
            await Wcag.AssertVisibleFocusAsync(page);
        }
        Assert.Equal(["model", "condition-0", "stress", "guidance", "regime", "count", "seed", "sampler", "steps", "generate"], order);

        // Shift+Tab comes back to Generate and goes back from it: no trap; set the count by keyboard, press Generate by Enter
        await page.Keyboard.PressAsync("Shift+Tab");
        Assert.Equal("generate", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        for (var i = 0; i < 4; i++) await page.Keyboard.PressAsync("Shift+Tab");
        Assert.Equal("count", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        await page.Keyboard.PressAsync("Control+A");
        await page.Keyboard.TypeAsync("40");
        for (var i = 0; i < 4; i++) await page.Keyboard.PressAsync("Tab");
        Assert.Equal("generate", await page.EvaluateAsync<string>("() => document.activeElement.id"));
        var response = page.WaitForResponseAsync(web.Origin + "/v1/scenarios");
        await page.Keyboard.PressAsync("Enter");
        var answer = JsonDocument.Parse(await (await response).BodyAsync()).RootElement;
        await page.Locator("#generate:enabled").WaitForAsync(new() { Timeout = 15_000 });

        // the result is announced (role=status), and the focus is back on Generate, not lost to the page
        var status = await page.GetByRole(AriaRole.Status).InnerTextAsync();
        var (risk, _) = Reference(answer);
        int steps = answer.GetProperty("metadata").GetProperty("steps_per_scenario").GetInt32();
        Assert.StartsWith($"Generated 40 scenarios of {steps} step{(steps == 1 ? "" : "s")}: 95% VaR ", status, StringComparison.Ordinal);
        var said = Regex.Match(status, "95% VaR (-?[0-9.]+)%, ES (-?[0-9.]+)%; 99% VaR (-?[0-9.]+)%, ES (-?[0-9.]+)%\\.$");
        Assert.True(said.Success, status);
        Assert.Equal(100 * risk[0].VaR, Number(said.Groups[1].Value), 0.0051);
        Assert.Equal(100 * risk[0].Es, Number(said.Groups[2].Value), 0.0051);
        Assert.Equal(100 * risk[1].VaR, Number(said.Groups[3].Value), 0.0051);
        Assert.Equal("generate", await page.EvaluateAsync<string>("() => document.activeElement.id"));

        // on from Generate: the two tables of figures open by keyboard, then the focus leaves the page (no trap)
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("summary", await page.EvaluateAsync<string>("() => document.activeElement.tagName.toLowerCase()"));
        await Wcag.AssertVisibleFocusAsync(page);
        await page.Keyboard.PressAsync("Enter");
        Assert.True(await page.Locator("#fan-table").IsVisibleAsync());
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("summary", await page.EvaluateAsync<string>("() => document.activeElement.tagName.toLowerCase()"));
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("body", await page.EvaluateAsync<string>("() => (document.activeElement || document.body).tagName.toLowerCase()"));
        Assert.Empty(web.Errors);
    }

    [Fact]
    public async Task Browser_AnnouncesProgress_AndA401_A422_AndA429AsAlerts()
    {
        // four requests per key and 10 minutes: list, model, the 422, one generation; the next one is shed with a 429
        await using var web = await OpenSequenceAsync(new WebOptions(["--Crucible:RateLimitPermits", "4", "--Crucible:RateLimitWindowSeconds", "600"], LoadModels: false));
        var page = web.Page;
        // every text the status region held, in order (a MutationObserver: "Generating…" lasts only as long as the request)
        await page.EvaluateAsync("""
            () => { window.statuses = []; new MutationObserver(() => window.statuses.push(document.getElementById('status').textContent))
              .observe(document.getElementById('status'), { childList: true, characterData: true, subtree: true }); }
            """);
        var alert = page.Locator("#error");
        Assert.Equal("alert", await alert.GetAttributeAsync("role"));

        await page.FillAsync("#key", "not-a-key");
        await page.ClickAsync("#load");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        Assert.StartsWith("401", await page.GetByRole(AriaRole.Alert).First.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("true", await page.GetAttributeAsync("#key", "aria-invalid"));
        Assert.Equal("", await page.GetByRole(AriaRole.Status).InnerTextAsync());

        await page.FillAsync("#key", web.Key);
        await page.ClickAsync("#load");
        await page.Locator("#generate:enabled").WaitForAsync();
        Assert.Null(await page.GetAttributeAsync("#key", "aria-invalid"));
        Assert.Equal("", await alert.InnerTextAsync());

        await page.SelectOptionAsync("#stress", "vol=+2sd"); // this model has no 'vol' condition: a 422
        await page.ClickAsync("#generate");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        Assert.StartsWith("422", await alert.InnerTextAsync(), StringComparison.Ordinal);

        await page.SelectOptionAsync("#stress", "");
        await page.FillAsync("#count", "20");
        await GenerateAsync(web);
        var statuses = await page.EvaluateAsync<string[]>("() => window.statuses");
        Assert.Contains("Loading models…", statuses);
        Assert.Contains("1 model loaded", statuses);
        Assert.Contains("Generating 20 scenarios…", statuses);
        Assert.StartsWith("Generated 20 scenarios", statuses[^1], StringComparison.Ordinal);

        await page.ClickAsync("#generate");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        var shed = await alert.InnerTextAsync();
        Assert.StartsWith("429", shed, StringComparison.Ordinal);
        Assert.Contains("retry after", shed, StringComparison.Ordinal);
        Assert.Equal("", await page.GetByRole(AriaRole.Status).InnerTextAsync()); // no stale "Generating…"
        Assert.DoesNotContain(web.Errors, e => !e.Contains("status of 4", StringComparison.Ordinal)); // Chromium logs each 4xx
    }

    [Fact]
    public async Task Browser_TextContrast_IsAtLeastWcagAA_FromTheRenderedStyles()
    {
        await using var web = await OpenSequenceAsync(new WebOptions());
        var page = web.Page;
        await page.FillAsync("#count", "40");
        await page.FillAsync("#seed", "3");
        await GenerateAsync(web);
        await page.EvaluateAsync("() => document.querySelectorAll('details').forEach(d => d.open = true)");
        await page.FillAsync("#steps", "");
        await Wcag.AssertTextContrastAsync(page, atLeast: 40);
        // the heatmap's numbers are checked on their own cells
        var cells = (await Wcag.TextSamplesAsync(page)).Where(s => s.Where.Contains("svg#heatmap", StringComparison.Ordinal)
            && double.TryParse(s.Text, CultureInfo.InvariantCulture, out _)).ToList();
        Assert.NotEmpty(cells);
        Assert.Contains(cells, c => c.Background.G < 250); // a coloured cell, not the white page behind
    }

    [Fact]
    public async Task Browser_ReflowsAt320CssPixels_WithoutSidewaysScrolling()
    {
        await using var web = await OpenSequenceAsync(new WebOptions(Width: 320, Height: 800));
        var page = web.Page;
        await page.FillAsync("#count", "40");
        await page.FillAsync("#seed", "3");
        await Wcag.AssertReflowsAsync(page);
        var (_, answer) = await GenerateAsync(web);
        await page.EvaluateAsync("() => document.querySelectorAll('details').forEach(d => d.open = true)");
        await Wcag.AssertReflowsAsync(page);
        Assert.True(await page.Locator("svg#fan-chart").BoundingBoxAsync() is { Width: > 200 and <= 320 });
        Assert.Contains(answer.GetProperty("run_id").GetString()!, await page.Locator("#as-generated").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Empty(web.Errors);
    }
}
