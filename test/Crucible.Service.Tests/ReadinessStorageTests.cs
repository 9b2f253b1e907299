using System.Net;
using System.Text.Json;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Service.Scenarios;
using Crucible.Tests.Postgres;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crucible.Service.Tests;

/// <summary>
/// Readiness's storage probe (RELIABILITY.md SVC-6): a locked database (SQLite <c>BEGIN EXCLUSIVE</c> held by another
/// connection, PostgreSQL <c>LOCK TABLE … EXCLUSIVE</c>: reads go on, writes wait) is 503 and ready again once released; and a real full
/// store (SVC-10): the idempotency store's SQLite file capped by <c>PRAGMA max_page_count</c>, filled by scenario
/// requests until SQLITE_FULL, answers 503 storage-full and leaves the audit log and the store consistent.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ReadinessStorageTests(ServiceFixture f)
{
    private static readonly Dictionary<string, string> FastProbe = new() { ["ReadinessLockWaitMilliseconds"] = "200" };

    private static SqliteConnection HoldExclusive(string path)
    {
        SQLitePCL.Batteries_V2.Init();
        var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=5000; BEGIN EXCLUSIVE;";
        cmd.ExecuteNonQuery();
        return c;
    }

    [Theory]
    [InlineData("audit.db", "audit: the database is locked")]
    [InlineData("idempotency.db", "idempotency: the database is locked")]
    [InlineData("jobs.db", "jobs: the database is locked")]
    public async Task Ready_Is503_WhileAnotherConnectionHoldsTheWriteLock_And200AfterRelease(string file, string expected)
    {
        var home = Path.Combine(f.Dir, "locked-" + Path.GetFileNameWithoutExtension(file));
        using var factory = ServiceFixture.Create(home, f.KeysFile, FastProbe);
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        using (var holder = HoldExclusive(Path.Combine(home, file)))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var problem = await Problem.AssertAsync(await client.GetAsync("/health/ready"), HttpStatusCode.ServiceUnavailable, "unavailable");
            // a short wait (200 ms, at least the 1 s of Microsoft.Data.Sqlite's own busy retry), not the stores' 30 s:
            // about 1.2 s here; 15 s leaves room for a machine ten times slower and loaded and still tells the two apart
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"readiness took {clock.Elapsed} to report the lock");
            Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode); // live is not readiness
            using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK;";
            rollback.ExecuteNonQuery();
        }

        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var checks = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks");
        Assert.Contains("audit: writable", checks.GetProperty("storage").GetString(), StringComparison.Ordinal);
        Assert.Contains("idempotency: writable", checks.GetProperty("storage").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("deleted")]
    public async Task Ready_Is503_WhenJobsDbIsCorruptOrGone(string damage)
    {
        var home = Path.Combine(f.Dir, "jobs-db-" + damage);
        using var factory = ServiceFixture.Create(home, f.KeysFile, FastProbe);
        using var client = factory.CreateClient();
        using (var ready = await client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var storage = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("storage").GetString();
            Assert.Contains("jobs: writable", storage, StringComparison.Ordinal);
        }

        var path = Path.Combine(home, "jobs.db");
        if (damage == "corrupt")
        {
            // the pages move from the WAL into the file first (else the WAL would still answer for them), then the file is garbage
            using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                c.Open();
                using var checkpoint = c.CreateCommand();
                checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
                checkpoint.ExecuteNonQuery();
            }

            File.WriteAllBytes(path, Enumerable.Range(0, 8192).Select(i => (byte)(i * 31 + 7)).ToArray());
        }
        else
        {
            File.Delete(path);
        }

        var problem = await Problem.AssertAsync(await client.GetAsync("/health/ready"), HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Contains("jobs: ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_Is503_WhenTheDiskHasLessRoomThanTheMinimum()
    {
        // the real free space of the disk under the home, asked for 1 GiB more than it has (the page quota of a fresh
        // connection, 4 TiB, is larger)
        var home = Path.Combine(f.Dir, "small-disk");
        Directory.CreateDirectory(home);
        long more = new DriveInfo(home).AvailableFreeSpace + (1L << 30);
        using var factory = ServiceFixture.Create(home, f.KeysFile, new Dictionary<string, string> { ["ReadinessMinFreeBytes"] = more.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        using var client = factory.CreateClient();
        var problem = await Problem.AssertAsync(await client.GetAsync("/health/ready"), HttpStatusCode.ServiceUnavailable, "storage-full");
        Assert.Contains("free on the disk holding audit.db", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_Ready_Is503_WhileATableIsLockedExclusively_And200AfterRelease()
    {
        using var db = TestPostgres.CreateDatabase();
        var home = Path.Combine(f.Dir, "pg-locked-" + db.Name);
        var settings = new Dictionary<string, string>(FastProbe) { ["Store"] = "postgres:" + db.ConnectionString };
        using var factory = ServiceFixture.Create(home, f.KeysFile, settings);
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        foreach (var (table, expected) in new[] { ("audit_entry", "audit (postgres): the database is locked"), ("idempotency", "idempotency (postgres): the database is locked") })
        {
            using (var holder = new NpgsqlConnection(db.ConnectionString))
            {
                holder.Open();
                using var tx = holder.BeginTransaction();
                using (var lockTable = new NpgsqlCommand($"LOCK TABLE {table} IN EXCLUSIVE MODE;", holder, tx)) lockTable.ExecuteNonQuery();
                var problem = await Problem.AssertAsync(await client.GetAsync("/health/ready"), HttpStatusCode.ServiceUnavailable, "unavailable");
                Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
                tx.Rollback();
            }

            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        }
    }

    [Fact]
    public async Task FullStore_MaxPageCount_Gives503StorageFull_AuditVerifies_AndTheIdempotencyStoreStaysConsistent()
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "full-store"));
        using (var log = AuditLog.Open(home))
            new ModelRegistry(home, log).Register(f.ModelFolder);
        var idempotencyPath = Path.Combine(home.Root, "idempotency.db");
        // the store's file capped a few pages above its empty size (SQLite keeps max_page_count per connection: the
        // service's own connection gets it)
        long emptyPages;
        using (var empty = new IdempotencyStore(idempotencyPath, TimeProvider.System, TimeSpan.FromDays(1), 1024))
        {
            SQLitePCL.Batteries_V2.Init();
            using var c = new SqliteConnection($"Data Source={idempotencyPath};Pooling=False");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA page_count;";
            emptyPages = (long)cmd.ExecuteScalar()!;
        }

        long maxPages = emptyPages + 12;
        using var factory = ServiceFixture.Create(home.Root, f.KeysFile, new Dictionary<string, string> { ["ReadinessMinFreeBytes"] = "8192" })
            .WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IIdempotencyStore>(_ =>
                new IdempotencyStore(idempotencyPath, TimeProvider.System, TimeSpan.FromDays(1), 1024, maxPageCount: maxPages))));
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);

        HttpRequestMessage Post(int i)
        {
            var r = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios") { Content = ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 40, "seed": {{i}}, "sampler": "ddim", "sampling_steps": 5}""") };
            r.Headers.Add("Idempotency-Key", "full-" + i);
            return r;
        }

        var answered = new Dictionary<int, byte[]>();
        int full = -1;
        for (int i = 0; i < 200 && full < 0; i++)
        {
            using var response = await client.SendAsync(Post(i));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                answered[i] = await response.Content.ReadAsByteArrayAsync();
                continue;
            }

            Assert.NotNull(response.Headers.RetryAfter);
            await Problem.AssertAsync(response, HttpStatusCode.ServiceUnavailable, "storage-full");
            full = i;
        }

        Assert.True(full > 0 && answered.Count >= 2, $"the store filled after {answered.Count} answers (at request {full})");
        var notReady = await Problem.AssertAsync(await client.GetAsync("/health/ready"), HttpStatusCode.ServiceUnavailable, "storage-full");
        Assert.Contains("idempotency: storage full", notReady.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // nothing corrupt: every answered request replays byte for byte, the refused one left no claim behind
        foreach (var (i, bytes) in answered)
        {
            using var replay = await client.SendAsync(Post(i));
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
            Assert.Equal(bytes, await replay.Content.ReadAsByteArrayAsync());
        }

        await factory.DisposeAsync();
        Assert.True(AuditLog.Verify(home).Ok, AuditLog.Verify(home).Message);
        var completed = AuditLog.Read(home.AuditDatabase).Count(e => e.Kind == "run.completed");
        Assert.InRange(completed, answered.Count, answered.Count + 1); // the refused one may have been recorded before its answer could be stored
        using (var c = new SqliteConnection($"Data Source={idempotencyPath};Pooling=False"))
        {
            c.Open();
            using var check = c.CreateCommand();
            check.CommandText = "PRAGMA integrity_check;";
            Assert.Equal("ok", (string)check.ExecuteScalar()!);
            check.CommandText = "SELECT COUNT(*), COUNT(status) FROM idempotency;";
            using var rows = check.ExecuteReader();
            Assert.True(rows.Read());
            Assert.Equal(answered.Count, rows.GetInt64(0)); // one row per answered key, none in flight
            Assert.Equal(answered.Count, rows.GetInt64(1));
        }
    }
}
