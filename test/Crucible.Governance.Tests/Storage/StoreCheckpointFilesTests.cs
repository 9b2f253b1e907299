using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Governance.Storage;
using Crucible.Tests.Postgres;

namespace Crucible.Governance.Tests.Storage;

/// <summary>
/// One checkpoint export per store: a home that keeps its own SQLite log and also writes to a shared PostgreSQL database
/// (an operator's home that trains locally and registers into the replicas' registry) exports each log's signed
/// checkpoints to a file of its own, so that neither log is taken for a lost one because of the other's checkpoints
/// (before, both went to <c>audit-checkpoints.jsonl</c> and each open gave <c>AUDIT-E-LOST</c>). A home written by an
/// earlier build, whose one file holds both logs' lines, opens and verifies once a PostgreSQL writer has exported its
/// database's checkpoints to their own file.
/// </summary>
public sealed class StoreCheckpointFilesTests : IDisposable
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
                Directory.Delete(h, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }

    private CrucibleHome NewHome()
    {
        var home = CrucibleHome.Resolve(Path.Combine(Path.GetTempPath(), "crucible-stores-" + Guid.NewGuid().ToString("N"))).EnsureExists();
        _homes.Add(home.Root);
        return home;
    }

    private StoreLocation NewDatabase()
    {
        var db = TestPostgres.CreateDatabase();
        _databases.Add(db);
        return StoreLocation.Parse("postgres:" + db.ConnectionString);
    }

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

    // the options the earlier build gave a PostgreSQL writer: the shared database's checkpoints exported to the SQLite log's file
    private static AuditLogOptions EarlierBuild(CrucibleHome home, StoreLocation pg) => Small(new AuditLogOptions
    {
        PostgresConnectionString = pg.Value,
        SigningKeyPath = AuditLogOptions.ForHome(home).SigningKeyPath,
        CheckpointFile = home.AuditCheckpoints,
    });

    private static void Fill(AuditLogOptions options, int count, string tag)
    {
        using var log = AuditLog.Open(options);
        for (var i = 1; i <= count; i++) log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = $"{tag}-{i}", ["step"] = i });
    }

    private static AuditVerification VerifyPostgres(CrucibleHome home, StoreLocation store, string? checkpointFile = null)
    {
        using var key = AuditSigningKey.LoadPublic(Path.Combine(home.KeysFolder, AuditSigningKey.PublicFileName));
        return AuditLog.VerifyPostgres(store.Value, key, checkpointFile ?? home.AuditCheckpointsFor(store));
    }

    [Fact]
    public void FileNames_OneForSqlite_OnePerPostgresDatabase_WhateverTheCredentials()
    {
        var home = NewHome();
        Assert.Equal(Path.Combine(home.Root, "audit-checkpoints.jsonl"), home.AuditCheckpointsFor(StoreLocation.Sqlite(home)));
        Assert.Equal(home.AuditCheckpoints, home.AuditCheckpointsFor(StoreLocation.Sqlite(home)));

        var a = StoreLocation.Parse("postgres:Host=DB.example;Port=5432;Username=crucible;Password=one;Database=crucible");
        var b = StoreLocation.Parse("postgresql:Host=db.example;Username=other;Password=two;Database=crucible;Timeout=30");
        Assert.Equal(a.CheckpointFileName, b.CheckpointFileName); // host case, default port, user, password and options do not matter
        Assert.StartsWith("audit-checkpoints.postgres-db.example-5432-crucible-", a.CheckpointFileName, StringComparison.Ordinal);
        Assert.Matches("^audit-checkpoints\\.postgres-db\\.example-5432-crucible-[0-9a-f]{8}\\.jsonl$", a.CheckpointFileName);
        Assert.DoesNotContain("one", a.CheckpointFileName, StringComparison.Ordinal); // never the password

        // another database, port or host is another file
        Assert.NotEqual(a.CheckpointFileName, StoreLocation.Parse("postgres:Host=db.example;Database=crucible2").CheckpointFileName);
        Assert.NotEqual(a.CheckpointFileName, StoreLocation.Parse("postgres:Host=db.example;Port=5433;Database=crucible").CheckpointFileName);
        Assert.NotEqual(a.CheckpointFileName, StoreLocation.Parse("postgres:Host=db2.example;Database=crucible").CheckpointFileName);

        // characters a file name should not hold are replaced, and the hash keeps two such names apart
        var slash = StoreLocation.Parse("postgres:Host=/var/run/postgresql;Database=a b");
        var under = StoreLocation.Parse("postgres:Host=_var_run_postgresql;Database=a_b");
        Assert.Matches("^audit-checkpoints\\.postgres-_var_run_postgresql-5432-a_b-[0-9a-f]{8}\\.jsonl$", slash.CheckpointFileName);
        Assert.NotEqual(slash.CheckpointFileName, under.CheckpointFileName);
        Assert.Equal(Path.Combine(home.Root, slash.CheckpointFileName), home.AuditCheckpointsFor(slash));

        // a very long database name stays a short file name
        var longName = StoreLocation.Parse("postgres:Host=db;Database=" + new string('d', 60));
        Assert.True(longName.CheckpointFileName.Length <= "audit-checkpoints.postgres-".Length + 96 + 1 + 8 + ".jsonl".Length);
    }

    [Fact]
    public void ASqliteHome_ThenASharedDatabase_ThenSqliteAgain_EachOpensAndVerifies()
    {
        var home = NewHome();
        var pg = NewDatabase();
        var sqlite = Small(AuditLogOptions.ForHome(home));
        var shared = Small(AuditLogOptions.ForStore(home, pg));
        Assert.Equal(home.AuditCheckpointsFor(pg), shared.CheckpointFile);
        Assert.Null(shared.DatabasePath);

        Fill(sqlite, 9, "local");                     // the SQLite log exports checkpoints up to 9
        Assert.True(File.Exists(home.AuditCheckpoints));

        // what the earlier build did (the SQLite log's file for the shared database too) refuses the new database
        var old = EarlierBuild(home, pg);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.Open(old)).Rule);

        Fill(shared, 3, "shared");                    // its own file: the new database opens
        Fill(sqlite, 2, "local-again");               // and the SQLite log still does (the shared one's head is 3 + close)
        Fill(shared, 5, "shared-again");              // the shared log's seqs now pass the SQLite log's exports

        Assert.True(File.Exists(home.AuditCheckpointsFor(pg)));
        var sqliteSeqs = Seqs(home.AuditCheckpoints);
        var sharedSeqs = Seqs(home.AuditCheckpointsFor(pg));
        Assert.Equal(11, sqliteSeqs.Max());
        Assert.Equal(8, sharedSeqs.Max());

        var v = AuditLog.Verify(home);
        Assert.True(v.Ok, v.Message);
        Assert.Equal(11, v.Entries);
        var p = VerifyPostgres(home, pg);
        Assert.True(p.Ok, p.Message);
        Assert.Equal(8, p.Entries);

        // each log is still caught when cut below its own exports
        File.Delete(home.AuditDatabase);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home)).Rule);
    }

    [Fact]
    public void AHomeOfAnEarlierBuild_WhoseOneFileHoldsBothLogs_OpensAndVerifiesOnceTheSharedWriterExportedItsOwn()
    {
        var home = NewHome();
        var pg = NewDatabase();
        var sqlite = Small(AuditLogOptions.ForHome(home));
        var shared = Small(AuditLogOptions.ForStore(home, pg));
        var old = EarlierBuild(home, pg);
        Fill(old, 10, "shared");                      // first: the SQLite log did not exist yet, so nothing refused it
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home)).Rule);
        var mixed = File.ReadAllLines(home.AuditCheckpoints);

        // the shared writer's first open under this build exports every checkpoint of its database to its own file
        using (AuditLog.Open(shared))
        {
            Assert.Equal(Seqs(home.AuditCheckpoints), Seqs(home.AuditCheckpointsFor(pg)));
        }

        // the old file's lines are now the shared database's: the SQLite log opens, appends and verifies
        AuditLog.ThrowIfLost(home);
        Fill(sqlite, 5, "local");
        var v = AuditLog.Verify(home);
        Assert.True(v.Ok, v.Message);
        Assert.Equal(5, v.Entries);
        var p = VerifyPostgres(home, pg);
        Assert.True(p.Ok, p.Message);

        // the old file was appended to, never rewritten: an off-machine copy of it taken before stays a prefix
        Assert.Equal(mixed, File.ReadAllLines(home.AuditCheckpoints)[..mixed.Length]);

        // an off-machine copy that mixes both logs, given by name, is read whole and does not verify against either
        var copy = Path.Combine(home.Root, "copy.jsonl");
        File.Copy(home.AuditCheckpoints, copy);
        Assert.False(AuditLog.Verify(home, checkpointFile: copy).Ok);

        // a SQLite line is passed over only when the shared export holds the same line: a forged line of another seq is not
        File.AppendAllText(home.AuditCheckpoints, File.ReadAllLines(home.AuditCheckpointsFor(pg))[^1].Replace("\"seq\":10", "\"seq\":40", StringComparison.Ordinal) + "\n");
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home)).Rule);
    }

    [Fact]
    public void ALostSqliteLog_InAHomeThatAlsoWroteToADatabase_SaysSoAndNamesTheOption()
    {
        var home = NewHome();
        Directory.CreateDirectory(home.RunsFolder);
        File.WriteAllText(Path.Combine(home.RunsFolder, "run-1.json"), "{}");
        var plain = Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home));
        Assert.DoesNotContain("PostgreSQL", plain.Message, StringComparison.Ordinal);

        var pg = StoreLocation.Parse("postgres:Host=db;Database=crucible");
        File.WriteAllText(home.AuditCheckpointsFor(pg), "");
        var e = Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home));
        Assert.Equal(AuditLog.LostRule, e.Rule);
        Assert.Contains("This home has also written to a PostgreSQL store (its checkpoints are in " + pg.CheckpointFileName + ")", e.Message, StringComparison.Ordinal);
        Assert.Contains("--store postgres:", e.Message, StringComparison.Ordinal);
        // which folders of that store still count: those without the proof a registration leaves (fetched, or older builds')
        Assert.Contains("models fetched from it by a read-only command, or fetched from it or registered into it by a Crucible build older than the registration proof",
            e.Message, StringComparison.Ordinal);
        var v = AuditLog.Verify(home);
        Assert.Equal(AuditProblem.Truncation, v.Problem);
        Assert.Contains(pg.CheckpointFileName, v.Message, StringComparison.Ordinal);
    }

    // a model folder (weights and manifest) whose weights are seeded by tag, so that each tag is another model id
    private string ModelFolder(CrucibleHome home, int tag)
    {
        var folder = Path.Combine(home.Root, "..", Path.GetFileName(home.Root) + "-model-" + tag);
        Directory.CreateDirectory(folder);
        _homes.Add(Path.GetFullPath(folder));
        File.WriteAllBytes(Path.Combine(folder, ModelRegistry.WeightsFileName), [.. Enumerable.Range(0, 4000).Select(i => (byte)(i * tag + 1))]);
        File.WriteAllText(Path.Combine(folder, ModelRegistry.ManifestFileName), $$"""{"tag": {{tag}}}""");
        return folder;
    }

    private static string Register(AuditLogOptions options, CrucibleHome home, string folder)
    {
        using var log = AuditLog.Open(options);
        return new ModelRegistry(home, log).Register(folder).Id;
    }

    [Fact]
    public void AHomeWhoseFirstActWasAPostgresRegistration_WritesItsOwnSqliteLog_AndBothLogsVerify()
    {
        // session 29: a fresh home registers into the shared database first; its models/ then held a folder and its
        // SQLite log nothing, which the lost-log check refused (AUDIT-E-LOST) for every command that records a run
        var home = NewHome();
        var pg = NewDatabase();
        var shared = Register(AuditLogOptions.ForStore(home, pg), home, ModelFolder(home, 3));
        Assert.True(File.Exists(Path.Combine(home.ModelsFolder, shared, PostgresRegistrationProof.FileName)));
        Assert.False(File.Exists(home.AuditDatabase));

        AuditLog.ThrowIfLost(home); // the folder is the database's: no evidence of a SQLite log
        var local = Register(AuditLogOptions.ForHome(home), home, ModelFolder(home, 5));
        Fill(AuditLogOptions.ForHome(home), 2, "local");
        Assert.True(AuditLog.Verify(home).Ok, AuditLog.Verify(home).Message);
        Assert.True(VerifyPostgres(home, pg).Ok, VerifyPostgres(home, pg).Message);

        // the SQLite log deleted with its export: the folder that log registered is evidence again
        File.Delete(home.AuditDatabase);
        File.Delete(home.AuditCheckpoints);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home)).Rule);
        Assert.Equal(AuditProblem.Truncation, AuditLog.Verify(home).Problem);

        // a proof copied into the SQLite log's folder proves nothing there (another model id), nor does an edited one
        var forged = Path.Combine(home.ModelsFolder, local, PostgresRegistrationProof.FileName);
        var proof = File.ReadAllText(Path.Combine(home.ModelsFolder, shared, PostgresRegistrationProof.FileName));
        File.WriteAllText(forged, proof);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home)).Rule);
        File.WriteAllText(forged, proof.Replace(shared, local, StringComparison.Ordinal));
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home)).Rule);
        File.Delete(forged);

        // the database's proof no longer holds without its export (its checkpoint line is what binds it): evidence again
        Directory.Move(Path.Combine(home.ModelsFolder, local), Path.Combine(home.Root, "aside"));
        AuditLog.ThrowIfLost(home);
        File.Move(home.AuditCheckpointsFor(pg), home.AuditCheckpointsFor(pg) + ".aside");
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home)).Rule);
    }

    [Fact]
    public void ASqliteRegistration_OfAFolderTheDatabaseWrote_RemovesItsProof()
    {
        // the SQLite log registers the shared store's folder in place: the folder is then that log's evidence
        var home = NewHome();
        var pg = NewDatabase();
        var id = Register(AuditLogOptions.ForStore(home, pg), home, ModelFolder(home, 3));
        Assert.Equal(id, Register(AuditLogOptions.ForHome(home), home, Path.Combine(home.ModelsFolder, id)));
        Assert.False(File.Exists(Path.Combine(home.ModelsFolder, id, PostgresRegistrationProof.FileName)));
        File.Delete(home.AuditDatabase);
        File.Delete(home.AuditCheckpoints);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(home)).Rule);
    }

    // a folder with the weights of ModelFolder(home, tag) and another manifest (other metadata for the same weights)
    private string Twin(CrucibleHome home, int tag, string manifest)
    {
        var folder = Path.Combine(home.Root, "..", Path.GetFileName(home.Root) + "-twin-" + tag);
        Directory.CreateDirectory(folder);
        _homes.Add(Path.GetFullPath(folder));
        File.Copy(Path.Combine(ModelFolder(home, tag), ModelRegistry.WeightsFileName), Path.Combine(folder, ModelRegistry.WeightsFileName));
        File.WriteAllText(Path.Combine(folder, ModelRegistry.ManifestFileName), manifest);
        return folder;
    }

    private static ModelRecord Load(AuditLogOptions options, CrucibleHome home, string id)
    {
        using var log = AuditLog.Open(options);
        return new ModelRegistry(home, log).Load(id);
    }

    private static ModelRecord? Find(AuditLogOptions options, CrucibleHome home, string id)
    {
        using var log = AuditLog.Open(options);
        return new ModelRegistry(home, log).Find(id);
    }

    [Fact]
    public void APostgresRegistration_OfAnIdTheSqliteLogRegistered_ReusesItsFolderOrRefuses_AndNeverRewritesIt()
    {
        // until session 29 the PostgreSQL registration took the SQLite log's folder for a killed registration's leftovers
        // (its log has no entry), removed it and copied the other manifest in: the SQLite entry's manifest hash then failed
        var home = NewHome();
        var pg = NewDatabase();
        var sqlite = AuditLogOptions.ForHome(home);
        var id = Register(sqlite, home, ModelFolder(home, 3));
        var manifest = Path.Combine(home.ModelsFolder, id, ModelRegistry.ManifestFileName);
        var before = File.ReadAllBytes(manifest);

        var e = Assert.Throws<ModelConflictException>(() => Register(AuditLogOptions.ForStore(home, pg), home, Twin(home, 3, """{"tag": 3, "note": "other"}""")));
        Assert.Equal(ModelRegistry.ConflictRule, e.Rule);
        Assert.Contains("the home's SQLite log", e.Message, StringComparison.Ordinal);
        Assert.Contains("the PostgreSQL store", e.Message, StringComparison.Ordinal);
        Assert.Contains("they differ in note", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(manifest));
        Assert.Null(Find(AuditLogOptions.ForStore(home, pg), home, id));
        Assert.Equal(id, Load(sqlite, home, id).Id);

        // the same bytes: the folder is reused (not removed and copied anew), and stays the SQLite log's evidence
        var weights = Path.Combine(home.ModelsFolder, id, ModelRegistry.WeightsFileName);
        var stamp = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(weights, stamp);
        Assert.Equal(id, Register(AuditLogOptions.ForStore(home, pg), home, ModelFolder(home, 3)));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(weights));
        Assert.Equal(id, Load(sqlite, home, id).Id);
        Assert.Equal(id, Load(AuditLogOptions.ForStore(home, pg), home, id).Id);
        Assert.False(File.Exists(Path.Combine(home.ModelsFolder, id, PostgresRegistrationProof.FileName)));
        Assert.True(AuditLog.Verify(home).Ok, AuditLog.Verify(home).Message);
        Assert.True(VerifyPostgres(home, pg).Ok, VerifyPostgres(home, pg).Message);
    }

    [Fact]
    public void APostgresRegistration_KeepsAFolderTheSqliteLogRegistered_ThatStillHoldsItsPendingMarker()
    {
        // a SQLite registration killed after its entry and before removing its marker: the next registration, into the
        // database, took the folder for a dead registration's (no entry in its log) and deleted the SQLite log's model
        var home = NewHome();
        var pg = NewDatabase();
        var sqlite = AuditLogOptions.ForHome(home);
        var id = Register(sqlite, home, ModelFolder(home, 3));
        var marker = Path.Combine(home.ModelsFolder, id, ModelRegistry.PendingMarkerName);
        File.WriteAllText(marker, id + "\n");

        Register(AuditLogOptions.ForStore(home, pg), home, ModelFolder(home, 5));
        Assert.Equal(id, Load(sqlite, home, id).Id);
        Assert.False(File.Exists(marker)); // that log's entry exists: its marker is a committed one's
        Assert.True(AuditLog.Verify(home).Ok, AuditLog.Verify(home).Message);
    }

    [Fact]
    public void ASqliteRegistration_OfAnIdTheDatabaseWroteWithItsProof_ReusesItsFolderOrRefuses_AndNeverRewritesIt()
    {
        var home = NewHome();
        var pg = NewDatabase();
        var shared = AuditLogOptions.ForStore(home, pg);
        var id = Register(shared, home, ModelFolder(home, 3));
        var folder = Path.Combine(home.ModelsFolder, id);
        var before = File.ReadAllBytes(Path.Combine(folder, ModelRegistry.ManifestFileName));

        var e = Assert.Throws<ModelConflictException>(() => Register(AuditLogOptions.ForHome(home), home, Twin(home, 3, """{"tag": 3, "note": "other"}""")));
        Assert.Contains("a PostgreSQL store", e.Message, StringComparison.Ordinal);
        Assert.Contains("the home's SQLite log", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(folder, ModelRegistry.ManifestFileName)));
        Assert.True(PostgresRegistrationProof.Holds(home, folder));
        Assert.Null(Find(AuditLogOptions.ForHome(home), home, id));
        Assert.Equal(id, Load(shared, home, id).Id);

        // the same bytes from another folder: reused, and, as when it is registered in place, the SQLite log's evidence now
        var weights = Path.Combine(folder, ModelRegistry.WeightsFileName);
        var stamp = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(weights, stamp);
        Assert.Equal(id, Register(AuditLogOptions.ForHome(home), home, ModelFolder(home, 3)));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(weights));
        Assert.False(File.Exists(Path.Combine(folder, PostgresRegistrationProof.FileName)));
        Assert.Equal(id, Load(shared, home, id).Id);
        Assert.Equal(id, Load(AuditLogOptions.ForHome(home), home, id).Id);
        Assert.True(VerifyPostgres(home, pg).Ok, VerifyPostgres(home, pg).Message);
    }

    [Fact]
    public void AFolderAWriterFetchesFromTheDatabase_CarriesTheProof_AndDoesNotCountAgainstTheSqliteLog()
    {
        // a replica (another home with the replicas' key) loads a model the database registered: its folder is written
        // from the shared store; until session 29 it carried no proof and the home's SQLite lost-log check refused
        var registrar = NewHome();
        var pg = NewDatabase();
        var id = Register(AuditLogOptions.ForStore(registrar, pg), registrar, ModelFolder(registrar, 3));
        CrucibleHome Replica()
        {
            var home = NewHome();
            Directory.CreateDirectory(home.KeysFolder);
            foreach (var key in Directory.EnumerateFiles(registrar.KeysFolder))
                File.Copy(key, Path.Combine(home.KeysFolder, Path.GetFileName(key)));
            return home;
        }

        var replica = Replica();
        Assert.Equal(id, Load(AuditLogOptions.ForStore(replica, pg), replica, id).Id);
        Assert.True(PostgresRegistrationProof.Holds(replica, Path.Combine(replica.ModelsFolder, id)));
        AuditLog.ThrowIfLost(replica);
        Assert.True(VerifyPostgres(replica, pg).Ok, VerifyPostgres(replica, pg).Message);

        // a log opened read-only signs nothing and writes no folder (ReadOnlyAuditLogTests): its load is refused, and the
        // home stays without a folder that, carrying no proof, would count against its SQLite log
        var reader = Replica();
        using (var log = AuditLog.OpenReadOnly(AuditLogOptions.ForStore(reader, pg)))
            Assert.Equal(ModelRegistry.ReadOnlyLoadRule, Assert.Throws<InvalidInputException>(() => new ModelRegistry(reader, log).Load(id)).Rule);
        Assert.False(Directory.Exists(Path.Combine(reader.ModelsFolder, id)));
        AuditLog.ThrowIfLost(reader);
    }

    private static List<long> Seqs(string file) =>
        [.. File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!["seq"]!.GetValue<long>())];
}
