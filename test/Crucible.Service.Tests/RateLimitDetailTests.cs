using System.Net;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Scenarios;
using Microsoft.Extensions.DependencyInjection;

namespace Crucible.Service.Tests;

/// <summary>
/// Session 22 (an operator's QA round): a 429 says which limit the client met. Both limits answered "rate limit reached
/// for this API key or the generation queue is full", so a client could not tell a spent key window (wait for it) from
/// generation slots that are all busy (retry in a second, or tell the operator the service is at capacity).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class RateLimitDetailTests(ServiceFixture f)
{
    [Fact]
    public async Task TheKeysWindow_IsNamedWithItsLimit()
    {
        using var factory = ServiceFixture.Create(Path.Combine(f.Dir, "rate-detail-" + Guid.NewGuid().ToString("N")[..8]), f.KeysFile,
            new Dictionary<string, string> { ["RateLimitPermits"] = "1", ["RateLimitWindowSeconds"] = "3600" });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["reader"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
        using var refused = await client.GetAsync("/v1/models");
        var problem = await Problem.AssertAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.Equal("this API key's rate limit of 1 requests per 3600 s is reached; retry after 3600 s", problem.GetProperty("detail").GetString());
        Assert.Equal(TimeSpan.FromSeconds(3600), refused.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task BusyGenerationSlots_AreNamedAsTheServicesCapacity()
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "slots-detail-" + Guid.NewGuid().ToString("N")[..8]));
        using (var log = AuditLog.Open(home)) new ModelRegistry(home, log).Register(f.ModelFolder);
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile,
            new Dictionary<string, string> { ["MaxConcurrentGenerations"] = "1", ["GenerationQueue"] = "0" });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);

        // 8 requests at once for one slot and no queue: those that find the slot taken are refused at once
        var body = $$"""{"model": "{{f.ModelId}}", "count": 5000, "seed": 1, "sampler": "ddpm", "sampling_steps": 100}""";
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.PostAsync("/v1/scenarios", ServiceFixture.Json(body))));
        try
        {
            Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
            Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.TooManyRequests);
            var refused = answers.First(a => a.StatusCode == HttpStatusCode.TooManyRequests);
            var problem = await Problem.AssertAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
            Assert.Equal("the service is generating at capacity (1 scenario, evaluation or ensemble requests in flight, 0 waiting); retry after 1 s",
                problem.GetProperty("detail").GetString());
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }
        finally
        {
            foreach (var a in answers) a.Dispose();
        }
    }

    /// <summary>
    /// Session 33: a scenario request takes a generation slot only for its generation. The slots were a rate-limiting
    /// policy in front of the endpoint, so while every slot was busy a retry that the idempotency store answers at once
    /// (SVC-11's "cached" request), or a request refused before it samples, was turned away with 429 "generating at
    /// capacity" (or waited in the queue behind the generations in flight).
    /// </summary>
    [Fact]
    public async Task BusyGenerationSlots_DoNotHoldBackAReplay_OrARefusal()
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "slots-replay-" + Guid.NewGuid().ToString("N")[..8]));
        using (var log = AuditLog.Open(home)) new ModelRegistry(home, log).Register(f.ModelFolder);
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile,
            new Dictionary<string, string> { ["MaxConcurrentGenerations"] = "1", ["GenerationQueue"] = "0", ["RateLimitPermits"] = "10000" });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        var slots = factory.Services.GetRequiredService<GenerationSlots>();
        string shortBody = $$"""{"model": "{{f.ModelId}}", "count": 5, "seed": 7}""";
        HttpRequestMessage Keyed(string body)
        {
            var m = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
            m.Headers.Add("Idempotency-Key", "replay-while-busy");
            return m;
        }

        byte[] first;
        using (var request = Keyed(shortBody))
        using (var stored = await client.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
            first = await stored.Content.ReadAsByteArrayAsync();
        }

        // a long generation takes the one slot (no queue)
        using var abandon = new CancellationTokenSource();
        var busy = client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 100000, "sampler": "ddpm", "seed": 1}"""), abandon.Token);
        for (var deadline = DateTime.UtcNow.AddSeconds(60); slots.InFlight == 0 && !busy.IsCompleted && DateTime.UtcNow < deadline;) await Task.Delay(20);
        Assert.False(busy.IsCompleted, "the long request ended before the slot was seen taken");
        Assert.Equal(1, slots.InFlight);
        try
        {
            // the stored answer, at once and byte for byte
            using (var request = Keyed(shortBody))
            using (var replay = await client.SendAsync(request))
            {
                Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
                Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
                Assert.Equal(first, await replay.Content.ReadAsByteArrayAsync());
            }

            // a request the service refuses before sampling: its own answer, not the slots'
            using (var invalid = await client.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 0, "seed": 7}""")))
                Assert.Equal(HttpStatusCode.UnprocessableEntity, invalid.StatusCode);
            using (var request = Keyed($$"""{"model": "{{f.ModelId}}", "count": 6, "seed": 7}"""))
            using (var mismatch = await client.SendAsync(request))
                await Problem.AssertAsync(mismatch, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");

            // a new generation still meets the busy slot, and so does an evaluation (it holds a slot for its whole handling)
            Assert.False(busy.IsCompleted);
            using var fresh = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(shortBody));
            var problem = await Problem.AssertAsync(fresh, HttpStatusCode.TooManyRequests, "rate-limited");
            const string atCapacity = "the service is generating at capacity (1 scenario, evaluation or ensemble requests in flight, 0 waiting); retry after 1 s";
            Assert.Equal(atCapacity, problem.GetProperty("detail").GetString());
            using var reader = factory.CreateClient();
            reader.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["reader"]);
            using var evaluation = await reader.PostAsync("/v1/evaluations", ServiceFixture.Json("""{"real_csv": "date,A\n2020-01-01,1\n", "synthetic_csv": "date,A\n2020-01-01,1\n"}"""));
            Assert.Equal(atCapacity, (await Problem.AssertAsync(evaluation, HttpStatusCode.TooManyRequests, "rate-limited")).GetProperty("detail").GetString());
            Assert.Equal("1", evaluation.Headers.GetValues("Retry-After").Single());
            Assert.False(busy.IsCompleted);
        }
        finally
        {
            await abandon.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => busy);
        }
    }
}
