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

    // existence and bytes of every file under the home, SQLite's -wal and -shm included (a reader leaves none that was not there)
    private static Dictionary<string, string> Snapshot(CrucibleHome home) => !Directory.Exists(home.Root) ? [] : AllFiles(home.Root);

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

    // every file under root (relative path -> SHA-256 of its bytes)
    private static Dictionary<string, string> AllFiles(string root) => Directory
        .GetFiles(root, "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal);

    private static void AssertSameFiles(Dictionary<string, string> before, Dictionary<string, string> after, string what)
    {
        Assert.True(before.Keys.Order(StringComparer.Ordinal).SequenceEqual(after.Keys.Order(StringComparer.Ordinal)),
            $"{what}: files before [{string.Join(", ", before.Keys.Order(StringComparer.Ordinal))}], after [{string.Join(", ", after.Keys.Order(StringComparer.Ordinal))}]");
        foreach (var (file, sha) in before) Assert.True(sha == after[file], $"{what}: {file} changed");
    }

    // the database header's read and write versions: 2 and 2 in WAL mode
    private static bool IsWal(string database)
    {
        var header = new byte[20];
        using (var f = new FileStream(database, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)) f.ReadExactly(header);
        return header[18] == 2 && header[19] == 2;
    }

    [Fact]
    public void Sqlite_AReadOnlyOpenOfAWalLog_NoWriterRunning_CreatesAndLeavesNoFile()
    {
        var home = NewHome();
        Fill(AuditLogOptions.ForHome(home), 6, "run");
        Assert.True(IsWal(home.AuditDatabase));
        Assert.False(File.Exists(home.AuditDatabase + "-wal"), "the writer, last to close, removes its write-ahead log");
        Assert.False(File.Exists(home.AuditDatabase + "-shm"));
        var before = AllFiles(home.Root);

        using (var log = AuditLog.OpenReadOnly(home))
        {
            Assert.Equal(6, log.Count);
            Assert.Equal(6, log.List().Count);
            Assert.Equal([4L, 6L], log.Checkpoints().Select(c => c.Seq));
        }

        AssertSameFiles(before, AllFiles(home.Root), "OpenReadOnly");
        Assert.Equal(6, AuditLog.Read(home.AuditDatabase).Count); // the static readers open the same way
        Assert.Null(AuditLog.ReadRunManifest(home.AuditDatabase, "run-1"));
        AssertSameFiles(before, AllFiles(home.Root), "AuditLog.Read");
    }

    [Fact]
    public void Sqlite_TheEmptyWalAndShmAnEarlierReaderLeft_AreRemovedByTheNextReader_TheDatabaseUntouched()
    {
        var home = NewHome();
        Fill(AuditLogOptions.ForHome(home), 3, "run");
        SQLitePCL.Batteries_V2.Init();
        // what a read-only open of the earlier builds left: SQLITE_OPEN_READONLY creates both files and cannot remove them
        using (var old = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = home.AuditDatabase, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            old.Open();
            using var cmd = old.CreateCommand();
            cmd.CommandText = "SELECT COUNT(*) FROM audit_entry;";
            Assert.Equal(3L, cmd.ExecuteScalar());
        }

        Assert.Equal(0, new FileInfo(home.AuditDatabase + "-wal").Length);
        Assert.True(File.Exists(home.AuditDatabase + "-shm"));
        var database = AllFiles(home.Root)["audit.db"];

        using (var log = AuditLog.OpenReadOnly(home))
        {
            Assert.Equal(3, log.Count);
        }

        Assert.False(File.Exists(home.AuditDatabase + "-wal"));
        Assert.False(File.Exists(home.AuditDatabase + "-shm"));
        Assert.Equal(database, AllFiles(home.Root)["audit.db"]);
    }

    [Fact]
    public void Sqlite_AReaderBesideALiveWriter_SeesEachCommit_AndWhicheverClosesLastLeavesNoFile()
    {
        foreach (var readerClosesLast in new[] { true, false })
        {
            var home = NewHome();
            Fill(AuditLogOptions.ForHome(home), 3, "run");
            var reader = AuditLog.OpenReadOnly(home);             // before the writer: the read-only open meets no -wal
            try
            {
                using (var writer = AuditLog.Open(Small(AuditLogOptions.ForHome(home))))
                {
                    Assert.Equal(3, reader.List().Count);
                    writer.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "live-1" });
                    Assert.Equal(4, reader.List().Count);          // committed in the writer's WAL, seen by the reader
                    writer.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "live-2" });
                    Assert.Equal("live-2", JsonNode.Parse(reader.List()[^1].Payload)!["run_id"]!.GetValue<string>());
                    if (!readerClosesLast) reader.Dispose();
                }

                // checkpoints: 3 at the filler's close, 4 at the interval, 5 at this writer's close
            }
            finally
            {
                reader.Dispose();
            }

            Assert.False(File.Exists(home.AuditDatabase + "-wal"), $"reader closes last: {readerClosesLast}: a -wal is left");
            Assert.False(File.Exists(home.AuditDatabase + "-shm"), $"reader closes last: {readerClosesLast}: a -shm is left");
            using var again = AuditLog.OpenReadOnly(home);        // nothing the writer committed was lost
            Assert.Equal(5, again.List().Count);
            Assert.Equal([3L, 4L, 5L], again.Checkpoints().Select(c => c.Seq));
        }
    }

    [Fact]
    public void Sqlite_ReadersBesideAWriterInAnotherProcess_SeeEachAcknowledgedEntry_DisturbItNot_AndLeaveNoFile()
    {
        const int Appends = 150;
        var home = NewHome();
        Fill(AuditLogOptions.ForHome(home), 2, "run");
        // both open while no writer runs (the read-write, query_only connection); one closes while the child still
        // appends, the other after the child's close, and so closes last
        var early = AuditLog.OpenReadOnly(home);
        var last = AuditLog.OpenReadOnly(home);
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Crucible.Governance.AppendChild.dll"));
            start.ArgumentList.Add(home.Root);
            start.ArgumentList.Add(Appends.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var child = System.Diagnostics.Process.Start(start)!;
            var acknowledged = 0L;
            while (child.StandardOutput.ReadLine() is { } line)
            {
                acknowledged = long.Parse(line, System.Globalization.CultureInfo.InvariantCulture);
                var reader = acknowledged % 2 == 0 && acknowledged < Appends / 2 ? early : last;
                Assert.True(reader.Count >= acknowledged, $"seq {acknowledged} was acknowledged; the reader sees {reader.Count}");
                if (acknowledged == Appends / 2) early.Dispose();
                using var fresh = AuditLog.OpenReadOnly(home);    // one opened and closed beside the live writer
                Assert.True(fresh.List(acknowledged, 1).Count == 1, $"seq {acknowledged} was acknowledged; a new reader misses it");
            }

            child.WaitForExit();
            Assert.True(child.ExitCode == 0, "the writer failed: " + child.StandardError.ReadToEnd());
            Assert.Equal(2 + Appends, acknowledged);
            Assert.Equal(2 + Appends, last.Count);
        }
        finally
        {
            early.Dispose();
            last.Dispose();
        }

        Assert.False(File.Exists(home.AuditDatabase + "-wal"), "a -wal is left");
        Assert.False(File.Exists(home.AuditDatabase + "-shm"), "a -shm is left");
        var v = AuditLog.Verify(home);                             // the writer's entries, checkpointed by the reader's close
        Assert.True(v.Ok, v.Message);
        Assert.Equal(2 + Appends, v.Entries);
    }

    [Fact]
    public void Sqlite_AReadOnlyOpenOfAHotWal_ReadsItsCommits_AndCheckpointsNothingIntoTheDatabase()
    {
        // what a writer killed mid-life leaves: the database, a write-ahead log holding committed entries, its index
        var live = NewHome();
        var crashed = NewHome();
        Fill(AuditLogOptions.ForHome(live), 2, "run");
        using (var writer = AuditLog.Open(Small(AuditLogOptions.ForHome(live))))
        {
            writer.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "in-the-wal" });
            Assert.True(new FileInfo(live.AuditDatabase + "-wal").Length > 0);
            foreach (var f in Directory.GetFiles(live.Root, "audit.db*"))
                File.Copy(f, Path.Combine(crashed.Root, Path.GetFileName(f)));
        }

        var before = AllFiles(crashed.Root);
        Assert.Contains("audit.db-wal", before.Keys);
        using (var log = AuditLog.OpenReadOnly(crashed))
        {
            Assert.Equal("in-the-wal", JsonNode.Parse(log.List()[^1].Payload)!["run_id"]!.GetValue<string>());
        }

        var after = AllFiles(crashed.Root);
        // the -shm is SQLite's index of the WAL, which a reader may rebuild; the database and its WAL are not touched
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(before["audit.db"], after["audit.db"]);
        Assert.Equal(before["audit.db-wal"], after["audit.db-wal"]);
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
    public void Postgres_AReadOnlyRegistry_WritesNoModelFolderIntoTheHome_RefusingToLoadOneTheHomeLacks()
    {
        var pg = NewDatabase();
        var registrar = NewHome();
        string id;
        using (var writer = AuditLog.Open(AuditLogOptions.ForStore(registrar, pg)))
        {
            id = new ModelRegistry(registrar, writer).Register(ModelFolder("shared")).Id;
        }

        // a replica's home that holds the replicas' key and no model: reading the registry writes nothing into it
        var reader = NewHome();
        Directory.CreateDirectory(reader.KeysFolder);
        foreach (var key in Directory.GetFiles(registrar.KeysFolder)) File.Copy(key, Path.Combine(reader.KeysFolder, Path.GetFileName(key)));
        var before = Snapshot(reader);
        using (var log = AuditLog.OpenReadOnly(AuditLogOptions.ForStore(reader, pg)))
        {
            var registry = new ModelRegistry(reader, log);
            var record = Assert.Single(registry.List());
            Assert.Equal(id, record.Id);
            Assert.Equal(id, registry.Find(id)?.Id);
            var refused = Assert.Throws<InvalidInputException>(() => registry.Load(id));
            Assert.Equal(ModelRegistry.ReadOnlyLoadRule, refused.Rule);
            Assert.Contains("writes nothing into the home", refused.Message, StringComparison.Ordinal);
            Assert.Equal(record.Folder, refused.Location?.File);
            Assert.Equal("{}", System.Text.Encoding.UTF8.GetString(registry.ReadManifest(record)!)); // from the stored bytes
        }

        AssertSame(before, Snapshot(reader));
        Assert.False(Directory.Exists(reader.ModelsFolder), "a read-only load wrote the models folder");
        AuditLog.ThrowIfLost(reader);                            // no folder of the database's counts against the home's SQLite log

        // a home that has the folder (the registrar's): a read-only registry loads it, hash-checked, and writes nothing
        var registrarBefore = Snapshot(registrar);
        using (var log = AuditLog.OpenReadOnly(AuditLogOptions.ForStore(registrar, pg)))
        {
            Assert.Equal(id, new ModelRegistry(registrar, log).Load(id).Id);
        }

        AssertSame(registrarBefore, Snapshot(registrar));
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
