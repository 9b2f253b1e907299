using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Tests.Postgres;

namespace Crucible.Cli.Tests;

/// <summary>
/// The commands that record a run, against the PostgreSQL store the service replicas share (<c>--store postgres:…</c>):
/// <c>generate --model ID_PREFIX</c> resolves the prefix through that database's registry (a model registered there only,
/// whose folder the home lacks, is written into the home from the database), and <c>train</c>, <c>generate</c> and
/// <c>evaluate</c> append their entries to that database's log (no SQLite log is created), which <c>audit verify --store</c>
/// verifies; the run manifest goes to the database and to that store's folder in the home (<c>runs.postgres-…/</c>), where
/// <c>verify-run --store</c> finds its pin. A bad <c>--store</c> is the same exit-2 error as on <c>model list</c>. The server
/// is <c>CRUCIBLE_TEST_POSTGRES</c> or scripts/test-postgres.sh's; the tests fail, never skip, without one.
/// </summary>
public sealed class PostgresStoreRunCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-pg-runs-").FullName;
    private readonly TestDatabase _db = TestPostgres.CreateDatabase();

    public void Dispose()
    {
        _db.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Store => "postgres:" + _db.ConnectionString;

    private string P(string name) => Path.Combine(_dir, name);

    private (int Exit, string Stdout, string Stderr) In(string home, params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = P(home) }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private string Config()
    {
        var config = P("small.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        return config;
    }

    private List<JsonElement> Log(string home)
    {
        var log = In(home, "audit", "log", "--store", Store, "--json");
        Assert.True(log.Exit == 0, log.Stderr);
        using var doc = JsonDocument.Parse(log.Stdout);
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private void ShareKeys(string from, string to)
    {
        Directory.CreateDirectory(P(Path.Combine(to, "keys")));
        foreach (var key in Directory.GetFiles(P(Path.Combine(from, "keys"))))
            File.Copy(key, P(Path.Combine(to, "keys", Path.GetFileName(key))));
    }

    // verify-run MANIFEST --store: the files rehash and the database's log pins the manifest (file and stored copy)
    private void AssertPinned(string home, string manifest)
    {
        var verified = In(home, "verify-run", manifest, "--store", Store, "--json");
        Assert.True(verified.Exit == 0, verified.Stdout + verified.Stderr);
        var v = JsonStdout.Single(verified.Stdout);
        Assert.True(v.GetProperty("ok").GetBoolean());
        Assert.Equal("match", v.GetProperty("pin").GetProperty("result").GetString());
        Assert.Equal("match", v.GetProperty("stored").GetProperty("result").GetString());
        Assert.True(v.GetProperty("chain").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public void Generate_ByIdPrefix_OfAModelRegisteredOnlyInPostgres_ResolvesThroughThatStore_AndRecordsTheRunThere()
    {
        var model = P("m");
        var trained = In("train-home", "train", "--data", TestPrices.Write(P("prices.csv"), 120), "--steps", "5", "--config", Config(), "--out", model);
        Assert.True(trained.Exit == 0, trained.Stderr);
        string id = Sha(Path.Combine(model, "weights.safetensors"));
        var registered = In("one", "model", "register", "--store", Store, "--model", model);
        Assert.True(registered.Exit == 0, registered.Stderr);

        // replica two (the shared signing key) has neither the folder nor a SQLite registry: only the database knows the id
        ShareKeys("one", "two");
        var local = In("two", "generate", "--model", id[..12], "--count", "4", "--out", P("local.csv"));
        Assert.Equal(2, local.Exit);
        var generated = In("two", "generate", "--model", id[..12], "--count", "4", "--seed", "3", "--store", Store, "--out", P("s.csv"), "--json");
        Assert.True(generated.Exit == 0, generated.Stderr);
        var d = JsonStdout.Single(generated.Stdout);
        Assert.Equal(id, d.GetProperty("model_id").GetString());
        Assert.True(d.GetProperty("model_registered").GetBoolean()); // the registry standing is the database's
        Assert.Equal(JsonValueKind.Null, d.GetProperty("audit_database").ValueKind);
        Assert.False(File.Exists(P(Path.Combine("two", "audit.db"))), "a postgres store's run wrote a SQLite log");
        Assert.True(File.Exists(P(Path.Combine("two", "models", id, "weights.safetensors"))), "the model was not written into the home from the database");

        var log = Log("two");
        Assert.Equal(["model.registered", "scenarios.generated", "run.completed"], log.Select(e => e.GetProperty("kind").GetString()));
        var seqs = d.GetProperty("audit_seqs").EnumerateArray().Select(s => s.GetInt64()).ToList();
        Assert.Equal([log[1].GetProperty("seq").GetInt64(), log[2].GetProperty("seq").GetInt64()], seqs);
        Assert.Equal(d.GetProperty("run_id").GetString(), log[2].GetProperty("payload").GetProperty("run_id").GetString());
        Assert.Equal(0, In("two", "audit", "verify", "--store", Store).Exit);
        Assert.Equal(0, In("one", "audit", "verify", "--store", Store).Exit);

        // the manifest: in the database and in that store's runs folder of the home, not in runs/ (the SQLite log's)
        var manifest = d.GetProperty("run_manifest").GetString()!;
        Assert.StartsWith(P(Path.Combine("two", "runs.postgres-")), manifest, StringComparison.Ordinal);
        Assert.False(Directory.Exists(P(Path.Combine("two", "runs"))));
        Assert.Equal(log[2].GetProperty("payload").GetProperty("manifest_sha256").GetString(), Sha(manifest));
        AssertPinned("two", manifest);

        // the home can still start a SQLite log of its own: the database's files are no evidence of a lost one
        var sqlite = In("two", "generate", "--model", Path.Combine(P("two"), "models", id), "--count", "2", "--out", P("sqlite.csv"));
        Assert.True(sqlite.Exit == 0, sqlite.Stderr);
        Assert.True(File.Exists(P(Path.Combine("two", "audit.db"))));

        // the registry's hash check: the home's copy changed is refused, not drawn from
        File.AppendAllText(P(Path.Combine("two", "models", id, "manifest.json")), " ");
        var changed = In("two", "generate", "--model", id[..12], "--count", "2", "--store", Store, "--out", P("changed.csv"));
        Assert.Equal(2, changed.Exit);
        Assert.Contains("REG-E-HASH", changed.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("changed.csv")));
    }

    [Fact]
    public void Generate_ARetiredModelsPrefix_InPostgres_IsRefused()
    {
        var model = P("m");
        var trained = In("one", "train", "--data", TestPrices.Write(P("prices.csv"), 120), "--steps", "5", "--config", Config(), "--store", Store, "--out", model);
        Assert.True(trained.Exit == 0, trained.Stderr);
        string id = Sha(Path.Combine(model, "weights.safetensors"));
        var retired = In("one", "model", "status", "--store", Store, "--id", id[..10], "--status", "retired", "--reason", "superseded");
        Assert.True(retired.Exit == 0, retired.Stderr);
        var refused = In("one", "generate", "--model", id[..10], "--count", "2", "--store", Store, "--out", P("s.csv"));
        Assert.Equal(2, refused.Exit);
        Assert.Contains("REG-E-RETIRED", refused.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("s.csv")));
        var allowed = In("one", "generate", "--model", id[..10], "--count", "2", "--store", Store, "--allow-retired", "--out", P("s.csv"));
        Assert.True(allowed.Exit == 0, allowed.Stderr);
    }

    [Fact]
    public void TrainAndEvaluate_WithAPostgresStore_RecordIntoThatLog_AndItVerifies()
    {
        var model = P("m");
        var trained = In("one", "train", "--data", TestPrices.Write(P("prices.csv"), 120), "--steps", "5", "--config", Config(), "--store", Store, "--out", model, "--json");
        Assert.True(trained.Exit == 0, trained.Stderr);
        var t = JsonStdout.Single(trained.Stdout);
        string id = Sha(Path.Combine(model, "weights.safetensors"));
        Assert.Equal(JsonValueKind.Null, t.GetProperty("audit_database").ValueKind);
        Assert.False(File.Exists(P(Path.Combine("one", "audit.db"))), "a postgres store's run wrote a SQLite log");

        // the model is in the database's registry (model list --store), not in a SQLite one
        var listed = In("one", "model", "list", "--store", Store, "--json");
        Assert.True(listed.Exit == 0, listed.Stderr);
        using (var models = JsonDocument.Parse(listed.Stdout))
            Assert.Equal(id, Assert.Single(models.RootElement.EnumerateArray()).GetProperty("id").GetString());

        string returns = TestPrices.Returns(P("returns.csv"), 80);
        var evaluated = In("one", "evaluate", "--real", returns, "--synthetic", returns, "--store", Store, "--out", P("r.json"));
        Assert.True(evaluated.Exit == 0, evaluated.Stderr);
        Assert.False(File.Exists(P(Path.Combine("one", "audit.db"))));

        var log = Log("one");
        Assert.Equal(["model.registered", "run.completed", "evaluation.completed", "run.completed"], log.Select(e => e.GetProperty("kind").GetString()));
        Assert.Equal("train", log[1].GetProperty("payload").GetProperty("command").GetString());
        Assert.Equal(id, log[1].GetProperty("payload").GetProperty("model_id").GetString());
        Assert.Equal(t.GetProperty("run_id").GetString(), log[1].GetProperty("payload").GetProperty("run_id").GetString());
        var verify = In("one", "audit", "verify", "--store", Store, "--json");
        Assert.True(verify.Exit == 0, verify.Stdout + verify.Stderr);
        Assert.Equal(4, JsonStdout.Single(verify.Stdout).GetProperty("entries").GetInt64());

        var manifest = t.GetProperty("run_manifest").GetString()!;
        Assert.StartsWith(P(Path.Combine("one", "runs.postgres-")), manifest, StringComparison.Ordinal);
        AssertPinned("one", manifest);
        var runs = Directory.GetFiles(Path.GetDirectoryName(manifest)!, "*.json");
        Assert.Equal(2, runs.Length);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(manifest)!, ".*")); // no pending marker: the database holds the entry
        foreach (var run in runs) AssertPinned("one", run);

        // the database's pin is not the home's: verify-run against the home's (absent) SQLite log finds no log
        Assert.Equal(2, In("one", "verify-run", manifest, "--home", P("one")).Exit);

        // a run killed between the commit and the file has its manifest in the database only: audit run writes it back
        var original = File.ReadAllBytes(manifest);
        File.Delete(manifest);
        var runId = t.GetProperty("run_id").GetString()!;
        Assert.Equal(2, In("one", "audit", "run", runId).Exit); // the home's SQLite log (none) is not the database's
        var restored = In("one", "audit", "run", runId, "--store", Store, "--out", manifest);
        Assert.True(restored.Exit == 0, restored.Stderr);
        Assert.Equal(original, File.ReadAllBytes(manifest));
        AssertPinned("one", manifest);
    }

    // each command with its required options (files that need not exist: the store is refused before any is read)
    public static TheoryData<string[]> RunCommands => new()
    {
        new[] { "train", "--data", "d.csv", "--out", "m" },
        new[] { "generate", "--model", "m", "--count", "1", "--out", "s.csv" },
        new[] { "evaluate", "--real", "r.csv", "--synthetic", "s.csv", "--out", "r.json" },
        new[] { "stress", "--scenarios", "s.csv", "--portfolio", "p.json", "--out", "o.json" },
        new[] { "ensemble", "--scenarios", "a.csv", "b.csv", "--portfolio", "p.json", "--out", "o.json" },
        new[] { "backtest", "--data", "d.csv", "--portfolio", "p.json", "--generator", "bootstrap", "--out", "o.json" },
        new[] { "baseline", "--data", "d.csv", "--generator", "bootstrap", "--out", "o.csv" },
        new[] { "compare", "--data", "d.csv", "--portfolio", "p.json", "--train-end", "2020-01-01", "--out", "o.json" },
        new[] { "model-card", "--model", "m", "--out", "card.md" },
    };

    [Theory]
    [MemberData(nameof(RunCommands))]
    public void ABadStore_IsTheExit2ErrorOfTheOtherCommands_BeforeAnyWork(string[] command)
    {
        var expected = In("bad", "model", "list", "--store", "mysql:db");
        Assert.Equal(2, expected.Exit);
        var help = In("bad", command[0], "--help");
        Assert.Contains("--store", help.Stdout, StringComparison.Ordinal);
        var refused = In("bad", [.. command, "--store", "mysql:db"]);
        Assert.Equal(2, refused.Exit);
        Assert.Equal(expected.Stderr, refused.Stderr);
        Assert.Equal("", refused.Stdout);
        Assert.False(Directory.Exists(P("bad")));
    }
}
