using System.Globalization;
using System.Text.Json;
using Crucible.Governance.Storage;
using Microsoft.Data.Sqlite;

namespace Crucible.Service.Scenarios;

/// <summary>A stored response, replayed byte for byte.</summary>
/// <param name="Status">The status code.</param>
/// <param name="ContentType">The content type.</param>
/// <param name="Body">The body bytes.</param>
/// <param name="Headers">Extra response headers (audit seq, hashes).</param>
public sealed record StoredResponse(int Status, string ContentType, byte[] Body, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>What <see cref="IdempotencyStore.Begin"/> decided.</summary>
public enum IdempotencyOutcome
{
    /// <summary>A new key: process the request, then <see cref="IdempotencyStore.Complete"/> or <see cref="IdempotencyStore.Abandon"/>.</summary>
    Proceed,

    /// <summary>The key was used for the same request: replay the stored response.</summary>
    Replay,

    /// <summary>The key was used for a different request (422).</summary>
    Mismatch,

    /// <summary>The first request with this key is still running (409).</summary>
    InFlight,
}

/// <summary>
/// What <see cref="IIdempotencyStore.Begin"/> decided: the outcome, the stored response of a replay, and for
/// <see cref="IdempotencyOutcome.Proceed"/> the claim (when the key was claimed, Unix ms) that
/// <see cref="IIdempotencyStore.Complete"/> and <see cref="IIdempotencyStore.Abandon"/> name: a request whose lease ran out
/// while it waited, and whose key a retry claimed again, then touches nothing of the retry's claim.
/// </summary>
/// <param name="Outcome">What to do.</param>
/// <param name="Response">The stored response, for <see cref="IdempotencyOutcome.Replay"/>.</param>
/// <param name="Claim">The claim of <see cref="IdempotencyOutcome.Proceed"/>.</param>
public readonly record struct IdempotencyBegin(IdempotencyOutcome Outcome, StoredResponse? Response, long Claim = 0)
{
    /// <summary>The outcome and the stored response.</summary>
    public void Deconstruct(out IdempotencyOutcome outcome, out StoredResponse? response) => (outcome, response) = (Outcome, Response);
}

/// <summary>
/// Where idempotency keys live: SQLite in the home (<see cref="IdempotencyStore"/>), or PostgreSQL shared by several
/// replicas (<see cref="PostgresIdempotencyStore"/>), so that a replay sent to another replica returns the same bytes.
/// </summary>
public interface IIdempotencyStore : IDisposable
{
    /// <summary>The rows held (in flight and stored).</summary>
    long Count { get; }

    /// <summary>Claims <paramref name="key"/> for <paramref name="client"/>, or tells why not.</summary>
    IdempotencyBegin Begin(string client, string key, string fingerprint);

    /// <summary>Stores the response of a request that <see cref="Begin"/> let proceed with <paramref name="claim"/>, while the key is still that claim's.</summary>
    void Complete(string client, string key, long claim, StoredResponse response);

    /// <summary>Forgets a request that failed (its <paramref name="claim"/>, while the key is still that claim's), so that it may be retried with the same key.</summary>
    void Abandon(string client, string key, long claim);

    /// <summary>
    /// Readiness's write probe (SVC-6): whether a write could start within <paramref name="wait"/> (not locked) and the
    /// store has at least <paramref name="minFreeBytes"/> of room; writes nothing.
    /// </summary>
    StorageHealth Probe(TimeSpan wait, long minFreeBytes);
}

/// <summary>The rule both stores apply to the row a key already has.</summary>
internal static class IdempotencyRow
{
    /// <summary>The columns <see cref="Answer"/> reads, in its order.</summary>
    public const string Columns = "fingerprint, created, lease_until, status, content_type, headers, body";

    /// <summary>
    /// The answer a row (read with <see cref="Columns"/>) gives a request with <paramref name="fingerprint"/> at
    /// <paramref name="now"/> (Unix ms): mismatch, in flight or the stored response to replay; null when the row has
    /// expired (a stored response past the retention, or a lease run out), so the key may be claimed afresh.
    /// </summary>
    public static IdempotencyBegin? Answer(System.Data.Common.DbDataReader row, string fingerprint, long now, TimeSpan retention)
    {
        bool stored = !row.IsDBNull(3);
        long created = row.GetInt64(1), leaseUntil = row.GetInt64(2);
        bool expired = stored ? now - created > (long)retention.TotalMilliseconds : now > leaseUntil;
        if (expired) return null;
        if (!string.Equals(row.GetString(0), fingerprint, StringComparison.Ordinal)) return new(IdempotencyOutcome.Mismatch, null);
        if (!stored) return new(IdempotencyOutcome.InFlight, null);
        var headers = JsonSerializer.Deserialize<List<KeyValuePair<string, string>>>(row.GetString(5)) ?? [];
        return new(IdempotencyOutcome.Replay, new StoredResponse(row.GetInt32(3), row.GetString(4), row.GetFieldValue<byte[]>(6), headers));
    }
}

/// <summary>
/// Idempotency keys for scenario requests (draft-ietf-httpapi-idempotency-key-header, RELIABILITY.md SVC-5), scoped to
/// the API key that sent them, kept in SQLite (<c>idempotency.db</c> in the home, WAL, <c>synchronous=FULL</c>) so that
/// a replay after a restart, or from another service process on the same home, still returns the stored bytes. A row
/// holds a fingerprint of the request (SHA-256 of its <c>Accept</c> and body) and, once the request succeeded, the
/// response. A request in flight holds a lease; a process that dies mid-request leaves a row whose lease expires, after
/// which the key may be used again. A failed request is forgotten, so the client may retry it with the same key.
/// Stored responses are kept for the retention window and up to a capacity (oldest dropped first).
/// </summary>
public sealed class IdempotencyStore : IIdempotencyStore
{
    private static int s_sqliteInitialised;
    private readonly SqliteConnection _db;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _retention;
    private readonly TimeSpan _lease;
    private readonly int _capacity;
    private readonly Lock _gate = new();

    private const int BusyTimeoutMs = 30_000;
    private readonly string _path;

    /// <summary>
    /// Opens (creating when needed) the store at <paramref name="databasePath"/>. <paramref name="maxPageCount"/>, when
    /// given, caps the file at that many pages (SQLite <c>PRAGMA max_page_count</c>, on this connection): past it writes
    /// fail with SQLITE_FULL, as on a full disk.
    /// </summary>
    public IdempotencyStore(string databasePath, TimeProvider clock, TimeSpan retention, int capacity, TimeSpan? lease = null, long? maxPageCount = null)
    {
        _path = databasePath;
        if (Interlocked.Exchange(ref s_sqliteInitialised, 1) == 0) SQLitePCL.Batteries_V2.Init();
        _clock = clock;
        _retention = retention;
        _capacity = capacity;
        _lease = lease ?? TimeSpan.FromMinutes(10);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString());
        _db.Open();
        Execute("""
            PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS idempotency(
              client TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
              created INTEGER NOT NULL, lease_until INTEGER NOT NULL,
              status INTEGER, content_type TEXT, headers TEXT, body BLOB,
              PRIMARY KEY (client, key));
            CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created);
            """);
        try
        {
            SqliteDurability.Require(_db, "idempotency");
        }
        catch
        {
            _db.Dispose();
            throw;
        }

        if (maxPageCount is { } max) Execute(string.Create(CultureInfo.InvariantCulture, $"PRAGMA max_page_count={max};"));
    }

    /// <inheritdoc />
    public StorageHealth Probe(TimeSpan wait, long minFreeBytes)
    {
        lock (_gate) return StorageProbe.Sqlite("idempotency", _db, _path, wait, minFreeBytes, BusyTimeoutMs);
    }

    /// <summary>The rows held (in flight and stored).</summary>
    public long Count
    {
        get
        {
            lock (_gate) return Convert.ToInt64(Scalar("SELECT COUNT(*) FROM idempotency;"), CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Claims <paramref name="key"/> for <paramref name="client"/>, or tells why not.</summary>
    public IdempotencyBegin Begin(string client, string key, string fingerprint)
    {
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_gate)
        {
            Execute("BEGIN IMMEDIATE;");
            try
            {
                var result = BeginLocked(client, key, fingerprint, now);
                Execute("COMMIT;");
                return result;
            }
            catch
            {
                Execute("ROLLBACK;");
                throw;
            }
        }
    }

    private IdempotencyBegin BeginLocked(string client, string key, string fingerprint, long now)
    {
        using (var select = Command($"SELECT {IdempotencyRow.Columns} FROM idempotency WHERE client = $c AND key = $k;", client, key))
        using (var row = select.ExecuteReader())
        {
            if (row.Read() && IdempotencyRow.Answer(row, fingerprint, now, _retention) is { } answer) return answer;
        }

        using (var upsert = Command("""
            INSERT INTO idempotency(client, key, fingerprint, created, lease_until) VALUES ($c, $k, $f, $now, $lease)
            ON CONFLICT(client, key) DO UPDATE SET fingerprint = $f, created = $now, lease_until = $lease,
              status = NULL, content_type = NULL, headers = NULL, body = NULL;
            """, client, key))
        {
            upsert.Parameters.AddWithValue("$f", fingerprint);
            upsert.Parameters.AddWithValue("$now", now);
            upsert.Parameters.AddWithValue("$lease", now + (long)_lease.TotalMilliseconds);
            upsert.ExecuteNonQuery();
        }

        Trim(now);
        return new(IdempotencyOutcome.Proceed, null, now);
    }

    /// <summary>Stores the response of a request that <see cref="Begin"/> let proceed with <paramref name="claim"/>, while the key is still that claim's.</summary>
    public void Complete(string client, string key, long claim, StoredResponse response)
    {
        lock (_gate)
        {
            using var update = Command("""
                UPDATE idempotency SET status = $s, content_type = $t, headers = $h, body = $b, created = $now
                WHERE client = $c AND key = $k AND status IS NULL AND created = $claim;
                """, client, key);
            update.Parameters.AddWithValue("$claim", claim);
            update.Parameters.AddWithValue("$s", response.Status);
            update.Parameters.AddWithValue("$t", response.ContentType);
            update.Parameters.AddWithValue("$h", JsonSerializer.Serialize(response.Headers));
            update.Parameters.AddWithValue("$b", response.Body);
            update.Parameters.AddWithValue("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds());
            update.ExecuteNonQuery();
        }
    }

    /// <summary>Forgets a request that failed (its <paramref name="claim"/>, while the key is still that claim's), so that it may be retried with the same key.</summary>
    public void Abandon(string client, string key, long claim)
    {
        lock (_gate)
        {
            using var delete = Command("DELETE FROM idempotency WHERE client = $c AND key = $k AND status IS NULL AND created = $claim;", client, key);
            delete.Parameters.AddWithValue("$claim", claim);
            delete.ExecuteNonQuery();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate) _db.Dispose();
    }

    private void Trim(long now)
    {
        using var expired = _db.CreateCommand();
        expired.CommandText = "DELETE FROM idempotency WHERE (status IS NOT NULL AND created < $old) OR (status IS NULL AND lease_until < $now);";
        expired.Parameters.AddWithValue("$old", now - (long)_retention.TotalMilliseconds);
        expired.Parameters.AddWithValue("$now", now);
        expired.ExecuteNonQuery();
        using var over = _db.CreateCommand();
        over.CommandText = """
            DELETE FROM idempotency WHERE status IS NOT NULL AND rowid IN (
              SELECT rowid FROM idempotency WHERE status IS NOT NULL ORDER BY created
              LIMIT max(0, (SELECT COUNT(*) FROM idempotency) - $cap));
            """;
        over.Parameters.AddWithValue("$cap", _capacity);
        over.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, string client, string key)
    {
        var c = _db.CreateCommand();
        c.CommandText = sql;
        c.Parameters.AddWithValue("$c", client);
        c.Parameters.AddWithValue("$k", key);
        return c;
    }

    private void Execute(string sql)
    {
        using var c = _db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var c = _db.CreateCommand();
        c.CommandText = sql;
        return c.ExecuteScalar();
    }
}
