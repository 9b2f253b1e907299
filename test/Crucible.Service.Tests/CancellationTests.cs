using System.Diagnostics;
using System.Net;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;

namespace Crucible.Service.Tests;

/// <summary>
/// SVC-2's "a request timeout ends work via CancellationToken": a scenario request past <c>GenerationTimeoutSeconds</c>,
/// or whose client disconnects, stops its sampler within a step and frees its generation slot (one slot, no queue, so a
/// held slot would answer the next request 429); nothing is recorded as generated.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class CancellationTests(ServiceFixture f)
{
    // 50,000 rows of DDPM over the fixture model's 100 steps: tens of seconds on one core if nothing stopped it
    // the most scenarios a request may ask for: a few seconds of DDPM on a quiet machine (50,000 finished before the
    // disconnect took effect once on the quiet machine)
    private const int LongCount = 100_000;

    private string LongBody => $$"""{"model": "{{f.ModelId}}", "count": {{LongCount}}, "sampler": "ddpm", "seed": 3}""";

    private string ShortBody => $$"""{"model": "{{f.ModelId}}", "count": 5, "seed": 3}""";

    private CrucibleHome NewHome(string name)
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, name));
        using var log = AuditLog.Open(home);
        new ModelRegistry(home, log).Register(f.ModelFolder);
        return home;
    }

    private static Dictionary<string, string> OneSlot(double timeoutSeconds) => new()
    {
        ["MaxConcurrentGenerations"] = "1",
        ["GenerationQueue"] = "0",
        ["RateLimitPermits"] = "10000",
        ["GenerationTimeoutSeconds"] = timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static bool GeneratedWithCount(AuditEntry e, int count) =>
        e.Kind == "scenarios.generated" && e.Payload.Contains($"\"count\":{count}", StringComparison.Ordinal);

    [Fact]
    public async Task Timeout_StopsTheSampler_Answers503_AndFreesTheSlot()
    {
        var home = NewHome("timeout-home");
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile, OneSlot(0.5));
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);

        var clock = Stopwatch.StartNew();
        using var response = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(LongBody));
        var took = clock.Elapsed;
        var problem = await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "generation-timeout");
        Assert.Contains("0.5 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        // the limit plus a sampler step and the request's own handling: about 1 s here; 20 s leaves room for a machine
        // ten times slower and loaded. That the sampler stopped, not finished, is the audit log's part below: a finished
        // run would have recorded its scenarios as generated
        Assert.True(took < TimeSpan.FromSeconds(20), $"answered after {took}");

        // the slot is free: with one slot and no queue a held slot would answer 429
        using var next = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(ShortBody));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);

        var entries = AuditLog.Read(home.AuditDatabase);
        Assert.DoesNotContain(entries, e => GeneratedWithCount(e, LongCount));
        var failed = Assert.Single(entries, e => e.Kind == "run.failed");
        Assert.Contains("generation-timeout", failed.Payload, StringComparison.Ordinal);
        Assert.Equal(["scenarios.generated", "run.completed"], entries.TakeLast(2).Select(e => e.Kind)); // the short request, then its run manifest's pin
        Assert.True(AuditLog.Verify(home).Ok);
    }

    private (CancellationTokenSource Abandon, Task<HttpResponseMessage> InFlight) StartLong(HttpClient client)
    {
        var abandon = new CancellationTokenSource();
        return (abandon, client.PostAsync("/v1/scenarios", ServiceFixture.Json(LongBody), abandon.Token));
    }

    [Fact]
    public async Task ClientDisconnect_StopsTheSampler_AndFreesTheSlot()
    {
        var home = NewHome("disconnect-home");
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile, OneSlot(0)); // no timeout: only the disconnect stops it
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);

        // it holds the slot: a short request is refused meanwhile. On a loaded machine the long request may not have
        // taken the slot yet when the probe comes; the probe then takes it for a moment and may turn the long request
        // away (429): send it again until a probe finds the slot held
        var (abandon, inFlight) = StartLong(client);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await Task.Delay(500);
            if (inFlight.IsCompleted)
            {
                using (var early = await inFlight)
                    Assert.True(early.StatusCode == HttpStatusCode.TooManyRequests, $"the long request ended early: {early.StatusCode}");
                abandon.Dispose(); // turned away while a probe held the slot: send it again
                (abandon, inFlight) = StartLong(client);
                continue;
            }

            using var probe = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(ShortBody));
            if (probe.StatusCode == HttpStatusCode.TooManyRequests && !inFlight.IsCompleted) break;
            Assert.True(probe.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"probe answered {probe.StatusCode}");
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the long request never held the slot");
        }

        await abandon.CancelAsync();
        var cancelled = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => inFlight);
        HttpStatusCode status;
        do
        {
            await Task.Delay(25);
            using var next = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(ShortBody));
            status = next.StatusCode;
        }
        while (status == HttpStatusCode.TooManyRequests && cancelled.Elapsed < TimeSpan.FromSeconds(60));
        abandon.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        // within a sampler step or so: well under a second here, 15 s leaves room for a machine ten times slower and loaded
        Assert.True(cancelled.Elapsed < TimeSpan.FromSeconds(15), $"the slot was freed {cancelled.Elapsed} after the disconnect");

        var entries = AuditLog.Read(home.AuditDatabase);
        Assert.DoesNotContain(entries, e => GeneratedWithCount(e, LongCount));
        var failed = Assert.Single(entries, e => e.Kind == "run.failed");
        Assert.Contains("client-closed", failed.Payload, StringComparison.Ordinal);
        Assert.Contains("499", failed.Payload, StringComparison.Ordinal);
        Assert.True(AuditLog.Verify(home).Ok);
    }
}
