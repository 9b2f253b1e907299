using System.Text;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// LOG-3: every tampering of a 20-entry log (checkpoints every 4 entries and at close, exported to the checkpoint file)
/// is detected by <see cref="AuditLog.Verify(CrucibleHome, string?, string?)"/>, which names the first bad seq.
/// </summary>
public class TamperMatrixTests
{
    private static AuditTestHome Filled()
    {
        var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(20);
        Assert.True(t.Verify().Ok);
        return t;
    }

    private static void AssertFails(AuditVerification v, AuditProblem problem, long firstBad)
    {
        Assert.False(v.Ok);
        Assert.Equal(problem, v.Problem);
        Assert.Equal(firstBad, v.FirstBadSeq);
    }

    [Fact]
    public void A_PayloadByteChanged_FailsAtThatEntry()
    {
        using var t = Filled();
        t.Tamper("UPDATE audit_entry SET payload = CAST(replace(CAST(payload AS TEXT), 'run-7', 'run-X') AS BLOB) WHERE seq = 7;");
        AssertFails(t.Verify(), AuditProblem.Hash, 7);
    }

    [Fact]
    public void B_MiddleRowDeleted_FailsAsGap()
    {
        using var t = Filled();
        t.Tamper("DELETE FROM audit_entry WHERE seq = 11;");
        var v = t.Verify();
        AssertFails(v, AuditProblem.Gap, 11);
        Assert.Contains("entry 11 is missing", v.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void B_RowInsertedBelowSeq1_FailsAsMalformed(long seq)
    {
        // a plain INSERT (the append-only triggers stop UPDATE and DELETE only) outside the chain: the registry, which reads
        // entries by kind, takes it for a model.registered entry, so verification must not pass over it
        using var t = Filled();
        t.Tamper(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"INSERT INTO audit_entry(seq, ts_utc, kind, actor, payload, prev_hash, entry_hash) VALUES ({seq}, '2026-01-01T00:00:00.0000000Z', 'model.registered', 'x', CAST('{{\"manifest_sha256\":\"{new string('b', 64)}\",\"model_id\":\"{new string('a', 64)}\",\"status\":\"candidate\"}}' AS BLOB), zeroblob(32), randomblob(32));"));
        using (var log = AuditLog.OpenReadOnly(t.Options))
            Assert.Single(new Crucible.Governance.Registry.ModelRegistry(t.Home, log).List()); // what the forged row does
        var v = t.Verify();
        AssertFails(v, AuditProblem.Malformed, 1);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"seq {seq}"), v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void C_TwoRowsSwapped_FailsAtTheFirst()
    {
        using var t = Filled();
        t.Tamper("""
            UPDATE audit_entry SET seq = -1 WHERE seq = 7;
            UPDATE audit_entry SET seq = 7 WHERE seq = 8;
            UPDATE audit_entry SET seq = 8 WHERE seq = -1;
            """);
        AssertFails(t.Verify(), AuditProblem.Link, 7);
    }

    [Fact]
    public void C_TwoRowsContentsSwappedKeepingSeq_FailsAtTheFirst()
    {
        using var t = Filled();
        t.Tamper("""
            CREATE TEMP TABLE x AS SELECT * FROM audit_entry WHERE seq IN (5, 6);
            UPDATE audit_entry SET ts_utc = (SELECT ts_utc FROM x WHERE seq = 6), payload = (SELECT payload FROM x WHERE seq = 6),
              prev_hash = (SELECT prev_hash FROM x WHERE seq = 6), entry_hash = zeroblob(32) WHERE seq = 5;
            UPDATE audit_entry SET ts_utc = (SELECT ts_utc FROM x WHERE seq = 5), payload = (SELECT payload FROM x WHERE seq = 5),
              prev_hash = (SELECT prev_hash FROM x WHERE seq = 5), entry_hash = (SELECT entry_hash FROM x WHERE seq = 5) WHERE seq = 6;
            UPDATE audit_entry SET entry_hash = (SELECT entry_hash FROM x WHERE seq = 6) WHERE seq = 5;
            """);
        AssertFails(t.Verify(), AuditProblem.Link, 5);
    }

    [Theory]
    [InlineData("ts_utc", "'2020-01-01T00:00:00.0000000Z'")]
    [InlineData("actor", "'mallory'")]
    [InlineData("kind", "'model.status_changed'")]
    public void D_MetadataEdited_FailsAtThatEntry(string column, string value)
    {
        using var t = Filled();
        t.Tamper($"UPDATE audit_entry SET {column} = {value} WHERE seq = 9;");
        AssertFails(t.Verify(), AuditProblem.Hash, 9);
    }

    [Fact]
    public void E_EntryHashEdited_FailsAtThatEntry()
    {
        using var t = Filled();
        t.Tamper("UPDATE audit_entry SET entry_hash = randomblob(32) WHERE seq = 10;");
        AssertFails(t.Verify(), AuditProblem.Hash, 10);
    }

    [Fact]
    public void F_TailTruncatedBelowCheckpoint_FailsAsTruncation()
    {
        using var t = Filled();
        t.Tamper("DELETE FROM audit_entry WHERE seq > 16;");
        var v = t.Verify();
        AssertFails(v, AuditProblem.Truncation, 17);
        Assert.Equal(20, v.CheckpointSeq);
    }

    [Fact]
    public void F_TailAndItsDatabaseCheckpointsTruncated_CaughtByTheExportedCheckpoints()
    {
        using var t = Filled();
        t.Tamper("DELETE FROM audit_entry WHERE seq > 13; DELETE FROM audit_checkpoint WHERE seq > 13;");
        AssertFails(t.Verify(), AuditProblem.Truncation, 14);
    }

    [Fact]
    public void F_WholeDatabaseReplacedByAnEmptyOne_CaughtByTheExportedCheckpoints()
    {
        using var t = Filled();
        t.Tamper("DELETE FROM audit_entry; DELETE FROM audit_checkpoint;");
        AssertFails(t.Verify(), AuditProblem.Truncation, 1);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    public void I_DatabaseFileCutShortOrOverwritten_FailsAsMalformed_NotAnError(string damage)
    {
        using var t = Filled();
        var path = t.Home.AuditDatabase;
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.True(new FileInfo(path + "-wal") is not { Exists: true, Length: > 0 }, "the log's pages are in the file");
        if (damage == "truncated")
        {
            using var f = new FileStream(path, FileMode.Open);
            f.SetLength(f.Length / 2);
        }
        else
        {
            File.WriteAllBytes(path, Enumerable.Range(0, 8192).Select(i => (byte)(i * 31 + 7)).ToArray());
        }

        var v = t.Verify();
        Assert.False(v.Ok);
        Assert.Equal(AuditProblem.Malformed, v.Problem);
        Assert.Contains("cannot read the log", v.Message, StringComparison.Ordinal);
    }

    /// <summary>Edits entry 6 and recomputes every later hash and link, so that the chain is consistent with itself.</summary>
    private static void RecomputeChainAfterEdit(AuditTestHome t)
    {
        var rows = t.Rows();
        var prev = new byte[32];
        var sql = new StringBuilder();
        foreach (var (seq, ts, kind, actor, payload) in rows)
        {
            var p = seq == 6 ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(payload).Replace("run-6", "run-Z", StringComparison.Ordinal)) : payload;
            var hash = AuditLog.ComputeEntryHash(seq, ts, kind, actor, p, prev);
            sql.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"UPDATE audit_entry SET payload = X'{Convert.ToHexString(p)}', prev_hash = X'{Convert.ToHexString(prev)}', entry_hash = X'{Convert.ToHexString(hash)}' WHERE seq = {seq};\n");
            prev = hash;
        }

        t.Tamper("UPDATE audit_entry SET entry_hash = randomblob(32);\n" + sql);
    }

