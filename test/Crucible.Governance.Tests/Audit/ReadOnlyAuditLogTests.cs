using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Governance.Storage;
using Crucible.Tests.Postgres;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// <see cref="AuditLog.OpenReadOnly(AuditLogOptions)"/> (session 29), on SQLite and PostgreSQL: it reads and verifies
/// with no private key, creates no key, exports or appends no checkpoint, creates and upgrades no table, still refuses a
/// lost log (<c>AUDIT-E-LOST</c>), answers <c>AUDIT-E-NOLOG</c> where there is no log, and refuses every write; a writer
/// (<see cref="AuditLog.Open(AuditLogOptions)"/>) still exports the database's pending checkpoints when it opens.
/// </summary>
public sealed class ReadOnlyAuditLogTests : IDisposable
{
    private readonly List<string> _homes = [];
    private readonly List<TestDatabase> _databases = [];

    public void Dispose()
    {
        foreach (var db in _databases) db.Dispose();
        foreach (var h in _homes)
        {
            try
            {
                if (Directory.Exists(h)) Directory.Delete(h, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }

    // a home folder that is not created (created: EnsureExists)
    private CrucibleHome NewHome(bool created = true)
    {
        var home = CrucibleHome.Resolve(Path.Combine(Path.GetTempPath(), "crucible-read-only-" + Guid.NewGuid().ToString("N")));
        _homes.Add(home.Root);
        return created ? home.EnsureExists() : home;
    }

    private StoreLocation NewDatabase()
    {
        var db = TestPostgres.CreateDatabase();
        _databases.Add(db);
        return StoreLocation.Parse("postgres:" + db.ConnectionString);
    }

    private TestDatabase Database(StoreLocation store) => _databases.Single(d => d.ConnectionString == store.Value);

    private static AuditLogOptions Small(AuditLogOptions o) => new()
    {
        Home = o.Home,
        DatabasePath = o.DatabasePath,
        PostgresConnectionString = o.PostgresConnectionString,
        SigningKeyPath = o.SigningKeyPath,
        CheckpointFile = o.CheckpointFile,
        CheckpointInterval = 4,
        DefaultActor = "test",
    };

    private static void Fill(AuditLogOptions options, int count, string tag)
    {
        using var log = AuditLog.Open(Small(options));
        for (var i = 1; i <= count; i++) log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = $"{tag}-{i}", ["step"] = i });
    }

    // existence and bytes of every file under the home, but SQLite's shared-memory index and an empty write-ahead log,
    // which a read-only SQLite connection to a WAL database creates and cannot remove (they hold no data)
    private static Dictionary<string, string> Snapshot(CrucibleHome home) => !Directory.Exists(home.Root) ? [] : Directory
        .GetFiles(home.Root, "*", SearchOption.AllDirectories)
        .Where(f => !f.EndsWith("-shm", StringComparison.Ordinal) && !(f.EndsWith("-wal", StringComparison.Ordinal) && new FileInfo(f).Length == 0))
        .ToDictionary(f => Path.GetRelativePath(home.Root, f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal);

    private static void AssertSame(Dictionary<string, string> before, Dictionary<string, string> after)
    {
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, sha) in before) Assert.True(sha == after[file], file + " changed");
    }

