using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Storage;

/// <summary>
/// The durability settings every SQLite store of Crucible sets when it opens (RELIABILITY.md SVC-12 and LOG-4: WAL and
/// <c>synchronous=FULL</c>, asserted at start-up): the audit log, and the service's idempotency and jobs stores.
/// </summary>
public static class SqliteDurability
{
    /// <summary>
    /// Reads back the journal mode and <c>synchronous</c> of an open connection. SQLite answers
    /// <c>PRAGMA journal_mode=WAL</c> with the mode it kept, without an error, when it cannot use WAL (an in-memory
    /// database, a file system without shared memory), so setting the pragma is not enough.
    /// </summary>
    /// <param name="connection">The store's open connection (<c>synchronous</c> is per connection).</param>
    /// <param name="store">The store's name for the message (<c>audit</c>, <c>idempotency</c>, <c>jobs</c>).</param>
    /// <exception cref="InvalidOperationException">The journal mode is not WAL or <c>synchronous</c> is not FULL.</exception>
    public static void Require(SqliteConnection connection, string store)
    {
        ArgumentNullException.ThrowIfNull(connection);
        string mode;
        long sync;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode;";
            mode = Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA synchronous;";
            sync = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase) || sync != 2)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{store} store: the SQLite pragmas did not take effect (journal_mode={mode}, synchronous={sync}; WAL and synchronous=FULL (2) are required)"));
    }
}
