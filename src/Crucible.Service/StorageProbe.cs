using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Crucible.Service;

/// <summary>What a storage probe found (RELIABILITY.md SVC-6, SVC-10).</summary>
public enum StorageState
{
    /// <summary>The store takes writes and has room.</summary>
    Ok,

    /// <summary>Another connection holds the write lock past the probe's wait (a locked database).</summary>
    Locked,

    /// <summary>Less room than the readiness minimum: the file's page quota or the disk under it.</summary>
    Full,

    /// <summary>The store cannot be reached or answered with an error.</summary>
    Unavailable,
}

/// <summary>The outcome of one probe of one store.</summary>
/// <param name="Store">The store probed (<c>audit</c>, <c>idempotency</c>).</param>
/// <param name="State">What it found.</param>
/// <param name="Detail">One line for the readiness answer.</param>
public sealed record StorageHealth(string Store, StorageState State, string Detail)
{
    /// <summary>Whether the store can take a request's writes.</summary>
    public bool Ok => State == StorageState.Ok;
}

/// <summary>
/// The cheap write probe readiness runs on each call: take the write lock (SQLite <c>BEGIN IMMEDIATE</c> with a short
/// busy timeout, on the store's own connection or a fresh one), measure the room left, roll back. Nothing is written.
/// The room is the smaller of the file's quota (<c>(max_page_count − page_count + freelist_count) × page_size</c>;
/// <c>max_page_count</c> is set per connection, so it is read on the connection that writes) and the free space of the
/// file system holding the file.
/// </summary>
public static class StorageProbe
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    /// <summary>
    /// Probes <paramref name="connection"/> (open, no transaction in progress), restoring its busy timeout to
    /// <paramref name="restoreBusyTimeoutMs"/> afterwards.
    /// </summary>
    public static StorageHealth Sqlite(string store, SqliteConnection connection, string path, TimeSpan wait, long minFreeBytes, int restoreBusyTimeoutMs)
    {
        Execute(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={(int)wait.TotalMilliseconds};"));
        try
        {
            try
            {
                // Microsoft.Data.Sqlite retries SQLITE_BUSY itself until the command timeout (whole seconds; the
                // connection's default is 30 s), so the probe's command gets the wait too
                using var begin = connection.CreateCommand();
                begin.CommandText = "BEGIN IMMEDIATE;";
                begin.CommandTimeout = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                begin.ExecuteNonQuery();
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteBusy or SqliteLocked)
            {
                return new(store, StorageState.Locked, string.Create(CultureInfo.InvariantCulture,
                    $"{store}: the database is locked (no write lock within {wait.TotalMilliseconds:F0} ms)"));
            }

            try
            {
                long pageSize = Long(connection, "PRAGMA page_size;");
                long pages = Long(connection, "PRAGMA page_count;");
                long maxPages = Long(connection, "PRAGMA max_page_count;");
                long free = Long(connection, "PRAGMA freelist_count;");
                long quota = (maxPages - pages + free) * pageSize;
                return Room(store, path, quota, minFreeBytes);
            }
            finally
            {
                Execute(connection, "ROLLBACK;");
            }
        }
        catch (SqliteException e)
        {
            return new(store, Problems.StorageFullHandler.IsStorageFull(e) ? StorageState.Full : StorageState.Unavailable,
                $"{store}: {e.Message.ReplaceLineEndings(" ")}");
        }
        finally
        {
            Execute(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout={restoreBusyTimeoutMs};"));
        }
    }

    /// <summary>Probes the SQLite file at <paramref name="path"/> on a connection of its own (opened and closed here).</summary>
    public static StorageHealth SqliteFile(string store, string path, TimeSpan wait, long minFreeBytes)
    {
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadWrite,
                Pooling = false,
                DefaultTimeout = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)),
            }.ToString());
            connection.Open();
            return Sqlite(store, connection, path, wait, minFreeBytes, (int)wait.TotalMilliseconds);
        }
        catch (SqliteException e)
        {
            return new(store, StorageState.Unavailable, $"{store}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>
    /// Probes a PostgreSQL table: in a transaction that is rolled back, take the lock a write takes (<c>ROW EXCLUSIVE</c>
    /// on <paramref name="table"/>) with <c>lock_timeout</c> = <paramref name="wait"/>. Another session holding a
    /// conflicting lock (a migration, <c>LOCK TABLE</c>, <c>VACUUM FULL</c>) is reported locked, a server out of reach
    /// unavailable. The server's disk cannot be measured from a client: a full disk there shows as 53100 on the next
    /// write (503 storage-full).
    /// </summary>
    public static StorageHealth PostgresTable(string store, Func<Npgsql.NpgsqlConnection> open, string table, TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(open);
        try
        {
            using var connection = open();
            using var tx = connection.BeginTransaction();
            using (var timeout = new Npgsql.NpgsqlCommand(string.Create(CultureInfo.InvariantCulture,
                $"SET LOCAL lock_timeout = '{Math.Max(1, (int)wait.TotalMilliseconds)}ms';"), connection, tx)) timeout.ExecuteNonQuery();
            using (var lockTable = new Npgsql.NpgsqlCommand($"LOCK TABLE {table} IN ROW EXCLUSIVE MODE;", connection, tx)) lockTable.ExecuteNonQuery();
            tx.Rollback();
            return new(store, StorageState.Ok, store + ": writable");
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "55P03")
        {
            return new(store, StorageState.Locked, string.Create(CultureInfo.InvariantCulture,
                $"{store}: the database is locked (no write lock on {table} within {wait.TotalMilliseconds:F0} ms)"));
        }
        catch (Npgsql.NpgsqlException e)
        {
            return new(store, Problems.StorageFullHandler.IsStorageFull(e) ? StorageState.Full : StorageState.Unavailable,
                $"{store}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>The free space of the file system holding <paramref name="path"/>, in bytes (null when it cannot be read).</summary>
    public static long? FreeDiskBytes(string path)
    {
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? path;
            return new DriveInfo(folder).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private static StorageHealth Room(string store, string path, long quotaBytes, long minFreeBytes)
    {
        if (quotaBytes < minFreeBytes)
        {
            return new(store, StorageState.Full, string.Create(CultureInfo.InvariantCulture,
                $"{store}: storage full ({quotaBytes} bytes left under the database's page quota, fewer than the {minFreeBytes} readiness needs)"));
        }

        if (FreeDiskBytes(path) is { } disk && disk < minFreeBytes)
        {
            return new(store, StorageState.Full, string.Create(CultureInfo.InvariantCulture,
                $"{store}: storage full ({disk} bytes free on the disk holding {Path.GetFileName(path)}, fewer than the {minFreeBytes} readiness needs)"));
        }

        return new(store, StorageState.Ok, $"{store}: writable");
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var c = connection.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    private static long Long(SqliteConnection connection, string sql)
    {
        using var c = connection.CreateCommand();
        c.CommandText = sql;
        return Convert.ToInt64(c.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
