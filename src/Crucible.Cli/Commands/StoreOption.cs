using System.CommandLine;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Storage;

namespace Crucible.Cli.Commands;

/// <summary>
/// The <c>--store sqlite:DIR|postgres:CONNSTRING</c> option (ARCHITECTURE.md "Where Crucible keeps its state"): where the
/// audit log and the registry live. With <c>postgres:</c> the home still holds this machine's signing key (the one every
/// replica shares) and that database's checkpoint export (<see cref="CrucibleHome.AuditCheckpointsFor"/>).
/// </summary>
internal static class StoreOption
{
    public const string Description = "Where the shared state lives: sqlite:HOME_FOLDER (default: the home's SQLite files) or "
        + "postgres:CONNECTION_STRING, the database that several service replicas share (the home then keeps the signing key and checkpoint export)";

    /// <summary>A new <c>--store</c> option (each command owns its instance).</summary>
    public static Option<string> Create() => Create(Description);

    /// <summary>A new <c>--store</c> option whose help says what the command does with the store (e.g. the log it verifies).</summary>
    public static Option<string> Create(string description) => new("--store") { Description = description };

    /// <summary>The home of a parsed command line (<c>sqlite:DIR</c> names it) and its store.</summary>
    public static (CrucibleHome Home, StoreLocation Store) Resolve(ParseResult parse, Option<string> home, Option<string> store)
    {
        var location = parse.GetValue(store) is { } s ? StoreLocation.Parse(s) : null;
        return location switch
        {
            null => (HomeOption.Resolve(parse, home), StoreLocation.Sqlite(HomeOption.Resolve(parse, home))),
            { Kind: StoreKind.Sqlite } => (CrucibleHome.ResolveStoreFolder(location.Value), location),
            _ => (HomeOption.Resolve(parse, home), location),
        };
    }

    /// <summary>Opens the audit log of a parsed command line: the home's SQLite file, or the shared PostgreSQL one.</summary>
    public static (CrucibleHome Home, AuditLog Log) OpenLog(ParseResult parse, Option<string> home, Option<string> store)
    {
        var (h, location) = Resolve(parse, home, store);
        return (h, OpenLog(h, location));
    }

    /// <summary>Opens the audit log of <paramref name="location"/> from <paramref name="home"/> (<see cref="Resolve"/>'s pair).</summary>
    public static AuditLog OpenLog(CrucibleHome home, StoreLocation location)
    {
        // Open(home) also refuses a log lost with its checkpoint file while runs/ or models/ hold files (AUDIT-E-LOST)
        if (location.Kind == StoreKind.Sqlite) return AuditLog.Open(home);

        // the home keeps the signing key and this database's own checkpoint export (AuditLogOptions.ForStore)
        return AuditLog.Open(AuditLogOptions.ForStore(home.EnsureExists(), location));
    }

    /// <summary>
    /// The store of a command that records a run (<c>train</c>, <c>generate</c>, …), checked before any work: a SQLite home
    /// as <see cref="HomeOption.ResolveForRun"/> checks it (<c>AUDIT-E-LOST</c>); a PostgreSQL store is checked against this
    /// home's exports of its checkpoints when its log is opened. A bad value is <c>STORE-E</c> (exit 2), as on every command
    /// that takes <c>--store</c>.
    /// </summary>
    public static RunStore ResolveForRun(ParseResult parse, Option<string> home, Option<string> store)
    {
        var (h, location) = Resolve(parse, home, store);
        return new(location.Kind == StoreKind.Sqlite ? HomeOption.ForRun(h) : h, location);
    }

    /// <summary>
    /// Opens the audit log of a parsed command line to read it only (<see cref="AuditLog.OpenReadOnly(AuditLogOptions)"/>),
    /// for the commands that only read: it creates nothing (not the home, the log, its tables, the signing key or a
    /// checkpoint export) and still refuses a lost log (<c>AUDIT-E-LOST</c>). Null: a SQLite home that has no log yet
    /// (nothing was ever recorded there). A PostgreSQL database without the log's tables is <c>AUDIT-E-NOLOG</c>.
    /// </summary>
    public static (CrucibleHome Home, AuditLog? Log) OpenLogReadOnly(ParseResult parse, Option<string> home, Option<string> store)
    {
        var (h, location) = Resolve(parse, home, store);
        try
        {
            return (h, AuditLog.OpenReadOnly(AuditLogOptions.ForStore(h, location)));
        }
        catch (Crucible.Data.InvalidInputException e) when (e.Rule == AuditLog.NoLogRule && location.Kind == StoreKind.Sqlite)
        {
            return (h, null); // the lost-log rule passed (it runs first): a home whose first writer has not run
        }
    }
}
