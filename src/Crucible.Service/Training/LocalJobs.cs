using Crucible.Governance.Storage;
using Microsoft.Data.Sqlite;

namespace Crucible.Service.Training;

/// <summary>
/// Training job rows in the home (<c>HOME/jobs.db</c>, SQLite, WAL, <c>synchronous=FULL</c>) when the service keeps its
/// state there (the default store), so that <c>GET /v1/jobs/{id}</c> answers after a restart, and from every service
/// process on the same home. A row is written when the job is accepted and at each change of state (progress at most
/// once a second). Each process holds an exclusive lock on its own file <c>HOME/jobs/.replicas/&lt;replica&gt;.lock</c>
/// for as long as it lives (the kernel releases it however the process ends): a row still <c>queued</c> or
/// <c>running</c> whose process no longer holds its lock was left by a process that was killed, and is answered (and
/// recorded) <c>cancelled</c> with a message saying so; it is not run again (the request's data is not kept in the row).
/// </summary>
public sealed class LocalJobs : IDisposable
{
    /// <summary>The error recorded for a job whose process ended without finishing it.</summary>
    public const string KilledMessage = "the service process running this job stopped without finishing it (killed or crashed); nothing was registered; submit the job again";

    private static int s_sqliteInitialised;
    private readonly SqliteConnection _db;
    private readonly Lock _gate = new();
    private readonly string _replicas;
    private readonly FileStream _ownLock;

    /// <summary>The database's file name in the home.</summary>
    public const string FileName = "jobs.db";

    /// <summary>This process's replica name (its lock file's name).</summary>
    public string Replica { get; }

