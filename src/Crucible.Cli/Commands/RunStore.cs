using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Storage;

namespace Crucible.Cli.Commands;

/// <summary>
/// Where a command records its run (<see cref="StoreOption.ResolveForRun"/>): the home, and the store whose audit log and
/// registry it uses, the home's SQLite files (the default) or a shared PostgreSQL database (<c>--store postgres:…</c>).
/// </summary>
/// <param name="Home">The home: its SQLite log, or with PostgreSQL the signing key, the checkpoint export and the runs folder of that store.</param>
/// <param name="Location">The store.</param>
internal sealed record RunStore(CrucibleHome Home, StoreLocation Location)
{
    /// <summary>The home's own SQLite store (what a command without <c>--store</c> uses).</summary>
    public static RunStore Sqlite(CrucibleHome home) => new(home, StoreLocation.Sqlite(home));

    /// <summary>Whether the log and registry are the home's SQLite files.</summary>
    public bool IsSqlite => Location.Kind == StoreKind.Sqlite;

    /// <summary>Where the entries went, for a summary line: the SQLite file, or the store without its password.</summary>
    public string AuditPlace => IsSqlite ? Home.AuditDatabase : Location.Redacted;

    /// <summary>A <c>--json</c> document's <c>audit_database</c>: the SQLite file (absolute), null when a PostgreSQL store keeps the entries.</summary>
    public string? AuditDatabase => IsSqlite ? JsonResult.Full(Home.AuditDatabase) : null;

    /// <summary>Opens the store's audit log for writing (<see cref="StoreOption.OpenLog(CrucibleHome, StoreLocation)"/>).</summary>
    public AuditLog OpenLog() => StoreOption.OpenLog(Home, Location);
}
