using System.Net;
using System.Text.Json;
using Crucible.Governance.Audit;
using Crucible.Service.Training;
using Crucible.Tests.Postgres;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Crucible.Service.Tests;

/// <summary>
/// Training jobs across replicas on one PostgreSQL database: listed alike by every replica; a cancel sent to replica B
/// stops the job replica A runs; a replica that stops hands its running job back to the queue, and the other replica
/// trains it from the start to the same model as an uninterrupted run.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class PostgresJobTests(ServiceFixture f)
{
    private WebApplicationFactory<Program> Replica(TestDatabase db, string name)
    {
        var home = Path.Combine(f.Dir, $"{name}-{db.Name}");
        var key = Path.Combine(home, "keys", AuditSigningKey.PrivateFileName);
        var shared = Path.Combine(f.Dir, $"key-{db.Name}.pem");
        Directory.CreateDirectory(Path.GetDirectoryName(key)!);
        if (!File.Exists(shared))
        {
            AuditSigningKey.LoadOrCreate(key).Dispose();
            File.Copy(key, shared);
        }
        else
        {
            File.Copy(shared, key);
        }

        return ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string> { ["Store"] = "postgres:" + db.ConnectionString });
    }

    private HttpClient Admin(WebApplicationFactory<Program> factory)
    {
        var client = factory.CreateClient(); // starts the replica (and its worker)
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["admin"]);
        return client;
    }

    private static string IdOf(string location) => location["/v1/jobs/".Length..];

    private static async Task<List<JsonElement>> RunFailedAsync(HttpClient client)
    {
        var page = JsonDocument.Parse(await client.GetStringAsync("/v1/audit?limit=1000")).RootElement;
        return [.. page.GetProperty("entries").EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "run.failed").Select(e => e.Clone())];
    }

    [Fact]
    public async Task CancelSentToReplicaB_StopsTheJobReplicaARuns_AndBothReplicasListTheJobs()
    {
        using var db = TestPostgres.CreateDatabase();
        using var a = Replica(db, "pg-cancel-a");
        using var ca = Admin(a);
        var running = await JobOperationsTests.SubmitAsync(ca, JobOperationsTests.Request(100_000, config: JobOperationsTests.SlowConfig));
        await JobOperationsTests.WaitAsync(ca, running, JobOperationsTests.Stepping); // A claimed it (B is not started yet)
        var queued = await JobOperationsTests.SubmitAsync(ca, JobOperationsTests.Request(5, seed: 9)); // A is busy: it waits
        using (var q = await ca.PostAsync(queued + "/cancel?reason=not%20needed", null))
        {
            Assert.Equal(HttpStatusCode.OK, q.StatusCode);
            var view = JsonDocument.Parse(await q.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("cancelled", view.GetProperty("status").GetString());
            Assert.Equal(0, view.GetProperty("attempts").GetInt32()); // never claimed
        }

        using var b = Replica(db, "pg-cancel-b");
        using var cb = Admin(b);
        using (var r = await cb.PostAsync(running + "/cancel?reason=operator", null)) Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var stopped = await JobOperationsTests.WaitAsync(cb, running, JobOperationsTests.Ended, seconds: 30);
        Assert.Equal("cancelled", stopped.GetProperty("status").GetString());
        Assert.Equal("cancelled by key:admin: operator", stopped.GetProperty("error").GetString());
        Assert.Equal(1, stopped.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, stopped.GetProperty("model_id").ValueKind);
        Assert.False(Directory.Exists(Path.Combine(f.Dir, $"pg-cancel-a-{db.Name}", "jobs", IdOf(running))), "A's job folder stays");

        var failed = await RunFailedAsync(cb);
        foreach (var (location, why) in new[] { (queued, "cancelled by key:admin: not needed"), (running, "cancelled by key:admin: operator") })
        {
            var entry = Assert.Single(failed, e => e.GetProperty("payload").GetProperty("job_id").GetString() == IdOf(location));
            Assert.Equal("cancelled", entry.GetProperty("payload").GetProperty("status").GetString());
            Assert.Equal(why, entry.GetProperty("payload").GetProperty("error").GetString());
        }

        // both replicas list the same jobs, newest first; the state filter reads the shared rows
        var fromA = JsonDocument.Parse(await ca.GetStringAsync("/v1/jobs")).RootElement;
        Assert.Equal(fromA.ToString(), JsonDocument.Parse(await cb.GetStringAsync("/v1/jobs")).RootElement.ToString());
        Assert.Equal([IdOf(queued), IdOf(running)], fromA.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        var page = JsonDocument.Parse(await cb.GetStringAsync("/v1/jobs?state=cancelled&limit=1")).RootElement;
        Assert.Equal(IdOf(queued), page.GetProperty("jobs")[0].GetProperty("id").GetString());
        Assert.Equal(IdOf(queued), page.GetProperty("next").GetString());
        var rest = JsonDocument.Parse(await ca.GetStringAsync("/v1/jobs?state=cancelled&before=" + IdOf(queued))).RootElement;
        Assert.Equal([IdOf(running)], rest.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        using var again = await cb.PostAsync(running + "/cancel", null); // idempotent on the other replica too
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task ReplicaThatStops_HandsItsRunningJobBack_TheOtherTrainsItToTheSameModelAsAnUninterruptedRun()
    {
        // several seconds of training on this machine: A, seen training at its first progress write (a second in), is stopped
        // long before it ends (the 16-wide model's 40,000 steps took 1 to 3 s by session 31 and often ended first)
        const int steps = 40_000;
        var body = JobOperationsTests.Request(steps, seed: 21, config: HandBackConfig);

        // the uninterrupted run, in a home of its own
        string expected;
        using (var alone = ServiceFixture.Create(Path.Combine(f.Dir, "pg-handback-reference"), f.KeysFile))
        using (var c = Admin(alone))
        {
            var job = await JobOperationsTests.WaitAsync(c, await JobOperationsTests.SubmitAsync(c, body), JobOperationsTests.Ended);
            Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
            expected = job.GetProperty("model_id").GetString()!;
        }

        using var db = TestPostgres.CreateDatabase();
        var a = Replica(db, "pg-handback-a");
        string location;
        using (var ca = Admin(a))
        {
            location = await JobOperationsTests.SubmitAsync(ca, body);
            var caught = await JobOperationsTests.WaitAsync(ca, location, j => JobOperationsTests.Stepping(j) || JobOperationsTests.Ended(j), pollMilliseconds: 50);
            Assert.True(caught.GetProperty("status").GetString() == "running", "A finished before it could be stopped: " + caught);
        }

        // A is stopped as soon as it is seen training (starting B first took long enough, seconds under load, for A to finish)
        a.Dispose(); // SIGTERM's path: the host stops, the trainer's token is cancelled
        Assert.Equal("queued", (string)db.Scalar($"SELECT status FROM training_job WHERE id = '{IdOf(location)}'")!); // handed back
        using var b = Replica(db, "pg-handback-b");
        using var cb = Admin(b);
        var done = await JobOperationsTests.WaitAsync(cb, location, JobOperationsTests.Ended, seconds: 180);
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());
        Assert.Equal(steps, done.GetProperty("step").GetInt32());
        Assert.Equal(expected, done.GetProperty("model_id").GetString()); // trained from scratch: the same weights
        Assert.Equal(2, (int)db.Scalar($"SELECT attempts FROM training_job WHERE id = '{IdOf(location)}'")!);
        Assert.Equal(2, done.GetProperty("attempts").GetInt32()); // GET /v1/jobs/{id} answers the count: claimed by A, then by B

        var released = Assert.Single(await RunFailedAsync(cb));
        Assert.Equal("released", released.GetProperty("payload").GetProperty("status").GetString());
        Assert.Equal(TrainingJobs.ReleasedMessage, released.GetProperty("payload").GetProperty("error").GetString());
        Assert.Equal(1, released.GetProperty("payload").GetProperty("attempts").GetInt32());
    }

    // a model six times as wide as JobOperationsTests', with two blocks and twice its batch (about 6 s for 40,000 steps on
    // a quiet machine, where JobOperationsTests' ended in 1 to 3 s)
    private const string HandBackConfig = """{"hidden": 96, "blocks": 2, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""";

    // a job of 10 steps queued in the shared table and claimed by replica "a" at 1,000 ms with a lease to 2,000 ms
    private static JobView QueuedAndClaimedByA(SharedJobs jobs, string id)
    {
        var view = new JobView(id, JobStatus.Queued, 0, 10, null, null, null, null, "2026-01-01T00:00:00.0000000Z", null, 0);
        Assert.True(jobs.TryQueue(view, "{}", "key:trainer", 8, Crucible.Governance.Manifests.ManifestFile.Named("request", [1])));
        Assert.Equal(view.Id, jobs.Claim("a", now: 1_000, leaseUntil: 2_000)?.Id);
        return view;
    }

    // a replica whose lease ran out (cut off from the database for longer than the lease) while another replica claimed
    // the job again: its late end leaves the row the other replica now runs; it was written over it, so the job answered
    // the first replica's end (here failed) while the second trained it, and then flipped to the second's end
    [Fact]
    public void LateEnd_OfAReplicaWhoseLeaseRanOut_LeavesTheRowTheOtherReplicaRuns()
    {
        using var db = TestPostgres.CreateDatabase();
        using var jobs = new SharedJobs(db.ConnectionString);
        var view = QueuedAndClaimedByA(jobs, "0123456789abcdef0123456789abcdef");
        Assert.Equal(view.Id, jobs.Claim("b", now: 3_000, leaseUntil: 4_000)?.Id); // a's lease ran out

        jobs.Finish(view.Id, "a", JobStatus.Failed, null, null, null, "a's late end", "2026-01-01T00:00:03.0000000Z");
        var row = jobs.Find(view.Id)!;
        Assert.Equal(JobStatus.Running, row.Status);
        Assert.Null(row.Error);
        Assert.Equal(2, row.Attempts);

        jobs.Finish(view.Id, "b", JobStatus.Succeeded, 0.5, new string('a', 64), "r", null, "2026-01-01T00:00:04.0000000Z");
        Assert.Equal(JobStatus.Succeeded, jobs.Find(view.Id)!.Status);
    }

    [Fact]
    public void AReplicaWhoseLeaseRanOut_NeitherRenewsNorWritesProgress_OverTheReplicaThatTookTheJobOver_AndIsToldSo()
    {
        // Renew and Progress matched the job id alone: replica a, still training a job that b had claimed since, renewed
        // b's lease and wrote its own steps into b's row, and went on training the same job as b
        using var db = TestPostgres.CreateDatabase();
        using var jobs = new SharedJobs(db.ConnectionString);
        var view = QueuedAndClaimedByA(jobs, "fedcba9876543210fedcba9876543210");
        Assert.Equal(new LeaseState(true, null), jobs.Progress(view.Id, "a", 3, 10, 0.5, leaseUntil: 2_500));
        Assert.Equal(view.Id, jobs.Claim("b", now: 3_000, leaseUntil: 4_000)?.Id); // a's lease ran out

        Assert.Equal(new LeaseState(false, null), jobs.Renew(view.Id, "a", leaseUntil: 10_000));
        Assert.Equal(new LeaseState(false, null), jobs.Progress(view.Id, "a", 7, 10, 0.1, leaseUntil: 10_000));
        Assert.DoesNotContain(view.Id, jobs.Leased(5_000)); // b's lease (4,000) stands: a's renewal wrote nothing
        var row = jobs.Find(view.Id)!;
        Assert.Equal(0, row.Step); // b's claim started it over; a's step 7 is not in it
        Assert.Null(row.Loss);

        Assert.Equal(new LeaseState(true, null), jobs.Renew(view.Id, "b", leaseUntil: 10_000));
        Assert.Contains(view.Id, jobs.Leased(5_000));
        Assert.True(jobs.RequestCancel(view.Id, "cancelled by key:x"));
        Assert.Equal(new LeaseState(true, "cancelled by key:x"), jobs.Progress(view.Id, "b", 1, 10, 0.9, leaseUntil: 11_000));
    }
}
