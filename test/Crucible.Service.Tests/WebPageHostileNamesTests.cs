using Crucible.Diffusion;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;

namespace Crucible.Service.Tests;

/// <summary>
/// Hostile series names in headless Chromium: a model whose series are named with HTML and script
/// (<c>&lt;img onerror&gt;</c>, <c>&lt;/option&gt;&lt;script&gt;</c>), and a 300-character one with CJK, accents and an
/// astral emoji, shows each name as text wherever the page puts it (the model list, the series line, the heatmap's
/// labels and tooltips): no element is created from them, no injected script runs, the page logs no error (a CSP
/// refusal would be one), and the names come back character for character.
/// </summary>
public sealed partial class WebPageTests
{
    [Fact]
    public async Task Browser_HostileSeriesNames_AreShownAsText_NoElementCreated_NoScriptRun()
    {
        string[] names =
        [
            "<img src=x onerror=\"window.__pwned=1\">",
            "</option></select><script>window.__pwned=2</script>",
            "日本語 ünïcødé 💥 " + new string('W', 300),
        ];
        var rng = new System.Random(3);
        var returns = new double[200, names.Length];
        for (int i = 0; i < 200; i++)
        {
            double z = rng.NextDouble() - 0.5;
            for (int j = 0; j < names.Length; j++) returns[i, j] = (0.01 * z) + (0.01 * (j + 1) * (rng.NextDouble() - 0.5));
        }

        string model = Path.Combine(_dir, "hostile-model");
        new DiffusionGenerator(new DiffusionGeneratorOptions
        {
            Hidden = 16,
            Blocks = 1,
            TimeEmbedding = 8,
            DiffusionSteps = 50,
            Objective = Objective.V,
            Training = new TrainerOptions(Steps: 5, BatchSize: 32, WarmupSteps: 2),
            Seed = 1,
        }).Fit(returns, names).Save(model);

        await using var web = await OpenAsync(model);
        var page = web.Page;
        string id = web.Ids[0];
        await PickAsync(page, id);
        Assert.Equal($"tabular · {string.Join(", ", names)} · {id[..12]} (candidate)", await page.Locator($"#model option[value=\"{id}\"]").TextContentAsync());
        Assert.Equal(1, await page.Locator("#model option").CountAsync()); // no option closed and reopened by a name
        Assert.Equal("series: " + string.Join(", ", names), await page.Locator("#info").TextContentAsync());

        await page.FillAsync("#count", "30");
        var (_, answer) = await GenerateAsync(web);
        Assert.Equal(names, answer.GetProperty("metadata").GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        // a row and a column label each: drawn whole, or, wider than 200 px, cut with "…" and whole as the label's tooltip
        var labels = await page.Locator("svg#heatmap text").EvaluateAllAsync<string[][]>(
            "ts => ts.map(t => [[...t.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join(''), t.querySelector('title')?.textContent ?? ''])");
        Assert.All(names, n => Assert.Equal(2, labels.Count(l => l[0] == n
            || (l[1] == n && l[0].EndsWith('…') && n.StartsWith(l[0][..^1], StringComparison.Ordinal)))));
        var tips = await page.Locator("svg#heatmap rect.cell title").AllTextContentsAsync();
        Assert.StartsWith(names[0] + " / " + names[1] + ": ", tips[1], StringComparison.Ordinal);

        // nothing was made of the names: no image, no script but the page's own, nothing ran, nothing refused
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Equal(1, await page.Locator("script").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
        Assert.Empty(web.Errors);
    }
}
