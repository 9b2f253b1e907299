using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Governance.Audit;
using Crucible.Service.Scenarios;
using Crucible.Tests.Postgres;

namespace Crucible.Service.Tests;

/// <summary>
/// Several replicas on one PostgreSQL (<c>crucible serve --store postgres:…</c>): two real service processes on two
/// ports share the model registry, the audit chain and the idempotency keys.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class PostgresStoreTests(ServiceFixture f)
{
    private sealed record Ack(int Replica, long Seq, string CsvSha256);

    /// <summary>
    /// Two in-process replicas on one PostgreSQL database (homes PREFIX-a-DB and PREFIX-b-DB, sharing the audit
    /// signing key) with admin clients.
    /// </summary>
    private sealed class Replicas : IDisposable
    {
        private readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _a, _b;

        public Replicas(ServiceFixture f, TestDatabase db, string prefix)
        {
            var homes = new[] { Path.Combine(f.Dir, $"{prefix}-a-{db.Name}"), Path.Combine(f.Dir, $"{prefix}-b-{db.Name}") };
            (HomeA, HomeB) = (homes[0], homes[1]);
            var keyA = Path.Combine(homes[0], "keys", AuditSigningKey.PrivateFileName);
            AuditSigningKey.LoadOrCreate(keyA).Dispose();
            Directory.CreateDirectory(Path.Combine(homes[1], "keys"));
            File.Copy(keyA, Path.Combine(homes[1], "keys", AuditSigningKey.PrivateFileName));
            var settings = new Dictionary<string, string> { ["Store"] = "postgres:" + db.ConnectionString };
            _a = ServiceFixture.Create(homes[0], f.KeysFile, settings);
            _b = ServiceFixture.Create(homes[1], f.KeysFile, settings);
            A = _a.CreateClient();
            B = _b.CreateClient();
            foreach (var c in new[] { A, B }) c.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["admin"]);
        }

        public HttpClient A { get; }

        public HttpClient B { get; }

        public string HomeA { get; }

        public string HomeB { get; }

        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
            _a.Dispose();
            _b.Dispose();
        }
    }

    [Fact]
    public async Task TwoReplicas_OnePostgres_ConcurrentLoad_OneVerifiedChain_EveryRequestPresent_ReplayOnTheOtherReplica()
    {
        using var db = TestPostgres.CreateDatabase();
        var store = "postgres:" + db.ConnectionString;
        var homes = new[] { Path.Combine(f.Dir, "replica-a-" + db.Name), Path.Combine(f.Dir, "replica-b-" + db.Name) };
        // one signing key for the shared log, given to both replicas (the key file copied alone, as an operator mounts it)
        var keyA = Path.Combine(homes[0], "keys", AuditSigningKey.PrivateFileName);
        AuditSigningKey.LoadOrCreate(keyA).Dispose();
        Directory.CreateDirectory(Path.Combine(homes[1], "keys"));
        File.Copy(keyA, Path.Combine(homes[1], "keys", AuditSigningKey.PrivateFileName));

        // the fixture's tiny tabular model registered once, by the CLI with replica A's home, into the shared store
        using (var register = Process.Start(CrucibleProcess.Cli("model", "register", "--model", f.ModelFolder, "--home", homes[0], "--store", store))!)
        {
            var output = await register.StandardOutput.ReadToEndAsync();
            await register.WaitForExitAsync();
            Assert.True(register.ExitCode == 0, output + await register.StandardError.ReadToEndAsync());
            Assert.StartsWith($"registered: {f.ModelId}", output, StringComparison.Ordinal);
        }

        // both replicas start together (each on a port the OS picks) and are ready before the clock's "ready" mark
        var clock = Stopwatch.StartNew();
        var starting = homes.Select(h => ServeProcess.StartAsync(["--home", h, "--store", store, "--api-keys", f.KeysFile],
            new Dictionary<string, string> { ["Crucible__RateLimitPermits"] = "100000" })).ToList(); // one key drives all the load
        ServeProcess[] replicas;
        try
        {
            replicas = await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var t in starting.Where(t => t.IsCompletedSuccessfully)) (await t).Dispose();
            throw;
        }

        var ready = clock.Elapsed;
        var servers = replicas.Select(r => r.Process).ToArray();
        var stderr = replicas.Select(r => r.Stderr).ToArray();
        var stdout = replicas.Select(r => r.Stdout).ToArray();
        var clients = replicas.Select(r => r.Client(f.Keys["admin"])).ToArray();
        try
        {
            // replica B has never seen the model's folder: it lists it from the shared registry and loads its files from there
            var models = await clients[1].GetStringAsync("/v1/models");
            Assert.Contains(f.ModelId, models, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(homes[1], "models", f.ModelId)));

            // 2 replicas × 4 concurrent clients × 8 requests, CSV answers; each replica first answers one request alone (B
            // loads the model from the shared store then), and all clients start together, so both replicas write at once
            const int perReplica = 4, requests = 8;
            var warmUp = new List<Ack>();
            for (var r = 0; r < 2; r++) warmUp.Add(await Scenario(clients[r], r, 9000 + r));
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var work = new List<Task<List<Ack>>>();
            for (var r = 0; r < 2; r++)
            {
                for (var c = 0; c < perReplica; c++)
                {
                    var (replica, client) = (r, c);
                    work.Add(Task.Run(async () =>
                    {
                        await gate.Task;
                        var acks = new List<Ack>();
                        for (var n = 0; n < requests; n++) acks.Add(await Scenario(clients[replica], replica, (replica * 1000) + (client * 100) + n));
                        return acks;
                    }));
                }
            }

            gate.SetResult();
            var loaded = (await Task.WhenAll(work)).SelectMany(a => a).OrderBy(a => a.Seq).ToList();
            var load = clock.Elapsed - ready;
            var switches = loaded.Zip(loaded.Skip(1)).Count(p => p.First.Replica != p.Second.Replica);
            var acked = warmUp.Concat(loaded).OrderBy(a => a.Seq).ToList();
            Assert.Equal(2 + (2 * perReplica * requests), acked.Count);
            Assert.Equal(acked.Count, acked.Select(a => a.Seq).Distinct().Count());
            // the replicas' entries interleave in the one chain
            Assert.True(switches >= 4, $"only {switches} switches between replicas in {loaded.Count} acknowledged entries");

            // an idempotent request answered by A is replayed by B with A's bytes, and not recorded again
            var body = $$"""{"model": "{{f.ModelId}}", "count": 8, "seed": 4242}""";
            var first = await Post(clients[0], body, "replay-key-1");
            var before = await AuditCount(clients[1]);
            var replay = await Post(clients[1], body, "replay-key-1");
            Assert.Equal(HttpStatusCode.OK, first.Status);
            Assert.Equal(first.Body, replay.Body);
            Assert.Equal(first.Seq, replay.Seq);
            Assert.True(replay.Replayed, "replica B did not mark the answer as a replay");
            Assert.Equal(before, await AuditCount(clients[1]));
            var mismatch = await Post(clients[1], body.Replace("4242", "4243", StringComparison.Ordinal), "replay-key-1");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, mismatch.Status);

            // both replicas verify the shared chain while running
            foreach (var c in clients)
            {
                using var v = JsonDocument.Parse(await c.GetStringAsync("/v1/audit/verify"));
                Assert.True(v.RootElement.GetProperty("ok").GetBoolean(), v.RootElement.GetProperty("message").GetString());
            }

            foreach (var s in servers)
            {
                using var kill = Process.Start("kill", ["-TERM", s.Id.ToString(CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }

            foreach (var (s, i) in servers.Select((s, i) => (s, i)))
            {
                Assert.True(s.WaitForExit(35_000), "no exit within the shutdown timeout");
                Assert.True(s.ExitCode == 0, $"replica {i} exited {s.ExitCode}: {await stderr[i]}");
            }

            // the log never printed the connection string's secrets (there are none here; the store line is redacted form)
            Assert.Contains("state store: postgres:", await stdout[0], StringComparison.Ordinal);

            // one chain: contiguous, verified with the one public key against each replica's exported checkpoints
            using var publicKey = AuditSigningKey.LoadPublic(Path.Combine(homes[0], "keys", AuditSigningKey.PublicFileName));
            foreach (var h in homes)
            {
                // the replica's export of this database (one file per store; the SQLite log's audit-checkpoints.jsonl is not written)
                var exported = Governance.CrucibleHome.Resolve(h).AuditCheckpointsFor(Governance.Storage.StoreLocation.Parse(store));
                Assert.True(File.Exists(exported), exported);
                Assert.False(File.Exists(Path.Combine(h, "audit-checkpoints.jsonl")));
                var v = AuditLog.VerifyPostgres(db.ConnectionString, publicKey, exported);
                Assert.True(v.Ok, v.Message);
            }

            // and so does the CLI, read-only
            using (var cli = Process.Start(CrucibleProcess.Cli("audit", "verify", "--store", store, "--home", homes[1], "--json"))!)
            {
                var output = await cli.StandardOutput.ReadToEndAsync();
                await cli.WaitForExitAsync();
                Assert.True(cli.ExitCode == 0, output + await cli.StandardError.ReadToEndAsync());
                using var json = JsonDocument.Parse(output);
                Assert.True(json.RootElement.GetProperty("checkpoints_checked").GetInt32() >= 4, output);
            }

            using var reader = AuditLog.Open(new AuditLogOptions { PostgresConnectionString = db.ConnectionString });
            var entries = reader.List().ToDictionary(e => e.Seq);
            Assert.Equal(Enumerable.Range(1, entries.Count).Select(i => (long)i), entries.Keys.Order());
            foreach (var a in acked)
            {
                var e = entries[a.Seq];
                Assert.Equal("scenarios.generated", e.Kind);
                using var payload = JsonDocument.Parse(e.Payload);
                Assert.Equal(a.CsvSha256, payload.RootElement.GetProperty("csv_sha256").GetString());
            }

            // the CLI lists the shared log too
            using (var cli = Process.Start(CrucibleProcess.Cli("audit", "log", "--store", store, "--kind", "scenarios.generated", "--json"))!)
            {
                var output = await cli.StandardOutput.ReadToEndAsync();
                await cli.WaitForExitAsync();
                Assert.True(cli.ExitCode == 0, output + await cli.StandardError.ReadToEndAsync());
                using var json = JsonDocument.Parse(output);
                Assert.Equal(entries.Values.Count(e => e.Kind == "scenarios.generated"), json.RootElement.GetArrayLength());
            }

            // each replica signed checkpoints into the shared table when it closed
            Assert.True(reader.Checkpoints().Count >= 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"two replicas: ready in {ready.TotalSeconds:F1} s, {acked.Count} requests in {load.TotalSeconds:F1} s, {switches} replica switches, {entries.Count} entries"));
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
            foreach (var r in replicas) r.Dispose();
        }
    }

    private async Task<Ack> Scenario(HttpClient client, int replica, int seed)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios")
        {
            Content = ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 16, "seed": {{seed}}}"""),
        };
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"replica {replica}: {(int)response.StatusCode} {Encoding.UTF8.GetString(body)}");
        var sha = response.Headers.GetValues("X-Crucible-Csv-Sha256").Single();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), sha);
        return new Ack(replica, long.Parse(response.Headers.GetValues("X-Crucible-Audit-Seq").Single(), CultureInfo.InvariantCulture), sha);
    }

    private static async Task<(HttpStatusCode Status, byte[] Body, string? Seq, bool Replayed)> Post(HttpClient client, string body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        var seq = response.Headers.TryGetValues("X-Crucible-Audit-Seq", out var s) ? s.Single() : null;
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), seq, response.Headers.Contains("Idempotent-Replayed"));
    }

    private static async Task<long> AuditCount(HttpClient client)
    {
        using var v = JsonDocument.Parse(await client.GetStringAsync("/v1/audit/verify"));
        return v.RootElement.GetProperty("entries").GetInt64();
    }

    [Fact]
    public async Task DatabaseConnectionsKilled_AtMostAnUnavailable503_ThenServesAgain_NothingPartialRecorded()
    {
        using var db = TestPostgres.CreateDatabase();
        var home = Path.Combine(f.Dir, "outage-" + db.Name);
        var h = Governance.CrucibleHome.Resolve(home).EnsureExists();
        using (var log = AuditLog.Open(new AuditLogOptions
               {
                   PostgresConnectionString = db.ConnectionString,
                   SigningKeyPath = Path.Combine(h.KeysFolder, AuditSigningKey.PrivateFileName),
                   CheckpointFile = h.AuditCheckpoints,
               }))
        {
            new Governance.Registry.ModelRegistry(h, log).Register(f.ModelFolder);
        }

        using var factory = ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string> { ["Store"] = "postgres:" + db.ConnectionString });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        var body = $$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 1}""";
        var ok = 0;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body))).StatusCode);
        ok++;

        // every server session of the service is ended (a database restart or failover): the pooled connections are dead
        db.Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid();");
        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            using var response = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                ok++;
                break;
            }

            // never a 500: the outage is a 503 problem with Retry-After
            await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "unavailable");
            Assert.True(response.Headers.RetryAfter is not null);
        }

        Assert.True(statuses[^1] == HttpStatusCode.OK, "no recovery: " + string.Join(", ", statuses));
        using var reader = AuditLog.Open(new AuditLogOptions { PostgresConnectionString = db.ConnectionString });
        Assert.Equal(ok, reader.List().Count(e => e.Kind == "scenarios.generated"));
        using (var publicKey = AuditSigningKey.LoadPublic(Path.Combine(h.KeysFolder, AuditSigningKey.PublicFileName)))
        {
            var v = reader.VerifyStored(publicKey, h.AuditCheckpoints);
            Assert.True(v.Ok, v.Message);
        }

        Console.WriteLine("after the sessions were killed: " + string.Join(", ", statuses.Select(x => (int)x)));
    }

    [Fact]
    public async Task TrainingJob_SubmittedToOneReplica_IsSeenAndServedByTheOther()
    {
        using var db = TestPostgres.CreateDatabase();
        using var replicas = new Replicas(f, db, "jobs");
        var (ca, cb) = (replicas.A, replicas.B);

        var csv = RandomWalkPrices.Csv(200, seed: 4, new DateOnly(2020, 1, 1), correlated: true);
        const string config = """{"hidden": 32, "blocks": 1, "time_embedding": 16, "diffusion_steps": 100, "training": {"batch_size": 32, "warmup_steps": 5}}""";
        var body = $$"""{"data_csv": {{JsonSerializer.Serialize(csv)}}, "train_end": "2020-08-31", "steps": 30, "seed": 3, "config": {{config}}}""";
        using var accepted = await ca.PostAsync("/v1/models", ServiceFixture.Json(body));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var location = accepted.Headers.Location!.ToString();

        // replica B answers for a job that A accepted (whichever replica's worker claimed it)
        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonElement job;
        while (true)
        {
            job = JsonDocument.Parse(await cb.GetStringAsync(location)).RootElement.Clone();
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") break;
            Assert.True(DateTime.UtcNow < deadline, "the job did not finish: " + job);
            await Task.Delay(100);
        }

        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal(30, job.GetProperty("step").GetInt32());
        var modelId = job.GetProperty("model_id").GetString()!;
        foreach (var c in new[] { ca, cb })
        {
            Assert.Contains(modelId, await c.GetStringAsync("/v1/models"), StringComparison.Ordinal);
            using var scenarios = await c.PostAsync("/v1/scenarios", ServiceFixture.Json($$"""{"model": "{{modelId}}", "count": 4, "seed": 1}"""));
            Assert.Equal(HttpStatusCode.OK, scenarios.StatusCode);
        }

        Assert.Equal(1L, (long)db.Scalar("SELECT COUNT(*) FROM training_job WHERE status = 'succeeded'")!);
        Assert.Equal(HttpStatusCode.NotFound, (await ca.GetAsync("/v1/jobs/" + Guid.NewGuid().ToString("N"))).StatusCode);
    }

    [Fact]
    public async Task SequenceTrainingJob_OnTheSharedStore_KeepsItsStateFields_AndIsServedByTheOther()
    {
        using var db = TestPostgres.CreateDatabase();
        using var replicas = new Replicas(f, db, "seq-jobs");
        var (ca, cb) = (replicas.A, replicas.B);

        // every shared job runs from its stored row, so the model's state and features show that the row kept them
        var (prices, state) = SequenceJob.Csv();
        using var accepted = await ca.PostAsync("/v1/models", SequenceJob.Body(prices, state, ["VIXCLS", "RV20"]));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(12, (int)db.Scalar("SELECT total_steps FROM training_job")!);
        var job = await SequenceJob.WaitAsync(cb, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var modelId = job.GetProperty("model_id").GetString()!;
        var expected = SequenceJob.Library(Path.Combine(f.Dir, "seq-pg-library-" + db.Name), prices, state, ["VIXCLS", "RV20"]);
        Assert.Equal(expected.ModelId, modelId);
        foreach (var c in new[] { ca, cb })
        {
            // a scenario request first: a replica writes a model's folder into its home on first use
            using var scenarios = await c.PostAsync("/v1/scenarios", ServiceFixture.Json($$$"""{"model": "{{{modelId}}}", "count": 2, "seed": 1, "sampling_steps": 5, "conditions": {"VIXCLS": 40}}"""));
            Assert.Equal(HttpStatusCode.OK, scenarios.StatusCode);
            var manifest = JsonDocument.Parse(await c.GetStringAsync("/v1/models/" + modelId)).RootElement.GetProperty("manifest");
            Assert.Equal(["VIXCLS", "RV20"], manifest.GetProperty("conditions").GetProperty("names").EnumerateArray().Select(n => n.GetString()));
            Assert.Equal(SequenceJob.Sha256(state), manifest.GetProperty("state_data").GetProperty("input_sha256").GetString());
        }
    }

    [Fact]
    public async Task SequenceTrainingJob_OnTheSharedStore_KeepsItsStateMissingFieldsAndWithholdPrices()
    {
        using var db = TestPostgres.CreateDatabase();
        using var replicas = new Replicas(f, db, "seq-missing");

        // the job runs from its stored row: a state with gaps trains only if the row kept state_missing, state_ffill_limit
        // and state_na, and the manifest withholds the last prices only if it kept withhold_prices
        var (prices, clean) = SequenceJob.Csv();
        var state = SequenceJob.GappedState(clean);
        using var accepted = await replicas.A.PostAsync("/v1/models", SequenceJob.Body(prices, state, ["VIXCLS", "RV20"], SequenceJob.GappedFields));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        using (var row = JsonDocument.Parse((string)db.Scalar("SELECT request FROM training_job")!))
        {
            Assert.Equal("ffill", row.RootElement.GetProperty("StateMissing").GetString());
            Assert.Equal(2, row.RootElement.GetProperty("StateFfillLimit").GetInt32());
            Assert.Equal(["."], row.RootElement.GetProperty("StateNa").EnumerateArray().Select(t => t.GetString()));
            Assert.True(row.RootElement.GetProperty("WithholdPrices").GetBoolean());
        }

        var job = await SequenceJob.WaitAsync(replicas.B, accepted.Headers.Location!.ToString());
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        var expected = SequenceJob.Library(Path.Combine(f.Dir, "seq-missing-pg-library-" + db.Name), prices, state, ["VIXCLS", "RV20"],
            missing: SequenceJob.GappedMissing, withholdPrices: true);
        Assert.Equal(expected.ModelId, job.GetProperty("model_id").GetString());
        var manifest = JsonDocument.Parse(await replicas.B.GetStringAsync("/v1/models/" + expected.ModelId)).RootElement.GetProperty("manifest");
        Assert.Equal(3, manifest.GetProperty("state_data").GetProperty("missing").GetProperty("filled").GetInt64());
        Assert.True(manifest.GetProperty("data").GetProperty("last_prices_withheld").GetBoolean());
    }

    [Fact]
    public async Task Serve_WithABadStore_Exits2_WithoutThePassword()
    {
        foreach (var bad in new[] { "mysql:Host=x", "postgres:Host=h;Password=pw-leak-1", "postgres:Host=127.0.0.1;Port=1;Username=u;Password=pw-leak-2;Database=d;Timeout=2" })
        {
            using var p = Process.Start(CrucibleProcess.Cli("serve", "--urls", "http://127.0.0.1:0", "--home", Path.Combine(f.Dir, "bad-store-home"),
                "--store", bad, "--api-keys", f.KeysFile))!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var err = await p.StandardError.ReadToEndAsync();
            Assert.True(p.WaitForExit(60_000));
            Assert.True(p.ExitCode == 2, $"{bad}: exit {p.ExitCode}: {err}");
            Assert.Contains("STORE-E", err, StringComparison.Ordinal);
            Assert.DoesNotContain("pw-leak", err + await stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void PostgresIdempotencyStore_InFlight_Mismatch_Replay_Abandon_Expiry_Capacity_AcrossInstances()
    {
        using var db = TestPostgres.CreateDatabase();
        var clock = new ManualClock();
        using var store = new PostgresIdempotencyStore(db.ConnectionString, clock, TimeSpan.FromMinutes(10), capacity: 3, lease: TimeSpan.FromMinutes(1));
        // a second instance is another replica
        using var other = new PostgresIdempotencyStore(db.ConnectionString, clock, TimeSpan.FromMinutes(10), capacity: 3, lease: TimeSpan.FromMinutes(1));
        IdempotencyStoreContract.Check(store, other, clock);

        // many replicas racing on one new key: exactly one proceeds
        var outcomes = Enumerable.Range(0, 16).AsParallel().WithDegreeOfParallelism(16)
            .Select(i => (i % 2 == 0 ? store : other).Begin("race", "one-key", "f").Outcome).ToList();
        Assert.Equal(1, outcomes.Count(o => o == IdempotencyOutcome.Proceed));
        Assert.Equal(15, outcomes.Count(o => o == IdempotencyOutcome.InFlight));
    }

    [Fact]
    public void SharedJobs_ConcurrentClaimsTakeDistinctJobs_AnExpiredLeaseIsClaimedAgain_TheQueueBoundCountsAllReplicas()
    {
        using var db = TestPostgres.CreateDatabase();
        using var a = new Training.SharedJobs(db.ConnectionString);
        using var b = new Training.SharedJobs(db.ConnectionString); // another replica
        static Training.JobView View(int i) => new($"job-{i}", Training.JobStatus.Queued, 0, 30, null, null, null, null, $"2026-01-01T00:00:0{i}.0000000Z", null, 0);
        var body = Governance.Manifests.ManifestFile.Named("request", "{}"u8);
        for (var i = 0; i < 3; i++) Assert.True((i % 2 == 0 ? a : b).TryQueue(View(i), "{}", "key:t", capacity: 3, body));
        Assert.False(b.TryQueue(View(3), "{}", "key:t", capacity: 3, body)); // 3 queued over both replicas: full

        // 8 claimers at once: the three jobs go to three of them, each once, oldest first overall
        var claims = Enumerable.Range(0, 8).AsParallel().WithDegreeOfParallelism(8)
            .Select(i => (Replica: $"r{i}", Claim: (i % 2 == 0 ? a : b).Claim($"r{i}", now: 1_000, leaseUntil: 61_000))).Where(c => c.Claim is not null).ToList();
        var claimed = claims.Select(c => c.Claim!.Value).ToList();
        Assert.Equal(["job-0", "job-1", "job-2"], claimed.Select(c => c.Id).Order());
        Assert.All(claimed, c => Assert.Equal(body, c.Body)); // the request body's hash and size travel with the row
        Assert.Equal(Training.JobStatus.Running, a.Find("job-1")!.Status);
        Assert.Null(a.Claim("late", now: 2_000, leaseUntil: 62_000));

        // job-1's replica renews; the others' leases run out and another replica claims them again
        Assert.True(b.Renew("job-1", claims.Single(c => c.Claim!.Value.Id == "job-1").Replica, 200_000).Held);
        a.Finish("job-2", claims.Single(c => c.Claim!.Value.Id == "job-2").Replica, Training.JobStatus.Succeeded, 0.25, "model", "run-2", null, "2026-01-01T00:01:00.0000000Z");
        var again = a.Claim("survivor", now: 100_000, leaseUntil: 160_000);
        Assert.Equal("job-0", again!.Value.Id);
        Assert.Null(b.Claim("survivor-2", now: 100_000, leaseUntil: 160_000));
        Assert.Equal(Training.JobStatus.Succeeded, b.Find("job-2")!.Status);
        Assert.Equal("model", b.Find("job-2")!.ModelId);
        Assert.Equal("run-2", b.Find("job-2")!.RunId);
        Assert.Equal(0.25, b.Find("job-2")!.Loss); // the final loss the finished job reports
        Assert.Null(b.Find("job-1")!.RunId);
        Assert.True(a.TryQueue(View(4), "{}", "key:t", capacity: 3, body));
    }
    // the fixture's model, registered through replica A's home in the shared store (replica B has no folder of it yet)
    private void RegisterTheModel(TestDatabase db, Replicas replicas)
    {
        using var log = AuditLog.Open(new AuditLogOptions { PostgresConnectionString = db.ConnectionString });
        new Governance.Registry.ModelRegistry(Governance.CrucibleHome.Resolve(replicas.HomeA), log).Register(f.ModelFolder);
    }

    [Fact]
    public async Task SecondReplica_AnswersTheModelManifest_AndTheRunManifest_WithTheSameBytes()
    {
        using var db = TestPostgres.CreateDatabase();
        using var replicas = new Replicas(f, db, "runs");
        RegisterTheModel(db, replicas);

        // replica B has never loaded the model (no folder in its home): the registered manifest comes from the shared store
        Assert.False(Directory.Exists(Path.Combine(replicas.HomeB, "models", f.ModelId)));
        using var detail = JsonDocument.Parse(await replicas.B.GetStringAsync("/v1/models/" + f.ModelId));
        var manifest = detail.RootElement.GetProperty("manifest");
        Assert.Equal(JsonValueKind.Object, manifest.ValueKind);
        using (var file = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(f.ModelFolder, "manifest.json"))))
            Assert.True(JsonElement.DeepEquals(file.RootElement, manifest));
        Assert.Equal("tabular", detail.RootElement.GetProperty("model").GetProperty("kind").GetString());
        using (var list = JsonDocument.Parse(await replicas.B.GetStringAsync("/v1/models")))
            Assert.Equal(["A", "B"], list.RootElement.GetProperty("models")[0].GetProperty("columns").EnumerateArray().Select(c => c.GetString()));

        // a run answered by A: B answers its manifest with A's bytes, and the shared chain pins them
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 6, "seed": 5}""") };
        request.Headers.Accept.ParseAdd("text/csv");
        using var answered = await replicas.A.SendAsync(request);
        var csv = await answered.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        var runId = answered.Headers.GetValues("Crucible-Run-Id").Single();
        var fromA = await replicas.A.GetByteArrayAsync("/v1/runs/" + runId);
        var fromB = await replicas.B.GetByteArrayAsync("/v1/runs/" + runId);
        Assert.Equal(fromA, fromB);
        var run = Governance.Manifests.RunManifest.Parse(fromB);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(csv)), run.Outputs.Single(o => o.Path == "response").Sha256);
        using var reader = AuditLog.Open(new AuditLogOptions { PostgresConnectionString = db.ConnectionString });
        var completed = reader.ListKinds(AuditKind.RunCompleted).Select(e => JsonDocument.Parse(e.Payload).RootElement)
            .Single(p => p.GetProperty("run_id").GetString() == runId);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(fromB)), completed.GetProperty("manifest_sha256").GetString());
        await Problem.AssertAsync(await replicas.B.GetAsync("/v1/runs/" + Guid.NewGuid().ToString("N")), HttpStatusCode.NotFound, "not-found");
    }

    // a replica's first load of a model that fails for a reason that passes (here its home cannot write the model's folder
    // from the shared store: the materialise lock's path is taken by a folder; a full disk or the store out of reach alike)
    // is not kept: once the cause is gone the next request loads the model. The failed load stayed cached (Lazy keeps an
    // exception) and every later request for the model failed the same way until the replica restarted.
    [Fact]
    public async Task FirstLoadThatFailsForAPassingReason_IsNotKept_TheNextRequestLoadsTheModel()
    {
        using var db = TestPostgres.CreateDatabase();
        using var replicas = new Replicas(f, db, "reload");
        RegisterTheModel(db, replicas);
        var blocker = Path.Combine(replicas.HomeB, "models", ".materialise.lock");
        Directory.CreateDirectory(blocker);

        HttpRequestMessage Request() => new(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 3, "seed": 5}""") };
        using (var failed = await replicas.B.SendAsync(Request()))
            Assert.NotEqual(HttpStatusCode.OK, failed.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(replicas.HomeB, "models", f.ModelId)));

        Directory.Delete(blocker);
        using var served = await replicas.B.SendAsync(Request());
        Assert.True(served.StatusCode == HttpStatusCode.OK, await served.Content.ReadAsStringAsync());
    }
}
