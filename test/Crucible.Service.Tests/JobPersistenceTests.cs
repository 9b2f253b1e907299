using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Crucible.Governance.Audit;
using Crucible.Service.Security;
using Crucible.Service.Training;
using Microsoft.Data.Sqlite;

namespace Crucible.Service.Tests;

/// <summary>
/// Training jobs in the home store (<c>HOME/jobs.db</c>): a restart still answers <c>GET /v1/jobs/{id}</c> as before; a
/// job a killed process left queued or running answers <c>cancelled</c>; a job the shutdown stops leaves a
/// <c>run.failed</c> audit entry.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class JobPersistenceTests(ServiceFixture f)
{
    private const string Config = """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""";

    private static string Prices(int rows = 120) => RandomWalkPrices.Csv(rows, seed: 7, new DateOnly(2020, 1, 1));

    private static string Request(int steps) =>
        $$"""{"data_csv": {{JsonSerializer.Serialize(Prices())}}, "steps": {{steps}}, "seed": 3, "config": {{Config}}}""";

    private static async Task<JsonElement> GetAsync(HttpClient client, string location) =>
        JsonDocument.Parse(await client.GetStringAsync(location)).RootElement.Clone();

    private static async Task<JsonElement> WaitAsync(HttpClient client, string location, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var job = await GetAsync(client, location);
            if (done(job)) return job;
            Assert.True(DateTime.UtcNow < deadline, "the job did not get there: " + job);
            await Task.Delay(250);
        }
    }

    private static bool Ended(JsonElement job) => job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";

    [Fact]
    public async Task FinishedJob_AnswersTheSameAfterARestart_AndJobsOfAKilledProcessAnswerCancelled()
    {
        var home = Path.Combine(f.Dir, "jobs-restart-home");
        Directory.CreateDirectory(home);
        string location;
        JsonElement before;
        using (var first = ServiceFixture.Create(home, f.KeysFile))
        {
            using var client = first.CreateClient();
            client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["trainer"]);
            using var accepted = await client.PostAsync("/v1/models", ServiceFixture.Json(Request(10)));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            location = accepted.Headers.Location!.ToString();
            before = await WaitAsync(client, location, Ended);
            Assert.True(before.GetProperty("status").GetString() == "succeeded", before.ToString());
        }

        // a killed process's rows: one queued, one running, its replica's lock file gone with it; and a row of a live
        // process (its lock held here), which stays as it is
        string killedQueued = Guid.NewGuid().ToString("N"), killedRunning = Guid.NewGuid().ToString("N"), live = Guid.NewGuid().ToString("N");
        string deadReplica = Guid.NewGuid().ToString("N"), liveReplica = Guid.NewGuid().ToString("N");
        var replicas = Path.Combine(home, "jobs", ".replicas");
        Directory.CreateDirectory(replicas);
        File.WriteAllText(Path.Combine(replicas, deadReplica + ".lock"), ""); // left behind, unlocked
        using var liveLock = new FileStream(Path.Combine(replicas, liveReplica + ".lock"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        using (var db = new SqliteConnection($"Data Source={Path.Combine(home, "jobs.db")};Pooling=False"))
        {
            db.Open();
            foreach (var (id, replica, status) in new[] { (killedQueued, deadReplica, "queued"), (killedRunning, deadReplica, "running"), (live, liveReplica, "running") })
            {
                using var insert = db.CreateCommand();
                insert.CommandText = "INSERT INTO training_job(id, actor, created, replica, status, step, total_steps) VALUES ($id, 'key:trainer', '2026-01-01T00:00:00Z', $r, $s, 3, 10);";
                insert.Parameters.AddWithValue("$id", id);
                insert.Parameters.AddWithValue("$r", replica);
                insert.Parameters.AddWithValue("$s", status);
                insert.ExecuteNonQuery();
            }
        }

        using var second = ServiceFixture.Create(home, f.KeysFile);
        using var again = second.CreateClient();
        again.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["trainer"]);
        var after = await GetAsync(again, location);
        Assert.Equal(before.ToString(), after.ToString());
        foreach (var (id, step) in new[] { (killedQueued, 3), (killedRunning, 3) })
        {
            var job = await GetAsync(again, "/v1/jobs/" + id);
            Assert.Equal("cancelled", job.GetProperty("status").GetString());
            Assert.Equal(LocalJobs.KilledMessage, job.GetProperty("error").GetString());
            Assert.Equal(step, job.GetProperty("step").GetInt32());
            Assert.False(string.IsNullOrEmpty(job.GetProperty("finished").GetString()));
            Assert.Equal(JsonValueKind.Null, job.GetProperty("model_id").ValueKind);
        }

        Assert.False(File.Exists(Path.Combine(replicas, deadReplica + ".lock")), "the dead replica's lock file stays");
        Assert.Equal("running", (await GetAsync(again, "/v1/jobs/" + live)).GetProperty("status").GetString());
        using var missing = await again.GetAsync("/v1/jobs/" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task FinishedJobs_BeyondTheBound_LeaveMemory_AndAnswerFromJobsDb_OrGoneWhenJobsDbNeverRecordedThem()
    {
        var home = Path.Combine(f.Dir, "jobs-bound-home");
        Directory.CreateDirectory(home);
        using var factory = ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string> { ["FinishedJobsInMemory"] = "1" });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["trainer"]);
        var jobs = (TrainingJobs)factory.Services.GetService(typeof(TrainingJobs))!;

        async Task<(string Location, JsonElement View)> TrainAsync()
        {
            using var accepted = await client.PostAsync("/v1/models", ServiceFixture.Json(Request(4)));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var location = accepted.Headers.Location!.ToString();
            return (location, await WaitAsync(client, location, Ended));
        }

        var (first, firstView) = await TrainAsync();
        var (second, secondView) = await TrainAsync();
        Assert.Equal("succeeded", secondView.GetProperty("status").GetString());
        Assert.Equal(1, jobs.InMemory); // the first left memory when the second finished
        Assert.Equal(firstView.ToString(), (await GetAsync(client, first)).ToString()); // answered from jobs.db, as it was
        Assert.Equal(secondView.ToString(), (await GetAsync(client, second)).ToString());

        // jobs.db refuses a job's final state: it is answered from memory while it is there, then 410 (not its stale row)
        using (var db = new SqliteConnection($"Data Source={Path.Combine(home, "jobs.db")};Pooling=False"))
        {
            db.Open();
            using var trigger = db.CreateCommand();
            trigger.CommandText = "CREATE TRIGGER refuse_finish BEFORE UPDATE ON training_job WHEN NEW.finished IS NOT NULL BEGIN SELECT RAISE(ABORT, 'test: refused'); END;";
            trigger.ExecuteNonQuery();
        }

        var (third, thirdView) = await TrainAsync();
        Assert.Equal("succeeded", thirdView.GetProperty("status").GetString());
        var (_, fourthView) = await TrainAsync();
        Assert.Equal("succeeded", fourthView.GetProperty("status").GetString());
        Assert.Equal(1, jobs.InMemory);
        using var gone = await client.GetAsync(third);
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        using var unknown = await client.GetAsync("/v1/jobs/" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        // a page whose rows hold the forgotten job still has its size and a next: the job was left out after the LIMIT, so
        // the page after the fourth (limit 1) answered the second with next null, though the first is older
        string Id(JsonElement view) => view.GetProperty("id").GetString()!;
        var page = await GetAsync(client, $"/v1/jobs?limit=1&before={Id(fourthView)}");
        Assert.Equal([Id(secondView)], page.GetProperty("jobs").EnumerateArray().Select(Id));
        Assert.Equal(Id(secondView), page.GetProperty("next").GetString());
        var last = await GetAsync(client, $"/v1/jobs?limit=1&before={Id(secondView)}");
        Assert.Equal([Id(firstView)], last.GetProperty("jobs").EnumerateArray().Select(Id));
        Assert.Equal(JsonValueKind.Null, last.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task Sigterm_CancelsTheRunningAndQueuedJobs_WithAuditEntries_AndARestartAnswersThem()
    {
        var home = Path.Combine(f.Dir, "jobs-sigterm-home");
        Directory.CreateDirectory(home);
        var (key, line) = ApiKeyStore.NewKey("trainer", new HashSet<string> { "train" });
        var keys = Path.Combine(f.Dir, "jobs-sigterm-keys");
        File.WriteAllText(keys, line + "\n");
        string running, queued;
        using (var serve = await ServeProcess.StartAsync(["--home", home, "--api-keys", keys]))
        {
            var server = serve.Process;
            try
            {
                using var client = serve.Client(key);
                using (var a = await client.PostAsync("/v1/models", ServiceFixture.Json(Request(100_000)))) running = a.Headers.Location!.ToString();
                using (var b = await client.PostAsync("/v1/models", ServiceFixture.Json(Request(10)))) queued = b.Headers.Location!.ToString();
                await WaitAsync(client, running, j => j.GetProperty("status").GetString() == "running" && j.GetProperty("step").GetInt32() > 0);
                using (var kill = Process.Start("kill", ["-TERM", server.Id.ToString(CultureInfo.InvariantCulture)])) kill.WaitForExit();
                Assert.True(server.WaitForExit(35_000), "no exit within the 30 s shutdown timeout");
                Assert.Equal(0, server.ExitCode);
            }
            finally
            {
                if (!server.HasExited) server.Kill(entireProcessTree: true);
            }
        }

        var entries = AuditLog.Read(Path.Combine(home, "audit.db"));
        var failed = entries.Where(e => e.Kind == "run.failed").Select(e => JsonDocument.Parse(e.Payload).RootElement.Clone()).ToList();
        foreach (var (location, why) in new[] { (running, "the service stopped while the job ran"), (queued, "the service stopped before the job ran") })
        {
            var id = location["/v1/jobs/".Length..];
            var entry = Assert.Single(failed, p => p.GetProperty("job_id").GetString() == id);
            Assert.Equal("cancelled", entry.GetProperty("status").GetString());
            Assert.Equal(why, entry.GetProperty("error").GetString());
        }

        var v = AuditLog.Verify(Governance.CrucibleHome.Resolve(home));
        Assert.True(v.Ok, v.Message);

        using var restarted = await ServeProcess.StartAsync(["--home", home, "--api-keys", keys]);
        using var again = restarted.Client(key);
        var job = await GetAsync(again, running);
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        Assert.Equal("the service stopped while the job ran", job.GetProperty("error").GetString());
        Assert.True(job.GetProperty("step").GetInt32() > 0, job.ToString());
        job = await GetAsync(again, queued);
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        Assert.Equal("the service stopped before the job ran", job.GetProperty("error").GetString());
        restarted.Process.Kill(entireProcessTree: true);
    }

    [Fact]
    public void JobsDbOfAnOlderBuild_GainsAttempts_OneForAJobThatStarted_ZeroForOneThatNeverDid()
    {
        var home = Path.Combine(f.Dir, "jobs-attempts-upgrade");
        Directory.CreateDirectory(home);
        string succeeded = Guid.NewGuid().ToString("N"), neverStarted = Guid.NewGuid().ToString("N"), stopped = Guid.NewGuid().ToString("N"), failed = Guid.NewGuid().ToString("N");
        using (var db = new SqliteConnection($"Data Source={Path.Combine(home, LocalJobs.FileName)};Pooling=False"))
        {
            db.Open();
            using var create = db.CreateCommand(); // the table as the build before attempts created it
            create.CommandText = """
                CREATE TABLE training_job(
                  id TEXT PRIMARY KEY, actor TEXT NOT NULL, created TEXT NOT NULL, replica TEXT NOT NULL,
                  status TEXT NOT NULL, step INTEGER NOT NULL, total_steps INTEGER NOT NULL, loss REAL,
                  model_id TEXT, run_id TEXT, error TEXT, finished TEXT, cancel_requested TEXT);
                """;
            create.ExecuteNonQuery();
            foreach (var (id, status, step) in new[] { (succeeded, "succeeded", 10), (neverStarted, "cancelled", 0), (stopped, "cancelled", 4), (failed, "failed", 0) })
            {
                using var insert = db.CreateCommand();
                insert.CommandText = "INSERT INTO training_job(id, actor, created, replica, status, step, total_steps, finished) VALUES ($id, 'key:trainer', '2026-01-01T00:00:00Z', 'gone', $s, $step, 10, '2026-01-01T00:01:00Z');";
                insert.Parameters.AddWithValue("$id", id);
                insert.Parameters.AddWithValue("$s", status);
                insert.Parameters.AddWithValue("$step", step);
                insert.ExecuteNonQuery();
            }
        }

        using var jobs = new LocalJobs(home);
        foreach (var (id, attempts) in new[] { (succeeded, 1), (neverStarted, 0), (stopped, 1), (failed, 1) })
            Assert.Equal(attempts, jobs.Find(id, "2026-01-02T00:00:00Z")!.Attempts);
    }
}
