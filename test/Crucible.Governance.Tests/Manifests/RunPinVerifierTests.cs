using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Tests.Audit;

namespace Crucible.Governance.Tests.Manifests;

/// <summary>
/// <see cref="RunPinVerifier"/>: a run manifest written to HOME/runs and pinned (and stored) by <c>run.completed</c>,
/// then each thing the pin relies on tampered with in turn: the file, the stored copy (SQL on the database), the chain
/// (an unrelated entry, an entry after the pin, and the forgery that rewrites file, stored copy and pin consistently and
/// recomputes the chain, which only the signed checkpoints catch).
/// </summary>
public sealed class RunPinVerifierTests
{
    private const string RunId = "run-pinned";

    private static RunManifest Manifest(string runId) => new RunManifestBuilder(RunKind.Generate, new JsonObject { ["count"] = 2 }, 9, Path.GetTempPath())
    {
        RunId = runId,
    }.AddInput(ManifestFile.Named("request", "{}"u8)).AddOutput(ManifestFile.Named("response", "a,b\n"u8)).Finish();

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Three entries, then the run's manifest written and pinned (entry 4), then <paramref name="after"/> entries more.</summary>
    private static (string Path, long PinSeq) Pinned(AuditTestHome t, int after = 0)
    {
        t.Fill(3);
        var bytes = Manifest(RunId).ToCanonicalJson();
        var path = RunManifests.WriteJson(t.Home, bytes);
        long seq;
        using (var log = t.Open()) seq = log.AppendRunCompletedJson(bytes, new JsonObject { ["command"] = "test" })[^1].Seq;
        using (var log = t.Open())
        {
            for (var i = 0; i < after; i++) log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = $"later-{i}" });
        }

        return (path, seq);
    }

    // the manifest with another seed: still a valid manifest, other bytes
    private static byte[] Edited(string path)
    {
        var node = JsonNode.Parse(File.ReadAllBytes(path))!.AsObject();
        node["seed"] = "424242";
        return CanonicalJson.Serialize(node);
    }

    [Fact]
    public void Clean_EverythingHashesAsPinned_AndTheChainVerifies()
    {
        using var t = new AuditTestHome();
        var (path, seq) = Pinned(t, after: 2);
        var v = RunPinVerifier.Verify(t.Home, path, RunId);
        Assert.True(v.Ok, string.Join(", ", v.Problems) + " " + v.Chain.Message);
        Assert.Empty(v.Problems);
        Assert.True(v.Chain.Ok);
        Assert.True(v.Chain.CheckpointsChecked > 0); // the signed checkpoints were checked too
        Assert.Equal(seq, v.PinSeq);
        Assert.Equal(Sha(File.ReadAllBytes(path)), v.Pinned);
        Assert.Equal(v.Pinned, v.File);
        Assert.Equal(v.Pinned, v.Stored);
        Assert.Equal(File.ReadAllBytes(path), AuditLog.ReadRunManifest(t.Home.AuditDatabase, RunId)); // read only
        Assert.Null(AuditLog.ReadRunManifest(t.Home.AuditDatabase, "run-other"));
    }

    [Fact]
    public void FileEdited_IsNamed_AndNothingElse()
    {
        using var t = new AuditTestHome();
        var (path, _) = Pinned(t);
        File.WriteAllBytes(path, Edited(path));
        var v = RunPinVerifier.Verify(t.Home, path, RunId);
        Assert.Equal([PinProblem.FileEdited], v.Problems);
        Assert.Equal(Sha(File.ReadAllBytes(path)), v.File);
        Assert.True(v.Chain.Ok);
        Assert.True(v.StoredMatches);
    }

    [Fact]
    public void StoredCopyEdited_ViaSql_IsNamed_AndNothingElse()
    {
        using var t = new AuditTestHome();
        var (path, _) = Pinned(t);
        var forged = Edited(path);
        t.Tamper($"DROP TRIGGER IF EXISTS runs_no_update; UPDATE runs SET manifest = X'{Convert.ToHexString(forged)}' WHERE run_id = '{RunId}';");
        var v = RunPinVerifier.Verify(t.Home, path, RunId);
        Assert.Equal([PinProblem.StoredCopyEdited], v.Problems);
        Assert.Equal(Sha(forged), v.Stored);
        Assert.True(v.FileMatches);
        Assert.True(v.Chain.Ok); // the runs table is outside the chain: only the comparison with the pin catches this
    }

    [Fact]
    public void StoredCopyDeleted_IsNamed()
    {
        using var t = new AuditTestHome();
        var (path, _) = Pinned(t);
        t.Tamper($"DROP TRIGGER IF EXISTS runs_no_delete; DELETE FROM runs WHERE run_id = '{RunId}';");
        var v = RunPinVerifier.Verify(t.Home, path, RunId);
        Assert.Equal([PinProblem.StoredCopyMissing], v.Problems);
        Assert.Null(v.Stored);
    }

    [Fact]
    public void ChainBrokenBeforeThePin_FailsEvenThoughFileAndStoredCopyHashAsPinned()
    {
        using var t = new AuditTestHome();
        var (path, _) = Pinned(t);
        t.Tamper("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 2;");
        var v = RunPinVerifier.Verify(t.Home, path, RunId);
        Assert.Equal([PinProblem.ChainBroken], v.Problems);
        Assert.Equal(AuditProblem.Hash, v.Chain.Problem);
        Assert.Equal(2, v.Chain.FirstBadSeq);
        Assert.True(v.FileMatches);
        Assert.True(v.StoredMatches);
    }

    [Fact]
    public void ChainBrokenAfterThePin_StillFails()
    {
        // a chain broken after the pin would stop verification before the checkpoint that catches a rewritten pin
        using var t = new AuditTestHome();
        var (path, seq) = Pinned(t, after: 3);
        t.Tamper($"UPDATE audit_entry SET actor = 'mallory' WHERE seq = {seq + 2};");
        var v = RunPinVerifier.Verify(t.Home, path, RunId);
        Assert.Equal([PinProblem.ChainBroken], v.Problems);
        Assert.Equal(seq + 2, v.Chain.FirstBadSeq);
    }

    [Fact]
    public void FileStoredCopyAndPinRewrittenConsistently_ChainRecomputed_CaughtOnlyByTheSignedCheckpoints()
    {
        using var t = new AuditTestHome();
        var (path, seq) = Pinned(t, after: 2);
        var forged = Edited(path);
        var forgedSha = Sha(forged);
        File.WriteAllBytes(path, forged);
        var sql = new StringBuilder();
        sql.Append(CultureInfo.InvariantCulture,
            $"DROP TRIGGER IF EXISTS runs_no_update; UPDATE runs SET manifest = X'{Convert.ToHexString(forged)}', manifest_sha256 = '{forgedSha}' WHERE run_id = '{RunId}';\n");
        var prev = new byte[32];
        foreach (var (s, ts, kind, actor, payload) in t.Rows())
        {
            var p = payload;
            if (s == seq)
            {
                var node = JsonNode.Parse(payload)!.AsObject();
                node["manifest_sha256"] = forgedSha;
                p = CanonicalJson.Serialize(node);
            }

            var hash = AuditLog.ComputeEntryHash(s, ts, kind, actor, p, prev);
            sql.Append(CultureInfo.InvariantCulture,
                $"UPDATE audit_entry SET payload = X'{Convert.ToHexString(p)}', prev_hash = X'{Convert.ToHexString(prev)}', entry_hash = X'{Convert.ToHexString(hash)}' WHERE seq = {s};\n");
            prev = hash;
        }

        t.Tamper("UPDATE audit_entry SET entry_hash = randomblob(32);\n" + sql);
        var v = RunPinVerifier.Verify(t.Home, path, RunId);
        // the file, the stored copy and the pin agree: only the chain's verification tells the pin was rewritten
        Assert.Equal(forgedSha, v.Pinned);
        Assert.True(v.FileMatches);
        Assert.True(v.StoredMatches);
        Assert.Equal([PinProblem.ChainBroken], v.Problems);
        Assert.Equal(AuditProblem.CheckpointMismatch, v.Chain.Problem);
    }

    // session 28: the manifest of another pinned run was reported as this run's file edited; it is named as another run's
    [Fact]
    public void AnotherPinnedRunsManifest_IsNamedAsSuch_NotAsAnEditedFile()
    {
        using var t = new AuditTestHome();
        var (path, _) = Pinned(t);
        var second = Manifest("run-second").ToCanonicalJson();
        var secondPath = RunManifests.WriteJson(t.Home, second);
        long secondSeq;
        using (var log = t.Open()) secondSeq = log.AppendRunCompletedJson(second, new JsonObject { ["command"] = "test" })[^1].Seq;

        var v = RunPinVerifier.Verify(t.Home, path, "run-second");
        Assert.Equal([PinProblem.OtherRun], v.Problems);
        Assert.False(v.Ok);
        Assert.Equal(RunId, v.FileRunId);
        Assert.True(v.OtherRunsFile);
        Assert.Equal(secondSeq, v.PinSeq);
        Assert.Equal(Sha(second), v.Pinned);
        Assert.False(v.FileMatches);
        Assert.True(v.StoredMatches);
        Assert.True(v.Chain.Ok);

        // each file against its own run holds, as verify-run checks it (the file's own id)
        foreach (var (file, run) in new[] { (path, RunId), (secondPath, "run-second") })
        {
            var own = RunPinVerifier.Verify(t.Home, file, run);
            Assert.True(own.Ok, string.Join(", ", own.Problems));
            Assert.Equal(run, own.FileRunId);
        }

        // an edited file of the run is still an edit; a file that is no manifest at all has no run id, only a hash
        File.WriteAllBytes(path, Edited(path));
        Assert.Equal([PinProblem.FileEdited], RunPinVerifier.Verify(t.Home, path, RunId).Problems);
        File.WriteAllText(path, "not json");
        var garbage = RunPinVerifier.Verify(t.Home, path, RunId);
        Assert.Null(garbage.FileRunId);
        Assert.Equal([PinProblem.FileEdited], garbage.Problems);
    }

    [Fact]
    public void AFileEditedToNameAMemberTwice_IsAnEditedFile_NotACrash()
    {
        using var t = new AuditTestHome();
        var (path, _) = Pinned(t);
        File.WriteAllText(path, "{\"run_id\":\"x\"," + File.ReadAllText(path)[1..]);
        var v = RunPinVerifier.Verify(t.Home, path, RunId);
        Assert.Equal([PinProblem.FileEdited], v.Problems);
        Assert.Null(v.FileRunId); // no JSON object: which run id it names is not known
    }

    [Fact]
    public void AnotherRun_IsUnpinned_AndAHomeWithoutALog_IsBadInput()
    {
        using var t = new AuditTestHome();
        var (path, _) = Pinned(t);
        var v = RunPinVerifier.Verify(t.Home, path, "run-other");
        Assert.Equal([PinProblem.OtherRun, PinProblem.Unpinned], v.Problems); // the file is run-pinned's, and nothing pins run-other
        Assert.Null(v.PinSeq);

        var empty = CrucibleHome.Resolve(Path.Combine(Path.GetTempPath(), "crucible-nolog-" + Guid.NewGuid().ToString("N")));
        var e = Assert.Throws<InvalidInputException>(() => RunPinVerifier.Verify(empty, path, RunId));
        Assert.Equal("AUDIT-E-NOLOG", e.Rule);
        Assert.False(Directory.Exists(empty.Root));
    }
}
