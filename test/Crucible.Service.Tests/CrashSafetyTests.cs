using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Scenarios;
using Crucible.Service.Security;

namespace Crucible.Service.Tests;

/// <summary>
/// RELIABILITY.md SVC-8 with real processes: <c>kill -9</c> at random moments of <c>crucible generate</c> and of
/// <c>crucible serve</c> answering scenario requests. Afterwards a scenario CSV is absent or complete and matches its
/// <c>.meta.json</c>; the next start removes the temporary files a killed write left; the audit log verifies (no torn
/// entry) and holds every request that was answered; a killed request's idempotency key is usable again once its lease
/// has run out.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class CrashSafetyTests(ServiceFixture f)
{
    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>No CSV, or a complete one whose hash and row count are those of its metadata.</summary>
    private static void AssertAbsentOrComplete(string csv)
    {
        if (!File.Exists(csv)) return;
        var metaPath = global::Crucible.Diffusion.Scenarios.ScenarioCsv.MetadataPath(csv);
        Assert.True(File.Exists(metaPath), "a CSV without its metadata");
        using var meta = JsonDocument.Parse(File.ReadAllText(metaPath));
        Assert.Equal(meta.RootElement.GetProperty("csv_sha256").GetString(), Sha256(csv));
        Assert.Equal(meta.RootElement.GetProperty("rows").GetInt32(), File.ReadAllLines(csv).Length - 1);
    }

    private static string[] Temporaries(string dir) =>
        Directory.Exists(dir) ? Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories) : [];

    [Fact]
    public async Task KillNine_DuringGenerate_LeavesNoPartialFile_AndTheNextRunCleansUp()
    {
        var dir = Path.Combine(f.Dir, "kill-generate");
        var home = Path.Combine(dir, "home");
        var csv = Path.Combine(dir, "out", "s.csv");
        string[] Args(int seed) => ["generate", "--model", f.ModelFolder, "--count", "6000", "--sampler", "ddpm", "--seed",
            seed.ToString(CultureInfo.InvariantCulture), "--out", csv, "--home", home];

        // one whole run, to time it
        var clock = Stopwatch.StartNew();
        using (var first = Process.Start(CrucibleProcess.Cli(Args(0)))!)
        {
            var err = first.StandardError.ReadToEndAsync();
            await first.WaitForExitAsync();
            Assert.True(first.ExitCode == 0, await err);
        }

        var whole = clock.Elapsed;
        AssertAbsentOrComplete(csv);
        var rng = new System.Random(20261121);
        int finished = 1, killed = 0;
        // RELIABILITY SVC-8 asks for 200 kills; each is a process start, so the suite runs 8 and CRUCIBLE_KILL_ROUNDS=200
        // runs the figure (docs/requirements.md records such a run)
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("CRUCIBLE_KILL_ROUNDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var asked)
            && asked > 8 ? asked : 8;
        for (int i = 1; i <= rounds; i++)
        {
            // half the kills late in a run, where the files are written, the rest anywhere from start-up on
            double at = i % 2 == 0 ? (0.7 + (0.3 * rng.NextDouble())) : 0.05 + (0.8 * rng.NextDouble());
            var run = Stopwatch.StartNew();
            using var p = Process.Start(CrucibleProcess.Cli(Args(i)))!;
            _ = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEndAsync();
            if (p.WaitForExit(whole * at))
            {
                Assert.Equal(0, p.ExitCode);
                finished++;
                // the load on a shared machine changes: aim the next kills at the quickest whole run seen, so a slow
                // first run does not let every later run finish before its kill
                whole = TimeSpan.FromTicks(Math.Min(whole.Ticks, run.Elapsed.Ticks));
            }
            else
            {
                p.Kill(); // SIGKILL
                p.WaitForExit();
                killed++;
            }

            AssertAbsentOrComplete(csv);
        }

        Console.WriteLine($"generate: {killed} killed, {finished} finished; a whole run {whole.TotalMilliseconds:F0} ms");
        Assert.True(killed >= 2, $"only {killed} of {rounds} runs were killed");

        // the next run removes what killed writes left and writes a complete pair. A killed write's temporary counts as
        // dead once it is unlocked and older than AtomicFile.DeadTemporaryGrace (younger, it may be a live write's between
        // creating and locking it): wait out the grace of the last one killed, which on a loaded machine can be the
        // instant before this run (CI saw a temporary written 5 s or less before it, rightly kept)
        var youngest = Temporaries(Path.GetDirectoryName(csv)!).Select(File.GetLastWriteTimeUtc).DefaultIfEmpty(DateTime.MinValue).Max();
        var wait = youngest + Crucible.Data.IO.AtomicFile.DeadTemporaryGrace + TimeSpan.FromSeconds(1) - DateTime.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        using (var last = Process.Start(CrucibleProcess.Cli(Args(99)))!)
        {
            var err = last.StandardError.ReadToEndAsync();
            await last.WaitForExitAsync();
            Assert.True(last.ExitCode == 0, await err);
        }

        AssertAbsentOrComplete(csv);
        Assert.True(File.Exists(csv));
        Assert.Empty(Temporaries(Path.GetDirectoryName(csv)!));

        // the audit log verifies, and every scenarios.generated entry names a seed that was run, the last one with the
        // CSV now on disk
        var v = AuditLog.Verify(CrucibleHome.Resolve(home));
        Assert.True(v.Ok, v.Message);
        var generated = AuditLog.Read(Path.Combine(home, "audit.db")).Where(e => e.Kind == "scenarios.generated").ToList();
        Assert.InRange(generated.Count, finished + 1, rounds + 2);
        using var lastEntry = JsonDocument.Parse(generated[^1].Payload);
        Assert.Equal(Sha256(csv), lastEntry.RootElement.GetProperty("csv_sha256").GetString());
        Assert.Equal("99", lastEntry.RootElement.GetProperty("seed").GetString());
    }

    private sealed class Shifted(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + by;
    }

    [Fact]
    public async Task KillNine_DuringScenarioRequests_LeavesAVerifiedAuditLogWithEveryAnsweredRequest()
    {
        var dir = Path.Combine(f.Dir, "kill-serve");
        var home = CrucibleHome.Resolve(Path.Combine(dir, "home"));
        using (var log = AuditLog.Open(home)) new ModelRegistry(home, log).Register(f.ModelFolder);
        var (key, line) = ApiKeyStore.NewKey("ops", new HashSet<string> { "admin" });
        var keys = Path.Combine(dir, "keys");
        File.WriteAllText(keys, line + "\n");
        var rng = new System.Random(77);
        var unanswered = new List<(string Key, string Body)>();
        int answered = 0;
        for (int round = 0; round < 3; round++)
        {
            using var serve = await ServeProcess.StartAsync(["--home", home.Root, "--api-keys", keys]);
            var server = serve.Process;
            using var client = serve.Client(key);
            try
            {
                // six requests, two sampled at a time, then kill -9 at a random moment after the first answer (so that
                // some are answered and some cut off whatever the machine's speed)
                var requests = Enumerable.Range(0, 6).Select(j =>
                {
                    var body = $$"""{"model": "{{f.ModelId}}", "count": 6000, "sampler": "ddpm", "seed": {{(round * 10) + j}}}""";
                    var idem = $"round{round}-{j}";
                    var message = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
                    message.Headers.Add("Idempotency-Key", idem);
                    return (Key: idem, Body: body, Response: client.SendAsync(message));
                }).ToList();
                await Task.WhenAny(requests.Select(r => r.Response)).WaitAsync(TimeSpan.FromSeconds(60));
                await Task.Delay(rng.Next(150));
                server.Kill(); // SIGKILL
                await server.WaitForExitAsync();

                var entries = AuditLog.Read(home.AuditDatabase);
                foreach (var (idem, body, pending) in requests)
                {
                    HttpResponseMessage? response = null;
                    try
                    {
                        response = await pending;
                    }
                    catch (HttpRequestException)
                    {
                    }

                    if (response?.StatusCode == HttpStatusCode.OK)
                    {
                        // an answered request is in the log, with the hash of the bytes the client holds
                        answered++;
                        long seq = long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), CultureInfo.InvariantCulture);
                        var entry = Assert.Single(entries, e => e.Seq == seq);
                        Assert.Equal("scenarios.generated", entry.Kind);
                        Assert.Contains($"\"csv_sha256\":\"{response.Headers.GetValues("X-Crucible-Csv-Sha256").Single()}\"", entry.Payload, StringComparison.Ordinal);
                    }
                    else
                    {
                        unanswered.Add((idem, body));
                    }

                    response?.Dispose();
                }
            }
            finally
            {
                if (!server.HasExited) server.Kill();
            }

            // no torn entry: the chain and its checkpoints verify after every kill
            var v = AuditLog.Verify(home);
            Assert.True(v.Ok, $"round {round}: {v.Message}");
        }

        Console.WriteLine($"serve: {answered} answered, {unanswered.Count} cut off by kill -9 in 3 rounds");
        Assert.NotEmpty(unanswered);
        var generated = AuditLog.Read(home.AuditDatabase).Count(e => e.Kind == "scenarios.generated");
        // entries: every answered request, plus at most the two that were past their audit append when killed, per round
        Assert.InRange(generated, answered, answered + 6);

        // a killed request's key: held by its lease right after the restart (409, or the stored answer if it got that
        // far), free again once the lease has run out — checked on a copy of the store with the clock moved past it
        var copy = Path.Combine(dir, "idempotency-copy");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(home.Root, "idempotency.db*")) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)), overwrite: true);
        using (var later = new IdempotencyStore(Path.Combine(copy, "idempotency.db"), new Shifted(TimeSpan.FromMinutes(11)), TimeSpan.FromHours(24), 1024))
        {
            foreach (var (idem, body) in unanswered)
            {
                var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("application/json\n" + body)));
                var (outcome, stored) = later.Begin("key:ops", idem, fingerprint);
                Assert.True(outcome is IdempotencyOutcome.Proceed or IdempotencyOutcome.Replay, $"{idem}: {outcome}");
                if (stored is not null)
                {
                    // stored before the kill: its audit entry was committed first
                    var seq = long.Parse(stored.Headers.Single(h => h.Key == "X-Crucible-Audit-Seq").Value, CultureInfo.InvariantCulture);
                    Assert.Contains(AuditLog.Read(home.AuditDatabase), e => e.Seq == seq && e.Kind == "scenarios.generated");
                }
            }
        }

        // what a write killed long ago left in the home (deleted at start-up) and one another process is writing now (kept)
        var jobFolder = Path.Combine(home.Root, "jobs", "killed-job");
        Directory.CreateDirectory(jobFolder);
        var stale = Path.Combine(jobFolder, ".data.csv.0123456789abcdef0123456789abcdef.tmp");
        var fresh = Path.Combine(jobFolder, ".data.csv.fedcba9876543210fedcba9876543210.tmp");
        var notOurs = Path.Combine(jobFolder, "notes.tmp");
        foreach (var path in new[] { stale, fresh, notOurs }) File.WriteAllText(path, "partial");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-1));
        File.SetLastWriteTimeUtc(notOurs, DateTime.UtcNow.AddHours(-1));

        // an evaluation's scratch folder left by a killed service an hour ago (deleted), one in use now and a folder
        // that is not a request's scratch (both kept)
        string Scratch(string name, bool old)
        {
            var folder = Path.Combine(home.Root, "evaluations", name);
            Directory.CreateDirectory(folder);
            var file = Path.Combine(folder, "real.csv");
            File.WriteAllText(file, "Date,A\n");
            if (old)
            {
                File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(-1));
                Directory.SetLastWriteTimeUtc(folder, DateTime.UtcNow.AddHours(-1));
            }

            return folder;
        }

        var orphan = Scratch("0123456789abcdef0123456789abcdef", old: true);
        var inUse = Scratch("fedcba9876543210fedcba9876543210", old: false);
        var other = Scratch("kept-by-someone", old: true);

        // a restarted service on the same home serves, finds its log sound, and cleans up
        using var restarted = await ServeProcess.StartAsync(["--home", home.Root, "--api-keys", keys]);
        var again = restarted.Process;
        try
        {
            using var client = restarted.Client(key);
            var (idem, body) = unanswered[^1];
            using var retry = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
            retry.Headers.Add("Idempotency-Key", idem);
            using var response = await client.SendAsync(retry);
            // 409 while the killed request's lease runs; 200 replayed if it was stored; 200 afresh if it never got that far
            Assert.True(response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.OK, $"{response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                long seq = long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), CultureInfo.InvariantCulture);
                Assert.Contains(AuditLog.Read(home.AuditDatabase), e => e.Seq == seq && e.Kind == "scenarios.generated");
            }
        }
        finally
        {
            if (!again.HasExited) again.Kill();
        }

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh) && File.Exists(notOurs));
        Assert.False(Directory.Exists(orphan));
        Assert.True(Directory.Exists(inUse) && Directory.Exists(other));
        File.Delete(fresh);
        File.Delete(notOurs);
        Assert.Empty(Temporaries(home.Root));
        Assert.True(AuditLog.Verify(home).Ok);
    }
}
