using Crucible.Governance.Storage;
using Crucible.Service.Scenarios;
using Crucible.Service.Training;
using Microsoft.Data.Sqlite;

namespace Crucible.Service.Tests;

/// <summary>
/// RELIABILITY SVC-12: the service's SQLite stores assert WAL and <c>synchronous=FULL</c> when they open (at start-up),
/// reading the pragmas back: SQLite keeps another journal mode without an error where it cannot use WAL. The audit log's
/// check is the same <c>SqliteDurability.Require</c>, in <c>SqliteAuditStore.OpenWriter</c> (Crucible.Governance.Tests AuditLogTests.Open_SetsWalAndSynchronousFull).
/// </summary>
public sealed class SqliteDurabilityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-pragmas-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static SqliteConnection Open(string dataSource)
    {
        SQLitePCL.Batteries_V2.Init();
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = dataSource, Pooling = false }.ToString());
        c.Open();
        return c;
    }

    private static void Execute(SqliteConnection c, string sql)
    {
        using var command = c.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public void Require_AcceptsWalAndFull_RefusesAnythingElse_NamingWhatItFound()
    {
        using var file = Open(Path.Combine(_dir, "probe.db"));
        Execute(file, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        SqliteDurability.Require(file, "probe");

        Execute(file, "PRAGMA synchronous=NORMAL;");
        var normal = Assert.Throws<InvalidOperationException>(() => SqliteDurability.Require(file, "probe"));
        Assert.Contains("probe store", normal.Message, StringComparison.Ordinal);
        Assert.Contains("journal_mode=wal, synchronous=1", normal.Message, StringComparison.Ordinal);

        // WAL asked for and silently not granted: an in-memory database keeps journal_mode=memory
        using var memory = Open(":memory:");
        Execute(memory, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        var mode = Assert.Throws<InvalidOperationException>(() => SqliteDurability.Require(memory, "probe"));
        Assert.Contains("journal_mode=memory, synchronous=2", mode.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IdempotencyStore_OnAFile_Opens_WhereWalIsNotGranted_IsRefused()
    {
        using (var ok = new IdempotencyStore(Path.Combine(_dir, "idempotency.db"), TimeProvider.System, TimeSpan.FromDays(1), 16))
            Assert.Equal(0, ok.Count);
        var e = Assert.Throws<InvalidOperationException>(() => new IdempotencyStore(":memory:", TimeProvider.System, TimeSpan.FromDays(1), 16));
        Assert.Contains("idempotency store", e.Message, StringComparison.Ordinal);
        Assert.Contains("journal_mode=memory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LocalJobs_OpensItsDatabaseInWalMode()
    {
        using (new LocalJobs(_dir))
        {
            // journal_mode=WAL is persistent in the file: another connection sees it
            using var c = Open(Path.Combine(_dir, LocalJobs.FileName));
            using var command = c.CreateCommand();
            command.CommandText = "PRAGMA journal_mode;";
            Assert.Equal("wal", command.ExecuteScalar() as string);
        }
    }
}
