using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Governance.Storage;
using Crucible.Tests.Postgres;
using Npgsql;

namespace Crucible.Governance.Tests.Storage;

/// <summary>
/// The audit log on PostgreSQL (several service replicas): the same chain, checkpoints and verification as on SQLite,
/// writers in separate connections (as separate replicas) serialised by the advisory lock, the tamper cases that apply,
/// a writer killed mid-transaction, one shared signing key, and the registry's files shared through the database.
/// </summary>
public sealed class PostgresAuditLogTests : IDisposable
{
    private readonly TestDatabase _db = TestPostgres.CreateDatabase();
    private readonly List<string> _homes = [];

    public void Dispose()
    {
        _db.Dispose();
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

    /// <summary>A home (this replica's key and checkpoint export) for a writer of the shared log.</summary>
    private CrucibleHome NewHome()
    {
        var home = CrucibleHome.Resolve(Path.Combine(Path.GetTempPath(), "crucible-pg-" + Guid.NewGuid().ToString("N"))).EnsureExists();
        _homes.Add(home.Root);
        return home;
    }

    private AuditLog Open(CrucibleHome home, int interval = 4, string? keyPath = null) => AuditLog.Open(new AuditLogOptions
    {
        PostgresConnectionString = _db.ConnectionString,
        SigningKeyPath = keyPath ?? Path.Combine(home.KeysFolder, AuditSigningKey.PrivateFileName),
        CheckpointFile = home.AuditCheckpoints,
        CheckpointInterval = interval,
        DefaultActor = "test",
    });

    private AuditVerification Verify(CrucibleHome home, string? checkpointFile = null)
    {
        using var key = AuditSigningKey.LoadPublic(Path.Combine(home.KeysFolder, AuditSigningKey.PublicFileName));
        return AuditLog.VerifyPostgres(_db.ConnectionString, key, checkpointFile ?? home.AuditCheckpoints);
    }

    private static void Fill(AuditLog log, int count, string tag = "run")
    {
        for (var i = 1; i <= count; i++) log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = $"{tag}-{i}", ["step"] = i });
    }

    [Fact]
    public void Append_List_Checkpoint_Verify_AsOnSqlite()
    {
        var home = NewHome();
        using (var log = Open(home))
        {
            Assert.True(log.IsShared);
            Assert.Null(log.DatabasePath);
            var r1 = log.Append(AuditKind.ModelRegistered, new JsonObject { ["model_id"] = "abc", ["size"] = 3 });
            Fill(log, 9);
            var entries = log.List();
            Assert.Equal(10, entries.Count);
            Assert.Equal(1, r1.Seq);
            Assert.Equal("""{"model_id":"abc","size":3}""", entries[0].Payload);
            Assert.Equal(new byte[32], entries[0].PrevHash);
            for (var i = 1; i < entries.Count; i++) Assert.Equal(entries[i - 1].EntryHash, entries[i].PrevHash);
            Assert.Equal(AuditLog.ComputeEntryHash(1, entries[0].TimestampUtc, "model.registered", "test",
                System.Text.Encoding.UTF8.GetBytes(entries[0].Payload), new byte[32]), entries[0].EntryHash);
            Assert.Equal([4L, 8L], log.Checkpoints().Select(c => c.Seq));
            Assert.Equal(10, log.Count);
            Assert.Equal(3, log.List(8).Count);
            var proof = log.InclusionProof(3, 10);
            Assert.True(MerkleTree.VerifyInclusion(2, 10, MerkleTree.LeafHash(entries[2].EntryHash), proof,
                MerkleTree.Root(entries.Select(e => MerkleTree.LeafHash(e.EntryHash)).ToList())));
            Assert.True(log.VerifyStored().Ok, log.VerifyStored().Message);
            Assert.Equal([1L], log.ListKinds(AuditKind.ModelRegistered, AuditKind.ModelStatusChanged).Select(e => e.Seq));
            Assert.Equal(entries.Skip(1).Select(e => e.EntryHashHex), log.ListKinds(AuditKind.RunStarted).Select(e => e.EntryHashHex));
        }

        // closing checkpoints the head; the export file holds every checkpoint
        var v = Verify(home);
        Assert.True(v.Ok, v.Message);
        Assert.Equal(10, v.Entries);
        Assert.Equal(6, v.CheckpointsChecked); // 4, 8, 10 in the database and in the exported file
        Assert.Equal(3, File.ReadAllLines(home.AuditCheckpoints).Length);
    }

    // RELIABILITY LOG-5
    [Fact]
    public void SixteenWriters_SeparateConnections_ContiguousSeq_NoFork_EveryReceiptPresent()
    {
        // each writer is its own AuditLog (own pool, own connections), as a separate replica is; all share one key file
        var first = NewHome();
        var keyPath = Path.Combine(first.KeysFolder, AuditSigningKey.PrivateFileName);
        const int writers = 16, appends = 25;
        var homes = Enumerable.Range(0, writers).Select(_ => NewHome()).ToList();
        var logs = homes.Select(h => Open(h, interval: 16, keyPath: keyPath)).ToList();
        var receipts = new AuditReceipt[writers][];
        try
        {
            using var go = new Barrier(writers);
            Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
            {
                go.SignalAndWait();
                receipts[w] = Enumerable.Range(0, appends)
                    .Select(i => logs[w].Append(AuditKind.ScenariosGenerated, new JsonObject { ["writer"] = w, ["i"] = i }, $"writer-{w}"))
                    .ToArray();
            });
        }
        finally
        {
            foreach (var l in logs) l.Dispose();
        }

        using var reader = Open(first);
        var entries = reader.List();
        Assert.Equal(Enumerable.Range(1, writers * appends).Select(i => (long)i), entries.Select(e => e.Seq));
        var bySeq = entries.ToDictionary(e => e.Seq);
        for (var w = 0; w < writers; w++)
        {
            for (var i = 0; i < appends; i++)
            {
                var e = bySeq[receipts[w][i].Seq];
                Assert.Equal(receipts[w][i].EntryHash, e.EntryHashHex);
                Assert.Equal($$"""{"i":{{i}},"writer":{{w}}}""", e.Payload);
            }
        }

        // the writers interleaved (they did not run one after another)
        var runs = entries.Zip(entries.Skip(1)).Count(p => p.First.Actor != p.Second.Actor);
        Assert.True(runs > writers, $"only {runs} changes of writer in {entries.Count} entries");
        var v = Verify(first);
        Assert.True(v.Ok, v.Message);
        // every writer's export file holds checkpoints that verify against the one chain
        foreach (var h in homes.Where(h => File.Exists(h.AuditCheckpoints)))
            Assert.True(Verify(first, h.AuditCheckpoints).Ok, h.AuditCheckpoints);
    }

    [Fact]
    public void Triggers_RefuseUpdateDeleteTruncate()
    {
        var home = NewHome();
        using (var log = Open(home)) Fill(log, 5);
        foreach (var sql in new[] { "UPDATE audit_entry SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_entry WHERE seq = 2",
                     "TRUNCATE audit_entry", "DELETE FROM audit_checkpoint", "TRUNCATE audit_checkpoint CASCADE", "DELETE FROM model_file" })
        {
            if (sql.Contains("model_file", StringComparison.Ordinal)) _db.Execute("INSERT INTO model_file VALUES ('a', 'b', 'c', '\\x00')");
            var e = Assert.Throws<PostgresException>(() => _db.Execute(sql));
            Assert.Contains("append-only", e.MessageText, StringComparison.Ordinal);
        }

        Assert.True(Verify(home).Ok);
    }

    // a new home whose log holds 10 entries, then `sql` run on the database with the tables' triggers disabled (so that
    // it can edit and delete rows): the tamperings below
    private CrucibleHome Tampered(string sql)
    {
        var home = NewHome();
        using (var log = Open(home)) Fill(log, 10);
        _db.Execute("ALTER TABLE audit_entry DISABLE TRIGGER USER; ALTER TABLE audit_checkpoint DISABLE TRIGGER USER;");
        _db.Execute(sql);
        return home;
    }

    [Fact]
    public void Tamper_PayloadEditedWithTriggersDropped_FailsAtThatEntry()
    {
        var v = Verify(Tampered("UPDATE audit_entry SET payload = convert_to('{\"run_id\":\"run-7\",\"step\":70}', 'UTF8') WHERE seq = 7"));
        Assert.Equal(AuditProblem.Hash, v.Problem);
        Assert.Equal(7, v.FirstBadSeq);
    }

    [Fact]
    public void Tamper_RowDeleted_FailsAsGap()
    {
        var v = Verify(Tampered("DELETE FROM audit_entry WHERE seq = 5"));
        Assert.Equal(AuditProblem.Gap, v.Problem);
        Assert.Equal(5, v.FirstBadSeq);
    }

    [Fact]
    public void Tamper_RowInsertedBelowSeq1_FailsAsMalformed()
    {
        // an INSERT, which no trigger refuses, outside the chain
        var v = Verify(Tampered("INSERT INTO audit_entry VALUES (0, '2026-01-01T00:00:00.0000000Z', 'run.started', 'x', convert_to('{}', 'UTF8'), '\\x00', '\\x01')"));
        Assert.Equal(AuditProblem.Malformed, v.Problem);
        Assert.Equal(1, v.FirstBadSeq);
    }

    [Fact]
    public void Tamper_TailAndItsCheckpointsTruncatedBelowACheckpoint_CaughtByTheExportedCheckpoints()
    {
        var v = Verify(Tampered("DELETE FROM audit_entry WHERE seq > 6; DELETE FROM audit_checkpoint WHERE seq > 6;"));
        Assert.Equal(AuditProblem.Truncation, v.Problem);
        Assert.Equal(7, v.FirstBadSeq);
        Assert.Equal(10, v.CheckpointSeq);
    }

    [Theory]
    [InlineData("cut")]
    [InlineData("emptied")]
    [InlineData("dropped")]
    public void OpeningALostLog_IsRefused_NothingCreatedOrAppended_AndVerifyReportsTruncation(string how)
    {
        // as on SQLite (LostLogTests): this writer's exported checkpoints show the log held 10 entries
        var home = Tampered(how switch
        {
            "cut" => "DELETE FROM audit_entry WHERE seq > 6; DELETE FROM audit_checkpoint WHERE seq > 6;",
            "emptied" => "DELETE FROM audit_entry; DELETE FROM audit_checkpoint;",
            _ => "DROP TABLE audit_entry CASCADE; DROP TABLE audit_checkpoint CASCADE;",
        });

        var e = Assert.Throws<InvalidInputException>(() => Open(home));
        Assert.Equal(AuditLog.LostRule, e.Rule);
        Assert.Contains(how == "cut" ? "the PostgreSQL audit log ends at entry 6" : "the PostgreSQL audit log is missing or empty", e.Message, StringComparison.Ordinal);
        Assert.Contains("show that it held 10 entries", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", e.Message, StringComparison.OrdinalIgnoreCase);
        // nothing created or appended: no new chain over the lost one
        var tables = Convert.ToInt64(_db.Scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('audit_entry', 'audit_checkpoint');"),
            CultureInfo.InvariantCulture);
        Assert.Equal(how == "dropped" ? 0 : 2, tables);
        if (how != "dropped")
            Assert.Equal(how == "cut" ? 6L : 0L, Convert.ToInt64(_db.Scalar("SELECT COUNT(*) FROM audit_entry;"), CultureInfo.InvariantCulture));
        if (how != "dropped") Assert.Equal(AuditProblem.Truncation, Verify(home).Problem);
    }

    [Fact]
    public void AReplicaWhoseCheckpointsTheSharedLogHasPassed_Opens_AndANewHomeOpensAnEmptyDatabase()
    {
        // replica A exported checkpoints up to 6; replica B appended after it: the shared head (12) is above A's export
        var a = NewHome();
        using (var log = Open(a)) Fill(log, 6, "a");
        var b = NewHome();
        using (var log = Open(b, keyPath: Path.Combine(a.KeysFolder, AuditSigningKey.PrivateFileName))) Fill(log, 6, "b");
        using (var again = Open(a)) Assert.Equal(12, again.Count);
        // a home that exported nothing is a new writer, whatever the database holds (here: an empty database)
        using var other = TestPostgres.CreateDatabase();
        using var fresh = AuditLog.Open(new AuditLogOptions { PostgresConnectionString = other.ConnectionString, CheckpointFile = NewHome().AuditCheckpoints });
        Assert.Equal(0, fresh.Count);
    }

    [Fact]
    public async Task WriterConnectionKilledMidTransaction_LeavesNoPartialEntry_AndReleasesTheLock()
    {
        var home = NewHome();
        using var log = Open(home);
        Fill(log, 3);
        var head = log.List()[^1];

        // a writer that took the lock and inserted entry 4, then died before COMMIT
        var dying = new NpgsqlConnection(_db.ConnectionString);
        dying.Open();
        var pid = dying.ProcessID;
        using (var begin = new NpgsqlCommand("BEGIN; SELECT pg_advisory_xact_lock(@k);", dying))
        {
            begin.Parameters.AddWithValue("k", PostgresAuditStore.AppendLock);
            begin.ExecuteNonQuery();
        }

        var ts = AuditLog.Rfc3339(DateTimeOffset.UtcNow);
        var payload = System.Text.Encoding.UTF8.GetBytes("""{"run_id":"ghost"}""");
        var hash = AuditLog.ComputeEntryHash(4, ts, "run.started", "ghost", payload, head.EntryHash);
        using (var insert = new NpgsqlCommand("INSERT INTO audit_entry VALUES (4, @t, 'run.started', 'ghost', @p, @prev, @h);", dying))
        {
            insert.Parameters.AddWithValue("t", ts);
            insert.Parameters.AddWithValue("p", payload);
            insert.Parameters.AddWithValue("prev", head.EntryHash);
            insert.Parameters.AddWithValue("h", hash);
            insert.ExecuteNonQuery();
        }

        // a live writer waits for the lock meanwhile
        var waiting = Task.Run(() => log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "after" }));
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted, "the append did not wait for the writer holding the lock");

        // the dying writer's backend is killed (as when its process or connection dies): PostgreSQL rolls it back
        using (var admin = new NpgsqlConnection(_db.ConnectionString))
        {
            admin.Open();
            using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(@pid);", admin);
            kill.Parameters.AddWithValue("pid", pid);
            Assert.True((bool)kill.ExecuteScalar()!);
        }

        try
        {
            dying.Dispose();
        }
        catch (NpgsqlException)
        {
            // its server session is gone, as intended
        }

        var receipt = await waiting.WaitAsync(TimeSpan.FromSeconds(60)); // moments here; a loaded machine may take longer
        Assert.Equal(4, receipt.Seq);
        var entries = log.List();
        Assert.DoesNotContain(entries, e => e.Actor == "ghost");
        Assert.Equal("""{"run_id":"after"}""", entries[3].Payload);
        Assert.True(log.VerifyStored().Ok, log.VerifyStored().Message);
    }

    [Fact]
    public async Task KillNine_ChildWriterProcesses_EveryAcknowledgedEntrySurvives()
    {
        if (OperatingSystem.IsWindows()) return;
        var home = NewHome();
        var rng = new System.Random(77);
        var acked = new HashSet<long>();
        for (var k = 0; k < 12; k++)
        {
            // two children at once, as two replicas
            var children = Enumerable.Range(0, 2).Select(_ => StartChild(home.Root)).ToList();
            var target = rng.Next(5, 40);
            var readers = children.Select(p => Task.Run(() =>
            {
                var seen = new List<long>();
                for (var i = 0; i < target; i++)
                {
                    var line = p.StandardOutput.ReadLine();
                    if (line is null) break;
                    seen.Add(long.Parse(line, CultureInfo.InvariantCulture));
                }

                return seen;
            })).ToArray();
            var seen = await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(rng.Next(0, 3));
            foreach (var p in children)
            {
                p.Kill();
                p.WaitForExit();
            }

            foreach (var (p, r) in children.Zip(seen))
            {
                foreach (var seq in r) Assert.True(acked.Add(seq), $"seq {seq} acknowledged twice");
                foreach (var line in p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    Assert.True(acked.Add(long.Parse(line, CultureInfo.InvariantCulture)));
                Assert.True(r.Count > 0, "a child printed nothing: " + p.StandardError.ReadToEnd());
                p.Dispose();
            }

            var v = Verify(home);
            Assert.True(v.Ok, $"after kill {k + 1}: {v.Message}");
        }

        using var log = Open(home);
        Assert.Subset(log.List().Select(e => e.Seq).ToHashSet(), acked);
    }

    private Process StartChild(string home)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Crucible.Governance.AppendChild.dll"));
        foreach (var a in new[] { home, "1000000", "8", _db.ConnectionString }) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    [Fact]
    public void ARotationByOneReplica_MovesTheSharedLogToTheNewKey_AndReplicasWithTheOldKeyAreRefused()
    {
        // session 21: one replica (or the CLI) rotates; audit_meta.signing_key_id moves in the rotation's transaction, so a
        // running replica that still holds the old key is refused on its next append, and at start until given the new key
        var a = NewHome();
        var b = NewHome();
        var keyA = Path.Combine(a.KeysFolder, AuditSigningKey.PrivateFileName);
        using (var log = Open(a)) Fill(log, 5, "a");
        var first = Path.Combine(a.Root, "first.pub.pem");
        File.Copy(Path.Combine(a.KeysFolder, AuditSigningKey.PublicFileName), first);
        Directory.CreateDirectory(b.KeysFolder);
        File.Copy(keyA, Path.Combine(b.KeysFolder, AuditSigningKey.PrivateFileName));

        using var running = Open(b);
        running.Append(AuditKind.RunStarted, new JsonObject { ["i"] = 0 }, "replica-b");
        AuditKeyRotation r;
        using (var log = Open(a)) r = log.RotateKey("operator left");
        Assert.Equal(7, r.Seq);

        var refused = Assert.Throws<InvalidInputException>(() => running.Append(AuditKind.RunStarted, new JsonObject { ["i"] = 1 }, "replica-b"));
        Assert.Equal(AuditLog.KeyRule, refused.Rule);
        Assert.Contains($"rotated to {r.NewKeyId}", refused.Message, StringComparison.Ordinal);
        running.Dispose();
        var restarted = Assert.Throws<InvalidInputException>(() => Open(b));
        Assert.Contains($"signed with key {r.NewKeyId}", restarted.Message, StringComparison.Ordinal);

        // the new key copied to B: both replicas append, and the log verifies with the first key or the new one
        File.Copy(keyA, Path.Combine(b.KeysFolder, AuditSigningKey.PrivateFileName), overwrite: true);
        File.Delete(Path.Combine(b.KeysFolder, AuditSigningKey.PublicFileName));
        using (var la = Open(a))
        using (var lb = Open(b))
        {
            la.Append(AuditKind.RunStarted, new JsonObject { ["i"] = 2 }, "replica-a");
            lb.Append(AuditKind.RunStarted, new JsonObject { ["i"] = 3 }, "replica-b");
        }

        using (var trusted = AuditSigningKey.LoadPublic(first))
        {
            var v = AuditLog.VerifyPostgres(_db.ConnectionString, trusted, a.AuditCheckpoints);
            Assert.True(v.Ok, v.Message);
            Assert.Equal(9, v.Entries);
            Assert.Equal(r.NewKeyId, Assert.Single(v.KeyChanges).NewKeyId);
        }

        Assert.True(Verify(b, b.AuditCheckpoints).Ok);
    }

    [Fact]
    public void ALostSharedKey_StartsANewEpoch_ThatVerifyReportsAsABreak()
    {
        var a = NewHome();
        using (var log = Open(a)) Fill(log, 3, "a");
        var first = Path.Combine(a.Root, "first.pub.pem");
        File.Copy(Path.Combine(a.KeysFolder, AuditSigningKey.PublicFileName), first);
        File.Delete(Path.Combine(a.KeysFolder, AuditSigningKey.PrivateFileName));
        var options = new AuditLogOptions
        {
            PostgresConnectionString = _db.ConnectionString,
            SigningKeyPath = Path.Combine(a.KeysFolder, AuditSigningKey.PrivateFileName),
            CheckpointFile = a.AuditCheckpoints,
            DefaultActor = "test",
        };
        var r = AuditLog.StartKeyEpochAfterLoss(options, first, "lost with the old node");
        Assert.Equal(4, r.Seq);
        using (var log = Open(a)) Fill(log, 2, "a");
        using var trusted = AuditSigningKey.LoadPublic(first);
        var v = AuditLog.VerifyPostgres(_db.ConnectionString, trusted, a.AuditCheckpoints);
        Assert.True(v.Ok, v.Message);
        Assert.Equal(new AuditKeyChange(4, r.OldKeyId, r.NewKeyId, SignedByOldKey: false), Assert.Single(v.KeyBreaks));
    }

    [Fact]
    public void AWriterWithAnotherKey_IsRefused_OneKeyVerifiesEveryReplicasCheckpoints()
    {
        var a = NewHome();
        var b = NewHome();
        using (var log = Open(a)) Fill(log, 5, "a");
        // B has its own, different key: refused before it writes anything
        var e = Assert.Throws<InvalidInputException>(() => Open(b));
        Assert.Equal("AUDIT-E-KEY", e.Rule);
        Assert.Contains("same private key", e.Message, StringComparison.Ordinal);

        // B given A's key file (copied alone: the public half is written beside it) writes and checkpoints
        File.Delete(Path.Combine(b.KeysFolder, AuditSigningKey.PrivateFileName));
        File.Delete(Path.Combine(b.KeysFolder, AuditSigningKey.PublicFileName));
        File.Copy(Path.Combine(a.KeysFolder, AuditSigningKey.PrivateFileName), Path.Combine(b.KeysFolder, AuditSigningKey.PrivateFileName));
        using (var la = Open(a))
        using (var lb = Open(b))
        {
            for (var i = 0; i < 6; i++)
            {
                la.Append(AuditKind.RunStarted, new JsonObject { ["i"] = i }, "replica-a");
                lb.Append(AuditKind.RunStarted, new JsonObject { ["i"] = i }, "replica-b");
            }
        }

        var v = Verify(b);
        Assert.True(v.Ok, v.Message);
        Assert.Equal(17, v.Entries);
        Assert.True(Verify(a).Ok);
        // checkpoints were signed by both writers: each export file holds all of them, so both files agree
        Assert.True(File.ReadAllLines(b.AuditCheckpoints).Length >= 4);
    }

    [Fact]
    public void Registry_AModelRegisteredThroughOneReplica_LoadsOnAnother_FromTheSharedFiles()
    {
        var a = NewHome();
        var b = NewHome();
        var source = Path.Combine(a.Root, "src-model");
        Directory.CreateDirectory(source);
        File.WriteAllBytes(Path.Combine(source, ModelRegistry.WeightsFileName), [1, 2, 3, 4, 5]);
        File.WriteAllText(Path.Combine(source, ModelRegistry.ManifestFileName), """{"kind":"tabular"}""");
        File.Copy(Path.Combine(NewKey(a), AuditSigningKey.PrivateFileName), Path.Combine(NewKeysFolder(b), AuditSigningKey.PrivateFileName));
        ModelRecord registered;
        using (var la = Open(a)) registered = new ModelRegistry(a, la).Register(source);
        using var lb = Open(b);
        var registry = new ModelRegistry(b, lb);
        Assert.Equal(registered.Id, Assert.Single(registry.List()).Id);
        Assert.False(Directory.Exists(Path.Combine(b.ModelsFolder, registered.Id)));
        var loaded = registry.Load(registered.Id);
        Assert.Equal(File.ReadAllBytes(registered.WeightsPath), File.ReadAllBytes(loaded.WeightsPath));
        Assert.StartsWith(b.ModelsFolder, loaded.Folder, StringComparison.Ordinal);
        Assert.Equal("REG-E-EXISTS", Assert.Throws<InvalidInputException>(() => registry.Register(source)).Rule);
        registry.ChangeStatus(registered.Id, ModelStatus.Retired, "test");
        using var la2 = Open(a);
        Assert.Equal(ModelStatus.Retired, new ModelRegistry(a, la2).Find(registered.Id)!.Status);
    }

    [Fact]
    public async Task Registry_TwoReplicasRegisteringOneModel_TheSecondWaitsForTheFirstsEntry()
    {
        // two homes (two replicas) on one shared store: the home lock cannot see the other replica, the store's lock does
        var a = NewHome();
        var b = NewHome();
        var source = Path.Combine(a.Root, "src-model");
        Directory.CreateDirectory(source);
        File.WriteAllBytes(Path.Combine(source, ModelRegistry.WeightsFileName), [9, 8, 7, 6]);
        File.WriteAllText(Path.Combine(source, ModelRegistry.ManifestFileName), """{"kind":"tabular"}""");
        File.Copy(Path.Combine(NewKey(a), AuditSigningKey.PrivateFileName), Path.Combine(NewKeysFolder(b), AuditSigningKey.PrivateFileName));
        using var la = Open(a);
        using var lb = Open(b);
        using var moved = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = new ModelRegistry(a, la)
        {
            BeforeEntry = _ =>
            {
                moved.Set();
                release.Wait(TimeSpan.FromSeconds(30));
            },
        };
        var registering = Task.Run(() => first.Register(source));
        Assert.True(moved.Wait(TimeSpan.FromSeconds(30)));
        var second = Task.Run(() => new ModelRegistry(b, lb).RegisterOrFind(source));
        Assert.NotSame(second, await Task.WhenAny(second, Task.Delay(500)));
        release.Set();
        var registered = await registering;
        var (found, isNew) = await second;
        Assert.False(isNew);
        Assert.Equal(registered.RegisteredSeq, found.RegisteredSeq);
        Assert.Single(la.ListKinds(AuditKind.ModelRegistered));
    }

    private static string NewKey(CrucibleHome home)
    {
        using (AuditSigningKey.LoadOrCreate(Path.Combine(home.KeysFolder, AuditSigningKey.PrivateFileName)))
        {
        }

        return home.KeysFolder;
    }

    private static string NewKeysFolder(CrucibleHome home)
    {
        Directory.CreateDirectory(home.KeysFolder);
        return home.KeysFolder;
    }

    // RELIABILITY LOG-8
    [Fact]
    public void Open_UnreachableServer_IsABadInputNamingTheStore_WithoutThePassword()
    {
        var e = Assert.Throws<InvalidInputException>(() => AuditLog.Open(new AuditLogOptions
        {
            PostgresConnectionString = "Host=127.0.0.1;Port=1;Username=u;Password=hunter2-secret;Database=d;Timeout=2",
        }));
        Assert.Equal("STORE-E-CONNECT", e.Rule);
        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AppendWithRunCompleted_OnPostgres_BothEntriesAdjacent_AndAFailureInBetweenLeavesNeither()
    {
        var home = NewHome();
        using var log = Open(home);
        Fill(log, 2);
        var manifest = new Governance.Manifests.RunManifestBuilder(Governance.Manifests.RunKind.Generate, new JsonObject { ["count"] = 1 }, 3, home.RunsFolder)
            .AddOutput(Governance.Manifests.ManifestFile.Named("response", "x"u8)).Finish();

        // a failure after the first entry was inserted (the callback throws): rolled back whole
        Assert.Throws<InvalidOperationException>(() => log.AppendWithRunCompleted(AuditKind.ScenariosGenerated, new JsonObject { ["count"] = 1 },
            _ => throw new InvalidOperationException("injected")));
        Assert.Equal(2, log.List().Count);
        Assert.Null(log.ReadRunManifest(manifest.RunId));

        var receipts = log.AppendWithRunCompleted(AuditKind.ScenariosGenerated, new JsonObject { ["count"] = 1 },
            r => (manifest, new JsonObject { ["generated_seq"] = r.Seq }));
        Assert.Equal([3L, 4L], receipts.Select(r => r.Seq));
        Assert.Equal(["scenarios.generated", "run.completed"], log.List().Skip(2).Select(e => e.Kind));
        Assert.Equal(manifest.ToCanonicalJson(), log.ReadRunManifest(manifest.RunId));
        log.Checkpoint();
        var v = Verify(home);
        Assert.True(v.Ok, v.Message);
    }
}

public sealed class StoreLocationTests
{
    [Fact]
    public void Parse_SqliteAndPostgres_RedactsThePassword_RefusesTheRest()
    {
        var s = StoreLocation.Parse("sqlite:/tmp/some-home");
        Assert.Equal(StoreKind.Sqlite, s.Kind);
        Assert.Equal(Path.GetFullPath("/tmp/some-home"), s.Value);
        var p = StoreLocation.Parse("postgres:Host=db.internal;Username=crucible;Password=s3cret-value;Database=crucible");
        Assert.Equal(StoreKind.Postgres, p.Kind);
        Assert.Contains("s3cret-value", p.Value, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-value", p.ToString(), StringComparison.Ordinal);
        Assert.Contains("Host=db.internal", p.Redacted, StringComparison.Ordinal);
        Assert.Equal(StoreKind.Postgres, StoreLocation.Parse("postgresql:Host=h;Database=d").Kind);
        foreach (var bad in new[] { "", "mysql:Host=x", "/just/a/path", "sqlite:", "postgres:", "postgres:Host=h", "postgres:Database=d",
                     "postgres:Hots=h;Database=d;Password=leak-me" })
        {
            var e = Assert.Throws<InvalidInputException>(() => StoreLocation.Parse(bad));
            Assert.Equal("STORE-E", e.Rule);
            Assert.DoesNotContain("leak-me", e.Message, StringComparison.Ordinal);
        }
    }
}
