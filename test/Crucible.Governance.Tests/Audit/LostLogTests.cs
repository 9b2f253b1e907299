using Crucible.Data;
using Crucible.Governance.Audit;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// Session 15: a home whose audit log was deleted, emptied or cut short is told from a new home by its exported
/// checkpoints (written only after the entries they cover were committed): opening it for writing refuses
/// (<c>AUDIT-E-LOST</c>) and creates nothing, verification reports a truncation; a home whose first writer died after
/// creating the signing key and before the database (no checkpoint exported) is still a new home, not a bricked one.
/// </summary>
public sealed class LostLogTests
{
    private static void Remove(string databasePath)
    {
        SqliteConnection.ClearAllPools();
        foreach (var f in new[] { databasePath, databasePath + "-wal", databasePath + "-shm" }) File.Delete(f);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("replaced")]
    public void AppendingWithoutTheKeyThatSignedTheCheckpoints_IsRefused_AndTheLogStillVerifies(string how)
    {
        // a home restored without keys/ (or with another home's key): Open made or loaded another key, appended, and
        // signed the next checkpoints with it; from then on the log verified with neither public key
        using var t = new AuditTestHome();
        t.Fill(6);
        var keyPath = t.Options.SigningKeyPath!;
        var publicPath = AuditSigningKey.PublicPathFor(keyPath);
        var original = (File.ReadAllBytes(keyPath), File.ReadAllBytes(publicPath));
        File.Delete(keyPath);
        File.Delete(publicPath);
        if (how == "replaced")
        {
            using var other = new AuditTestHome();
            other.Fill(1);
            File.Copy(other.Options.SigningKeyPath!, keyPath);
            File.Copy(AuditSigningKey.PublicPathFor(other.Options.SigningKeyPath!), publicPath);
        }

        var e = Assert.Throws<InvalidInputException>(() => t.Open());
        Assert.Equal(AuditLog.KeyRule, e.Rule);
        Assert.Contains("the audit log's checkpoints are signed with key", e.Message, StringComparison.Ordinal);
        Assert.Contains(how == "missing" ? "is missing" : "holds key", e.Message, StringComparison.Ordinal);
        Assert.Equal(AuditLog.KeyRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(t.Home)).Rule); // the CLI's check before any work
        Assert.Equal(how == "replaced", File.Exists(keyPath)); // no new key was made
        Assert.Equal(6, AuditLog.Read(t.Home.AuditDatabase).Count); // nothing appended

