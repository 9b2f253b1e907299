using Microsoft.Playwright;

namespace Crucible.Service.Tests;

/// <summary>
/// What the page shows and allows around a request: Generate cannot be clicked twice while a generation is in flight,
/// whatever else the user does meanwhile, a request that fails leaves no earlier answer on the page beside its error, and
/// the results on the page are always the picked model's.
/// </summary>
public sealed partial class WebPageTests
{
    /// <summary>Holds every <c>POST /v1/scenarios</c> the page sends until <see cref="Release"/>; <see cref="Arrived"/>
    /// completes when the first one is held.</summary>
    private sealed class HeldGenerations
    {
        private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Sent { get; private set; }

        public Task Arrived => _arrived.Task;

        public static async Task<HeldGenerations> OnAsync(IPage page)
        {
            var held = new HeldGenerations();
            await page.RouteAsync("**/v1/scenarios", async route =>
            {
                held.Sent++;
                held._arrived.TrySetResult();
                await held._release.Task;
                await route.ContinueAsync();
            });
            return held;
        }

        public void Release() => _release.TrySetResult();
    }

    /// <summary>The page with two models to pick from: the fixture's tabular one (<c>Ids[0]</c>) and a tiny sequence
    /// model with conditions (<c>Ids[1]</c>).</summary>
    private async Task<WebSession> OpenTabularAndSequenceAsync()
    {
        string sequence = Path.Combine(_dir, "sequence");
        TinySequenceModel.Train().Save(sequence);
        return await OpenAsync(fixture.ModelFolder, sequence);
    }

    [Fact]
    public async Task Browser_GenerateStaysDisabled_WhileAGenerationIsInFlight_ThoughAnotherModelIsPicked()
    {
        await using var web = await OpenTabularAndSequenceAsync();
        var page = web.Page;
        await PickAsync(page, web.Ids[0]);
        await page.FillAsync("#count", "20");
        var held = await HeldGenerations.OnAsync(page);
        await page.ClickAsync("#generate");
        await held.Arrived;

        // the other model's manifest is read (its conditions show) while the first generation is still in flight: the
        // page enabled Generate again, and a second click sent a second generation beside the first
        await page.SelectOptionAsync("#model", web.Ids[1]);
        await page.Locator("#condbox").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        Assert.True(await page.Locator("#generate").IsDisabledAsync());
        await page.Locator("#generate").ClickAsync(new() { Force = true });

        held.Release();
        await page.Locator("#generate:enabled").WaitForAsync(new() { Timeout = 15_000 });
        Assert.Equal(1, held.Sent);
    }

    /// <summary>No chart, table or "as generated" line of an earlier answer is on the page: the fan chart's place holds
    /// its first words again.</summary>
    private static async Task AssertNoResultsAsync(IPage page)
    {
        Assert.Equal(0, await page.Locator("#results svg").CountAsync());
        Assert.Equal(0, await page.Locator("#results table").CountAsync());
        Assert.Equal("Generate to see the 5/25/50/75/95% bands.", await page.Locator("#fan").InnerTextAsync());
        Assert.Equal("", await page.Locator("#as-generated").InnerTextAsync());
        Assert.Equal("", await page.Locator("#condition-warnings").InnerTextAsync());
    }

    [Fact]
    public async Task Browser_AFailedGenerate_LeavesNoEarlierAnswerOnThePage()
    {
        await using var web = await OpenAsync(fixture.ModelFolder);
        var page = web.Page;
        await PickAsync(page, web.Ids[0]);
        await page.FillAsync("#count", "20");
        await GenerateAsync(web);
        Assert.Equal(1, await page.Locator("svg#fan-chart").CountAsync());

        // a 422: the fan chart, heatmap, VaR table and the "as generated" line of the last answer stayed beside the
        // error, read as the answer to the request that failed
        await page.FillAsync("#count", "0");
        await page.ClickAsync("#generate");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        Assert.StartsWith("422", await page.Locator("#error").InnerTextAsync(), StringComparison.Ordinal);
        await page.Locator("#generate:enabled").WaitForAsync();
        await AssertNoResultsAsync(page);

        // and a request that never got an answer
        await page.FillAsync("#count", "20");
        await GenerateAsync(web);
        await page.RouteAsync("**/v1/scenarios", route => route.AbortAsync());
        await page.ClickAsync("#generate");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        await page.Locator("#generate:enabled").WaitForAsync();
        await AssertNoResultsAsync(page);
    }

    [Fact]
    public async Task Browser_NoAnswerFromTheService_IsShownAsSuch()
    {
        await using var web = await OpenAsync(fixture.ModelFolder);
        var page = web.Page;
        await PickAsync(page, web.Ids[0]);
        await page.FillAsync("#count", "20");

        // the connection fails (the service stopped, a proxy dropped it): the page showed the browser's bare
        // "Failed to fetch", which names neither the service nor what to do
        await page.RouteAsync("**/v1/scenarios", route => route.AbortAsync());
        await page.ClickAsync("#generate");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        var shown = await page.Locator("#error").InnerTextAsync();
        Assert.StartsWith("No answer from the service (Failed to fetch)", shown, StringComparison.Ordinal);
        Assert.Contains("try again", shown, StringComparison.Ordinal);
        Assert.Equal("", await page.Locator("#status").InnerTextAsync());

        await page.UnrouteAllAsync();
        await GenerateAsync(web); // the next request goes through, and the error is gone
    }