    private static long[] Seqs(string file) =>
        [.. File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!["seq"]!.GetValue<long>())];

    // a folder with what the registry copies (it loads no model): weights of its own and a JSON manifest
    private string ModelFolder(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "crucible-read-only-model-" + name + "-" + Guid.NewGuid().ToString("N"));
        _homes.Add(folder);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, ModelRegistry.WeightsFileName), System.Text.Encoding.UTF8.GetBytes("weights of " + folder));
        File.WriteAllText(Path.Combine(folder, ModelRegistry.ManifestFileName), "{}");
        return folder;
    }

    // every write is refused before anything is written (the snapshots around it are compared by the callers)
    private void AssertWritesRefused(AuditLog log, CrucibleHome home)
    {
        Assert.Throws<InvalidOperationException>(() => log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "x" }));
        Assert.Throws<InvalidOperationException>(() => log.Checkpoint());
        Assert.Throws<InvalidOperationException>(() => log.RotateKey());
        var registry = new ModelRegistry(home, log);
        Assert.Throws<InvalidOperationException>(() => registry.Register(ModelFolder("refused")));
        Assert.Throws<InvalidOperationException>(() => registry.ChangeStatus(new string('a', 64), ModelStatus.Retired, "r"));
    }

    [Fact]
    public void Sqlite_ReadsAndVerifiesWithoutTheKey_CreatesNoKey_AndChangesNoFile()
    {
        var home = NewHome();
        Fill(AuditLogOptions.ForHome(home), 6, "run");           // checkpoints 4 and 6, exported
        string id;
        using (var writer = AuditLog.Open(Small(AuditLogOptions.ForHome(home))))
        {
            id = new ModelRegistry(home, writer).Register(ModelFolder("registered")).Id; // entry 7, checkpoint 7 at close
        }

        // the pending marker that a registration killed after its entry left: a writer's registry removes it (ModelRegistryTests.
        // OpeningTheRegistry_AndVerify_RemoveTheMarkersOfCommittedEntries_…), a reader's keeps it
        var marker = Path.Combine(home.ModelsFolder, id, ModelRegistry.PendingMarkerName);
        File.WriteAllText(marker, "");
        var publicKey = Path.Combine(Path.GetDirectoryName(home.Root)!, Path.GetFileName(home.Root) + ".pub.pem");
        _homes.Add(publicKey);
        File.Copy(Path.Combine(home.KeysFolder, AuditSigningKey.PublicFileName), publicKey);
        Directory.Delete(home.KeysFolder, recursive: true);     // the key kept elsewhere: a writer refuses (AUDIT-E-KEY)
        Assert.Equal(AuditLog.KeyRule, Assert.Throws<InvalidInputException>(() => AuditLog.Open(home)).Rule);
        var before = Snapshot(home);

        using (var log = AuditLog.OpenReadOnly(home))
        {
            Assert.True(log.IsReadOnly);
            Assert.Null(log.KeyId);
            Assert.Equal(7, log.Count);
            Assert.Equal(7, log.List().Count);
            Assert.Equal([4L, 6L, 7L], log.Checkpoints().Select(c => c.Seq));
            using var key = AuditSigningKey.LoadPublic(publicKey);
            var v = log.VerifyStored(key, home.AuditCheckpoints);
            Assert.True(v.Ok, v.Message);
            Assert.Equal(3 * 2, v.CheckpointsChecked);            // each checkpoint in the database and in the export
            var listed = Assert.Single(new ModelRegistry(home, log).List());
            Assert.Equal(id, listed.Id);
            Assert.Equal(id, new ModelRegistry(home, log).Load(id).Id); // hash-checked, as for a writer
            AssertWritesRefused(log, home);
        }

        AssertSame(before, Snapshot(home));                      // the marker included
        Assert.False(Directory.Exists(home.KeysFolder), "reading created a signing key");
        Assert.Equal([id], Directory.GetDirectories(home.ModelsFolder).Select(Path.GetFileName));
        Assert.Equal([4L, 6L, 7L], Seqs(home.AuditCheckpoints));
    }

    [Fact]
    public void Sqlite_NoLog_IsNoLog_AndNothingIsCreated()
    {
        var missing = NewHome(created: false);
        Assert.Equal(AuditLog.NoLogRule, Assert.Throws<InvalidInputException>(() => AuditLog.OpenReadOnly(missing)).Rule);
        Assert.False(Directory.Exists(missing.Root));

        var empty = NewHome();
        var e = Assert.Throws<InvalidInputException>(() => AuditLog.OpenReadOnly(empty));
        Assert.Equal(AuditLog.NoLogRule, e.Rule);
        Assert.Contains("Nothing was created", e.Message, StringComparison.Ordinal);
        Assert.Equal(empty.AuditDatabase, e.Location?.File);
        Assert.Empty(Directory.GetFileSystemEntries(empty.Root));

        File.WriteAllBytes(empty.AuditDatabase, []);             // an empty file is no log either, and stays empty
        Assert.Equal(AuditLog.NoLogRule, Assert.Throws<InvalidInputException>(() => AuditLog.OpenReadOnly(empty)).Rule);
        Assert.Equal(0, new FileInfo(empty.AuditDatabase).Length);
        Assert.False(Directory.Exists(empty.KeysFolder));
    }

    [Fact]
    public void Sqlite_ALostLog_IsRefusedAsByAWriter_NotReadAsEmpty()
    {
        var home = NewHome();
        Fill(AuditLogOptions.ForHome(home), 5, "run");
        foreach (var f in Directory.GetFiles(home.Root, "audit.db*")) File.Delete(f);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.OpenReadOnly(home)).Rule);
        Assert.False(File.Exists(home.AuditDatabase));
    }

    [Fact]
    public void Sqlite_ALogOfAnEarlierBuild_IsReadAsItIs_AndNotUpgraded()
    {
        var home = NewHome();
        Fill(AuditLogOptions.ForHome(home), 3, "run");
        // what a build before the runs table and audit_meta left: only the entry and checkpoint tables
        Sql(home, "DROP TABLE runs; DROP TABLE audit_meta;");
        Assert.Equal(0L, Sql(home, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('runs', 'audit_meta');"));

        using (var log = AuditLog.OpenReadOnly(home))
        {
            Assert.Equal(3, log.List().Count);
            Assert.Null(log.ReadRunManifest("run-1"));
        }

        Assert.Equal(0L, Sql(home, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('runs', 'audit_meta');"));
        using (AuditLog.Open(home))
        {
            // a writer upgrades it
        }

        Assert.Equal(2L, Sql(home, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('runs', 'audit_meta');"));

        static long Sql(CrucibleHome home, string sql)
        {
            SQLitePCL.Batteries_V2.Init();
            using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = home.AuditDatabase, Pooling = false }.ToString());
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            return Convert.ToInt64(cmd.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    [Fact]
    public void Postgres_ReadsFromAnyHome_ExportsNothing_WhileAWriterExportsThePendingCheckpointsAtOpen()
    {
        var pg = NewDatabase();
        var one = NewHome();
        Fill(AuditLogOptions.ForStore(one, pg), 3, "one");       // closes with checkpoint 3, exported to one's file
        var two = NewHome();
        Directory.CreateDirectory(two.KeysFolder);
        foreach (var key in Directory.GetFiles(one.KeysFolder)) File.Copy(key, Path.Combine(two.KeysFolder, Path.GetFileName(key)));
        Fill(AuditLogOptions.ForStore(two, pg), 3, "two");       // checkpoints 4 and 6, exported to two's file only
        var export = one.AuditCheckpointsFor(pg);
        Assert.Equal([3L], Seqs(export));
        var keyMeta = Database(pg).Scalar("SELECT value FROM audit_meta WHERE key = 'signing_key_id';");
        var before = Snapshot(one);

        using (var log = AuditLog.OpenReadOnly(AuditLogOptions.ForStore(one, pg)))
        {
            Assert.True(log.IsReadOnly);
            Assert.True(log.IsShared);
            Assert.Equal(6, log.Count);
            Assert.Equal([3L, 4L, 6L], log.Checkpoints().Select(c => c.Seq));
            var v = log.VerifyStored();                           // one's public key and one's own export
            Assert.True(v.Ok, v.Message);
            AssertWritesRefused(log, one);
        }

        AssertSame(before, Snapshot(one));
        Assert.Equal([3L], Seqs(export));

        // a home that holds no key and does not exist: reads the same, and is not created
        var reader = NewHome(created: false);
        using (var log = AuditLog.OpenReadOnly(AuditLogOptions.ForStore(reader, pg)))
        {
            Assert.Equal(6, log.List().Count);
        }

        Assert.False(Directory.Exists(reader.Root), "reading created the home (a key or an export)");
        Assert.Equal(keyMeta, Database(pg).Scalar("SELECT value FROM audit_meta WHERE key = 'signing_key_id';"));

        // the writer's open exports what its file lacks, as before
        using (AuditLog.Open(AuditLogOptions.ForStore(one, pg)))
        {
            Assert.Equal([3L, 4L, 6L], Seqs(export));
        }
    }

    [Fact]
    public void Postgres_NoTables_IsNoLog_CreatingNone_ALostLogIsRefused_AndAnEarlierSchemaIsNotUpgraded()
    {
        var pg = NewDatabase();
        var reader = NewHome(created: false);
        var e = Assert.Throws<InvalidInputException>(() => AuditLog.OpenReadOnly(AuditLogOptions.ForStore(reader, pg)));
        Assert.Equal(AuditLog.NoLogRule, e.Rule);
        Assert.DoesNotContain(pg.Value, e.Message, StringComparison.Ordinal);
        Assert.Equal(0L, Database(pg).Scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema();"));
        Assert.Equal(0L, Database(pg).Scalar("SELECT COUNT(*) FROM pg_proc WHERE proname = 'crucible_append_only';"));

        // a log of a build before the runs table: read as it is, not upgraded
        var one = NewHome();
        Fill(AuditLogOptions.ForStore(one, pg), 3, "one");
        Database(pg).Execute("DROP TABLE runs;");
        using (var log = AuditLog.OpenReadOnly(AuditLogOptions.ForStore(one, pg)))
        {
            Assert.Equal(3, log.List().Count);
            Assert.Null(log.ReadRunManifest("one-1"));
        }

        Assert.Equal(0L, Database(pg).Scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'runs';"));

        // the log's tables dropped: refused where an export says it held entries, no log where none does
        Database(pg).Execute("DROP TABLE audit_entry CASCADE; DROP TABLE audit_checkpoint CASCADE;");
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.OpenReadOnly(AuditLogOptions.ForStore(one, pg))).Rule);
        Assert.Equal(AuditLog.NoLogRule, Assert.Throws<InvalidInputException>(() => AuditLog.OpenReadOnly(AuditLogOptions.ForStore(reader, pg))).Rule);
        Assert.Equal(0L, Database(pg).Scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'audit_e%';"));
    }
}
