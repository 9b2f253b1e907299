using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Crucible.Data;
using Npgsql;

namespace Crucible.Governance.Storage;

/// <summary>Which database keeps Crucible's shared state.</summary>
public enum StoreKind
{
    /// <summary>SQLite files in a home folder (one node; the default).</summary>
    Sqlite,

    /// <summary>One PostgreSQL database shared by several service replicas.</summary>
    Postgres,
}

/// <summary>
/// A parsed <c>--store</c> value (ARCHITECTURE.md "Where Crucible keeps its state"): <c>sqlite:PATH</c>, where PATH is a
/// home folder (today's default), or <c>postgres:CONNSTRING</c>, an Npgsql connection string such as
/// <c>postgres:Host=db;Username=crucible;Database=crucible</c>. The connection string is never shown with its password:
/// use <see cref="ToString"/> (or <see cref="Redacted"/>) in messages and logs.
/// </summary>
public sealed class StoreLocation
{
    private StoreLocation(StoreKind kind, string value, string redacted, string checkpointFileName)
    {
        Kind = kind;
        Value = value;
        Redacted = redacted;
        CheckpointFileName = checkpointFileName;
    }

    /// <summary>SQLite or PostgreSQL.</summary>
    public StoreKind Kind { get; }

    /// <summary>The home folder (SQLite) or the connection string (PostgreSQL, with its password).</summary>
    public string Value { get; }

    /// <summary>The value as it may be printed: the PostgreSQL password replaced by <c>***</c>.</summary>
    public string Redacted { get; }

    /// <summary>
    /// The name of the file in a home to which this store's signed audit checkpoints are exported
    /// (<see cref="CrucibleHome.AuditCheckpointsFor"/>): <c>audit-checkpoints.jsonl</c> for SQLite, and for PostgreSQL
    /// <c>audit-checkpoints.postgres-HOST-PORT-DATABASE-HASH.jsonl</c>, one per database, so that a home used with its own
    /// SQLite log and with a shared database (or with two databases) keeps each log's checkpoints apart: the lost-log
    /// check compares a log with its own exports only. HOST, PORT and DATABASE are the connection string's, with every
    /// character but ASCII letters, digits, '.', '_' and '-' written '_' (the host in lower case); HASH is the first 8 hex
    /// digits of the SHA-256 of <c>HOST|PORT|DATABASE</c> before that replacement, so that two names never collide.
    /// The user name, password and other settings do not enter it: they reach the same database.
    /// </summary>
    public string CheckpointFileName { get; }

    /// <summary>
    /// The name of the folder in a home that keeps the run manifests of the runs this store's log records
    /// (<see cref="CrucibleHome.RunsFolderFor"/>): <c>runs</c> for SQLite, and for PostgreSQL
    /// <c>runs.postgres-HOST-PORT-DATABASE-HASH</c>, named as its checkpoint export (<see cref="CheckpointFileName"/>), so
    /// that the manifests of a shared database's runs are never taken for evidence of the home's own SQLite log (its
    /// lost-log rule counts <c>runs/</c> only).
    /// </summary>
    public string RunsFolderName => Kind == StoreKind.Sqlite
        ? SqliteRunsFolderName
        : SqliteRunsFolderName + "." + CheckpointFileName["audit-checkpoints.".Length..^".jsonl".Length];

    /// <summary>The name of a SQLite home's run manifests folder (<see cref="RunsFolderName"/>).</summary>
    public const string SqliteRunsFolderName = "runs";

    /// <summary>The name of a SQLite home's checkpoint export (<see cref="CheckpointFileName"/>).</summary>
    public const string SqliteCheckpointFileName = "audit-checkpoints.jsonl";

    /// <summary>The prefix of a PostgreSQL store's checkpoint export in a home (<see cref="CheckpointFileName"/>).</summary>
    public const string PostgresCheckpointFilePrefix = "audit-checkpoints.postgres-";

    /// <summary>The SQLite store of a home folder.</summary>
    public static StoreLocation Sqlite(CrucibleHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        return new StoreLocation(StoreKind.Sqlite, home.Root, "sqlite:" + home.Root, SqliteCheckpointFileName);
    }

    /// <summary>Parses <c>sqlite:PATH</c> or <c>postgres:CONNSTRING</c> (<c>postgresql:</c> is accepted too).</summary>
    /// <exception cref="InvalidInputException"><c>STORE-E</c>: no known prefix, an empty value, or a connection string Npgsql refuses.</exception>
    public static StoreLocation Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var scheme = colon < 0 ? "" : text[..colon].Trim().ToLowerInvariant();
        var rest = colon < 0 ? "" : text[(colon + 1)..].Trim();
        switch (scheme)
        {
            case "sqlite":
                if (rest.Length == 0) throw Bad("sqlite: needs a home folder, e.g. sqlite:/var/lib/crucible");
                return Sqlite(CrucibleHome.ResolveStoreFolder(rest));
            case "postgres" or "postgresql":
                if (rest.Length == 0) throw Bad("postgres: needs a connection string, e.g. postgres:Host=db;Username=crucible;Database=crucible");
                NpgsqlConnectionStringBuilder builder;
                try
                {
                    builder = new NpgsqlConnectionStringBuilder(rest);
                }
                catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
                {
                    // the message of a refused key names the key, never the value
                    throw Bad("postgres: the connection string is not valid: " + e.Message.Split('\n')[0]);
                }

                if (string.IsNullOrWhiteSpace(builder.Host)) throw Bad("postgres: the connection string needs Host=");
                if (string.IsNullOrWhiteSpace(builder.Database)) throw Bad("postgres: the connection string needs Database=");
                return new StoreLocation(StoreKind.Postgres, rest, "postgres:" + Redact(builder), PostgresCheckpointFile(builder));
            default:
                throw Bad("a store is sqlite:HOME_FOLDER or postgres:CONNECTION_STRING");
        }

        static InvalidInputException Bad(string message) => new("STORE-E", message);
    }

    // audit-checkpoints.postgres-HOST-PORT-DATABASE-HASH.jsonl (CheckpointFileName)
    private static string PostgresCheckpointFile(NpgsqlConnectionStringBuilder builder)
    {
        var identity = string.Join('|', builder.Host!.Trim().ToLowerInvariant(), builder.Port.ToString(CultureInfo.InvariantCulture), builder.Database!.Trim());
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..8];
        var readable = new string([.. identity.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : c == '|' ? '-' : '_')]);
        if (readable.Length > 96) readable = readable[..96]; // a file name stays short; the hash keeps it unique
        return PostgresCheckpointFilePrefix + readable + "-" + hash + ".jsonl";
    }

    private static string Redact(NpgsqlConnectionStringBuilder builder)
    {
        var copy = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        if (!string.IsNullOrEmpty(copy.Password)) copy.Password = "***";
        return copy.ConnectionString;
    }

    /// <summary>The redacted form (never the password).</summary>
    public override string ToString() => Redacted;
}
