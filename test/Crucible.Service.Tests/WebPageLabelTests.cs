using Crucible.Diffusion;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;

namespace Crucible.Service.Tests;

/// <summary>
/// Series names as a desk writes them ("Consumer Discretionary", "US 10Y Treasury yield") are read whole in the web
/// page's correlation heatmap: every label lies inside the chart, and a name too long for any margin is drawn cut with
/// "…", its whole name the label's tooltip and in the figures table.
/// </summary>
public sealed partial class WebPageTests
{
    [Fact]
    public async Task Browser_HeatmapLabels_LieInsideTheChart_ALongNameCutWithItsFullNameKept()
    {
        string[] names = ["Consumer Discretionary", "US 10Y Treasury yield", "EQ", "Long " + new string('x', 250)];
        var rng = new System.Random(4);
        var returns = new double[200, names.Length];
        for (int i = 0; i < 200; i++)
        {
            double z = rng.NextDouble() - 0.5;
            for (int j = 0; j < names.Length; j++) returns[i, j] = (0.01 * z) + (0.01 * (j + 1) * (rng.NextDouble() - 0.5));
        }

        string model = Path.Combine(_dir, "named-model");
        new DiffusionGenerator(new DiffusionGeneratorOptions
        {
            Hidden = 16, Blocks = 1, TimeEmbedding = 8, DiffusionSteps = 50, Objective = Objective.V,
            Training = new TrainerOptions(Steps: 5, BatchSize: 32, WarmupSteps: 2), Seed = 1,
        }).Fit(returns, names).Save(model);

        await using var web = await OpenAsync(model);
        var page = web.Page;
        await PickAsync(page, web.Ids[0]);
        await page.FillAsync("#count", "30");
        await GenerateAsync(web);

        // a row label ran off the left edge ("Y Treasury yield") and a column label off the top, cut by the chart's edge
        var outside = await page.EvaluateAsync<string[]>("""
            () => { const svg = document.querySelector('svg#heatmap'), s = svg.getBoundingClientRect();
              return [...svg.querySelectorAll('text')].filter(t => { const b = t.getBoundingClientRect();
                return b.left < s.left - 0.5 || b.right > s.right + 0.5 || b.top < s.top - 0.5 || b.bottom > s.bottom + 0.5; })
                .map(t => t.textContent); }
            """);
        Assert.Empty(outside);

        var drawn = await page.Locator("svg#heatmap text").EvaluateAllAsync<string[]>("ts => ts.map(t => [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join(''))");
        foreach (var name in names[..3]) Assert.Equal(2, drawn.Count(d => d == name)); // whole, a row and a column label each
        var cut = drawn.Where(d => d.StartsWith("Long x", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, cut.Count);
        Assert.All(cut, c => Assert.EndsWith("…", c, StringComparison.Ordinal));
        Assert.Equal([names[3], names[3]], await page.Locator("svg#heatmap text > title").AllTextContentsAsync());
        Assert.Contains(names[3], await page.Locator("#corr-table").TextContentAsync(), StringComparison.Ordinal);
        Assert.True(await page.Locator("svg#heatmap").BoundingBoxAsync() is { Width: > 250 });
        Assert.Empty(web.Errors);
    }
}