        // the key restored, the log opens, appends and verifies
        File.WriteAllBytes(keyPath, original.Item1);
        File.WriteAllBytes(publicPath, original.Item2);
        t.Fill(1);
        Assert.True(t.Verify().Ok);
    }

    [Theory]
    [InlineData("deleted")]
    [InlineData("emptied")]
    [InlineData("cut")]
    public void AppendingToALostLog_IsRefused_AndVerifyReportsTruncation(string how)
    {
        using var t = new AuditTestHome();
        t.Fill(6); // checkpoints at 4 and 6 (close), exported
        switch (how)
        {
            case "deleted":
                Remove(t.Home.AuditDatabase);
                break;
            case "emptied":
                Remove(t.Home.AuditDatabase);
                File.WriteAllBytes(t.Home.AuditDatabase, []);
                break;
            default:
                t.Tamper("DELETE FROM audit_entry WHERE seq > 2; DELETE FROM audit_checkpoint;");
                SqliteConnection.ClearAllPools();
                break;
        }

        var before = File.Exists(t.Home.AuditDatabase) ? File.ReadAllBytes(t.Home.AuditDatabase) : null;
        var e = Assert.Throws<InvalidInputException>(() => t.Open());
        Assert.Equal(AuditLog.LostRule, e.Rule);
        Assert.Contains(how == "cut" ? "the audit log ends at entry 2" : "the audit log is missing or empty", e.Message, StringComparison.Ordinal);
        Assert.Contains("show that it held 6 entries", e.Message, StringComparison.Ordinal);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(t.Home)).Rule);
        // nothing created or appended: no new chain over the lost one
        if (how == "deleted") Assert.False(File.Exists(t.Home.AuditDatabase));
        if (how == "emptied") Assert.Equal(before, File.ReadAllBytes(t.Home.AuditDatabase));
        if (how == "cut") Assert.Equal(2, AuditLog.Read(t.Home.AuditDatabase).Count);

        var v = t.Verify();
        Assert.Equal(AuditProblem.Truncation, v.Problem);
        Assert.Equal(how == "cut" ? 3 : 1, v.FirstBadSeq);
    }

    [Fact]
    public void ALogCutBelowACheckpoint_ExportedAfterAMalformedLine_IsLost()
    {
        // the lost-log check stopped reading the checkpoint file at its first malformed line, so a log cut below a
        // checkpoint written after that line passed it (audit verify reports the file as Malformed either way)
        using var t = new AuditTestHome();
        t.Fill(6); // checkpoints at 4 and 6 (close), exported
        var lines = File.ReadAllLines(t.Home.AuditCheckpoints);
        Assert.Equal(2, lines.Length);
        File.WriteAllText(t.Home.AuditCheckpoints, lines[0] + "\nnot a checkpoint\n" + lines[1] + "\n");
        t.Tamper("DELETE FROM audit_entry WHERE seq > 4; DELETE FROM audit_checkpoint WHERE seq > 4;");
        SqliteConnection.ClearAllPools();

        var e = Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(t.Home));
        Assert.Equal(AuditLog.LostRule, e.Rule);
        Assert.Contains("the audit log ends at entry 4", e.Message, StringComparison.Ordinal);
        Assert.Contains("show that it held 6 entries", e.Message, StringComparison.Ordinal);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => t.Open()).Rule);
        Assert.Equal(4, AuditLog.Read(t.Home.AuditDatabase).Count); // nothing appended

        var v = t.Verify();
        Assert.Equal(AuditProblem.Malformed, v.Problem);
        Assert.Contains(":2: not a checkpoint line", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHomeWhoseFirstWriterDiedAfterTheKey_IsANewHome_NotABrickedOne()
    {
        using var t = new AuditTestHome();
        // the first Open creates the database and the key; a writer killed before its first entry leaves no checkpoint.
        // Here the order's worst case: the key written, the database not yet (it is removed after the key was made).
        using (AuditSigningKey.LoadOrCreate(Path.Combine(t.Home.KeysFolder, AuditSigningKey.PrivateFileName)))
        {
        }

        Assert.False(File.Exists(t.Home.AuditDatabase));
        AuditLog.ThrowIfLost(t.Home);
        t.Fill(3);
        Assert.True(t.Verify().Ok);
    }

    [Fact]
    public void AHomeWithRunsButNoLogOrCheckpoints_FailsVerificationAsTruncation()
    {
        using var t = new AuditTestHome();
        t.Fill(2);
        Directory.CreateDirectory(t.Home.RunsFolder);
        File.WriteAllText(Path.Combine(t.Home.RunsFolder, "run-1.json"), "{}");
        Assert.True(t.Verify().Ok);
        Remove(t.Home.AuditDatabase);
        File.Delete(t.Home.AuditCheckpoints);

        var v = t.Verify();
        Assert.Equal(AuditProblem.Truncation, v.Problem);
        Assert.Contains("the home holds 1 run manifests (runs/) and 0 registered model folders (models/)", v.Message, StringComparison.Ordinal);
        // the appending commands' check (HomeOption.ForRun) refuses it too, creating nothing
        var e = Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(t.Home));
        Assert.Equal(AuditLog.LostRule, e.Rule);
        Assert.Contains("the audit log is missing or empty, but the home holds 1 run manifests (runs/) and 0 registered model folders (models/)", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(t.Home.AuditDatabase));
    }

    [Theory]
    [InlineData("runs")]
    [InlineData("models")]
    public void AHomeWithRecordedRunsOrModels_AndALogWithoutEntries_IsLost_ForTheAppendingCommands(string pinned)
    {
        using var t = new AuditTestHome();
        if (pinned == "runs")
        {
            Directory.CreateDirectory(t.Home.RunsFolder);
            File.WriteAllText(Path.Combine(t.Home.RunsFolder, "run-1.json"), "{}");
        }
        else
        {
            Directory.CreateDirectory(Path.Combine(t.Home.ModelsFolder, new string('a', 64)));
        }

        // no log and no checkpoint file: lost (a new home has neither runs nor models)
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(t.Home)).Rule);
        // a log with its tables but no entry (emptied, or created over the lost one): lost too
        using (var created = AuditLog.Open(new AuditLogOptions { DatabasePath = t.Home.AuditDatabase }))
        {
        }

        SqliteConnection.ClearAllPools();
        Assert.Contains("holds no entry", Assert.Throws<InvalidInputException>(() => AuditLog.ThrowIfLost(t.Home)).Message, StringComparison.Ordinal);
        // a log with entries is judged by its checkpoints, as before: here it passes
        t.Fill(2);
        SqliteConnection.ClearAllPools();
        AuditLog.ThrowIfLost(t.Home);
    }

    [Theory]
    [InlineData("runs")]
    [InlineData("models")]
    public void OpeningAHomesLog_LostWithItsCheckpointFile_IsRefused_WhereverTheOptionsNameTheHome(string pinned)
    {
        // session 17: a library caller or the service (AuditLogOptions.ForHome, AuditLog.Open(home)) gets the CLI's whole
        // check, not only the checkpoints': a home whose log and checkpoint file were both deleted while runs/ or models/
        // hold what entries recorded does not get a new chain over the lost one
        using var t = new AuditTestHome();
        t.Fill(3);
        if (pinned == "runs")
        {
            Directory.CreateDirectory(t.Home.RunsFolder);
            File.WriteAllText(Path.Combine(t.Home.RunsFolder, "run-1.json"), "{}");
        }
        else
        {
            Directory.CreateDirectory(Path.Combine(t.Home.ModelsFolder, new string('b', 64)));
        }

        Remove(t.Home.AuditDatabase);
        File.Delete(t.Home.AuditCheckpoints);

        var e = Assert.Throws<InvalidInputException>(() => AuditLog.Open(AuditLogOptions.ForHome(t.Home)));
        Assert.Equal(AuditLog.LostRule, e.Rule);
        Assert.Contains(pinned == "runs" ? "but the home holds 1 run manifests (runs/) and 0 registered model folders (models/)"
            : "but the home holds 0 run manifests (runs/) and 1 registered model folders (models/)", e.Message, StringComparison.Ordinal);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.Open(t.Home)).Rule);
        Assert.Equal(AuditLog.LostRule, Assert.Throws<InvalidInputException>(() => AuditLog.Open(new AuditLogOptions
        {
            Home = t.Home,
            DatabasePath = t.Home.AuditDatabase,
            DefaultActor = "service",
        })).Rule);
        Assert.False(File.Exists(t.Home.AuditDatabase)); // nothing created

        // options that name no home check only the exported checkpoints (a log outside any home)
        using (AuditLog.Open(new AuditLogOptions { DatabasePath = t.Home.AuditDatabase }))
        {
        }

        SqliteConnection.ClearAllPools();
        Assert.Contains("holds no entry", Assert.Throws<InvalidInputException>(() => AuditLog.Open(t.Home)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANewHome_AndAHomeWithOnlyStagingFoldersInModels_AreNotLost()
    {
        using var t = new AuditTestHome();
        AuditLog.ThrowIfLost(t.Home);
        Directory.CreateDirectory(Path.Combine(t.Home.ModelsFolder, ".staging-0123456789abcdef-x"));
        AuditLog.ThrowIfLost(t.Home);
    }
}
