using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Crucible.Governance.Manifests;
using Crucible.Service.Training;
using Crucible.Tests.Postgres;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crucible.Service.Tests;

/// <summary>
/// Training job folders (<c>HOME/jobs/&lt;job id&gt;</c>): a job deletes its own when it ends; the folders a killed
/// service left are deleted at the next start (the kill is simulated by leaving a folder and starting the app factory
/// again), never one whose lock a live process holds, one of a job running under a valid lease on another replica, a
/// fresh one without a lock, another name, a link, or anything outside <c>jobs/</c>; on the shared store a job
/// re-claimed after its replica died first clears what its earlier attempt left.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class JobFolderTests(ServiceFixture f)
{
    private static string NewJobId() => Guid.NewGuid().ToString("N");

    /// <summary>A folder as a killed job leaves it: its data, a model half written, and its (now free) lock file.</summary>
    private static string Leftover(string home, string id, bool withLock = true, bool old = false)
    {
        var folder = Path.Combine(home, "jobs", id);
        Directory.CreateDirectory(Path.Combine(folder, "model"));
        File.WriteAllText(Path.Combine(folder, "data.csv"), "Date,A\n2020-01-01,1\n");
        File.WriteAllText(Path.Combine(folder, "model", "manifest.json"), "{}");
        if (withLock) File.WriteAllText(Path.Combine(folder, ".job.lock"), "");
        if (old)
        {
            foreach (var p in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)) File.SetLastWriteTimeUtc(p, DateTime.UtcNow.AddHours(-1));
            Directory.SetLastWriteTimeUtc(Path.Combine(folder, "model"), DateTime.UtcNow.AddHours(-1));
            Directory.SetLastWriteTimeUtc(folder, DateTime.UtcNow.AddHours(-1));
        }

        return folder;
    }

    private static WebApplicationFactory<Program> Start(string home, string keys, Logs logs, IReadOnlyDictionary<string, string>? settings = null) =>
        ServiceFixture.Create(home, keys, settings).WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(logs)));

    [Fact]
    public async Task Sqlite_Restart_DeletesTheFoldersNoLiveJobOwns_AndNothingElse()
    {
        var home = Path.Combine(f.Dir, "jobs-home-" + Guid.NewGuid().ToString("N")[..8]);
        var killed = Leftover(home, NewJobId());                      // lock file, free: its process died
        var killedOld = Leftover(home, NewJobId(), withLock: false, old: true); // no lock file (never got one), untouched for an hour
        var creating = Leftover(home, NewJobId(), withLock: false);   // no lock file yet, fresh: may be being created now
        var running = Leftover(home, NewJobId());                     // its lock held: a live process (another service on this home) runs it
        using var held = new FileStream(Path.Combine(running, ".job.lock"), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var notAJob = Leftover(home, "kept-by-someone", old: true);
        var outside = Directory.CreateTempSubdirectory("crucible-outside-").FullName;
        File.WriteAllText(Path.Combine(outside, "precious.txt"), "keep");
        var link = Path.Combine(home, "jobs", NewJobId());
        Directory.CreateSymbolicLink(link, outside);

        var logs = new Logs();
        using (var factory = Start(home, f.KeysFile, logs))
        {
            using var client = factory.CreateClient(); // the host starts: the clean-up runs before the first request
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }

        Assert.False(Directory.Exists(killed));
        Assert.False(Directory.Exists(killedOld));
        foreach (var kept in new[] { creating, running, notAJob }) Assert.True(File.Exists(Path.Combine(kept, "data.csv")), kept);
        Assert.True(File.Exists(Path.Combine(link, "precious.txt"))); // the link is not followed, nor deleted
        Assert.True(File.Exists(Path.Combine(outside, "precious.txt")));
        Assert.Contains("deleted 2 training job folders that no live job owns (left by a killed service)", logs.Messages);
        Directory.Delete(outside, recursive: true);
    }

    [Fact]
    public async Task TrainingJob_DeletesItsFolder_AndItsManifestNamesTheModelFiles()
    {
        var home = Path.Combine(f.Dir, "jobs-run-" + Guid.NewGuid().ToString("N")[..8]);
        var logs = new Logs();
        using var factory = Start(home, f.KeysFile, logs);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["admin"]);
        using var accepted = await client.PostAsync("/v1/models", ServiceFixture.Json(TrainingBody()));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();
        var job = await Finished(client, location);
        Assert.False(Directory.Exists(Path.Combine(home, "jobs", location[(location.LastIndexOf('/') + 1)..])));
        await AssertNamedModelFiles(client, home, job);
    }

    [Fact]
    public async Task Postgres_Start_KeepsALeasedJobsFolder_AReclaimedJobClearsItsEarlierAttempt_AndDeletesItsFolderWhenDone()
    {
        using var db = TestPostgres.CreateDatabase();
        var home = Path.Combine(f.Dir, "jobs-pg-" + db.Name);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var body = ManifestFile.Named("request", Encoding.UTF8.GetBytes(TrainingBody()));
        var request = JsonSerializer.Serialize(JsonSerializer.Deserialize<TrainingRequest>(TrainingBody(), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        string elsewhere = NewJobId(), reclaimed = NewJobId(), expired = NewJobId();
        using (var shared = new SharedJobs(db.ConnectionString))
        {
            JobView View(string id) => new(id, JobStatus.Queued, 0, 12, null, null, null, null, "2026-01-01T00:00:00.0000000Z", null, 0);

            // a job another replica runs now (lease an hour ahead), and one whose replica just died with 4 s of lease left; a
            // third folder has no running job at all
            Assert.True(shared.TryQueue(View(elsewhere), request, "key:admin", 8, body));
            Assert.Equal(elsewhere, shared.Claim("other-replica", now, now + 3_600_000)!.Value.Id);
            Assert.True(shared.TryQueue(View(reclaimed), request, "key:admin", 8, body));
            Assert.Equal(reclaimed, shared.Claim("dead-replica", now, now + 4_000)!.Value.Id);
        }

        // all three folders on this home, locks free (their processes are gone, or on another machine)
        var runningElsewhere = Leftover(home, elsewhere);
        var earlierAttempt = Leftover(home, reclaimed);
        var orphan = Leftover(home, expired);

        // the service's clock stands at the claims' time while it starts (on a loaded machine start-up alone may outlast
        // the 4 s lease), then runs on past the lease
        var logs = new Logs();
        var clock = new HeldClock(DateTimeOffset.FromUnixTimeMilliseconds(now));
        using var factory = Start(home, f.KeysFile, logs, new Dictionary<string, string> { ["Store"] = "postgres:" + db.ConnectionString })
            .WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<TimeProvider>(clock)));
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["admin"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.False(Directory.Exists(orphan));                                    // no live job
        Assert.True(File.Exists(Path.Combine(earlierAttempt, "data.csv")));        // its lease still runs: kept at start
        Assert.Contains("deleted 1 training job folders that no live job owns (left by a killed service)", logs.Messages);

        // the lease runs out, this replica claims the job again: the earlier attempt's files go, the job runs and its folder goes
        clock.Release(TimeSpan.FromSeconds(5));
        var job = await Finished(client, "/v1/jobs/" + reclaimed);
        Assert.Contains(logs.Messages, m => m.Contains($"training job {reclaimed}: removed what an earlier attempt left in its folder", StringComparison.Ordinal));
        Assert.False(Directory.Exists(earlierAttempt));
        Assert.True(File.Exists(Path.Combine(runningElsewhere, "data.csv")));      // the other replica's, under its lease: untouched
        await AssertNamedModelFiles(client, home, job);
    }

    /// <summary>The time <paramref name="held"/> until <see cref="Release"/>, then the system's time moved on by the given amount.</summary>
    private sealed class HeldClock(DateTimeOffset held) : TimeProvider
    {
        private long _shiftTicks = -1;

        public void Release(TimeSpan by) => Interlocked.Exchange(ref _shiftTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() =>
            Interlocked.Read(ref _shiftTicks) is var shift and >= 0 ? System.GetUtcNow() + TimeSpan.FromTicks(shift) : held;
    }

    /// <summary>A tiny tabular training request: 120 days of two random-walk prices, 12 steps, seed 17.</summary>
    internal static string TrainingBody()
    {
        var csv = RandomWalkPrices.Csv(120, seed: 8, new DateOnly(2021, 1, 4), weekdaysOnly: false);
        const string config = """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""";
        return $$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "steps": 12, "seed": 17, "config": {{config}}}""";
    }

    private static async Task<JsonElement> Finished(HttpClient client, string location)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var job = JsonDocument.Parse(await client.GetStringAsync(location)).RootElement.Clone();
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled")
            {
                Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, "the job did not finish: " + job);
            await Task.Delay(100);
        }
    }

    /// <summary>The job's run manifest names weights.safetensors and manifest.json with the registered files' hashes and sizes, and verifies.</summary>
    private static async Task AssertNamedModelFiles(HttpClient client, string home, JsonElement job)
    {
        var modelId = job.GetProperty("model_id").GetString()!;
        var bytes = await client.GetByteArrayAsync("/v1/runs/" + job.GetProperty("run_id").GetString());
        var m = RunManifest.Parse(bytes);
        Assert.Equal(["weights.safetensors", "manifest.json"], m.Outputs.Select(o => o.Path));
        var registered = Path.Combine(home, "models", modelId);
        foreach (var o in m.Outputs)
        {
            Assert.False(o.IsFile);
            Assert.Equal(Governance.FileHash.Sha256(Path.Combine(registered, o.Path)), o.Sha256);
            Assert.Equal(new FileInfo(Path.Combine(registered, o.Path)).Length, o.Bytes);
        }

        Assert.Equal(modelId, m.Outputs[0].Sha256);
        Assert.DoesNotContain(home, Encoding.UTF8.GetString(bytes), StringComparison.Ordinal); // no path of this replica
        var saved = Path.Combine(Path.GetTempPath(), "crucible-run-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllBytes(saved, bytes);
        try
        {
            var verified = ManifestVerifier.Verify(saved);
            Assert.True(verified.Ok);
            Assert.All(verified.Files, x => Assert.Equal(FileCheck.Named, x.Result));
        }
        finally
        {
            File.Delete(saved);
        }
    }

    /// <summary>Collects the service's log messages.</summary>
    private sealed class Logs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages.ToArray();

        public ILogger CreateLogger(string categoryName) => new Collector(_messages);

        public void Dispose()
        {
        }

        private sealed class Collector(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }
}
