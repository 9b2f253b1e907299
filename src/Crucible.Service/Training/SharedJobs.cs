using Crucible.Governance.Manifests;
using Npgsql;

namespace Crucible.Service.Training;

/// <summary>
/// Training job rows in the shared PostgreSQL store (<c>--store postgres:…</c>), so that every replica answers
/// <c>GET /v1/jobs/{id}</c> and any replica's worker may run a queued job. A worker claims the oldest queued job with
/// <c>FOR UPDATE SKIP LOCKED</c> (two replicas never claim the same row, and neither waits for the other) and holds a
/// lease that it renews while the job runs; a job whose replica died (lease run out) is claimed again by another one.
/// The queue bound (<see cref="TrainingJobs.QueueCapacity"/>) is counted over all replicas. A row keeps the SHA-256 and
/// size of the request's body (the run manifest's input <c>request</c>) and, once the job succeeded, its run id.
/// </summary>
public sealed class SharedJobs : IDisposable
{
    private const long SubmitLock = 0x4372_7563_4A6F_6273; // "CrucJobs"
    private readonly NpgsqlDataSource _source;

    /// <summary>Connects and creates the table when missing.</summary>
    public SharedJobs(string connectionString)
    {
        _source = NpgsqlDataSource.Create(connectionString);
        try
        {
            using var connection = _source.OpenConnection();
            using var tx = connection.BeginTransaction();
            using (var l = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@k);", connection, tx))
            {
                l.Parameters.AddWithValue("k", SubmitLock);
                l.ExecuteNonQuery();
            }

            using (var create = new NpgsqlCommand("""
                CREATE TABLE IF NOT EXISTS training_job(
                  id TEXT PRIMARY KEY, request TEXT NOT NULL, actor TEXT NOT NULL, created TEXT NOT NULL, seq BIGSERIAL,
                  status TEXT NOT NULL, step INTEGER NOT NULL, total_steps INTEGER NOT NULL, loss DOUBLE PRECISION,
                  model_id TEXT, error TEXT, finished TEXT, replica TEXT, lease_until BIGINT);
                CREATE INDEX IF NOT EXISTS training_job_status ON training_job(status, seq);
                ALTER TABLE training_job ADD COLUMN IF NOT EXISTS request_sha256 TEXT;
                ALTER TABLE training_job ADD COLUMN IF NOT EXISTS request_bytes BIGINT;
                ALTER TABLE training_job ADD COLUMN IF NOT EXISTS run_id TEXT;
                """, connection, tx)) create.ExecuteNonQuery();
            tx.Commit();
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Queues a job unless <paramref name="capacity"/> jobs are queued already (over all replicas); <paramref name="body"/>
    /// describes the request's bytes as sent.
    /// </summary>
    public bool TryQueue(JobView view, string requestJson, string actor, int capacity, ManifestFile body)
    {
        ArgumentNullException.ThrowIfNull(view);
        ArgumentNullException.ThrowIfNull(body);
        using var connection = _source.OpenConnection();
        using var tx = connection.BeginTransaction();
        using (var l = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@k);", connection, tx))
        {
            l.Parameters.AddWithValue("k", SubmitLock);
            l.ExecuteNonQuery();
        }

        using (var count = new NpgsqlCommand("SELECT COUNT(*) FROM training_job WHERE status = 'queued';", connection, tx))
        {
            if ((long)count.ExecuteScalar()! >= capacity) return false;
        }

        using (var insert = new NpgsqlCommand("""
            INSERT INTO training_job(id, request, actor, created, status, step, total_steps, request_sha256, request_bytes)
            VALUES (@id, @r, @a, @c, 'queued', 0, @t, @rh, @rb);
            """, connection, tx))
        {
            insert.Parameters.AddWithValue("rh", body.Sha256);
            insert.Parameters.AddWithValue("rb", body.Bytes);
            insert.Parameters.AddWithValue("id", view.Id);
            insert.Parameters.AddWithValue("r", requestJson);
            insert.Parameters.AddWithValue("a", actor);
            insert.Parameters.AddWithValue("c", view.Created);
            insert.Parameters.AddWithValue("t", view.TotalSteps);
            insert.ExecuteNonQuery();
        }

        tx.Commit();
        return true;
    }

    /// <summary>
    /// Claims the oldest queued job (or one whose replica's lease ran out) for <paramref name="replica"/>, or null. Body
    /// describes the request's bytes (null for a row queued before rows kept it).
    /// </summary>
    public (string Id, string RequestJson, string Actor, string Created, ManifestFile? Body)? Claim(string replica, long now, long leaseUntil)
    {
        using var connection = _source.OpenConnection();
        using var claim = new NpgsqlCommand("""
            UPDATE training_job SET status = 'running', replica = @r, lease_until = @l, step = 0, loss = NULL
            WHERE id = (SELECT id FROM training_job WHERE status = 'queued' OR (status = 'running' AND lease_until < @now)
                        ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id, request, actor, created, request_sha256, request_bytes;
            """, connection);
        claim.Parameters.AddWithValue("r", replica);
        claim.Parameters.AddWithValue("l", leaseUntil);
        claim.Parameters.AddWithValue("now", now);
        using var row = claim.ExecuteReader();
        if (!row.Read()) return null;
        var body = row.IsDBNull(4) || row.IsDBNull(5) ? null : new ManifestFile(Endpoints.RunEndpoints.RequestInput, row.GetString(4), row.GetInt64(5)) { IsFile = false };
        return (row.GetString(0), row.GetString(1), row.GetString(2), row.GetString(3), body);
    }

    /// <summary>Records progress and renews the lease of a job this replica runs.</summary>
    public void Progress(string id, int step, int totalSteps, double? loss, long leaseUntil)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand(
            "UPDATE training_job SET step = @s, total_steps = @t, loss = @loss, lease_until = @l WHERE id = @id AND status = 'running';", connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("s", step);
        update.Parameters.AddWithValue("t", totalSteps);
        update.Parameters.AddWithValue("loss", loss is { } v ? v : DBNull.Value);
        update.Parameters.AddWithValue("l", leaseUntil);
        update.ExecuteNonQuery();
    }

    /// <summary>Renews the lease of a running job.</summary>
    public void Renew(string id, long leaseUntil)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand("UPDATE training_job SET lease_until = @l WHERE id = @id AND status = 'running';", connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("l", leaseUntil);
        update.ExecuteNonQuery();
    }

    /// <summary>Records the end of a job.</summary>
    public void Finish(string id, string status, double? loss, string? modelId, string? runId, string? error, string finished)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand(
            "UPDATE training_job SET status = @st, loss = @loss, model_id = @m, run_id = @run, error = @e, finished = @f, lease_until = NULL WHERE id = @id;", connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("st", status);
        update.Parameters.AddWithValue("loss", loss is { } v ? v : DBNull.Value);
        update.Parameters.AddWithValue("m", modelId is null ? DBNull.Value : modelId);
        update.Parameters.AddWithValue("run", runId is null ? DBNull.Value : runId);
        update.Parameters.AddWithValue("e", error is null ? DBNull.Value : error);
        update.Parameters.AddWithValue("f", finished);
        update.ExecuteNonQuery();
    }

    /// <summary>The ids of the jobs running on some replica under a lease that has not run out at <paramref name="now"/> (Unix ms).</summary>
    public IReadOnlySet<string> Leased(long now)
    {
        using var connection = _source.OpenConnection();
        using var select = new NpgsqlCommand("SELECT id FROM training_job WHERE status = 'running' AND lease_until >= @now;", connection);
        select.Parameters.AddWithValue("now", now);
        using var r = select.ExecuteReader();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (r.Read()) ids.Add(r.GetString(0));
        return ids;
    }

    /// <summary>The job <paramref name="id"/> as any replica sees it, or null.</summary>
    public JobView? Find(string id)
    {
        using var connection = _source.OpenConnection();
        using var select = new NpgsqlCommand(
            "SELECT id, status, step, total_steps, loss, model_id, run_id, error, created, finished FROM training_job WHERE id = @id;", connection);
        select.Parameters.AddWithValue("id", id);
        using var r = select.ExecuteReader();
        if (!r.Read()) return null;
        return new JobView(r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3), r.IsDBNull(4) ? null : r.GetDouble(4),
            r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.GetString(8),
            r.IsDBNull(9) ? null : r.GetString(9));
    }

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();
}
