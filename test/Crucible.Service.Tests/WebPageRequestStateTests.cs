using Microsoft.Playwright;

namespace Crucible.Service.Tests;

/// <summary>
/// What the page shows and allows around a request: Generate cannot be clicked twice while a generation is in flight,
/// whatever else the user does meanwhile.
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

    [Fact]
    public async Task Browser_GenerateStaysDisabled_WhileAGenerationIsInFlight_ThoughAnotherModelIsPicked()
    {
        string sequence = Path.Combine(_dir, "sequence");
        TinySequenceModel.Train().Save(sequence);
        await using var web = await OpenAsync(fixture.ModelFolder, sequence);
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
}
