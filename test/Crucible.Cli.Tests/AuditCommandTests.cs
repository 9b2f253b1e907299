using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Microsoft.Data.Sqlite;

namespace Crucible.Cli.Tests;

/// <summary><c>crucible audit verify</c> and <c>crucible audit log</c> end to end in a child process.</summary>
public sealed class AuditCommandTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "crucible-cli-audit-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_home)) Directory.Delete(_home, recursive: true);
    }

    private static (int Exit, string Stdout, string Stderr) Crucible(IReadOnlyDictionary<string, string>? env, params string[] args) =>
        CliProcess.Run(env, args);

    private void Fill(int count)
    {
        using var log = AuditLog.Open(CrucibleHome.Resolve(_home));
        for (var i = 1; i <= count; i++)
            log.Append(i % 2 == 0 ? AuditKind.ModelRegistered : AuditKind.RunStarted, new JsonObject { ["run_id"] = $"r{i}" });
    }

    [Fact]
    public void Verify_IntactLog_Exit0()
    {
        Fill(5);
        var (code, stdout, _) = Crucible(null, "audit", "verify", "--home", _home);
        Assert.Equal(0, code);
        Assert.Contains("ok: 5 entries", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_ANamedCheckpointFileThatDoesNotExist_IsRefused_NotSkipped()
    {
        // `audit verify --checkpoints /mistyped/copy.jsonl` checked the log against its own table alone and printed "ok"
        Fill(3);
        var missing = Path.Combine(_home, "off-machine", "audit-checkpoints.jsonl");
        var (code, stdout, stderr) = Crucible(null, "audit", "verify", "--home", _home, "--checkpoints", missing);
        Assert.Equal(2, code);
        Assert.DoesNotContain("ok:", stdout, StringComparison.Ordinal);
        Assert.Contains(missing + ": error [AUDIT-E-CHECKPOINTS]", stderr, StringComparison.Ordinal);
        Assert.Equal("AUDIT-E-CHECKPOINTS", Assert.Throws<Crucible.Data.InvalidInputException>(
            () => AuditLog.Verify(CrucibleHome.Resolve(_home), checkpointFile: missing)).Rule); // verify-run --home's check too

        var exported = CrucibleHome.Resolve(_home).AuditCheckpoints;
        Assert.True(File.Exists(exported));
        Assert.Equal(0, Crucible(null, "audit", "verify", "--home", _home, "--checkpoints", exported).Exit);
    }

    [Fact]
    public void Verify_HomeFromEnvironment()
    {
        Fill(2);
        var (code, stdout, _) = Crucible(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = _home }, "audit", "verify", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        Assert.True(doc.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(2, doc.RootElement.GetProperty("entries").GetInt64());
    }

    [Fact]
    public void Verify_TamperedLog_Exit3WithFirstBadEntry()
    {
        Fill(6);
        SQLitePCL.Batteries_V2.Init();
        using (var c = new SqliteConnection($"Data Source={Path.Combine(_home, "audit.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TRIGGER audit_entry_no_update; UPDATE audit_entry SET actor = 'mallory' WHERE seq = 4;";
            cmd.ExecuteNonQuery();
        }

        var (code, stdout, stderr) = Crucible(null, "audit", "verify", "--home", _home);
        Assert.Equal(3, code);
        Assert.Contains("FAILED: first bad entry 4 (Hash)", stdout, StringComparison.Ordinal);
        Assert.Contains("verification failed", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    // a log cut short below a tampered checkpoint: exit 3 and the first problem as before, and every finding listed
    [Fact]
    public void Verify_CutLogWithATamperedCheckpoint_ListsBothFindings_TextAndJson()
    {
        Fill(4); // a closing checkpoint at 4
        Fill(4); // and at 8
        SQLitePCL.Batteries_V2.Init();
        using (var c = new SqliteConnection($"Data Source={Path.Combine(_home, "audit.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TRIGGER audit_entry_no_delete; DROP TRIGGER audit_checkpoint_no_update; DELETE FROM audit_entry WHERE seq > 6; "
                + "UPDATE audit_checkpoint SET sig = CAST(substr(sig, 1, 10) || (CASE WHEN substr(sig, 11, 1) = X'5A' THEN X'A5' ELSE X'5A' END) || substr(sig, 12) AS BLOB) WHERE seq = 4;";
            cmd.ExecuteNonQuery();
        }

        var (code, stdout, _) = Crucible(null, "audit", "verify", "--home", _home);
        Assert.Equal(3, code);
        Assert.Contains("FAILED: first bad entry 1 (Signature): database checkpoint 4", stdout, StringComparison.Ordinal);
        Assert.Contains("ALSO: entry 7 (Truncation): the log ends at entry 6 but a signed checkpoint covers 8", stdout, StringComparison.Ordinal);

        var json = Crucible(null, "audit", "verify", "--home", _home, "--json");
        Assert.Equal(3, json.Exit);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("Signature", doc.RootElement.GetProperty("problem").GetString());
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(["Signature", "Truncation"], findings.Select(f => f.GetProperty("problem").GetString()));
        Assert.Equal([4L, 8L], findings.Select(f => f.GetProperty("checkpoint_seq").GetInt64()));
        Assert.Equal(7, findings[1].GetProperty("first_bad_seq").GetInt64());
    }

    [Fact]
    public void Verify_NoLog_Exit2()
    {
        // a home folder without a log (a home that does not exist at all is HOME-E-MISSING: HomeExistenceTests)
        Directory.CreateDirectory(_home);
        var (code, _, stderr) = Crucible(null, "audit", "verify", "--home", _home);
        Assert.Equal(2, code);
        Assert.Contains("error [AUDIT-E-NOLOG]", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Log_ListsEntries_TextJsonAndKindFilter()
    {
        Fill(4);
        var (code, stdout, _) = Crucible(null, "audit", "log", "--home", _home);
        Assert.Equal(0, code);
        Assert.Equal(4, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("""{"run_id":"r3"}""", stdout, StringComparison.Ordinal);

        var json = Crucible(null, "audit", "log", "--home", _home, "--kind", "model.registered", "--json");
        Assert.Equal(0, json.Exit);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(2, doc.RootElement.GetArrayLength());
        Assert.Equal(2, doc.RootElement[0].GetProperty("seq").GetInt64());
        Assert.Equal("r2", doc.RootElement[0].GetProperty("payload").GetProperty("run_id").GetString());

        Assert.Equal(2, Crucible(null, "audit", "log", "--home", _home, "--kind", "nope").Exit);
        var tail = Crucible(null, "audit", "log", "--home", _home, "--from", "3", "--limit", "1");
        Assert.Single(tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Log_KindAndLimit_ListUpToLimitEntriesOfThatKind()
    {
        // `audit log --kind model.registered --limit 2` read the first 2 entries and then kept those of the kind: here
        // seq 1 (run.started) and 2 (model.registered), so one entry where the log holds three of that kind
        Fill(6);
        foreach (var json in new[] { false, true })
        {
            string[] args = ["audit", "log", "--home", _home, "--kind", "model.registered", "--limit", "2", .. json ? new[] { "--json" } : []];
            var (code, stdout, stderr) = Crucible(null, args);
            Assert.True(code == 0, stderr);
            var seqs = json
                ? JsonDocument.Parse(stdout).RootElement.EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()).ToArray()
                : [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => long.Parse(l.Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture))];
            Assert.Equal([2L, 4L], seqs);
        }

        var from = Crucible(null, "audit", "log", "--home", _home, "--kind", "run.started", "--from", "2", "--limit", "1", "--json");
        Assert.Equal(3, JsonDocument.Parse(from.Stdout).RootElement.EnumerateArray().Single().GetProperty("seq").GetInt64());
    }

    [Fact]
    public void RotateKey_ThenAppend_VerifiesWithTheFirstPublicKey_AndTheLogListsTheRotation()
    {
        Fill(5);
        var keys = CrucibleHome.Resolve(_home).KeysFolder;
        var first = Path.Combine(_home, "first.pub.pem");
        File.Copy(Path.Combine(keys, AuditSigningKey.PublicFileName), first);

        var (code, stdout, stderr) = Crucible(null, "audit", "rotate-key", "--home", _home, "--reason", "yearly rotation");
        Assert.True(code == 0, stderr);
        Assert.Contains("rotated the audit signing key at entry 6:", stdout, StringComparison.Ordinal);
        Fill(2);

        foreach (var trusted in new string[][] { [], ["--public-key", first] })
        {
            var verify = Crucible(null, ["audit", "verify", "--home", _home, .. trusted]);
            Assert.True(verify.Exit == 0, verify.Stdout + verify.Stderr);
            Assert.Contains("ok: 8 entries", verify.Stdout, StringComparison.Ordinal);
            Assert.Contains(" at entry 6)", verify.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("warning", verify.Stderr, StringComparison.Ordinal);
        }

        var log = Crucible(null, "audit", "log", "--home", _home, "--kind", "audit.key_rotated", "--json");
        Assert.Equal(0, log.Exit);
        using var doc = JsonDocument.Parse(log.Stdout);
        var entry = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal(6, entry.GetProperty("seq").GetInt64());
        Assert.Equal("yearly rotation", entry.GetProperty("payload").GetProperty("reason").GetString());
        Assert.Contains("audit.key_rotated", Crucible(null, "audit", "log", "--home", _home).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void RotateKey_Json_NamesThePublicKeysByAbsolutePath_UnderARelativeHome()
    {
        Fill(2);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, _home);
        Assert.False(Path.IsPathRooted(relative));
        var (code, stdout, stderr) = Crucible(null, "audit", "rotate-key", "--home", relative, "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        foreach (var name in new[] { "public_key", "retired_public_key" })
        {
            var path = doc.RootElement.GetProperty(name).GetString()!;
            Assert.True(Path.IsPathRooted(path), $"{name}: {path}");
            Assert.True(File.Exists(path), $"{name}: {path}");
        }

        Assert.Equal(3, doc.RootElement.GetProperty("seq").GetInt64());
    }

    [Fact]
    public void ALostKey_RefusedWithTheWayForward_ThenRotateKeyLostKey_AndVerifyWarnsOfTheBreak()
    {
        Fill(3);
        File.Delete(Path.Combine(CrucibleHome.Resolve(_home).KeysFolder, AuditSigningKey.PrivateFileName));

        var refused = Crucible(null, "audit", "rotate-key", "--home", _home);
        Assert.Equal(2, refused.Exit);
        Assert.Contains("error [AUDIT-E-KEY]", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("'crucible audit rotate-key --lost-key'", refused.Stderr, StringComparison.Ordinal);

        var (code, stdout, stderr) = Crucible(null, "audit", "rotate-key", "--home", _home, "--lost-key");
        Assert.True(code == 0, stderr);
        Assert.Contains("started a new audit key epoch at entry 4", stdout, StringComparison.Ordinal);
        Fill(1);

        var verify = Crucible(null, "audit", "verify", "--home", _home);
        Assert.Equal(0, verify.Exit);
        Assert.Contains("ok: 5 entries", verify.Stdout, StringComparison.Ordinal);
        Assert.Contains("KEY BREAK at entry 4", verify.Stdout, StringComparison.Ordinal);
        Assert.Contains("warning: key break at entry 4", verify.Stderr, StringComparison.Ordinal);
        var json = Crucible(null, "audit", "verify", "--home", _home, "--json");
        using var doc = JsonDocument.Parse(json.Stdout);
        var change = Assert.Single(doc.RootElement.GetProperty("key_changes").EnumerateArray());
        Assert.Equal(4, change.GetProperty("seq").GetInt64());
        Assert.False(change.GetProperty("signed_by_old_key").GetBoolean());
        Assert.Contains("audit.key_lost", Crucible(null, "audit", "log", "--home", _home).Stdout, StringComparison.Ordinal);

        // --fail-on-key-break: the same log, which verifies, is refused with exit 3 and the break named
        var strict = Crucible(null, "audit", "verify", "--home", _home, "--fail-on-key-break");
        Assert.Equal(3, strict.Exit);
        Assert.Contains("KEY BREAK at entry 4", strict.Stdout, StringComparison.Ordinal);
        Assert.Contains("audit log refused (--fail-on-key-break): 1 key break(s), the first at entry 4", strict.Stderr, StringComparison.Ordinal);
        Assert.Equal(3, Crucible(null, "audit", "verify", "--home", _home, "--fail-on-key-break", "--json").Exit);
    }

    [Fact]
    public void Verify_FailOnKeyBreak_AcceptsARotation()
    {
        Fill(3);
        Assert.Equal(0, Crucible(null, "audit", "rotate-key", "--home", _home).Exit);
        Fill(1);
        var v = Crucible(null, "audit", "verify", "--home", _home, "--fail-on-key-break");
        Assert.True(v.Exit == 0, v.Stderr);
        Assert.Contains("rotated", v.Stdout, StringComparison.Ordinal);
    }
}
