using System.Net;
using System.Text.Json;
using Crucible.Governance.Audit;
using Crucible.Service.Training;

namespace Crucible.Service.Tests;

/// <summary>
/// Training jobs as an operator manages them, in the home store: <c>GET /v1/jobs</c> (newest first, a state filter,
/// pages by <c>before</c>, across a restart), <c>POST /v1/jobs/{id}/cancel</c> (a queued job at once, a running one at
/// its next step, idempotent, 409 for a finished one) and <c>TrainingJobTimeoutSeconds</c>.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class JobOperationsTests(ServiceFixture f)
{
    private const string Config = """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""";

    // a model whose steps take long enough that 100,000 of them outlast any timeout a test sets (the 16-wide one ran 100,000
    // steps in under 2 s on a quiet machine, so a timeout test on it succeeded instead)
    internal const string SlowConfig = """{"hidden": 256, "blocks": 3, "time_embedding": 32, "diffusion_steps": 50, "training": {"batch_size": 64, "warmup_steps": 2}}""";

    internal static string Request(int steps, int seed = 3, string config = Config) =>
        $$"""{"data_csv": {{JsonSerializer.Serialize(RandomWalkPrices.Csv(120, seed: 7, new DateOnly(2020, 1, 1)))}}, "steps": {{steps}}, "seed": {{seed}}, "config": {{config}}}""";

    internal static async Task<JsonElement> GetAsync(HttpClient client, string location) =>
        JsonDocument.Parse(await client.GetStringAsync(location)).RootElement.Clone();

    internal static async Task<JsonElement> WaitAsync(HttpClient client, string location, Func<JsonElement, bool> done, int seconds = 120, int pollMilliseconds = 500)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var job = await GetAsync(client, location);
            if (done(job)) return job;
            Assert.True(DateTime.UtcNow < deadline, "the job did not get there: " + job);
            await Task.Delay(pollMilliseconds); // 500: within the key's rate limit (120 requests a minute) for the longest wait
        }
    }

    internal static bool Ended(JsonElement job) => job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";

    internal static bool Stepping(JsonElement job) => job.GetProperty("status").GetString() == "running" && job.GetProperty("step").GetInt32() > 0;

    internal static async Task<string> SubmitAsync(HttpClient client, string body)
    {
        using var accepted = await client.PostAsync("/v1/models", ServiceFixture.Json(body));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        return accepted.Headers.Location!.ToString();
    }

    private static string IdOf(string location) => location["/v1/jobs/".Length..];

    private HttpClient Trainer(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["trainer"]);
        return client;
    }

    [Fact]
    public async Task ListJobs_NewestFirst_FiltersByState_Pages_AndAnswersTheSameAfterARestart()
    {
        var home = Path.Combine(f.Dir, "jobs-list-home");
        Directory.CreateDirectory(home);
        var locations = new List<string>();
        string firstPage;
        using (var factory = ServiceFixture.Create(home, f.KeysFile))
        {
            using var client = Trainer(factory);
            for (int i = 0; i < 3; i++) locations.Add(await SubmitAsync(client, Request(3, seed: 10 + i)));
            foreach (var l in locations) await WaitAsync(client, l, Ended);
            var cancelled = await SubmitAsync(client, Request(100_000, config: SlowConfig));
            await WaitAsync(client, cancelled, Stepping);
            using (var c = await client.PostAsync(cancelled + "/cancel", null)) Assert.Equal(HttpStatusCode.Accepted, c.StatusCode);
            await WaitAsync(client, cancelled, Ended);
            locations.Add(cancelled);

            var all = await GetAsync(client, "/v1/jobs");
            var listed = all.GetProperty("jobs").EnumerateArray().ToList();
            Assert.Equal(locations.Select(IdOf).Reverse(), listed.Select(j => j.GetProperty("id").GetString())); // newest first
            Assert.Equal(JsonValueKind.Null, all.GetProperty("next").ValueKind);
            foreach (var item in listed) // each item as GET /v1/jobs/{id} answers it
                Assert.Equal((await GetAsync(client, "/v1/jobs/" + item.GetProperty("id").GetString())).ToString(), item.ToString());
            Assert.All(listed, item => Assert.Equal(1, item.GetProperty("attempts").GetInt32())); // each started once (kept across the restart below)

            var succeeded = await GetAsync(client, "/v1/jobs?state=succeeded");
            Assert.Equal(locations.Take(3).Select(IdOf).Reverse(), succeeded.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
            var onlyCancelled = await GetAsync(client, "/v1/jobs?state=cancelled");
            Assert.Equal([IdOf(cancelled)], onlyCancelled.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
            Assert.Empty((await GetAsync(client, "/v1/jobs?state=queued")).GetProperty("jobs").EnumerateArray());

            // pages of 1: next is the before of the following page; the pages together are the whole list
            var paged = new List<string?>();
            string? before = null;
            do
            {
                var page = await GetAsync(client, "/v1/jobs?limit=1" + (before is null ? "" : "&before=" + before));
                paged.AddRange(page.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
                before = page.GetProperty("next").GetString();
            }
            while (before is not null);
            Assert.Equal(locations.Select(IdOf).Reverse(), paged);

            var state = await Problem.AssertAsync(await client.GetAsync("/v1/jobs?state=finished"), HttpStatusCode.UnprocessableEntity, "validation");
            Assert.True(state.GetProperty("errors").TryGetProperty("state", out _), state.ToString());
            Assert.Contains("queued, running, succeeded, failed, cancelled", state.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var limit = await Problem.AssertAsync(await client.GetAsync("/v1/jobs?limit=1001"), HttpStatusCode.UnprocessableEntity, "validation");
            Assert.True(limit.GetProperty("errors").TryGetProperty("limit", out _), limit.ToString());
            await Problem.AssertAsync(await client.GetAsync("/v1/jobs?limit=abc"), HttpStatusCode.BadRequest, "malformed-request");
            var unknown = await Problem.AssertAsync(await client.GetAsync("/v1/jobs?before=" + Guid.NewGuid().ToString("N")), HttpStatusCode.UnprocessableEntity, "validation");
            Assert.True(unknown.GetProperty("errors").TryGetProperty("before", out _), unknown.ToString());
            using (var reader = factory.CreateClient())
            {
                reader.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["reader"]);
                await Problem.AssertAsync(await reader.GetAsync("/v1/jobs"), HttpStatusCode.Forbidden, "forbidden"); // scope train
            }

            firstPage = all.ToString();
        }

        using var restarted = ServiceFixture.Create(home, f.KeysFile);
        using var again = Trainer(restarted);
        Assert.Equal(firstPage, (await GetAsync(again, "/v1/jobs")).ToString()); // from jobs.db, as before
    }

    [Fact]
    public async Task Cancel_QueuedAtOnce_RunningAtItsNextStep_Idempotent_AndAFinishedJobIs409()
    {
        var home = Path.Combine(f.Dir, "jobs-cancel-home");
        Directory.CreateDirectory(home);
        using var factory = ServiceFixture.Create(home, f.KeysFile);
        using var client = Trainer(factory);
        var done = await SubmitAsync(client, Request(3));
        await WaitAsync(client, done, Ended);
        var running = await SubmitAsync(client, Request(100_000, config: SlowConfig));
        var queued = await SubmitAsync(client, Request(5, seed: 4));
        await WaitAsync(client, running, Stepping);

        // queued: cancelled at once, 200 with its state
        using (var q = await client.PostAsync(queued + "/cancel?reason=wrong%20data", null))
        {
            Assert.Equal(HttpStatusCode.OK, q.StatusCode);
            var view = JsonDocument.Parse(await q.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("cancelled", view.GetProperty("status").GetString());
            Assert.Equal("cancelled by key:trainer: wrong data", view.GetProperty("error").GetString());
            Assert.Equal(0, view.GetProperty("attempts").GetInt32()); // never started
        }

        // running: 202, then it stops at its next step
        using (var r = await client.PostAsync(running + "/cancel?reason=superseded", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
            Assert.Equal(running, r.Headers.Location!.ToString());
        }

        var stopped = await WaitAsync(client, running, Ended, seconds: 30);
        Assert.Equal("cancelled", stopped.GetProperty("status").GetString());
        Assert.Equal("cancelled by key:trainer: superseded", stopped.GetProperty("error").GetString());
        Assert.Equal(1, stopped.GetProperty("attempts").GetInt32());
        Assert.True(stopped.GetProperty("step").GetInt32() < 100_000, stopped.ToString());
        Assert.Equal(JsonValueKind.Null, stopped.GetProperty("model_id").ValueKind);
        Assert.False(Directory.Exists(Path.Combine(home, "jobs", IdOf(running))), "the cancelled job's folder stays");
        var neverStarted = await GetAsync(client, queued);
        Assert.Equal("cancelled", neverStarted.GetProperty("status").GetString());
        Assert.Equal(0, neverStarted.GetProperty("attempts").GetInt32());

        // idempotent: a cancelled job answers its state
        using (var again = await client.PostAsync(running + "/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal(stopped.ToString(), JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.ToString());
        }

        // a finished job: 409 naming its state, without Retry-After (retrying never succeeds)
        using var finished = await client.PostAsync(done + "/cancel", null);
        Assert.Null(finished.Headers.RetryAfter);
        var conflict = await Problem.AssertAsync(finished, HttpStatusCode.Conflict, "job-finished");
        Assert.Equal("succeeded", conflict.GetProperty("state").GetString());
        Assert.Contains("succeeded", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Problem.AssertAsync(await client.PostAsync("/v1/jobs/" + Guid.NewGuid().ToString("N") + "/cancel", null), HttpStatusCode.NotFound, "not-found");
        await Problem.AssertAsync(await client.PostAsync(done + "/cancel?reason=" + new string('x', 201), null), HttpStatusCode.UnprocessableEntity, "validation");

        // one run.failed entry (status cancelled, who and why) for each, nothing registered
        var failed = AuditLog.Read(Path.Combine(home, "audit.db")).Where(e => e.Kind == "run.failed")
            .Select(e => (e.Actor, Payload: JsonDocument.Parse(e.Payload).RootElement.Clone())).ToList();
        foreach (var (location, why) in new[] { (queued, "cancelled by key:trainer: wrong data"), (running, "cancelled by key:trainer: superseded") })
        {
            var entry = Assert.Single(failed, p => p.Payload.GetProperty("job_id").GetString() == IdOf(location));
            Assert.Equal("cancelled", entry.Payload.GetProperty("status").GetString());
            Assert.Equal(why, entry.Payload.GetProperty("error").GetString());
            Assert.Equal("key:trainer", entry.Actor);
        }

        Assert.Single(AuditLog.Read(Path.Combine(home, "audit.db")), e => e.Kind == "model.registered");
    }

    [Fact]
    public async Task Cancel_SentToAnotherProcessOnTheSameHome_StopsTheJobThroughJobsDb()
    {
        var home = Path.Combine(f.Dir, "jobs-cancel-two-processes");
        Directory.CreateDirectory(home);
        using var first = ServiceFixture.Create(home, f.KeysFile);
        using var runner = Trainer(first);
        var running = await SubmitAsync(runner, Request(100_000, config: SlowConfig));
        await WaitAsync(runner, running, Stepping, pollMilliseconds: 100);
        using var second = ServiceFixture.Create(home, f.KeysFile);
        using var other = Trainer(second);
        using (var r = await other.PostAsync(running + "/cancel?reason=from%20the%20other%20process", null)) Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var stopped = await WaitAsync(runner, running, Ended, seconds: 30);
        Assert.Equal("cancelled", stopped.GetProperty("status").GetString());
        Assert.Equal("cancelled by key:trainer: from the other process", stopped.GetProperty("error").GetString());
        Assert.Equal("cancelled", (await GetAsync(other, running)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task TrainingJobTimeout_StopsARunningJob_RecordedFailedWithJobTimeout()
    {
        var home = Path.Combine(f.Dir, "jobs-timeout-home");
        Directory.CreateDirectory(home);
        using var factory = ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string> { ["TrainingJobTimeoutSeconds"] = "2" });
        using var client = Trainer(factory);
        var location = await SubmitAsync(client, Request(100_000, config: SlowConfig));
        var job = await WaitAsync(client, location, Ended, seconds: 60);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        var error = job.GetProperty("error").GetString()!;
        Assert.StartsWith(TrainingJobs.TimeoutReason + ": ", error, StringComparison.Ordinal);
        Assert.Contains("TrainingJobTimeoutSeconds (2 s)", error, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("model_id").ValueKind);
        Assert.False(Directory.Exists(Path.Combine(home, "jobs", IdOf(location))), "the timed-out job's folder stays");
        var entry = Assert.Single(AuditLog.Read(Path.Combine(home, "audit.db")), e => e.Kind == "run.failed");
        var payload = JsonDocument.Parse(entry.Payload).RootElement;
        Assert.Equal("failed", payload.GetProperty("status").GetString());
        Assert.Equal(TrainingJobs.TimeoutReason, payload.GetProperty("reason").GetString());

        // the next job runs (the worker goes on)
        var next = await WaitAsync(client, await SubmitAsync(client, Request(3)), Ended);
        Assert.Equal("succeeded", next.GetProperty("status").GetString());
    }
}
