using System.Net;
using System.Text.Json;
using Crucible.Governance.Audit;

namespace Crucible.Service.Tests;

/// <summary>The same training request twice at once, and generation from its model while the jobs finish.</summary>
[Collection(ServiceCollection.Name)]
public sealed class TrainingConcurrencyTests(ServiceFixture f)
{
    [Fact]
    public async Task SameTrainingRequestTwiceAtOnce_BothSucceed_WithOneRegisteredModel()
    {
        var home = Path.Combine(f.Dir, "twice-home");
        Directory.CreateDirectory(home);
        using var factory = ServiceFixture.Create(home, f.KeysFile);
        using var trainer = factory.CreateClient();
        trainer.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["trainer"]);
        using var generator = factory.CreateClient();
        generator.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        var csv = RandomWalkPrices.Csv(120, seed: 9, new DateOnly(2020, 1, 1), weekdaysOnly: false);
        const string config = """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""";
        var body = $$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "steps": 10, "seed": 4, "config": {{config}}}""";
        var posts = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => trainer.PostAsync("/v1/models", ServiceFixture.Json(body))));
        Assert.All(posts, p => Assert.Equal(HttpStatusCode.Accepted, p.StatusCode));
        var locations = posts.Select(p => p.Headers.Location!.ToString()).ToArray();
        Assert.NotEqual(locations[0], locations[1]);

        var jobs = new JsonElement[2];
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var modelIds = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 2; i++)
        {
            while (true)
            {
                jobs[i] = JsonDocument.Parse(await trainer.GetStringAsync(locations[i])).RootElement.Clone();
                if (jobs[i].GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") break;
                // generation from a model id as soon as one job names it, while the other still trains or registers
                Assert.True(DateTime.UtcNow < deadline, jobs[i].ToString());
                await Task.Delay(100);
            }

            Assert.True(jobs[i].GetProperty("status").GetString() == "succeeded", jobs[i].ToString());
            var id = jobs[i].GetProperty("model_id").GetString()!;
            modelIds.Add(id);
            using var scenarios = await generator.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{id}}", "count": 3, "seed": 1}"""));
            Assert.Equal(HttpStatusCode.OK, scenarios.StatusCode);
        }

        Assert.Single(modelIds);
        Assert.NotEqual(jobs[0].GetProperty("run_id").GetString(), jobs[1].GetProperty("run_id").GetString());
        var entries = AuditLog.Read(Path.Combine(home, "audit.db"));
        Assert.Single(entries, e => e.Kind == "model.registered");
        Assert.Equal(2, entries.Count(e => e.Kind == "run.completed" && e.Payload.Contains("service.train", StringComparison.Ordinal)));
    }
}
