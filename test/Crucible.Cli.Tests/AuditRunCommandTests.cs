using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible audit run RUN_ID</c> writes the manifest the audit log stores for a run (each <c>run.completed</c> stores
/// its manifest's bytes), so that a run whose file is gone can still be checked with <c>verify-run</c>; it refuses (exit 3)
/// a stored copy that no entry pins, and writes nothing then.
/// </summary>
public sealed class AuditRunCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-audit-run-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string P(string name) => Path.Combine(_dir, name);

    private string Home => P("home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    // an evaluate run in the home: its run id and manifest path
    private (string RunId, string Manifest) Evaluated()
    {
        string returns = TestPrices.Returns(P("returns.csv"), 80);
        var evaluated = Crucible("evaluate", "--real", returns, "--synthetic", returns, "--out", P("report.json"), "--json");
        Assert.True(evaluated.Exit == 0, evaluated.Stderr);
        var d = JsonStdout.Single(evaluated.Stdout);
        return (d.GetProperty("run_id").GetString()!, d.GetProperty("run_manifest").GetString()!);
    }

    [Fact]
    public void ARunWhoseFileIsGone_IsWrittenFromTheLog_ByteForByte_AndVerifies()
    {
        var (runId, manifest) = Evaluated();
        byte[] original = File.ReadAllBytes(manifest);

        var printed = Crucible("audit", "run", runId);
        Assert.True(printed.Exit == 0, printed.Stderr);
        Assert.Equal(original, Encoding.UTF8.GetBytes(printed.Stdout)); // standard output is the manifest, nothing else

        File.Delete(manifest);
        var written = Crucible("audit", "run", runId, "--out", manifest, "--json");
        Assert.True(written.Exit == 0, written.Stderr);
        Assert.Equal(original, File.ReadAllBytes(manifest));
        var d = JsonStdout.Single(written.Stdout);
        Assert.Equal(runId, d.GetProperty("run_id").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(original)), d.GetProperty("sha256").GetString());
        Assert.True(d.GetProperty("pin_seq").GetInt64() >= 1);

        var verified = Crucible("verify-run", manifest, "--home", Home);
        Assert.True(verified.Exit == 0, verified.Stdout + verified.Stderr);
    }

    [Fact]
    public void NoSuchRun_ABadId_JsonWithoutOut_AndNoLog_AreExit2()
    {
        var none = Crucible("audit", "run", "0123456789abcdef0123456789abcdef");
        Assert.Equal(2, none.Exit);
        Assert.Contains("AUDIT-E-NOLOG", none.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Home)); // a read: nothing was created

        var (runId, _) = Evaluated();
        var missing = Crucible("audit", "run", "0123456789abcdef0123456789abcdef");
        Assert.Equal(2, missing.Exit);
        Assert.Contains("AUDIT-E-NORUN", missing.Stderr, StringComparison.Ordinal);
        var bad = Crucible("audit", "run", runId.ToUpperInvariant());
        Assert.Equal(2, bad.Exit);
        Assert.Contains("OPT-E", bad.Stderr, StringComparison.Ordinal);
        var json = Crucible("audit", "run", runId, "--json");
        Assert.Equal(2, json.Exit);
        Assert.Contains("--json goes with --out", json.Stderr, StringComparison.Ordinal);
        Assert.Equal("", json.Stdout);
    }

    [Fact]
    public void AStoredCopyNoEntryPins_IsExit3_AndNothingIsWritten()
    {
        var (runId, _) = Evaluated();
        SQLitePCL.Batteries_V2.Init();
        using (var c = new SqliteConnection($"Data Source={Path.Combine(Home, "audit.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand(); // someone with the file drops the trigger and rewrites the stored copy
            cmd.CommandText = "DROP TRIGGER runs_no_update; UPDATE runs SET manifest = CAST('{\"forged\":true}' AS BLOB) WHERE run_id = $id;";
            cmd.Parameters.AddWithValue("$id", runId);
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }

        var refused = Crucible("audit", "run", runId, "--out", P("forged.json"));
        Assert.Equal(3, refused.Exit);
        Assert.Contains("pins", refused.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(P("forged.json")));
        var printed = Crucible("audit", "run", runId);
        Assert.Equal(3, printed.Exit);
        Assert.Equal("", printed.Stdout);
    }
}