    [Fact]
    public async Task Browser_PickingAnotherModel_LeavesNoResultsOfTheFirst_AndItsLateAnswerIsNotDrawn()
    {
        await using var web = await OpenTabularAndSequenceAsync();
        var page = web.Page;
        await PickAsync(page, web.Ids[0]);
        await page.FillAsync("#count", "20");
        var (_, first) = await GenerateAsync(web);

        // the first model's fan chart, heatmap of its series, VaR table and run stayed under the second model's name
        await PickAsync(page, web.Ids[1]);
        await AssertNoResultsAsync(page);

        // an answer that comes back after another model was picked is the other model's: it was drawn under this one
        await PickAsync(page, web.Ids[0]);
        var held = await HeldGenerations.OnAsync(page);
        await page.ClickAsync("#generate");
        await held.Arrived;
        await page.SelectOptionAsync("#model", web.Ids[1]);
        await page.Locator("#condbox").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        held.Release();
        await page.Locator("#generate:enabled").WaitForAsync(new() { Timeout = 15_000 });
        await AssertNoResultsAsync(page);
        Assert.StartsWith("Not drawn: the answer was for the model picked before", await page.Locator("#status").InnerTextAsync(), StringComparison.Ordinal);
        Assert.NotNull(first.GetProperty("run_id").GetString());
    }

    [Fact]
    public async Task Browser_LoadingTheModelsAgain_KeepsThePickedModel_AndItsResults()
    {
        await using var web = await OpenTabularAndSequenceAsync();
        var page = web.Page;
        await PickAsync(page, web.Ids[1]);
        await page.FillAsync("#count", "20");
        await GenerateAsync(web);

        // the list was rebuilt with the first model selected: the page silently switched to it (its series, no
        // conditions), and a Generate then drew from a model the user had not picked
        await page.ClickAsync("#load");
        await page.Locator("#status:text-is(\"2 models loaded\")").WaitForAsync();
        await page.Locator("#generate:enabled").WaitForAsync();
        Assert.Equal(web.Ids[1], await page.InputValueAsync("#model"));
        Assert.True(await page.Locator("#condbox").IsVisibleAsync());
        Assert.Equal(1, await page.Locator("svg#fan-chart").CountAsync());
        var (body, _) = await GenerateAsync(web);
        Assert.Equal(web.Ids[1], body.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Browser_ANumberTheBrowserCannotRead_IsRefusedOnThePage_NotSentAsTheDefault()
    {
        await using var web = await OpenSequenceAsync(new WebOptions());
        var page = web.Page;
        await page.FillAsync("#count", "20");
        int sent = web.Requests.Count(u => u.EndsWith("/v1/scenarios", StringComparison.Ordinal));

        // "2e" is no number: the input's value is "" and the page sent no guidance at all, so the model's default w went
        // out while the box showed what the user typed
        await page.FillAsync("#guidance", "");
        await page.Locator("#guidance").PressSequentiallyAsync("2e");
        Assert.True(await page.EvalOnSelectorAsync<bool>("#guidance", "i => i.validity.badInput"));
        await page.ClickAsync("#generate");
        await page.Locator("#error:not(:empty)").WaitForAsync();
        Assert.Equal("Guidance w: not a number.", await page.Locator("#error").InnerTextAsync());
        Assert.Equal("true", await page.GetAttributeAsync("#guidance", "aria-invalid"));
        Assert.Equal(sent, web.Requests.Count(u => u.EndsWith("/v1/scenarios", StringComparison.Ordinal)));

        // a count the browser cannot read was sent as 0
        await page.FillAsync("#guidance", "2");
        await page.FillAsync("#count", "");
        await page.Locator("#count").PressSequentiallyAsync("1e");
        await page.ClickAsync("#generate");
        Assert.Equal("Scenarios: not a number.", await page.Locator("#error").InnerTextAsync());
        Assert.Null(await page.GetAttributeAsync("#guidance", "aria-invalid"));
        Assert.Equal(sent, web.Requests.Count(u => u.EndsWith("/v1/scenarios", StringComparison.Ordinal)));

        await page.FillAsync("#count", "20");
        var slider = page.Locator("input[data-condition=\"VIXCLS\"]"); // guidance acts through a condition
        await slider.FocusAsync();
        for (int i = 0; i < 5; i++) await slider.PressAsync("ArrowRight");
        var (body, _) = await GenerateAsync(web);
        Assert.Equal(2, body.GetProperty("guidance").GetDouble());
        Assert.Null(await page.GetAttributeAsync("#count", "aria-invalid"));
    }
}
