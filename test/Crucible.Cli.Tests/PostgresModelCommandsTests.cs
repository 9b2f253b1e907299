using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Tests.Postgres;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>model register --json</c> and <c>model status --json</c> against the PostgreSQL store the service replicas share
/// (<c>--store postgres:…</c>), from two homes (two replicas sharing the signing key): each document is the record that
/// <c>model list --json</c> gives in the other home, its <c>audit_seq</c> is the shared log's entry, <c>audit_database</c>
/// is null (no SQLite file holds it), and a refused transition prints no document. The server is
/// <c>CRUCIBLE_TEST_POSTGRES</c> or scripts/test-postgres.sh's; the test fails, never skips, without one.
/// </summary>
public sealed class PostgresModelCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-pg-model-").FullName;
    private readonly TestDatabase _db = TestPostgres.CreateDatabase();

    public void Dispose()
    {
        _db.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Store => "postgres:" + _db.ConnectionString;

    private (int Exit, string Stdout, string Stderr) In(string home, params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, home) }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private JsonElement Listed(string home, string id)
    {
        var list = In(home, "model", "list", "--store", Store, "--json");
        Assert.True(list.Exit == 0, list.Stderr);
        using var doc = JsonDocument.Parse(list.Stdout);
        return doc.RootElement.EnumerateArray().Single(m => m.GetProperty("id").GetString() == id).Clone();
    }

    private static void AssertListedAs(JsonElement listed, JsonElement document)
    {
        foreach (var member in listed.EnumerateObject())
        {
            Assert.True(document.TryGetProperty(member.Name, out var value), $"no {member.Name} in {document}");
            Assert.Equal(member.Value.ToString(), value.ToString());
            Assert.Equal(member.Value.ValueKind, value.ValueKind);
        }
    }

    private List<JsonElement> Log(string home)
    {
        var log = In(home, "audit", "log", "--store", Store, "--json");
        Assert.True(log.Exit == 0, log.Stderr);
        using var doc = JsonDocument.Parse(log.Stdout);
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    [Fact]
    public void RegisterAndStatus_Json_AgainstThePostgresStore_AreTheSharedRecordAndLogEntry_FromEitherReplica()
    {
        string config = Path.Combine(_dir, "small.json"), model = Path.Combine(_dir, "m");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        var trained = In("train-home", "train", "--data", TestPrices.Write(Path.Combine(_dir, "prices.csv"), 120), "--steps", "5", "--config", config, "--out", model);
        Assert.True(trained.Exit == 0, trained.Stderr);
        string id = Sha(Path.Combine(model, "weights.safetensors"));

        // replica one registers
        var registered = In("one", "model", "register", "--store", Store, "--model", model, "--json");
        Assert.True(registered.Exit == 0, registered.Stderr);
        var d = JsonStdout.Single(registered.Stdout);
        Assert.Equal("model register", d.GetProperty("command").GetString());
        Assert.Equal(id, d.GetProperty("id").GetString());
        Assert.Equal("candidate", d.GetProperty("status").GetString());
        Assert.Equal(Sha(Path.Combine(model, "manifest.json")), d.GetProperty("manifest_sha256").GetString());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("audit_database").ValueKind);
        Assert.False(File.Exists(Path.Combine(_dir, "one", "audit.db")), "a postgres store's command wrote a SQLite log");
        var entry = Assert.Single(Log("one"));
        Assert.Equal("model.registered", entry.GetProperty("kind").GetString());
        Assert.Equal(entry.GetProperty("seq").GetInt64(), d.GetProperty("audit_seq").GetInt64());
        Assert.Equal(entry.GetProperty("seq").GetInt64(), d.GetProperty("registered_seq").GetInt64());

        // replica two, with the shared signing key, sees the same record and changes its status
        Directory.CreateDirectory(Path.Combine(_dir, "two", "keys"));
        foreach (var key in Directory.GetFiles(Path.Combine(_dir, "one", "keys")))
            File.Copy(key, Path.Combine(_dir, "two", "keys", Path.GetFileName(key)));
        AssertListedAs(Listed("two", id), d);
        var retired = In("two", "model", "status", "--store", Store, "--id", id[..12], "--status", "retired", "--reason", "superseded <b>élan</b>", "--json");
        Assert.True(retired.Exit == 0, retired.Stderr);
        var s = JsonStdout.Single(retired.Stdout);
        Assert.Equal("model status", s.GetProperty("command").GetString());
        Assert.Equal("retired", s.GetProperty("status").GetString());
        Assert.Equal("candidate", s.GetProperty("from").GetString());
        Assert.Equal("superseded <b>élan</b>", s.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, s.GetProperty("audit_database").ValueKind);
        AssertListedAs(Listed("one", id), s); // replica one lists what replica two printed
        var log = Log("one");
        Assert.Equal(2, log.Count);
        Assert.Equal("model.status_changed", log[1].GetProperty("kind").GetString());
        Assert.Equal(log[1].GetProperty("seq").GetInt64(), s.GetProperty("audit_seq").GetInt64());
        Assert.Equal(id, log[1].GetProperty("payload").GetProperty("model_id").GetString());

        // a refused transition (retired is terminal) and a second registration: exit 2, nothing on stdout, nothing appended
        var refused = In("one", "model", "status", "--store", Store, "--id", id, "--status", "promoted", "--reason", "again", "--json");
        Assert.Equal(2, refused.Exit);
        Assert.Equal("", refused.Stdout);
        Assert.Contains("REG-E-TRANSITION", refused.Stderr, StringComparison.Ordinal);
        var again = In("two", "model", "register", "--store", Store, "--model", model, "--json");
        Assert.Equal(2, again.Exit);
        Assert.Equal("", again.Stdout);
        Assert.Equal(2, Log("two").Count);
        Assert.Equal(0, In("two", "audit", "verify", "--store", Store).Exit);
    }

    [Fact]
    public void AHomeWithItsOwnSqliteLog_RegistersIntoTheSharedStore_AndBothLogsVerify()
    {
        // an operator's home: trains (its SQLite log exports checkpoints), registers the model into the replicas'
        // database, trains again; each log is checked against its own export (audit-checkpoints.jsonl and
        // audit-checkpoints.postgres-….jsonl), where one shared file gave AUDIT-E-LOST to the new database
        string config = Path.Combine(_dir, "small.json"), prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 120);
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        var trained = In("ops", "train", "--data", prices, "--steps", "5", "--config", config, "--out", Path.Combine(_dir, "m1"));
        Assert.True(trained.Exit == 0, trained.Stderr);
        Assert.True(File.Exists(Path.Combine(_dir, "ops", "audit-checkpoints.jsonl")));

        var registered = In("ops", "model", "register", "--store", Store, "--model", Path.Combine(_dir, "m1"), "--json");
        Assert.True(registered.Exit == 0, registered.Stderr);
        var exports = Directory.GetFiles(Path.Combine(_dir, "ops"), "audit-checkpoints.postgres-*.jsonl");
        Assert.Single(exports);

        var again = In("ops", "train", "--data", prices, "--steps", "5", "--seed", "7", "--config", config, "--out", Path.Combine(_dir, "m2"));
        Assert.True(again.Exit == 0, again.Stderr);
        var local = In("ops", "audit", "verify", "--json");
        Assert.True(local.Exit == 0, local.Stdout + local.Stderr);
        var shared = In("ops", "audit", "verify", "--store", Store, "--json");
        Assert.True(shared.Exit == 0, shared.Stdout + shared.Stderr);
        Assert.Equal(1, JsonStdout.Single(shared.Stdout).GetProperty("entries").GetInt64());
        Assert.True(JsonStdout.Single(shared.Stdout).GetProperty("checkpoints_checked").GetInt64() >= 1);

        // the shared log's default export is its own file: naming the SQLite log's file instead does not verify
        var crossed = In("ops", "audit", "verify", "--store", Store, "--checkpoints", Path.Combine(_dir, "ops", "audit-checkpoints.jsonl"));
        Assert.Equal(3, crossed.Exit);
    }
}
