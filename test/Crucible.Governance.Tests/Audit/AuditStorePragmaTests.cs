using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// RELIABILITY SVC-12 (and LOG-4's premise): the audit store reads WAL and <c>synchronous=FULL</c> back when it opens a
/// writer and refuses a database where they did not take effect; SQLite keeps another journal mode without an error (an
/// in-memory database keeps <c>memory</c>). AuditLogTests.Open_SetsWalAndSynchronousFull checks the mode of a real log.
/// </summary>
public sealed class AuditStorePragmaTests
{
    [Fact]
    public void OpenWriter_RefusesADatabaseWhereWalIsNotGranted()
    {
        var e = Assert.Throws<InvalidOperationException>(() => SqliteAuditStore.OpenWriter(":memory:"));
        Assert.Contains("journal_mode=memory", e.Message, StringComparison.Ordinal);
    }
}
