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
    private StoreLocation(StoreKind kind, string value, string redacted)
    {
        Kind = kind;
        Value = value;
        Redacted = redacted;
    }

    /// <summary>SQLite or PostgreSQL.</summary>
    public StoreKind Kind { get; }

    /// <summary>The home folder (SQLite) or the connection string (PostgreSQL, with its password).</summary>
    public string Value { get; }

    /// <summary>The value as it may be printed: the PostgreSQL password replaced by <c>***</c>.</summary>
    public string Redacted { get; }

    /// <summary>The SQLite store of a home folder.</summary>
    public static StoreLocation Sqlite(CrucibleHome home)
    {
        ArgumentNullException.ThrowIfNull(home);
        return new StoreLocation(StoreKind.Sqlite, home.Root, "sqlite:" + home.Root);
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
                return new StoreLocation(StoreKind.Postgres, rest, "postgres:" + Redact(builder));
            default:
                throw Bad("a store is sqlite:HOME_FOLDER or postgres:CONNECTION_STRING");
        }

        static InvalidInputException Bad(string message) => new("STORE-E", message);
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
