using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Crucible.Data;
using Crucible.Diffusion.Tabular;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Scenarios;
using Crucible.Service.Security;

namespace Crucible.Service.Tests;

/// <summary>Rate limits (SVC-3), a corrupt model (SVC-9), the keys file and the idempotency store.</summary>
[Collection(ServiceCollection.Name)]
public sealed class RobustnessTests(ServiceFixture f)
{
    [Fact]
    public async Task RateLimit_PerKey_Gives429WithRetryAfter_AndOtherKeysAreUnaffected()
    {
        var home = Path.Combine(f.Dir, "rate-home");
        using var factory = ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string>
        {
            ["RateLimitPermits"] = "10",
            ["RateLimitWindowSeconds"] = "3600", // an hour: the burst cannot straddle a window boundary
        });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["reader"]);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? rejected = null;
        for (int i = 0; i < 50; i++)
        {
            var response = await client.GetAsync("/v1/models");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) rejected ??= response;
        }

        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(40, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.True(rejected!.Headers.RetryAfter?.Delta is { } after && after > TimeSpan.Zero && after <= TimeSpan.FromHours(1));
        await Problem.AssertAsync(rejected, HttpStatusCode.TooManyRequests, "rate-limited");

        using var admin = factory.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["admin"]);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/models")).StatusCode);
        // health is not rate limited
        using var anonymous = factory.CreateClient();
        for (int i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
    }

    // RELIABILITY SVC-6
    [Fact]
    public async Task CorruptModel_Is503_NeverAFallback_AndReadyReportsItDegraded()
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "corrupt-home"));
        string id;
        using (var log = AuditLog.Open(home))
        {
            var record = new ModelRegistry(home, log).Register(f.ModelFolder);
            id = record.Id;
            var bytes = File.ReadAllBytes(record.WeightsPath);
            bytes[^1] ^= 0x40; // flip one bit of the last weight
            File.WriteAllBytes(record.WeightsPath, bytes);
        }

        using var factory = ServiceFixture.Create(home.Root, f.KeysFile);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        Assert.Equal("healthy", await ReadyStatus(client));
        var body = ServiceFixture.Json($$"""{"model": "{{id}}", "count": 5}""");
        var problem = await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", body), HttpStatusCode.ServiceUnavailable, "unavailable");
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Equal($"model {id[..16]}… failed its integrity check [{HashRule(home, id)}]", detail);
        // the client reads the model and the rule, never a path of the server's home (session 25: the detail carried
        // the finding's FILE:LINE:COL, an absolute path under the home)
        Assert.DoesNotContain(home.Root, detail, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.DirectorySeparatorChar.ToString(), detail, StringComparison.Ordinal);
        // SVC-9 with a registry of many models: readiness names the corrupt one and stays 200 ("degraded"), since every
        // replica reads the same registry and a 503 would take the healthy models out of service too
        using (var ready = await client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var json = System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("degraded", json.GetProperty("status").GetString());
            var models = json.GetProperty("checks").GetProperty("models").GetString()!;
            Assert.Contains(id[..16] + "… failed its integrity check", models, StringComparison.Ordinal);
            Assert.DoesNotContain(home.Root, models, StringComparison.Ordinal); // readiness is anonymous
        }

        var last = AuditLog.Read(home.AuditDatabase).Last();
        Assert.Equal("run.failed", last.Kind);
        Assert.Contains(id, last.Payload, StringComparison.Ordinal);
    }

    /// <summary>The rule the registry's own check names for the damaged model (what the 503 must carry, and only it).</summary>
    private static string HashRule(CrucibleHome home, string id)
    {
        using var log = AuditLog.Open(home);
        var e = Assert.ThrowsAny<InvalidInputException>(() => DiffusionGenerator.Load(new ModelRegistry(home, log).Load(id).Folder));
        return e.Rule;
    }

    private static async Task<string?> ReadyStatus(HttpClient client)
    {
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        return System.Text.Json.JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString();
    }

    // RELIABILITY SVC-6
    [Fact]
    public async Task Ready_Is503_WhenTheAuditLogDoesNotVerify_WhileLiveStays200()
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "tampered-home"));
        using (var log = AuditLog.Open(home))
            log.Append(AuditKind.RunStarted, new System.Text.Json.Nodes.JsonObject { ["run_id"] = "r1" });
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile);
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);

        // what someone holding the file can do: drop the guard triggers and edit an entry
        SQLitePCL.Batteries_V2.Init();
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={home.AuditDatabase};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TRIGGER IF EXISTS audit_entry_no_update; UPDATE audit_entry SET payload = CAST('{\"run_id\":\"r2\"}' AS BLOB) WHERE seq = 1;";
            cmd.ExecuteNonQuery();
        }

        var problem = await Problem.AssertAsync(await client.GetAsync("/health/ready"), HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Contains("audit log does not verify", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task IdempotencyKey_ConcurrentDuplicate_Is409_ThenReplays()
    {
        using var client = f.Client("generator");
        var key = "concurrent-" + Guid.NewGuid().ToString("N");
        var body = $$"""{"model": "{{f.ModelId}}", "count": 5000, "sampler": "ddpm", "seed": 99}""";
        HttpRequestMessage Post()
        {
            var r = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
            r.Headers.Add("Idempotency-Key", key);
            return r;
        }

        // sent together: one proceeds, the other arrives while it runs (a 5000-row DDPM request takes a second or more)
        var responses = await Task.WhenAll(client.SendAsync(Post()), client.SendAsync(Post()));
        var original = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        var conflict = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Conflict);
        await Problem.AssertAsync(conflict, HttpStatusCode.Conflict, "idempotency-in-flight");
        Assert.Equal(TimeSpan.FromSeconds(1), conflict.Headers.RetryAfter?.Delta); // retrying later replays the answer: say when
        using var replay = await client.SendAsync(Post());
        Assert.Equal(await original.Content.ReadAsByteArrayAsync(), await replay.Content.ReadAsByteArrayAsync());
    }

    /// <summary>Adds, inside the service's pipeline, a path that fails as a full disk would (SQLite's SQLITE_FULL or ENOSPC).</summary>
    private sealed class FullDiskFilter : Microsoft.AspNetCore.Hosting.IStartupFilter
    {
        public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((Func<Microsoft.AspNetCore.Http.HttpContext, Func<Task>, Task>)((context, _) => context.Request.Path.Value switch
            {
                "/test/sqlite-full" => throw new Microsoft.Data.Sqlite.SqliteException("database or disk is full", 13),
                "/test/enospc" => throw new IOException("No space left on device : '/x'", 28),
                "/test/bug" => throw new InvalidOperationException("a secret internal detail"),
                _ => Task.CompletedTask,
            }));
        };
    }

    // RELIABILITY SVC-1, SVC-10
    [Fact]
    public async Task FullDisk_Is503StorageFull_AndABugIsA500WithoutDetails()
    {
        using var factory = ServiceFixture.Create(Path.Combine(f.Dir, "full-home"), f.KeysFile).WithWebHostBuilder(b =>
            b.ConfigureServices(s => s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, FullDiskFilter>()));
        using var client = factory.CreateClient();
        foreach (var path in new[] { "/test/sqlite-full", "/test/enospc" })
        {
            var response = await client.GetAsync(path);
            Assert.NotNull(response.Headers.RetryAfter);
            await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "storage-full");
        }

        var bug = await Problem.AssertAsync(await client.GetAsync("/test/bug"), HttpStatusCode.InternalServerError, "internal");
        Assert.DoesNotContain("secret internal detail", bug.ToString(), StringComparison.Ordinal);
    }

    // RELIABILITY SVC-4
    [Fact]
    public void Keys_NewLineAuthenticatesItsKeyOnly_InConstantTimeCompare()
    {
        var (key, line) = ApiKeyStore.NewKey("desk-1", new HashSet<string> { "generate", "read" });
        Assert.Matches("^desk-1 generate,read sha256:[0-9a-f]{64}$", line);
        Assert.DoesNotContain(key[(key.IndexOf('.', StringComparison.Ordinal) + 1)..], line, StringComparison.Ordinal);
        var store = ApiKeyStore.Parse(["# comment", "", line], "keys");
        var entry = store.Authenticate(key);
        Assert.NotNull(entry);
        Assert.True(entry.Allows("read") && entry.Allows("generate") && !entry.Allows("train") && !entry.Allows("admin"));
        Assert.Null(store.Authenticate(key + "x"));
        Assert.Null(store.Authenticate("desk-2" + key[6..]));
        Assert.Null(store.Authenticate(""));
        Assert.Null(store.Authenticate(null));
        Assert.True(ApiKeyStore.Parse([ApiKeyStore.NewKey("boss", new HashSet<string> { "admin" }).FileLine], "k").Authenticate(null) is null);
    }

    // RELIABILITY SVC-4
    [Theory]
    [InlineData("desk1 read", "KEYS-E-LINE", 1)]
    [InlineData("desk1 read plaintext-secret", "KEYS-E-HASH", 3)]
    [InlineData("desk1 fly sha256:0000000000000000000000000000000000000000000000000000000000000000", "KEYS-E-SCOPE", 2)]
    [InlineData("de sk1 read sha256:00", "KEYS-E-LINE", 1)]
    [InlineData("d€sk read sha256:0000000000000000000000000000000000000000000000000000000000000000", "KEYS-E-ID", 1)]
    public void Keys_BadLines_AreNamedByLineAndColumn(string bad, string rule, int column)
    {
        var e = Assert.Throws<Crucible.Data.InvalidInputException>(() => ApiKeyStore.Parse(["# ok", bad], "api-keys"));
        Assert.Equal(rule, e.Rule);
        Assert.Equal(2, e.Location!.Line);
        Assert.Equal(column, e.Location.Column);
    }

    [Fact]
    public void Keys_DuplicateIds_AreRefused()
    {
        var a = ApiKeyStore.NewKey("same", new HashSet<string> { "read" }).FileLine;
        var b = ApiKeyStore.NewKey("same", new HashSet<string> { "admin" }).FileLine;
        Assert.Equal("KEYS-E-DUPLICATE", Assert.Throws<Crucible.Data.InvalidInputException>(() => ApiKeyStore.Parse([a, b], "k")).Rule);
    }

    [Fact]
    public void IdempotencyStore_InFlight_Mismatch_Replay_Abandon_Expiry_Lease_Capacity()
    {
        // two instances on one file: two service processes on one home, or a restart (it replays)
        var clock = new ManualClock();
        var path = Path.Combine(f.Dir, $"idem-{Guid.NewGuid():N}.db");
        using var store = new IdempotencyStore(path, clock, TimeSpan.FromMinutes(10), capacity: 3, lease: TimeSpan.FromMinutes(1));
        using var other = new IdempotencyStore(path, clock, TimeSpan.FromMinutes(10), capacity: 3, lease: TimeSpan.FromMinutes(1));
        IdempotencyStoreContract.Check(store, other, clock);
    }

    [Fact]
    public async Task IdempotencyKey_WhenRequired_MissingIs400_AndAKeyedRequestIsAnswered()
    {
        // SVC-5 "missing (when required) → 400": RequireIdempotencyKey (off by default, see the service README)
        using var factory = ServiceFixture.Create(f.Home, f.KeysFile, new Dictionary<string, string> { ["RequireIdempotencyKey"] = "true" });
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        var body = $$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 2, "sampling_steps": 5}""";
        long entries = AuditLog.Read(Path.Combine(f.Home, "audit.db")).Count;
        var missing = await Problem.AssertAsync(await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body)), HttpStatusCode.BadRequest, "malformed-request");
        Assert.Contains("requires an Idempotency-Key header", missing.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(entries, AuditLog.Read(Path.Combine(f.Home, "audit.db")).Count); // a 400 adds nothing

        using var keyed = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json(body) };
        keyed.Headers.Add("Idempotency-Key", "required-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(keyed)).StatusCode);

        // the default: a request without a key is answered
        using var lenient = f.Client("generator");
        Assert.Equal(HttpStatusCode.OK, (await lenient.PostAsync("/v1/scenarios", ServiceFixture.Json(body))).StatusCode);
    }

    [Fact]
    public async Task IdempotencyKey_ReplaysAfterARestart()
    {
        var home = Path.Combine(f.Dir, "restart-home");
        using (var log = AuditLog.Open(CrucibleHome.Resolve(home)))
            new ModelRegistry(CrucibleHome.Resolve(home), log).Register(f.ModelFolder);
        var body = $$"""{"model": "{{f.ModelId}}", "count": 8, "seed": 5}""";
        byte[] first;
        using (var factory = ServiceFixture.Create(home, f.KeysFile))
        using (var client = factory.CreateClient())
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
            client.DefaultRequestHeaders.Add("Idempotency-Key", "restart-1");
            using var response = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            first = await response.Content.ReadAsByteArrayAsync();
        }

        long entries = AuditLog.Read(Path.Combine(home, "audit.db")).Count;
        using (var factory = ServiceFixture.Create(home, f.KeysFile))
        using (var client = factory.CreateClient())
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
            client.DefaultRequestHeaders.Add("Idempotency-Key", "restart-1");
            using var response = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body));
            Assert.Equal("true", response.Headers.GetValues("Idempotent-Replayed").Single());
            Assert.Equal(first, await response.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(entries, AuditLog.Read(Path.Combine(home, "audit.db")).Count);
    }
}
