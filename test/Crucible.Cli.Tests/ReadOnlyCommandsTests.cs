using System.Security.Cryptography;
using Crucible.Tests.Postgres;

namespace Crucible.Cli.Tests;

/// <summary>
/// Session 29: the commands that only read the audit log or the registry (<c>model list</c>, <c>audit log</c>,
/// <c>audit verify</c>) write nothing, on SQLite and on PostgreSQL: no signing key is created in a home that has none, no
/// checkpoint is exported or appended to the home's export files, no table is created. <c>model list</c> opened the log as
/// a writer before (<c>AuditLog.Open</c>): it created <c>audit.db</c> and the key in a new home, refused a home whose key
/// is kept elsewhere (<c>AUDIT-E-KEY</c>), and on PostgreSQL created the key, ran the schema statements and exported the
/// database's pending checkpoints to the home. Every home is compared file by file (existence and bytes) before and after,
/// and each listing with the one a home holding the key printed. A writer still exports the pending checkpoints when it
/// opens. The PostgreSQL server is <c>CRUCIBLE_TEST_POSTGRES</c> or scripts/test-postgres.sh's; those tests fail, never
/// skip, without one.
/// </summary>
public sealed class ReadOnlyCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-read-only-").FullName;
    private TestDatabase? _db;

    public void Dispose()
    {
        _db?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (int Exit, string Stdout, string Stderr) In(string home, params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, home) }, args);

    private (int Exit, string Stdout, string Stderr) Ok(string home, params string[] args)
    {
        var r = In(home, args);
        Assert.True(r.Exit == 0, $"{string.Join(' ', args)} in {home}: exit {r.Exit}: {r.Stdout}{r.Stderr}");
        return r;
    }

    // every file under the home (relative path -> SHA-256 of its bytes), SQLite's audit.db-wal and audit.db-shm included:
    // a reader leaves none that was not there (SqliteAuditStore.ConnectReader)
    private Dictionary<string, string> Snapshot(string home)
    {
        var root = Path.Combine(_dir, home);
        if (!Directory.Exists(root)) return [];
        return Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal);
    }

    private static void AssertSame(Dictionary<string, string> before, Dictionary<string, string> after, string what)
    {
        Assert.True(before.Keys.Order(StringComparer.Ordinal).SequenceEqual(after.Keys.Order(StringComparer.Ordinal)),
            $"{what}: files before [{string.Join(", ", before.Keys.Order(StringComparer.Ordinal))}], after [{string.Join(", ", after.Keys.Order(StringComparer.Ordinal))}]");
        foreach (var (file, sha) in before) Assert.True(sha == after[file], $"{what}: {file} changed");
    }

    private string TrainSmall(string home, string model)
    {
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        Ok(home, "train", "--data", TestPrices.Write(Path.Combine(_dir, "prices.csv"), 120), "--steps", "3", "--config", config, "--out", Path.Combine(_dir, model));
        return Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(_dir, model, "weights.safetensors"))));
    }

    [Fact]
    public void Sqlite_ReadOnlyCommands_CreateNoKeyNoLogNoExport_AndListAsBefore()
    {
        string id = TrainSmall("home", "m"); // registers the model: audit.db, keys/, audit-checkpoints.jsonl
        string[][] reads = [["model", "list"], ["model", "list", "--json"], ["audit", "log"], ["audit", "log", "--json"]];
        var before = Snapshot("home");
        var printed = reads.Select(args => Ok("home", args).Stdout).ToList();
        Assert.Contains(id, printed[0], StringComparison.Ordinal);
        AssertSame(before, Snapshot("home"), "reads in a home with its key");

        // the key kept elsewhere (an operator's copy of a service home): reading needs no private key, and none is made
        string publicKey = Path.Combine(_dir, "audit-checkpoint.pub.pem");
        File.Copy(Path.Combine(_dir, "home", "keys", "audit-checkpoint.pub.pem"), publicKey);
        Directory.Delete(Path.Combine(_dir, "home", "keys"), recursive: true);
        before = Snapshot("home");
        for (var i = 0; i < reads.Length; i++) Assert.Equal(printed[i], Ok("home", reads[i]).Stdout);
        Ok("home", "audit", "verify", "--public-key", publicKey);
        AssertSame(before, Snapshot("home"), "reads in a home without its key");
        Assert.False(Directory.Exists(Path.Combine(_dir, "home", "keys")), "a read-only command created a signing key");

        // a home that has no log yet: an empty inventory, and still no audit.db and no key
        Directory.CreateDirectory(Path.Combine(_dir, "new"));
        var list = Ok("new", "model", "list");
        Assert.Equal($"no models registered in {Path.Combine(_dir, "new", "models")}", list.Stdout.Trim());
        Assert.Equal("[]", Ok("new", "model", "list", "--json").Stdout.Trim());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_dir, "new")));
    }

    [Fact]
    public void Postgres_ReadOnlyCommands_CreateNoKeyNoExport_FromAnyHome_AndAWriterStillExportsAtOpen()
    {
        _db = TestPostgres.CreateDatabase();
        string store = "postgres:" + _db.ConnectionString;
        string id = TrainSmall("train-home", "m");

        // replica one registers (its close signs checkpoint 1, exported to one's file); replica two, with the shared key,
        // retires the model (checkpoint 2, exported to two's file only)
        Ok("one", "model", "register", "--store", store, "--model", Path.Combine(_dir, "m"));
        Directory.CreateDirectory(Path.Combine(_dir, "two", "keys"));
        foreach (var key in Directory.GetFiles(Path.Combine(_dir, "one", "keys")))
            File.Copy(key, Path.Combine(_dir, "two", "keys", Path.GetFileName(key)));
        Ok("two", "model", "status", "--store", store, "--id", id, "--status", "retired", "--reason", "superseded");
        var export = Assert.Single(Directory.GetFiles(Path.Combine(_dir, "one"), "audit-checkpoints.postgres-*.jsonl"));
        Assert.Single(File.ReadAllLines(export));

        // replica one reads: the pending checkpoint 2 is not exported to its file, nothing else changes
        string[][] reads = [["model", "list", "--store", store], ["model", "list", "--store", store, "--json"], ["audit", "log", "--store", store, "--json"]];
        var before = Snapshot("one");
        var printed = reads.Select(args => Ok("one", args).Stdout).ToList();
        Assert.Contains(id, printed[0], StringComparison.Ordinal);
        Assert.Contains("retired", printed[0], StringComparison.Ordinal);
        AssertSame(before, Snapshot("one"), "reads in replica one's home");

        // a home without the key (an operator's laptop; not even created): the same listings, and nothing written
        for (var i = 0; i < reads.Length; i++) Assert.Equal(printed[i], Ok("reader", reads[i]).Stdout);
        Ok("reader", "audit", "verify", "--store", store, "--public-key", Path.Combine(_dir, "one", "keys", "audit-checkpoint.pub.pem"));
        Assert.False(Directory.Exists(Path.Combine(_dir, "reader")), "a read-only command created the home (and its key or export)");

        // a writer of replica one (this one refused: retired is final) exports the database's pending checkpoint when it opens
        var refused = In("one", "model", "status", "--store", store, "--id", id, "--status", "promoted", "--reason", "again");
        Assert.Equal(2, refused.Exit);
        Assert.Equal(2, File.ReadAllLines(export).Length);
        Assert.Equal(File.ReadAllLines(Assert.Single(Directory.GetFiles(Path.Combine(_dir, "two"), "audit-checkpoints.postgres-*.jsonl")))[^1], File.ReadAllLines(export)[^1]);
    }

    [Fact]
    public void Postgres_ModelList_OnADatabaseWithoutALog_SaysSo_AndCreatesNoTable()
    {
        _db = TestPostgres.CreateDatabase();
        var r = In("reader", "model", "list", "--store", "postgres:" + _db.ConnectionString);
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stdout}{r.Stderr}");
        Assert.Contains("error [AUDIT-E-NOLOG]: this PostgreSQL database holds no Crucible audit log", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
        Assert.Equal(0L, _db.Scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema();"));
        Assert.False(Directory.Exists(Path.Combine(_dir, "reader")));
    }
}
