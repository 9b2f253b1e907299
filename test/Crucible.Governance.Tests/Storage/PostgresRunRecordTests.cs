using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Storage;
using Crucible.Tests.Postgres;

namespace Crucible.Governance.Tests.Storage;

/// <summary>
/// <see cref="RunManifests.Record"/> on a shared PostgreSQL store (the CLI's run commands with <c>--store postgres:…</c>):
/// the database stores and pins the manifest in one transaction, as the service keeps its runs; the file goes to that
/// store's runs folder of the home (<c>runs.postgres-…</c>, named as its checkpoint export) with no pending marker, never
/// to <c>runs/</c>, so the home's SQLite lost-log rule does not count it; <see cref="RunPinVerifier"/> checks the pin in
/// that database. On SQLite the folder is <c>runs/</c>, as before. The server is <c>CRUCIBLE_TEST_POSTGRES</c> or
/// scripts/test-postgres.sh's; the tests fail, never skip, without one.
/// </summary>
public sealed class PostgresRunRecordTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-pg-run-record-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static byte[] Manifest(CrucibleHome home) =>
        RunManifests.Start(home, RunKind.Evaluate, new JsonObject { ["command"] = "evaluate" }, seed: 1).Finish().ToCanonicalJson();

    [Fact]
    public void RunsFolderName_IsRunsOnSqlite_AndNamedAsTheCheckpointExportOnPostgres()
    {
        var home = CrucibleHome.Resolve(_dir);
        var pg = StoreLocation.Parse("postgres:Host=DB.example;Port=5433;Database=risk;Username=u;Password=secret");
        Assert.Equal("runs", StoreLocation.Sqlite(home).RunsFolderName);
        Assert.Equal(home.RunsFolder, home.RunsFolderFor(StoreLocation.Sqlite(home)));
        Assert.Equal("audit-checkpoints." + pg.RunsFolderName["runs.".Length..] + ".jsonl", pg.CheckpointFileName);
        Assert.StartsWith("runs.postgres-db.example-5433-risk-", pg.RunsFolderName, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(home.Root, pg.RunsFolderName), home.RunsFolderFor(pg));
    }

    [Fact]
    public void Record_OnPostgres_PinsAndStoresInTheDatabase_TheFileInTheStoresRunsFolder_AndThePinVerifies()
    {
        using var db = TestPostgres.CreateDatabase();
        var home = CrucibleHome.Resolve(_dir);
        var store = StoreLocation.Parse("postgres:" + db.ConnectionString);
        var bytes = Manifest(home);
        string path, runId = RunManifest.Parse(bytes).RunId;
        using (var log = AuditLog.Open(AuditLogOptions.ForStore(home.EnsureExists(), store)))
        {
            var (file, receipts) = RunManifests.Record(log, home, store, bytes, new JsonObject { ["command"] = "evaluate" },
                [(AuditKind.EvaluationCompleted, new JsonObject { ["report_sha256"] = new string('0', 64) })]);
            path = file;
            Assert.Equal(2, receipts.Count);
            Assert.Equal(bytes, log.ReadRunManifest(runId));
            var completed = log.ListKinds(AuditKind.RunCompleted).Single();
            Assert.Equal(Sha(bytes), JsonNode.Parse(completed.Payload)!["manifest_sha256"]!.GetValue<string>());
        }

        Assert.Equal(Path.Combine(home.RunsFolderFor(store), runId + ".json"), path);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.False(Directory.Exists(home.RunsFolder), "a PostgreSQL run wrote into runs/, the SQLite log's evidence");
        Assert.Empty(Directory.GetFiles(home.RunsFolderFor(store), ".*")); // no pending marker: the entry was committed first
        AuditLog.ThrowIfLost(home); // the home has no SQLite log, and its file is no evidence of a lost one

        var pin = RunPinVerifier.Verify(home, store, path, runId);
        Assert.True(pin.Ok, string.Join(", ", pin.Problems) + " " + pin.Chain.Message);
        File.AppendAllText(path, " ");
        Assert.Equal([PinProblem.FileEdited], RunPinVerifier.Verify(home, store, path, runId).Problems);
    }

    [Fact]
    public void Record_OnSqlite_WritesRunsWithItsMarker_ThenPins_AsBefore()
    {
        var home = CrucibleHome.Resolve(_dir);
        var bytes = Manifest(home);
        var runId = RunManifest.Parse(bytes).RunId;
        using (var log = AuditLog.Open(home))
        {
            var (path, _) = RunManifests.Record(log, home, StoreLocation.Sqlite(home), bytes, new JsonObject { ["command"] = "evaluate" });
            Assert.Equal(Path.Combine(home.RunsFolder, runId + ".json"), path);
            Assert.False(File.Exists(RunManifests.PendingMarkerPath(home, runId)));
        }

        Assert.True(RunPinVerifier.Verify(home, StoreLocation.Sqlite(home), Path.Combine(home.RunsFolder, runId + ".json"), runId).Ok);
    }

    [Fact]
    public void Record_ALogOfTheOtherStore_IsRefused_AndNothingIsStored()
    {
        var home = CrucibleHome.Resolve(_dir);
        var bytes = Manifest(home);
        var pg = StoreLocation.Parse("postgres:Host=127.0.0.1;Database=none");
        using var log = AuditLog.Open(home);
        Assert.Throws<ArgumentException>(() => RunManifests.Record(log, home, pg, bytes, new JsonObject { ["command"] = "evaluate" }));
        Assert.Empty(log.List());
        Assert.False(Directory.Exists(home.RunsFolderFor(pg)));
    }
}
