using System.Text;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Tests.Audit;

public class AuditLogTests
{
    [Fact]
    public void Append_ReturnsContiguousSeqAndHashes_ListReadsThemBack()
    {
        using var t = new AuditTestHome();
        using (var log = t.Open())
        {
            var r1 = log.Append(AuditKind.ModelRegistered, new JsonObject { ["model_id"] = "abc", ["size"] = 3 });
            var r2 = log.Append(AuditKind.ModelStatusChanged, new JsonObject { ["model_id"] = "abc", ["from"] = "candidate", ["to"] = "validated" }, "alice");
            Assert.Equal(1, r1.Seq);
            Assert.Equal(2, r2.Seq);
            var entries = log.List();
            Assert.Equal(2, entries.Count);
            Assert.Equal("""{"model_id":"abc","size":3}""", entries[0].Payload);
            Assert.Equal("model.status_changed", entries[1].Kind);
            Assert.Equal("alice", entries[1].Actor);
            Assert.Equal("test", entries[0].Actor);
            Assert.Equal(r2.EntryHash, entries[1].EntryHashHex);
            Assert.Equal(new byte[32], entries[0].PrevHash);
            Assert.Equal(entries[0].EntryHash, entries[1].PrevHash);
            Assert.Equal(
                AuditLog.ComputeEntryHash(1, entries[0].TimestampUtc, "model.registered", "test", Encoding.UTF8.GetBytes(entries[0].Payload), new byte[32]),
                entries[0].EntryHash);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", entries[0].TimestampUtc);
            Assert.Single(log.List(2));
            Assert.Single(log.List(1, 1));

            // by kind (indexed): the same entries as filtering the whole log, in seq order
            log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "r" });
            log.Append(AuditKind.ModelRegistered, new JsonObject { ["model_id"] = "def" });
            var all = log.List();
            Assert.Equal([1L, 4L], log.ListKinds(AuditKind.ModelRegistered).Select(e => e.Seq));
            Assert.Equal(all.Where(e => e.Kind != "run.started").Select(e => e.EntryHashHex),
                log.ListKinds(AuditKind.ModelStatusChanged, AuditKind.ModelRegistered).Select(e => e.EntryHashHex));
            Assert.Empty(log.ListKinds(AuditKind.RunCompleted));
            Assert.Empty(log.ListKinds());
        }

        var v = t.Verify();
        Assert.True(v.Ok, v.Message);
        Assert.Equal(4, v.Entries);
    }

    // RELIABILITY SVC-12
    [Fact]
    public void Open_SetsWalAndSynchronousFull()
    {
        using var t = new AuditTestHome();
        t.Fill(1);
        SQLitePCL.Batteries_V2.Init();
        using var c = new SqliteConnection($"Data Source={t.Home.AuditDatabase};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", cmd.ExecuteScalar() as string);
    }

    [Fact]
    public void Triggers_RefuseUpdateAndDelete()
    {
        using var t = new AuditTestHome();
        t.Fill(2);
        SQLitePCL.Batteries_V2.Init();
        using var c = new SqliteConnection($"Data Source={t.Home.AuditDatabase};Pooling=False");
        c.Open();
        foreach (var sql in new[] { "UPDATE audit_entry SET actor='x' WHERE seq=1", "DELETE FROM audit_entry WHERE seq=2", "DELETE FROM audit_checkpoint" })
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            var e = Assert.Throws<SqliteException>(() => cmd.ExecuteNonQuery());
            Assert.Contains("append-only", e.Message, StringComparison.Ordinal);
        }
    }

    // RELIABILITY LOG-7
    [Fact]
    public void EntryHash_IsIndependentOfCultureAndNodeConstruction()
    {
        using var t = new AuditTestHome();
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            using var log = t.Open();
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo("de-DE");
            log.Append(AuditKind.PrivacyReport, new JsonObject { ["epsilon"] = 7.32911117143, ["delta"] = 1e-5 });
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo("tr-TR");
            log.Append(AuditKind.PrivacyReport, JsonNode.Parse("""{ "delta": 0.00001, "epsilon": 7.329111171430 }"""));
            var entries = log.List();
            Assert.Equal("""{"delta":0.00001,"epsilon":7.32911117143}""", entries[0].Payload);
            Assert.Equal(entries[0].Payload, entries[1].Payload);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    // RELIABILITY LOG-8
    [Theory]
    [InlineData("api_key")]
    [InlineData("Password")]
    [InlineData("db-secret")]
    [InlineData("access_token")]
    public void Append_RefusesSecretLookingMembers_AndStoresNothing(string member)
    {
        using var t = new AuditTestHome();
        using var log = t.Open();
        var e = Assert.Throws<InvalidInputException>(() =>
            log.Append(AuditKind.RunStarted, new JsonObject { ["nested"] = new JsonObject { [member] = "hunter2-SENTINEL" } }));
        Assert.Equal("AUDIT-E-SECRET", e.Rule);
        Assert.Equal(0, log.Count);
        log.Dispose();
        Assert.DoesNotContain("hunter2-SENTINEL", Encoding.UTF8.GetString(File.ReadAllBytes(t.Home.AuditDatabase)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(200)]
    public void Verify_UntouchedLog_IsOk(int count)
    {
        using var t = new AuditTestHome();
        if (count == 0) t.Open().Dispose();
        else t.Fill(count);
        var v = t.Verify();
        Assert.True(v.Ok, v.Message);
        Assert.Equal(count, v.Entries);
        Assert.Null(v.FirstBadSeq);
        if (count > 0) Assert.True(v.CheckpointsChecked >= 2 * (count / t.CheckpointInterval)); // database and exported copies
    }

    [Fact]
    public void Verify_100000Entries_IsOk_AndAppendManyIsAllOrNothing()
    {
        using var t = new AuditTestHome(checkpointInterval: 1000);
        using (var log = t.Open())
        {
            for (var batch = 0; batch < 10; batch++)
            {
                var entries = Enumerable.Range(0, 10_000)
                    .Select(i => (AuditKind.ScenariosGenerated, (JsonNode?)new JsonObject { ["n"] = batch * 10_000 + i })).ToList();
                var receipts = log.AppendMany(entries);
                Assert.Equal(batch * 10_000 + 1, receipts[0].Seq);
                Assert.Equal((batch + 1) * 10_000, receipts[^1].Seq);
            }

            var bad = new List<(AuditKind, JsonNode?)> { (AuditKind.RunStarted, new JsonObject { ["ok"] = 1 }), (AuditKind.RunStarted, new JsonObject { ["token"] = "x" }) };
            Assert.Throws<InvalidInputException>(() => log.AppendMany(bad));
            Assert.Equal(100_000, log.Count);
        }

        var v = t.Verify();
        Assert.True(v.Ok, v.Message);
        Assert.Equal(100_000, v.Entries);
        Assert.Equal(200, v.CheckpointsChecked); // 100 in the database, 100 exported
    }

    [Fact]
    public void Verify_NoLogAtAll_IsBadInput()
    {
        var home = CrucibleHome.Resolve(Path.Combine(Path.GetTempPath(), "crucible-none-" + Guid.NewGuid().ToString("N")));
        Assert.Throws<InvalidInputException>(() => AuditLog.Verify(home));
    }

    [Fact]
    public void Checkpoints_AreSignedExportedAndCarryTheMerkleRoot()
    {
        using var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(10);
        using var log = t.Open();
        var checkpoints = log.Checkpoints();
        Assert.Equal(new long[] { 4, 8, 10 }, checkpoints.Select(c => c.Seq));
        var lines = File.ReadAllLines(t.Home.AuditCheckpoints);
        Assert.Equal(3, lines.Length);
        var leaves = log.List().Select(e => MerkleTree.LeafHash(e.EntryHash)).ToList();
        using var pub = AuditSigningKey.LoadPublic(Path.Combine(t.Home.KeysFolder, AuditSigningKey.PublicFileName));
        foreach (var c in checkpoints)
        {
            Assert.Equal(MerkleTree.Root(leaves.Take((int)c.Seq).ToList()), c.MerkleRoot);
            Assert.True(pub.Verify(c.SignedBytes(), c.Signature));
        }

        // An auditor proves entry 3 was logged with the checkpoint's root alone.
        var proof = log.InclusionProof(3, 8);
        Assert.True(MerkleTree.VerifyInclusion(2, 8, leaves[2], proof, checkpoints[1].MerkleRoot));
        // The private key never enters the database.
        var keyPem = File.ReadAllText(Path.Combine(t.Home.KeysFolder, AuditSigningKey.PrivateFileName));
        Assert.Contains("PRIVATE KEY", keyPem, StringComparison.Ordinal);
        var body = keyPem.Split('\n')[1];
        Assert.DoesNotContain(body, Encoding.ASCII.GetString(File.ReadAllBytes(t.Home.AuditDatabase)), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
                File.GetUnixFileMode(Path.Combine(t.Home.KeysFolder, AuditSigningKey.PrivateFileName)));
        }
    }

    [Fact]
    public void CheckpointFile_TornLastLine_IsCutOffByTheNextExport_AndTheLogVerifies()
    {
        // a crash in the middle of the checkpoint file's write() leaves a partial line with no newline
        using var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(8);
        var last = File.ReadAllLines(t.Home.AuditCheckpoints)[^1];
        File.AppendAllText(t.Home.AuditCheckpoints, last[..(last.Length / 2)]);
        Assert.True(t.Verify().Ok);   // the reader ignores a torn last line

        t.Fill(8);                    // the next export must not leave the fragment behind as a malformed line
        var v = t.Verify();
        Assert.True(v.Ok, v.Message);
        var lines = File.ReadAllLines(t.Home.AuditCheckpoints);
        Assert.All(lines, line => AuditLog.ParseCheckpointLine(line));
        Assert.EndsWith("\n", File.ReadAllText(t.Home.AuditCheckpoints), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckpointFile_ACopyWhoseLastLineLacksItsNewline_StillChecksThatCheckpoint()
    {
        // an off-machine copy (--checkpoints) saved without the final newline lost its newest checkpoint: it was read as
        // a torn write, as in the home's own file, so a log cut below that checkpoint verified against the copy
        using var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(8); // checkpoints at 4 and 8
        var lines = File.ReadAllLines(t.Home.AuditCheckpoints);
        Assert.Equal(2, lines.Length);
        var copy = Path.Combine(t.Home.Root, "copy.jsonl");
        File.WriteAllText(copy, lines[0] + "\n" + lines[1]);
        var whole = AuditLog.Verify(t.Home, checkpointFile: copy);
        Assert.True(whole.Ok, whole.Message);
        Assert.Equal(t.Verify().CheckpointsChecked, whole.CheckpointsChecked);

        t.Tamper("DELETE FROM audit_entry WHERE seq > 6; DELETE FROM audit_checkpoint WHERE seq > 6;");
        SqliteConnection.ClearAllPools();
        var cut = AuditLog.Verify(t.Home, checkpointFile: copy);
        Assert.Equal(AuditProblem.Truncation, cut.Problem);
        Assert.Equal(7, cut.FirstBadSeq);

        // a last line that does not parse is a torn write, as before: passed over, the lines before it still checked
        File.WriteAllText(copy, lines[0] + "\n" + lines[1][..(lines[1].Length / 2)]);
        var torn = AuditLog.Verify(t.Home, checkpointFile: copy);
        Assert.True(torn.Ok, torn.Message);
    }

    [Fact]
    public void CheckpointFile_ACopySavedWithAByteOrderMark_IsReadWhole_NotMalformed()
    {
        // an off-machine copy re-saved by an editor that writes a UTF-8 BOM (and CR LF) failed as Malformed at line 1
        // ("not a checkpoint line"): a false alarm on an untampered log; its first line must still be checked
        using var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(8);
        var plain = t.Verify();
        Assert.True(plain.Ok, plain.Message);
        var lines = File.ReadAllLines(t.Home.AuditCheckpoints);
        var copy = Path.Combine(t.Home.Root, "copy-with-bom.jsonl");
        File.WriteAllText(copy, string.Concat(lines.Select(l => l + "\r\n")), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(0xEF, File.ReadAllBytes(copy)[0]);

        var v = AuditLog.Verify(t.Home, checkpointFile: copy);
        Assert.True(v.Ok, v.Message);
        Assert.Equal(plain.CheckpointsChecked, v.CheckpointsChecked);

        // the line after the mark is read: a first checkpoint that does not match the chain is still found
        var first = JsonNode.Parse(lines[0])!.AsObject();
        first["merkle_root"] = new string('0', 64);
        File.WriteAllText(copy, string.Concat(new[] { first.ToJsonString() }.Concat(lines.Skip(1)).Select(l => l + "\n")),
            new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        var tampered = AuditLog.Verify(t.Home, checkpointFile: copy);
        Assert.Equal(AuditProblem.Signature, tampered.Problem);
        Assert.Equal(first["seq"]!.GetValue<long>(), tampered.CheckpointSeq);
    }

    [Theory]
    [InlineData("head_hash")]
    [InlineData("merkle_root")]
    [InlineData("sig")]
    [InlineData("ts_utc")]
    [InlineData("key_id")]
    public void CheckpointFile_LineWithANullMember_IsMalformed_NotACrash(string member)
    {
        using var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(4);
        var line = JsonNode.Parse(File.ReadAllLines(t.Home.AuditCheckpoints)[0])!.AsObject();
        line[member] = null;
        File.AppendAllText(t.Home.AuditCheckpoints, line.ToJsonString() + "\n");

        var v = t.Verify();
        Assert.Equal(AuditProblem.Malformed, v.Problem);
        Assert.Contains("not a checkpoint line", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckpointFile_ASecondLineForASeq_ThatDiffersOnlyInItsKeyId_IsTwoDifferentCheckpoints()
    {
        // the duplicate check compared hashes, signature and time but not key_id, so the later line silently replaced the
        // first and verification went on with a checkpoint that names another key
        using var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(4);
        var line = JsonNode.Parse(File.ReadAllLines(t.Home.AuditCheckpoints)[0])!.AsObject();
        line["key_id"] = new string('0', line["key_id"]!.GetValue<string>().Length);
        File.AppendAllText(t.Home.AuditCheckpoints, line.ToJsonString() + "\n");

        var v = t.Verify();
        Assert.Equal(AuditProblem.Malformed, v.Problem);
        Assert.Contains("two different checkpoints for seq 4", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WhileAnotherProcessIsCreatingTheSchema_IsNotRefusedForAMissingAuditMeta()
    {
        // what a reader saw when another writer's schema statements ran one by one: the entry tables, no audit_meta yet
        // (CI: 16 writers opening a new log, "SQLite Error 1: 'no such table: audit_meta'")
        using var home = new AuditTestHome();
        using (var c = new SqliteConnection($"Data Source={home.Home.AuditDatabase};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE audit_entry(seq INTEGER PRIMARY KEY, ts_utc TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
                  payload BLOB NOT NULL, prev_hash BLOB NOT NULL, entry_hash BLOB NOT NULL UNIQUE);
                CREATE TABLE audit_checkpoint(seq INTEGER PRIMARY KEY, head_hash BLOB NOT NULL, merkle_root BLOB NOT NULL,
                  ts_utc TEXT NOT NULL, key_id TEXT NOT NULL, sig BLOB NOT NULL);
                """;
            cmd.ExecuteNonQuery();
        }

        home.Fill(5);
        var verification = home.Verify();
        Assert.True(verification.Ok, verification.Message);
        Assert.Equal(5, verification.Entries);
    }

    [Fact]
    public void SixteenWritersTimesAThousandAppends_GiveContiguousSeqAndVerify()
    {
        using var t = new AuditTestHome(checkpointInterval: 7);
        const int writers = 16, each = 1000; // RELIABILITY.md LOG-5: 16 × 1000
        var receipts = new System.Collections.Concurrent.ConcurrentBag<long>();
        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
        {
            using var log = t.Open();
            for (var i = 0; i < each; i++) receipts.Add(log.Append(AuditKind.RunStarted, new JsonObject { ["writer"] = w, ["i"] = i }).Seq);
        });
        Assert.Equal(Enumerable.Range(1, writers * each).Select(i => (long)i), receipts.OrderBy(s => s));
        var v = t.Verify();
        Assert.True(v.Ok, v.Message);
        Assert.Equal(writers * each, v.Entries);
    }
    [Fact]
    public void OpeningACompleteLog_DoesNotWait_ForAnotherProcessesWriteLock()
    {
        using var t = new AuditTestHome();
        t.Fill(3);
        SQLitePCL.Batteries_V2.Init();
        using var other = new Microsoft.Data.Sqlite.SqliteConnection(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = t.Home.AuditDatabase, Pooling = false }.ToString());
        other.Open();
        using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE;"; // another writer holds the write lock
            begin.ExecuteNonQuery();
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var log = t.Open()) Assert.Equal(3, log.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"open took {clock.Elapsed}: it waited for the write lock (busy timeout 30 s)");
        using var rollback = other.CreateCommand();
        rollback.CommandText = "ROLLBACK;";
        rollback.ExecuteNonQuery();
    }

    [Fact]
    public void OpeningALogThatLacksTheRunsTable_CreatesIt()
    {
        using var t = new AuditTestHome();
        t.Fill(2);
        t.Tamper("DROP TRIGGER runs_no_update; DROP TRIGGER runs_no_delete; DROP TABLE runs;");
        using var log = t.Open();
        log.AppendRunCompleted(Manifest("run-old"), new JsonObject { ["command"] = "test" });
        Assert.NotNull(log.ReadRunManifest("run-old"));
    }

    private static RunManifest Manifest(string runId) => new RunManifestBuilder(RunKind.Generate, new JsonObject { ["count"] = 2 }, 9, Path.GetTempPath())
    {
        RunId = runId,
    }.AddInput(ManifestFile.Named("request", "{}"u8)).AddOutput(ManifestFile.Named("response", "a,b\n"u8)).Finish();

    [Fact]
    public void AppendRunCompleted_StoresTheManifest_AndPinsItsHash_InOneTransaction()
    {
        using var t = new AuditTestHome();
        using var log = t.Open();
        var manifest = Manifest("run-1");
        var receipts = log.AppendRunCompleted(manifest, new JsonObject { ["command"] = "test" }, "bob",
            [(AuditKind.ScenariosGenerated, new JsonObject { ["count"] = 2 })]);
        Assert.Equal([1L, 2L], receipts.Select(r => r.Seq));
        var stored = log.ReadRunManifest("run-1")!;
        Assert.Equal(manifest.ToCanonicalJson(), stored);
        var entries = log.List();
        Assert.Equal(["scenarios.generated", "run.completed"], entries.Select(e => e.Kind));
        var payload = JsonNode.Parse(entries[1].Payload)!;
        Assert.Equal("run-1", (string?)payload["run_id"]);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stored)), (string?)payload["manifest_sha256"]);
        Assert.Equal("test", (string?)payload["command"]);
        Assert.Null(log.ReadRunManifest("run-2"));

        // a run id is stored once: the second attempt fails whole, leaving neither a manifest nor an entry
        Assert.ThrowsAny<SqliteException>(() => log.AppendRunCompleted(Manifest("run-1"), new JsonObject { ["command"] = "again" }));
        Assert.Equal(2, log.List().Count);
        Assert.Equal(stored, log.ReadRunManifest("run-1"));
    }

    [Fact]
    public void AppendWithRunCompleted_HandsTheFirstReceiptOn_BothEntriesAdjacent_AndAFailureInBetweenLeavesNeither()
    {
        // checkpoint interval 4: the first entry (seq 4) is also checkpointed inside the transaction
        using var t = new AuditTestHome();
        using var log = t.Open();
        for (var i = 0; i < 3; i++) log.Append(AuditKind.RunStarted, new JsonObject { ["step"] = i });

        // a callback that throws after the first entry was inserted: nothing of the run is stored, the head is unchanged
        var boom = new InvalidOperationException("injected between the entries");
        AuditReceipt? seen = null;
        Assert.Same(boom, Assert.Throws<InvalidOperationException>(() => log.AppendWithRunCompleted(AuditKind.ScenariosGenerated, new JsonObject { ["count"] = 2 },
            r => { seen = r; throw boom; }, "bob")));
        Assert.Equal(4, seen!.Seq); // it was inserted, then rolled back
        Assert.Equal(3, log.List().Count);
        Assert.Null(log.ReadRunManifest("run-a"));

        // a payload that names a secret, refused inside the transaction: the same
        Assert.Equal("AUDIT-E-SECRET", Assert.Throws<Crucible.Data.InvalidInputException>(() => log.AppendWithRunCompleted(AuditKind.ScenariosGenerated,
            new JsonObject { ["count"] = 2 }, _ => (Manifest("run-a"), new JsonObject { ["api_key"] = "x" }))).Rule);
        Assert.Equal(3, log.List().Count);
        Assert.Null(log.ReadRunManifest("run-a"));

        // the receipt handed on is the first entry's, final once committed; run.completed follows it at once
        AuditReceipt? first = null;
        var receipts = log.AppendWithRunCompleted(AuditKind.ScenariosGenerated, new JsonObject { ["count"] = 2 }, r =>
        {
            first = r;
            return (Manifest("run-a"), new JsonObject { ["command"] = "test", ["generated_seq"] = r.Seq });
        }, "bob");
        Assert.Equal([4L, 5L], receipts.Select(r => r.Seq));
        Assert.Equal(first, receipts[0]);
        var entries = log.List();
        Assert.Equal(["scenarios.generated", "run.completed"], entries.Skip(3).Select(e => e.Kind));
        Assert.Equal(receipts[0].EntryHash, Convert.ToHexStringLower(entries[3].EntryHash));
        var payload = JsonNode.Parse(entries[4].Payload)!;
        Assert.Equal(4L, (long)payload["generated_seq"]!);
        Assert.Equal("run-a", (string?)payload["run_id"]);
        var stored = log.ReadRunManifest("run-a")!;
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stored)), (string?)payload["manifest_sha256"]);
        log.Append(AuditKind.RunStarted, new JsonObject { ["step"] = 9 });
        log.Dispose();
        var v = t.Verify();
        Assert.True(v.Ok, v.Message);
        Assert.Equal(6, v.Entries);
    }

    [Fact]
    public void FileWrittenByWriteJson_AndStoredCopyOfAppendRunCompletedJson_AreTheSameBytes()
    {
        using var t = new AuditTestHome();
        var bytes = Manifest("run-1").ToCanonicalJson();
        var path = RunManifests.WriteJson(t.Home, bytes);
        using var log = t.Open();
        log.AppendRunCompletedJson(bytes, new JsonObject { ["command"] = "test" });
        Assert.Equal(Path.Combine(t.Home.RunsFolder, "run-1.json"), path);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(bytes, log.ReadRunManifest("run-1"));
    }

    [Fact]
    public void AppendRunCompletedJson_OnALogOpenedForAHomeWithNoRunsFolder_StoresTheRun()
    {
        // the service keeps run manifests in the log only: its home may have no runs/ folder, and removing the run's pending
        // marker after the commit must not fail the append (every service run answered 'internal error' when it did)
        using var t = new AuditTestHome();
        Assert.False(Directory.Exists(t.Home.RunsFolder));
        var bytes = Manifest("run-1").ToCanonicalJson();
        using var log = AuditLog.Open(t.Home);
        var receipts = log.AppendRunCompletedJson(bytes, new JsonObject { ["command"] = "test" });
        Assert.Single(receipts);
        Assert.Equal(bytes, log.ReadRunManifest("run-1"));
        Assert.False(Directory.Exists(t.Home.RunsFolder));
    }

    [Fact]
    public void AppendRunCompletedJson_And_WriteJson_RefuseBytesThatAreNotAManifest_StoringNothing()
    {
        using var t = new AuditTestHome();
        using (var log = t.Open())
        {
            var e = Assert.Throws<InvalidInputException>(() => log.AppendRunCompletedJson("{\"schema\":\"x\"}"u8.ToArray(), new JsonObject()));
            Assert.StartsWith("MANIFEST-E", e.Rule, StringComparison.Ordinal);
            Assert.Equal(0, log.Count);
        }

        Assert.Throws<InvalidInputException>(() => RunManifests.WriteJson(t.Home, "[]"u8.ToArray()));
        // a run id is a file name in HOME/runs, never a path out of it
        var escape = Assert.Throws<InvalidInputException>(() => RunManifests.WriteJson(t.Home, Manifest("../escape").ToCanonicalJson()));
        Assert.Equal("MANIFEST-E-VALUE", escape.Rule);
        Assert.False(File.Exists(Path.Combine(t.Home.Root, "escape.json")));
    }
}
