using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Crucible.Service.Scenarios;

/// <summary>
/// The idempotency store in PostgreSQL, shared by every replica of the service (<c>--store postgres:…</c>): the same
/// rows, rules and retention as <see cref="IdempotencyStore"/>, so a replay sent to replica B of a request that replica
/// A answered returns A's stored bytes, and a key in flight on A is answered 409 on B. <see cref="Begin"/> is one
/// transaction: insert the claim if the key is new (<c>ON CONFLICT DO NOTHING</c>), else lock the existing row
/// (<c>FOR UPDATE</c>) and decide; two replicas racing on one key therefore see one winner.
/// </summary>
public sealed class PostgresIdempotencyStore : IIdempotencyStore
{
    private readonly NpgsqlDataSource _source;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _retention;
    private readonly TimeSpan _lease;
    private readonly int _capacity;

    /// <summary>Connects to <paramref name="connectionString"/> and creates the table when missing.</summary>
    public PostgresIdempotencyStore(string connectionString, TimeProvider clock, TimeSpan retention, int capacity, TimeSpan? lease = null)
    {
        _clock = clock;
        _retention = retention;
        _capacity = capacity;
        _lease = lease ?? TimeSpan.FromMinutes(10);
        _source = NpgsqlDataSource.Create(connectionString);
        try
        {
            using var connection = _source.OpenConnection();
            using var tx = connection.BeginTransaction();
            using (var l = new NpgsqlCommand("SELECT pg_advisory_xact_lock(4860076017179714925);", connection, tx)) l.ExecuteNonQuery(); // "CrucIdem": schema creation by one replica at a time
            using (var create = new NpgsqlCommand("""
                CREATE TABLE IF NOT EXISTS idempotency(
                  client TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
                  created BIGINT NOT NULL, lease_until BIGINT NOT NULL,
                  status INTEGER, content_type TEXT, headers TEXT, body BYTEA,
                  PRIMARY KEY (client, key));
                CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created);
                """, connection, tx)) create.ExecuteNonQuery();
            tx.Commit();
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public long Count
    {
        get
        {
            using var connection = _source.OpenConnection();
            using var cmd = new NpgsqlCommand("SELECT COUNT(*) FROM idempotency;", connection);
            return (long)cmd.ExecuteScalar()!;
        }
    }

    /// <inheritdoc />
    public IdempotencyBegin Begin(string client, string key, string fingerprint)
    {
        long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        long leaseUntil = now + (long)_lease.TotalMilliseconds;
        using var connection = _source.OpenConnection();
        using var tx = connection.BeginTransaction();
        using (var claim = Command(connection, tx, """
            INSERT INTO idempotency(client, key, fingerprint, created, lease_until) VALUES (@c, @k, @f, @now, @lease)
            ON CONFLICT (client, key) DO NOTHING;
            """, client, key))
        {
            claim.Parameters.AddWithValue("f", fingerprint);
            claim.Parameters.AddWithValue("now", now);
            claim.Parameters.AddWithValue("lease", leaseUntil);
            if (claim.ExecuteNonQuery() == 1)
            {
                tx.Commit();
                Trim(connection, now);
                return new(IdempotencyOutcome.Proceed, null, now);
            }
        }

        using (var select = Command(connection, tx,
            $"SELECT {IdempotencyRow.Columns} FROM idempotency WHERE client = @c AND key = @k FOR UPDATE;", client, key))
        using (var row = select.ExecuteReader())
        {
            if (row.Read() && IdempotencyRow.Answer(row, fingerprint, now, _retention) is { } answer)
            {
                row.Close();
                tx.Commit();
                return answer;
            }
        }

        // expired, or deleted between the insert and the select: claim it afresh
        using (var upsert = Command(connection, tx, """
            INSERT INTO idempotency(client, key, fingerprint, created, lease_until) VALUES (@c, @k, @f, @now, @lease)
            ON CONFLICT (client, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, created = EXCLUDED.created,
              lease_until = EXCLUDED.lease_until, status = NULL, content_type = NULL, headers = NULL, body = NULL;
            """, client, key))
        {
            upsert.Parameters.AddWithValue("f", fingerprint);
            upsert.Parameters.AddWithValue("now", now);
            upsert.Parameters.AddWithValue("lease", leaseUntil);
            upsert.ExecuteNonQuery();
        }

        tx.Commit();
        Trim(connection, now);
        return new(IdempotencyOutcome.Proceed, null, now);
    }

    /// <inheritdoc />
    public void Complete(string client, string key, long claim, StoredResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        using var connection = _source.OpenConnection();
        using var update = Command(connection, null, """
            UPDATE idempotency SET status = @s, content_type = @t, headers = @h, body = @b, created = @now
            WHERE client = @c AND key = @k AND status IS NULL AND created = @claim;
            """, client, key);
        update.Parameters.AddWithValue("claim", claim);
        update.Parameters.AddWithValue("s", response.Status);
        update.Parameters.AddWithValue("t", response.ContentType);
        update.Parameters.AddWithValue("h", JsonSerializer.Serialize(response.Headers));
        update.Parameters.AddWithValue("b", NpgsqlDbType.Bytea, response.Body);
        update.Parameters.AddWithValue("now", _clock.GetUtcNow().ToUnixTimeMilliseconds());
        update.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Abandon(string client, string key, long claim)
    {
        using var connection = _source.OpenConnection();
        using var delete = Command(connection, null, "DELETE FROM idempotency WHERE client = @c AND key = @k AND status IS NULL AND created = @claim;", client, key);
        delete.Parameters.AddWithValue("claim", claim);
        delete.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();

    /// <summary>
    /// Readiness's write probe on the shared store: in a transaction that is rolled back, take the lock a write takes
    /// (<c>ROW EXCLUSIVE</c> on <c>idempotency</c>) with <c>lock_timeout</c> = <paramref name="wait"/>. Another session
    /// holding a conflicting lock (a migration, <c>LOCK TABLE</c>, <c>VACUUM FULL</c>) is reported locked, a server out of
    /// reach unavailable. PostgreSQL's disk cannot be measured from a client: a full disk there shows as 53100 on the next
    /// write (503 storage-full); <paramref name="minFreeBytes"/> is not used.
    /// </summary>
    public StorageHealth Probe(TimeSpan wait, long minFreeBytes) => StorageProbe.PostgresTable("idempotency (postgres)", _source.OpenConnection, "idempotency", wait);


    /// <summary>
    /// Drops expired rows and the oldest stored ones beyond the capacity, in its own transaction after the claim, by one
    /// replica at a time (a second trimmer skips: two deleting overlapping rows in different orders could deadlock).
    /// </summary>
    private void Trim(NpgsqlConnection connection, long now)
    {
        using var tx = connection.BeginTransaction();
        using (var gate = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(4860076017179714926);", connection, tx))
        {
            if (!(bool)gate.ExecuteScalar()!) return;
        }

        using var expired = new NpgsqlCommand(
            "DELETE FROM idempotency WHERE (status IS NOT NULL AND created < @old) OR (status IS NULL AND lease_until < @now);", connection, tx);
        expired.Parameters.AddWithValue("old", now - (long)_retention.TotalMilliseconds);
        expired.Parameters.AddWithValue("now", now);
        expired.ExecuteNonQuery();
        using var over = new NpgsqlCommand("""
            DELETE FROM idempotency WHERE (client, key) IN (
              SELECT client, key FROM idempotency WHERE status IS NOT NULL ORDER BY created
              LIMIT GREATEST(0, (SELECT COUNT(*) FROM idempotency) - @cap));
            """, connection, tx);
        over.Parameters.AddWithValue("cap", (long)_capacity);
        over.ExecuteNonQuery();
        tx.Commit();
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, string client, string key)
    {
        var c = new NpgsqlCommand(sql, connection, tx);
        c.Parameters.AddWithValue("c", client);
        c.Parameters.AddWithValue("k", key);
        return c;
    }
}