    [Fact]
    public void G_ChainRecomputedAfterEdit_CaughtBySignedCheckpoint()
    {
        using var t = Filled();
        RecomputeChainAfterEdit(t);
        var v = t.Verify();
        // The chain itself is consistent; the checkpoint at 8 is the first whose signed head no longer matches.
        AssertFails(v, AuditProblem.CheckpointMismatch, 5);
        Assert.Equal(8, v.CheckpointSeq);
        Assert.Contains("5..8", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void G_ChainRecomputedAndCheckpointsResignedWithAnotherKey_CaughtBySignature()
    {
        using var t = Filled();
        var trustedPublic = Path.Combine(Path.GetTempPath(), $"trusted-{Guid.NewGuid():N}.pem");
        File.Copy(Path.Combine(t.Home.KeysFolder, AuditSigningKey.PublicFileName), trustedPublic);
        try
        {
            RecomputeChainAfterEdit(t);
            // The forger makes a key of their own, re-signs the database's checkpoints and replaces the home's keys.
            File.Delete(Path.Combine(t.Home.KeysFolder, AuditSigningKey.PrivateFileName));
            using var forged = AuditSigningKey.LoadOrCreate(Path.Combine(t.Home.KeysFolder, AuditSigningKey.PrivateFileName));
            ResignDatabaseCheckpoints(t, forged);

            // With the independently kept public key, the first database checkpoint fails its signature.
            var v = t.Verify(trustedPublic);
            Assert.Equal(AuditProblem.Signature, v.Problem);
            Assert.Equal(4, v.CheckpointSeq);
            // With the forger's key (the home's, now), the exported checkpoints fail theirs.
            var w = t.Verify();
            Assert.Equal(AuditProblem.Signature, w.Problem);
            Assert.Equal(4, w.CheckpointSeq);
        }
        finally
        {
            File.Delete(trustedPublic);
        }
    }

    [Fact]
    public void G_ChainRecomputedAndResignedWithTheStolenKey_CaughtByTheExportedCopy()
    {
        using var t = Filled();
        RecomputeChainAfterEdit(t);
        using (var stolen = AuditSigningKey.LoadPrivate(Path.Combine(t.Home.KeysFolder, AuditSigningKey.PrivateFileName)))
            ResignDatabaseCheckpoints(t, stolen);
        var v = t.Verify();
        AssertFails(v, AuditProblem.CheckpointMismatch, 5);
        Assert.Contains("exported checkpoint 8", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void H_CheckpointSignatureFlipped_FailsAsSignature()
    {
        using var t = Filled();
        // ECDSA signatures are randomised: byte 11 may already be 0x5A (1 run in 256), so write a byte that differs from it
        t.Tamper("UPDATE audit_checkpoint SET sig = CAST(substr(sig, 1, 10) || (CASE WHEN substr(sig, 11, 1) = X'5A' THEN X'A5' ELSE X'5A' END) || substr(sig, 12) AS BLOB) WHERE seq = 12;");
        var v = t.Verify();
        Assert.Equal(AuditProblem.Signature, v.Problem);
        Assert.Equal(12, v.CheckpointSeq);
        Assert.Equal(9, v.FirstBadSeq);
    }

    // a log cut short below a checkpoint whose signature was tampered with: two independent findings, both reported (the
    // signature first, as the problem verification reports; then the truncation the checkpoint beyond the end proves)
    [Fact]
    public void H_CutLogWithATamperedCheckpointBelowTheCut_ReportsBothFindings()
    {
        using var t = Filled();
        t.Tamper("UPDATE audit_checkpoint SET sig = CAST(substr(sig, 1, 10) || (CASE WHEN substr(sig, 11, 1) = X'5A' THEN X'A5' ELSE X'5A' END) || substr(sig, 12) AS BLOB) WHERE seq = 8;"
            + "DELETE FROM audit_entry WHERE seq > 14;");
        var v = t.Verify();
        Assert.Equal(AuditProblem.Signature, v.Problem); // the first finding, as before
        Assert.Equal(5, v.FirstBadSeq);
        Assert.Equal(8, v.CheckpointSeq);
        Assert.Equal([(AuditProblem.Signature, 5L, 8L), (AuditProblem.Truncation, 15L, 20L)],
            v.Findings.Select(f => (f.Problem, f.FirstBadSeq ?? 0, f.CheckpointSeq ?? 0)).ToList());
        Assert.Equal(v.Message, v.Findings[0].Message);
        Assert.Contains("entries 15..20 were cut off", v.Findings[1].Message, StringComparison.Ordinal);
    }

    // after a checkpoint that does not match a recomputed chain, the later checkpoints (whose heads depend on the changed
    // entry) are not reported again; a single problem is one finding
    [Fact]
    public void H_OneProblem_IsOneFinding()
    {
        using var t = Filled();
        t.Tamper("UPDATE audit_entry SET entry_hash = randomblob(32) WHERE seq = 10;");
        var v = t.Verify();
        Assert.Equal((AuditProblem.Hash, 10L), (Assert.Single(v.Findings).Problem, v.Findings[0].FirstBadSeq ?? 0));
        Assert.Empty(Filled().Verify().Findings);
    }

    [Fact]
    public void H_ExportedCheckpointLineEdited_FailsAsSignature()
    {
        using var t = Filled();
        var lines = File.ReadAllLines(t.Home.AuditCheckpoints);
        var c = AuditLog.ParseCheckpointLine(lines[1]);
        var sig = (byte[])c.Signature.Clone();
        sig[3] ^= 1;
        lines[1] = AuditLog.CheckpointLine(c with { Signature = sig });
        File.WriteAllText(t.Home.AuditCheckpoints, string.Join('\n', lines) + "\n");
        var v = t.Verify();
        Assert.Equal(AuditProblem.Signature, v.Problem);
        Assert.Equal(8, v.CheckpointSeq);
    }

    [Fact]
    public void ByteFlipFuzz_EveryStoredByteOfEveryEntryIsCovered()
    {
        // LOG-6: flipping any single bit of any stored field of any entry (payload, prev_hash, entry_hash) is caught.
        using var t = new AuditTestHome(checkpointInterval: 4);
        t.Fill(6);
        var rows = t.Rows();
        foreach (var (seq, _, _, _, payload) in rows)
        {
            foreach (var column in new[] { "payload", "prev_hash", "entry_hash" })
            {
                var length = column == "payload" ? payload.Length : 32;
                for (var i = 0; i < length; i += Math.Max(1, length / 9))
                {
                    var original = Snapshot(t, seq, column);
                    var flipped = (byte[])original.Clone();
                    flipped[i] ^= 0x01;
                    t.Tamper($"UPDATE audit_entry SET {column} = $v WHERE seq = {seq};", c => c.Parameters.AddWithValue("$v", flipped));
                    var v = t.Verify();
                    Assert.False(v.Ok, $"{column}[{i}] of entry {seq}");
                    Assert.True(v.FirstBadSeq <= seq, $"{column}[{i}] of entry {seq}: reported {v.FirstBadSeq}");
                    t.Tamper($"UPDATE audit_entry SET {column} = $v WHERE seq = {seq};", c => c.Parameters.AddWithValue("$v", original));
                    Assert.True(t.Verify().Ok);
                }
            }
        }
    }

    private static byte[] Snapshot(AuditTestHome t, long seq, string column)
    {
        SQLitePCL.Batteries_V2.Init();
        using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={t.Home.AuditDatabase};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {column} FROM audit_entry WHERE seq = {seq}";
        return (byte[])cmd.ExecuteScalar()!;
    }

    private static void ResignDatabaseCheckpoints(AuditTestHome t, AuditSigningKey key)
    {
        var rows = t.Rows();
        var hashes = new List<byte[]>();
        var prev = new byte[32];
        foreach (var (seq, ts, kind, actor, payload) in rows)
        {
            prev = AuditLog.ComputeEntryHash(seq, ts, kind, actor, payload, prev);
            hashes.Add(prev);
        }

        var sql = new StringBuilder("DELETE FROM audit_checkpoint;\n");
        foreach (var s in new[] { 4, 8, 12, 16, 20 })
        {
            var root = MerkleTree.Root(hashes.Take(s).Select(h => MerkleTree.LeafHash(h)).ToList());
            var ts = "2026-01-01T00:00:00.0000000Z";
            var sig = key.Sign(new AuditCheckpoint(s, hashes[s - 1], root, ts, key.KeyId, []).SignedBytes());
            sql.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"INSERT INTO audit_checkpoint VALUES ({s}, X'{Convert.ToHexString(hashes[s - 1])}', X'{Convert.ToHexString(root)}', '{ts}', '{key.KeyId}', X'{Convert.ToHexString(sig)}');\n");
        }

        t.Tamper(sql.ToString());
    }
}
