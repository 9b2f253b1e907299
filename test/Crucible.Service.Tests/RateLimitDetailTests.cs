using System.Net;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;

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
}
