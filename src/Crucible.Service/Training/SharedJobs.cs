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
                ALTER TABLE training_job ADD COLUMN IF NOT EXISTS cancel_requested TEXT;
                ALTER TABLE training_job ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0;
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
    /// describes the request's bytes (null for a row queued before rows kept it); CancelRequested, the error of a cancel
    /// asked for while an earlier replica ran it (that replica died before it could stop), which the claimer records at once.
    /// Each claim counts one attempt (<c>attempts</c>; a job handed back keeps its count).
    /// </summary>
    public (string Id, string RequestJson, string Actor, string Created, ManifestFile? Body, string? CancelRequested, int Attempts)? Claim(string replica, long now, long leaseUntil)
    {
        using var connection = _source.OpenConnection();
        using var claim = new NpgsqlCommand("""
            UPDATE training_job SET status = 'running', replica = @r, lease_until = @l, step = 0, loss = NULL, attempts = attempts + 1
            WHERE id = (SELECT id FROM training_job WHERE status = 'queued' OR (status = 'running' AND lease_until < @now)
                        ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id, request, actor, created, request_sha256, request_bytes, cancel_requested, attempts;
            """, connection);
        claim.Parameters.AddWithValue("r", replica);
        claim.Parameters.AddWithValue("l", leaseUntil);
        claim.Parameters.AddWithValue("now", now);
        using var row = claim.ExecuteReader();
        if (!row.Read()) return null;
        var body = row.IsDBNull(4) || row.IsDBNull(5) ? null : new ManifestFile(Endpoints.RunEndpoints.RequestInput, row.GetString(4), row.GetInt64(5)) { IsFile = false };
        return (row.GetString(0), row.GetString(1), row.GetString(2), row.GetString(3), body, row.IsDBNull(6) ? null : row.GetString(6), row.GetInt32(7));
    }

    /// <summary>
    /// Records progress and renews the lease of job <paramref name="id"/> while it is still the running claim of
    /// <paramref name="replica"/>; answers whether it is, and the error of a cancel some replica asked for
    /// (<see cref="RequestCancel"/>): the running replica stops the job at this write. A replica whose lease ran out, and
    /// whose job another replica claimed since, writes nothing: neither its steps nor a lease over the other's.
    /// </summary>
    public LeaseState Progress(string id, string replica, int step, int totalSteps, double? loss, long leaseUntil)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand("""
            UPDATE training_job SET step = @s, total_steps = @t, loss = @loss, lease_until = @l
            WHERE id = @id AND status = 'running' AND replica = @r RETURNING cancel_requested;
            """, connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("r", replica);
        update.Parameters.AddWithValue("s", step);
        update.Parameters.AddWithValue("t", totalSteps);
        update.Parameters.AddWithValue("loss", loss is { } v ? v : DBNull.Value);
        update.Parameters.AddWithValue("l", leaseUntil);
        return Lease(update);
    }

    /// <summary>Renews the lease of job <paramref name="id"/> while it is the running claim of <paramref name="replica"/> (as <see cref="Progress"/>).</summary>
    public LeaseState Renew(string id, string replica, long leaseUntil)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand(
            "UPDATE training_job SET lease_until = @l WHERE id = @id AND status = 'running' AND replica = @r RETURNING cancel_requested;", connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("r", replica);
        update.Parameters.AddWithValue("l", leaseUntil);
        return Lease(update);
    }

    private static LeaseState Lease(NpgsqlCommand update)
    {
        using var row = update.ExecuteReader();
        return row.Read() ? new LeaseState(true, row.IsDBNull(0) ? null : row.GetString(0)) : new LeaseState(false, null);
    }

    /// <summary>
    /// Cancels job <paramref name="id"/> when it is still queued (no replica has claimed it: the claim's row lock orders
    /// the two); false when it is not queued.
    /// </summary>
    public bool CancelQueued(string id, string error, string finished)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand(
            "UPDATE training_job SET status = 'cancelled', error = @e, finished = @f, lease_until = NULL WHERE id = @id AND status = 'queued';", connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("e", error);
        update.Parameters.AddWithValue("f", finished);
        return update.ExecuteNonQuery() == 1;
    }

    /// <summary>
    /// Asks the replica running job <paramref name="id"/> to stop it (it reads the request at its next progress write or
    /// lease renewal); the first request's error is kept. False when the job is not running.
    /// </summary>
    public bool RequestCancel(string id, string error)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand(
            "UPDATE training_job SET cancel_requested = COALESCE(cancel_requested, @e) WHERE id = @id AND status = 'running';", connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("e", error);
        return update.ExecuteNonQuery() == 1;
    }

    /// <summary>
    /// Hands job <paramref name="id"/>, which <paramref name="replica"/> runs, back to the queue (a replica that stops):
    /// queued again at its place (its <c>seq</c>), progress reset, attempts kept; false when the row is no longer this
    /// replica's running job. Answers the attempts made so far.
    /// </summary>
    public int? Release(string id, string replica)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand("""
            UPDATE training_job SET status = 'queued', replica = NULL, lease_until = NULL, step = 0, loss = NULL
            WHERE id = @id AND status = 'running' AND replica = @r AND cancel_requested IS NULL RETURNING attempts;
            """, connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("r", replica);
        return update.ExecuteScalar() is int attempts ? attempts : null;
    }

    /// <summary>Who submitted job <paramref name="id"/> (<c>key:ID</c>), or null for an unknown id.</summary>
    public string? ActorOf(string id)
    {
        using var connection = _source.OpenConnection();
        using var select = new NpgsqlCommand("SELECT actor FROM training_job WHERE id = @id;", connection);
        select.Parameters.AddWithValue("id", id);
        return select.ExecuteScalar() as string;
    }

    /// <summary>How many times job <paramref name="id"/> was claimed, or null for an unknown id.</summary>
    public int? Attempts(string id)
    {
        using var connection = _source.OpenConnection();
        using var select = new NpgsqlCommand("SELECT attempts FROM training_job WHERE id = @id;", connection);
        select.Parameters.AddWithValue("id", id);
        return select.ExecuteScalar() is int attempts ? attempts : null;
    }

    /// <summary>
    /// A page of jobs, newest first (by acceptance order): those with <paramref name="status"/> (any when null), accepted
    /// before job <paramref name="before"/> (from the newest when null), at most <paramref name="limit"/>; null when
    /// <paramref name="before"/> names no job.
    /// </summary>
    public IReadOnlyList<JobView>? List(JobStatus? status, string? before, int limit)
    {
        using var connection = _source.OpenConnection();
        if (before is not null)
        {
            using var known = new NpgsqlCommand("SELECT 1 FROM training_job WHERE id = @b;", connection);
            known.Parameters.AddWithValue("b", before);
            if (known.ExecuteScalar() is null) return null;
        }

        using var select = new NpgsqlCommand("""
            SELECT id, status, step, total_steps, loss, model_id, run_id, error, created, finished, attempts FROM training_job
            WHERE (@s::text IS NULL OR status = @s::text) AND (@b::text IS NULL OR seq < (SELECT seq FROM training_job WHERE id = @b::text))
            ORDER BY seq DESC LIMIT @n;
            """, connection);
        select.Parameters.AddWithValue("s", status is { } st ? st.WireName() : DBNull.Value);
        select.Parameters.AddWithValue("b", before is null ? DBNull.Value : before);
        select.Parameters.AddWithValue("n", limit);
        using var r = select.ExecuteReader();
        var views = new List<JobView>();
        while (r.Read()) views.Add(ViewOf(r));
        return views;
    }

    /// <summary>The number of jobs in each state (states without jobs absent).</summary>
    public IReadOnlyDictionary<string, long> CountByStatus()
    {
        using var connection = _source.OpenConnection();
        using var select = new NpgsqlCommand("SELECT status, COUNT(*) FROM training_job GROUP BY status;", connection);
        using var r = select.ExecuteReader();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (r.Read()) counts[r.GetString(0)] = r.GetInt64(1);
        return counts;
    }

    /// <summary>
    /// Records the end of a job that <paramref name="replica"/> claimed, while the row is still its claim: a replica whose
    /// lease ran out, and whose job another replica claimed since, leaves that replica's row alone.
    /// </summary>
    public void Finish(string id, string replica, JobStatus status, double? loss, string? modelId, string? runId, string? error, string finished)
    {
        using var connection = _source.OpenConnection();
        using var update = new NpgsqlCommand("""
            UPDATE training_job SET status = @st, loss = @loss, model_id = @m, run_id = @run, error = @e, finished = @f, lease_until = NULL
            WHERE id = @id AND replica = @r;
            """, connection);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("r", replica);
        update.Parameters.AddWithValue("st", status.WireName());
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
            "SELECT id, status, step, total_steps, loss, model_id, run_id, error, created, finished, attempts FROM training_job WHERE id = @id;", connection);
        select.Parameters.AddWithValue("id", id);
        using var r = select.ExecuteReader();
        return r.Read() ? ViewOf(r) : null;
    }

    private static JobView ViewOf(NpgsqlDataReader r) =>
        new JobView(r.GetString(0), JobStatuses.Stored(r.GetString(1)), r.GetInt32(2), r.GetInt32(3), r.IsDBNull(4) ? null : r.GetDouble(4),
            r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.GetString(8),
            r.IsDBNull(9) ? null : r.GetString(9), r.GetInt32(10));

    /// <inheritdoc />
    public void Dispose() => _source.Dispose();
}

/// <summary>What a progress write or lease renewal found (<see cref="SharedJobs.Progress"/>, <see cref="SharedJobs.Renew"/>).</summary>
/// <param name="Held">Whether the job is still the caller's running claim (false: it ended, or its lease ran out and another replica claimed it).</param>
/// <param name="CancelRequested">The error of a cancel some replica asked for, or null.</param>
public readonly record struct LeaseState(bool Held, string? CancelRequested);