    /// <summary>Opens (creating when needed) <c>jobs.db</c> in <paramref name="homeRoot"/> and takes this process's replica lock.</summary>
    public LocalJobs(string homeRoot)
    {
        if (Interlocked.Exchange(ref s_sqliteInitialised, 1) == 0) SQLitePCL.Batteries_V2.Init();
        _replicas = Path.Combine(homeRoot, "jobs", ".replicas");
        Directory.CreateDirectory(_replicas);
        Replica = Guid.NewGuid().ToString("N");
        _ownLock = new FileStream(LockPath(Replica), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        try
        {
            _db = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(homeRoot, FileName),
                Mode = SqliteOpenMode.ReadWriteCreate,
                Pooling = false,
            }.ToString());
            _db.Open();
            Execute("""
                PRAGMA busy_timeout=30000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
                CREATE TABLE IF NOT EXISTS training_job(
                  id TEXT PRIMARY KEY, actor TEXT NOT NULL, created TEXT NOT NULL, replica TEXT NOT NULL,
                  status TEXT NOT NULL, step INTEGER NOT NULL, total_steps INTEGER NOT NULL, loss REAL,
                  model_id TEXT, run_id TEXT, error TEXT, finished TEXT);
                CREATE INDEX IF NOT EXISTS training_job_status ON training_job(status);
                """);
            if (!HasColumn("cancel_requested")) Execute("ALTER TABLE training_job ADD COLUMN cancel_requested TEXT;"); // a jobs.db of an older build
            if (!HasColumn("attempts"))
            {
                // a jobs.db of an older build: a job that got to run (a step made, or running or finished by its trainer) was started once
                Execute("""
                    ALTER TABLE training_job ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                    UPDATE training_job SET attempts = 1 WHERE step > 0 OR status IN ('running', 'succeeded', 'failed');
                    """);
            }

            SqliteDurability.Require(_db, "jobs");
        }
        catch
        {
            _db?.Dispose();
            _ownLock.Dispose();
            throw;
        }
    }

    /// <summary>Records a job just accepted (queued) by this process.</summary>
    public void Insert(JobView view, string actor)
    {
        ArgumentNullException.ThrowIfNull(view);
        lock (_gate)
        {
            using var insert = _db.CreateCommand();
            insert.CommandText = """
                INSERT INTO training_job(id, actor, created, replica, status, step, total_steps)
                VALUES ($id, $a, $c, $r, $s, $step, $t);
                """;
            insert.Parameters.AddWithValue("$id", view.Id);
            insert.Parameters.AddWithValue("$a", actor);
            insert.Parameters.AddWithValue("$c", view.Created);
            insert.Parameters.AddWithValue("$r", Replica);
            insert.Parameters.AddWithValue("$s", view.Status.WireName());
            insert.Parameters.AddWithValue("$step", view.Step);
            insert.Parameters.AddWithValue("$t", view.TotalSteps);
            insert.ExecuteNonQuery();
        }
    }

    /// <summary>Forgets a job that was not accepted after all (the queue was full).</summary>
    public void Delete(string id)
    {
        lock (_gate)
        {
            using var delete = _db.CreateCommand();
            delete.CommandText = "DELETE FROM training_job WHERE id = $id;";
            delete.Parameters.AddWithValue("$id", id);
            delete.ExecuteNonQuery();
        }
    }

    /// <summary>Records the job's state as <paramref name="view"/> says.</summary>
    public void Update(JobView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        lock (_gate)
        {
            using var update = _db.CreateCommand();
            update.CommandText = """
                UPDATE training_job SET status = $s, step = $step, total_steps = $t, loss = $loss, model_id = $m, run_id = $run,
                  error = $e, finished = $f, attempts = $n WHERE id = $id;
                """;
            update.Parameters.AddWithValue("$n", view.Attempts);
            update.Parameters.AddWithValue("$id", view.Id);
            update.Parameters.AddWithValue("$s", view.Status.WireName());
            update.Parameters.AddWithValue("$step", view.Step);
            update.Parameters.AddWithValue("$t", view.TotalSteps);
            update.Parameters.AddWithValue("$loss", view.Loss is { } l ? l : DBNull.Value);
            update.Parameters.AddWithValue("$m", (object?)view.ModelId ?? DBNull.Value);
            update.Parameters.AddWithValue("$run", (object?)view.RunId ?? DBNull.Value);
            update.Parameters.AddWithValue("$e", (object?)view.Error ?? DBNull.Value);
            update.Parameters.AddWithValue("$f", (object?)view.Finished ?? DBNull.Value);
            update.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// The job <paramref name="id"/> as recorded, or null; a row left queued or running by a process that has ended is
    /// recorded <c>cancelled</c> (<see cref="KilledMessage"/>, finished <paramref name="now"/>) first.
    /// </summary>
    public JobView? Find(string id, string now)
    {
        lock (_gate)
        {
            var (view, replica) = Read(id);
            if (view is null || !view.Status.IsLive() || replica == Replica || IsAlive(replica!)) return view;
            var ended = view with { Status = JobStatus.Cancelled, Error = KilledMessage, Finished = now };
            using var update = _db.CreateCommand();
            // only the row as read: a live process that finished it meanwhile keeps its answer
            update.CommandText = "UPDATE training_job SET status = 'cancelled', error = $e, finished = $f WHERE id = $id AND status IN ('queued', 'running');";
            update.Parameters.AddWithValue("$id", id);
            update.Parameters.AddWithValue("$e", KilledMessage);
            update.Parameters.AddWithValue("$f", now);
            update.ExecuteNonQuery();
            return Read(id).View is { } after && !after.Status.IsLive() ? after : ended;
        }
    }

    /// <summary>
    /// Asks the process running (or holding queued) job <paramref name="id"/> to stop it: it reads the request at its
    /// next progress write (at most a second apart) or before it starts the job. The first request's error is kept;
    /// false when the job is not queued or running.
    /// </summary>
    public bool RequestCancel(string id, string error)
    {
        lock (_gate)
        {
            using var update = _db.CreateCommand();
            update.CommandText = "UPDATE training_job SET cancel_requested = COALESCE(cancel_requested, $e) WHERE id = $id AND status IN ('queued', 'running');";
            update.Parameters.AddWithValue("$id", id);
            update.Parameters.AddWithValue("$e", error);
            return update.ExecuteNonQuery() == 1;
        }
    }

    /// <summary>The error of a cancel asked for job <paramref name="id"/> (<see cref="RequestCancel"/>), or null.</summary>
    public string? CancelRequested(string id)
    {
        lock (_gate)
        {
            using var select = _db.CreateCommand();
            select.CommandText = "SELECT cancel_requested FROM training_job WHERE id = $id;";
            select.Parameters.AddWithValue("$id", id);
            return select.ExecuteScalar() as string;
        }
    }

    /// <summary>
    /// A page of jobs as recorded, newest first (by acceptance order): with <paramref name="status"/> (any when null),
    /// accepted before job <paramref name="before"/> (from the newest when null), at most <paramref name="limit"/>; null
    /// when <paramref name="before"/> names no job. A row a killed process left is resolved as <see cref="Find"/> does.
    /// </summary>
    public IReadOnlyList<JobView>? List(JobStatus? status, string? before, int limit, string now)
    {
        var ids = new List<string>();
        lock (_gate)
        {
            long? beforeRow = null;
            if (before is not null)
            {
                using var known = _db.CreateCommand();
                known.CommandText = "SELECT rowid FROM training_job WHERE id = $b;";
                known.Parameters.AddWithValue("$b", before);
                if (known.ExecuteScalar() is not long row) return null;
                beforeRow = row;
            }

            using var select = _db.CreateCommand();
            select.CommandText = "SELECT id FROM training_job WHERE ($s IS NULL OR status = $s) AND ($b IS NULL OR rowid < $b) ORDER BY rowid DESC LIMIT $n;";
            select.Parameters.AddWithValue("$s", (object?)status?.WireName() ?? DBNull.Value);
            select.Parameters.AddWithValue("$b", (object?)beforeRow ?? DBNull.Value);
            select.Parameters.AddWithValue("$n", limit);
            using var r = select.ExecuteReader();
            while (r.Read()) ids.Add(r.GetString(0));
        }

        return [.. ids.Select(id => Find(id, now)).OfType<JobView>()];
    }

    /// <summary>The number of jobs in each state as recorded (states without jobs absent).</summary>
    public IReadOnlyDictionary<string, long> CountByStatus()
    {
        lock (_gate)
        {
            using var select = _db.CreateCommand();
            select.CommandText = "SELECT status, COUNT(*) FROM training_job GROUP BY status;";
            using var r = select.ExecuteReader();
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            while (r.Read()) counts[r.GetString(0)] = r.GetInt64(1);
            return counts;
        }
    }

    private bool HasColumn(string name)
    {
        using var info = _db.CreateCommand();
        info.CommandText = "SELECT COUNT(*) FROM pragma_table_info('training_job') WHERE name = $n;";
        info.Parameters.AddWithValue("$n", name);
        return (long)info.ExecuteScalar()! > 0;
    }

    private (JobView? View, string? Replica) Read(string id)
    {
        using var select = _db.CreateCommand();
        select.CommandText = "SELECT id, status, step, total_steps, loss, model_id, run_id, error, created, finished, replica, attempts FROM training_job WHERE id = $id;";
        select.Parameters.AddWithValue("$id", id);
        using var r = select.ExecuteReader();
        if (!r.Read()) return (null, null);
        return (new JobView(r.GetString(0), JobStatuses.Stored(r.GetString(1)), r.GetInt32(2), r.GetInt32(3), r.IsDBNull(4) ? null : r.GetDouble(4),
            r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.GetString(8),
            r.IsDBNull(9) ? null : r.GetString(9), r.GetInt32(11)), r.GetString(10));
    }

    // whether the process of replica still holds its lock file (a name that is not a replica's counts as ended)
    private bool IsAlive(string replica)
    {
        if (!ScratchFolders.IsId(replica)) return false;
        var path = LockPath(replica);
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true; // held: a sharing violation
        }

        TryDelete(path); // ours for the moment of the probe: the process that held it has ended
        return false;
    }

    private string LockPath(string replica) => Path.Combine(_replicas, replica + ".lock");

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private void Execute(string sql)
    {
        using var c = _db.CreateCommand();
        c.CommandText = sql;
        c.ExecuteNonQuery();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate) _db.Dispose();
        _ownLock.Dispose();
        TryDelete(LockPath(Replica));
    }
}
