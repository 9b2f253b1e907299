using System.Globalization;
using System.Text;
using Crucible.Governance.Storage;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Audit;

/// <summary>
/// Where an <see cref="AuditLog"/> keeps its rows: SQLite (one node) or PostgreSQL (several replicas). The hash chain,
/// canonical JSON, checkpoints, export and verification live in <see cref="AuditLog"/> once; a store only keeps rows and
/// makes writers take turns.
/// </summary>
internal interface IAuditStore : IDisposable
{
    /// <summary>
    /// Runs <paramref name="work"/> in one transaction that excludes every other writer of the store, in this process and
    /// in others, from the head read to the commit; commits when it returns, rolls back when it throws.
    /// </summary>
    T Write<T>(Func<IAuditTransaction, T> work);

    /// <summary>Entries with seq ≥ <paramref name="fromSeq"/>, in seq order, at most <paramref name="limit"/>.</summary>
    List<AuditEntry> ReadEntries(long fromSeq, int limit);

    /// <summary>The entries whose kind is one of <paramref name="kinds"/> (wire names), in seq order (indexed by kind).</summary>
    List<AuditEntry> ReadEntriesOfKinds(IReadOnlyList<string> kinds);

    /// <summary>All checkpoints in seq order.</summary>
    List<AuditCheckpoint> ReadCheckpoints();

    /// <summary>The manifest bytes stored under <paramref name="runId"/> (table <c>runs</c>), or null.</summary>
    byte[]? ReadRun(string runId);

    /// <summary>Whether the database holds the <c>runs</c> table (a log written before it existed, and not opened by a writer since, does not).</summary>
    bool HasRunsTable();

    /// <summary>The head's seq (0 when empty).</summary>
    long HeadSeq();

    /// <summary>The <c>audit_meta</c> value under <paramref name="key"/>, or null (outside any write transaction).</summary>
    string? ReadMeta(string key);

    /// <summary>
    /// The key under which this writer records the last checkpoint it exported to <paramref name="checkpointFile"/>:
    /// one for the SQLite log of a home; one per replica and file when several replicas share a PostgreSQL log.
    /// </summary>
    string ExportMarker(string checkpointFile);
}

/// <summary>Reads audit entries from a query whose columns are seq, ts_utc, kind, actor, payload, prev_hash, entry_hash (both stores).</summary>
internal static class AuditRows
{
    public static List<AuditEntry> Read(System.Data.Common.DbDataReader r)
    {
        var entries = new List<AuditEntry>();
        while (r.Read())
        {
            entries.Add(new AuditEntry(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3),
                Encoding.UTF8.GetString(r.GetFieldValue<byte[]>(4)), r.GetFieldValue<byte[]>(5), r.GetFieldValue<byte[]>(6)));
        }

        return entries;
    }
}

/// <summary>
/// The statements of a write transaction that both stores run alike (the same SQL, <c>@</c> parameters, which SQLite
/// and Npgsql both bind, and the same reading of the rows), on a provider's <see cref="System.Data.Common.DbConnection"/>
/// and, when the store has one, its <see cref="System.Data.Common.DbTransaction"/> (SQLite's writer runs
/// <c>BEGIN IMMEDIATE</c> itself and passes none).
/// </summary>
internal static class AuditSql
{
    public static (long Seq, byte[] Hash) Head(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx)
    {
        using var cmd = Command(connection, tx, "SELECT seq, entry_hash FROM audit_entry ORDER BY seq DESC LIMIT 1;");
        using var r = cmd.ExecuteReader();
        return r.Read() ? (r.GetInt64(0), r.GetFieldValue<byte[]>(1)) : (0, new byte[32]);
    }

    /// <summary>The entry hashes with seq in (<paramref name="afterSeq"/>, <paramref name="toSeq"/>], in order.</summary>
    public static List<byte[]> EntryHashes(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, long afterSeq, long toSeq)
    {
        using var cmd = Command(connection, tx, "SELECT entry_hash FROM audit_entry WHERE seq > @from AND seq <= @to ORDER BY seq;", ("from", afterSeq), ("to", toSeq));
        using var r = cmd.ExecuteReader();
        var hashes = new List<byte[]>();
        while (r.Read()) hashes.Add(r.GetFieldValue<byte[]>(0));
        return hashes;
    }

    public static void InsertEntry(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx,
        long seq, string ts, string kind, string actor, byte[] payload, byte[] prevHash, byte[] entryHash)
    {
        using var cmd = Command(connection, tx, "INSERT INTO audit_entry(seq, ts_utc, kind, actor, payload, prev_hash, entry_hash) VALUES (@s, @t, @k, @a, @p, @prev, @h);",
            ("s", seq), ("t", ts), ("k", kind), ("a", actor), ("p", payload), ("prev", prevHash), ("h", entryHash));
        cmd.ExecuteNonQuery();
    }

    public static void InsertCheckpoint(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, AuditCheckpoint c)
    {
        using var cmd = Command(connection, tx, "INSERT INTO audit_checkpoint(seq, head_hash, merkle_root, ts_utc, key_id, sig) VALUES (@s, @h, @r, @t, @k, @sig);",
            ("s", c.Seq), ("h", c.HeadHash), ("r", c.MerkleRoot), ("t", c.TimestampUtc), ("k", c.KeyId), ("sig", c.Signature));
        cmd.ExecuteNonQuery();
    }

    public static void InsertRun(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, string runId, string kind, string sha256, byte[] manifest)
    {
        using var cmd = Command(connection, tx, "INSERT INTO runs(run_id, kind, manifest_sha256, manifest) VALUES (@id, @k, @h, @m);",
            ("id", runId), ("k", kind), ("h", sha256), ("m", manifest));
        cmd.ExecuteNonQuery();
    }

    /// <summary>The checkpoints with seq above <paramref name="afterSeq"/>, in seq order.</summary>
    public static List<AuditCheckpoint> Checkpoints(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, long afterSeq)
    {
        using var cmd = Command(connection, tx, "SELECT seq, head_hash, merkle_root, ts_utc, key_id, sig FROM audit_checkpoint WHERE seq > @after ORDER BY seq;", ("after", afterSeq));
        using var r = cmd.ExecuteReader();
        var checkpoints = new List<AuditCheckpoint>();
        while (r.Read())
        {
            checkpoints.Add(new AuditCheckpoint(r.GetInt64(0), r.GetFieldValue<byte[]>(1), r.GetFieldValue<byte[]>(2), r.GetString(3),
                r.GetString(4), r.GetFieldValue<byte[]>(5)));
        }

        return checkpoints;
    }

    public static long LastCheckpointSeq(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx)
    {
        using var cmd = Command(connection, tx, "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint;");
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public static string? GetMeta(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, string key)
    {
        using var cmd = Command(connection, tx, "SELECT value FROM audit_meta WHERE key = @k;", ("k", key));
        return cmd.ExecuteScalar() as string;
    }

    public static void SetMeta(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, string key, string value)
    {
        using var cmd = Command(connection, tx, "INSERT INTO audit_meta(key, value) VALUES (@k, @v) ON CONFLICT (key) DO UPDATE SET value = excluded.value;", ("k", key), ("v", value));
        cmd.ExecuteNonQuery();
    }

    // a command with named parameters (byte[] values bind as BLOB on SQLite and bytea on PostgreSQL)
    private static System.Data.Common.DbCommand Command(System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction? tx, string sql,
        params (string Name, object Value)[] parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }
}

/// <summary>The operations of an <see cref="IAuditStore.Write{T}"/> transaction.</summary>
internal interface IAuditTransaction
{
    (long Seq, byte[] Hash) Head();

    /// <summary>The entry hashes with seq in (<paramref name="afterSeq"/>, <paramref name="toSeq"/>], in order.</summary>
    List<byte[]> EntryHashes(long afterSeq, long toSeq);

    void InsertEntry(long seq, string ts, string kind, string actor, byte[] payload, byte[] prevHash, byte[] entryHash);

    void InsertCheckpoint(AuditCheckpoint c);

    /// <summary>Stores a run manifest's canonical JSON under its run id (an id is stored once: a second insert fails).</summary>
    void InsertRun(string runId, string kind, string sha256, byte[] manifest);

    long LastCheckpointSeq();

    List<AuditCheckpoint> CheckpointsAfter(long seq);

    string? GetMeta(string key);

    void SetMeta(string key, string value);
}

/// <summary>The SQLite store: one file, WAL, <c>synchronous=FULL</c>, <c>BEGIN IMMEDIATE</c> for writers.</summary>
internal sealed class SqliteAuditStore : IAuditStore, IAuditTransaction
{
    private static int s_initialised;

    /// <summary>
    /// One gate per database file for the writers of this process. SQLite's busy handler retries by sleeping, which is not
    /// a queue: with many writers in one process a waiting connection can lose every race until its busy timeout runs out
    /// (RELIABILITY.md LOG-5 saw it on a loaded 2-core machine). Writers of one process therefore queue here and meet
    /// SQLite's lock only against other processes.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> s_writerGates = new(StringComparer.Ordinal);

    private readonly SqliteConnection _connection;
    private readonly object _writerGate;

    private SqliteAuditStore(SqliteConnection connection, object writerGate)
    {
        _connection = connection;
        _writerGate = writerGate;
    }

    private static object WriterGate(string path) => s_writerGates.GetOrAdd(Path.GetFullPath(path), _ => new object());

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS audit_entry(
          seq INTEGER PRIMARY KEY,
          ts_utc TEXT NOT NULL,
          kind TEXT NOT NULL,
          actor TEXT NOT NULL,
          payload BLOB NOT NULL,
          prev_hash BLOB NOT NULL,
          entry_hash BLOB NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS audit_checkpoint(
          seq INTEGER PRIMARY KEY,
          head_hash BLOB NOT NULL,
          merkle_root BLOB NOT NULL,
          ts_utc TEXT NOT NULL,
          key_id TEXT NOT NULL,
          sig BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS audit_entry_kind ON audit_entry(kind);
        CREATE TABLE IF NOT EXISTS audit_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT OR IGNORE INTO audit_meta(key, value) VALUES ('format', 'crucible-audit-v1');
        CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        CREATE TABLE IF NOT EXISTS runs(
          run_id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          manifest_sha256 TEXT NOT NULL,
          manifest BLOB NOT NULL);
        CREATE TRIGGER IF NOT EXISTS runs_no_update BEFORE UPDATE ON runs BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        CREATE TRIGGER IF NOT EXISTS runs_no_delete BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        """;

    private const string SchemaObjects = "'audit_entry','audit_checkpoint','audit_entry_kind','audit_meta','audit_entry_no_update','audit_entry_no_delete',"
        + "'audit_checkpoint_no_update','audit_checkpoint_no_delete','runs','runs_no_update','runs_no_delete'";

    private const int SchemaObjectCount = 11;

    /// <summary>Opens (creating when needed) the log at <paramref name="path"/>, checking that WAL and <c>synchronous=FULL</c> took effect.</summary>
    public static SqliteAuditStore OpenWriter(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var gate = WriterGate(path);
        var connection = Connect(path, SqliteOpenMode.ReadWriteCreate);
        try
        {
            Execute(connection, "PRAGMA busy_timeout=30000;");
            lock (gate)
            {
                Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
                SqliteDurability.Require(connection, "audit");
                // The schema statements write (INSERT OR IGNORE, and CREATE … IF NOT EXISTS takes the write lock too): run
                // them only on a log that lacks part of the schema, so opening a complete log is a read.
                // In one transaction: its statements one by one let another process's reader see the entry tables
                // without audit_meta (16 writers opening a new log: "no such table: audit_meta").
                if (!HasSchema(connection))
                {
                    Execute(connection, "BEGIN IMMEDIATE;");
                    try
                    {
                        Execute(connection, Schema);
                        Execute(connection, "COMMIT;");
                    }
                    catch
                    {
                        Execute(connection, "ROLLBACK;");
                        throw;
                    }
                }
            }

            return new SqliteAuditStore(connection, gate);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens an existing log to read it only: the store runs only <c>SELECT</c>s, under SQLite's ordinary locking (a reader
    /// beside a live writer sees each committed transaction, never a torn one), and leaves in the folder no file that was
    /// not there before when no writer runs (<see cref="ConnectReader"/>).
    /// </summary>
    public static SqliteAuditStore OpenReader(string path) => new(ConnectReader(path), WriterGate(path));

    /// <summary>The objects <see cref="Schema"/> creates, all present, and the format row.</summary>
    private static bool HasSchema(SqliteConnection connection)
    {
        var objects = Convert.ToInt64(Scalar(connection, $"SELECT COUNT(*) FROM sqlite_master WHERE name IN ({SchemaObjects});"), CultureInfo.InvariantCulture);
        if (objects != SchemaObjectCount) return false;
        return Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM audit_meta WHERE key = 'format';"), CultureInfo.InvariantCulture) == 1;
    }

    /// <summary>Whether the database holds the <c>runs</c> table (a log created before it existed does not).</summary>
    public bool HasRunsTable() => Convert.ToInt64(Scalar(_connection,
        "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name = 'runs';"), CultureInfo.InvariantCulture) == 1;

    /// <summary>Whether the database holds both audit tables.</summary>
    public bool HasTables() => Convert.ToInt64(Scalar(_connection,
        "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name IN ('audit_entry','audit_checkpoint');"), CultureInfo.InvariantCulture) == 2;

    public T Write<T>(Func<IAuditTransaction, T> work)
    {
        lock (_writerGate)
        {
            Execute(_connection, "BEGIN IMMEDIATE;");
            T result;
            try
            {
                result = work(this);
                Execute(_connection, "COMMIT;");
            }
            catch
            {
                TryRollback();
                throw;
            }

            return result;
        }
    }

    public string ExportMarker(string checkpointFile) => "exported_checkpoint";

    public (long Seq, byte[] Hash) Head() => AuditSql.Head(_connection, null);

    public long HeadSeq() => Head().Seq;

    public List<byte[]> EntryHashes(long afterSeq, long toSeq) => AuditSql.EntryHashes(_connection, null, afterSeq, toSeq);

    public void InsertEntry(long seq, string ts, string kind, string actor, byte[] payload, byte[] prevHash, byte[] entryHash) =>
        AuditSql.InsertEntry(_connection, null, seq, ts, kind, actor, payload, prevHash, entryHash);

    public void InsertCheckpoint(AuditCheckpoint c) => AuditSql.InsertCheckpoint(_connection, null, c);

    public void InsertRun(string runId, string kind, string sha256, byte[] manifest) => AuditSql.InsertRun(_connection, null, runId, kind, sha256, manifest);

    public byte[]? ReadRun(string runId)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT manifest FROM runs WHERE run_id = $id;";
        cmd.Parameters.AddWithValue("$id", runId);
        return cmd.ExecuteScalar() as byte[];
    }

    public long LastCheckpointSeq() => AuditSql.LastCheckpointSeq(_connection, null);

    public List<AuditCheckpoint> CheckpointsAfter(long seq) => AuditSql.Checkpoints(_connection, null, seq);

    public string? GetMeta(string key) => AuditSql.GetMeta(_connection, null, key);

    // a log written before audit_meta existed, or one whose schema another process is creating, has no value yet
    public string? ReadMeta(string key) => HasMetaTable() ? GetMeta(key) : null;

    private bool HasMetaTable() => Convert.ToInt64(Scalar(_connection,
        "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name = 'audit_meta';"), CultureInfo.InvariantCulture) == 1;

    public void SetMeta(string key, string value) => AuditSql.SetMeta(_connection, null, key, value);

    public List<AuditEntry> ReadEntries(long fromSeq, int limit)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT seq, ts_utc, kind, actor, payload, prev_hash, entry_hash FROM audit_entry WHERE seq >= $from ORDER BY seq LIMIT $limit;";
        cmd.Parameters.AddWithValue("$from", fromSeq);
        cmd.Parameters.AddWithValue("$limit", limit);
        using var r = cmd.ExecuteReader();
        return AuditRows.Read(r);
    }

    public List<AuditEntry> ReadEntriesOfKinds(IReadOnlyList<string> kinds)
    {
        using var cmd = _connection.CreateCommand();
        var names = new string[kinds.Count];
        for (int i = 0; i < kinds.Count; i++)
        {
            names[i] = "$k" + i.ToString(CultureInfo.InvariantCulture);
            cmd.Parameters.AddWithValue(names[i], kinds[i]);
        }

        cmd.CommandText = $"SELECT seq, ts_utc, kind, actor, payload, prev_hash, entry_hash FROM audit_entry WHERE kind IN ({string.Join(", ", names)}) ORDER BY seq;";
        using var r = cmd.ExecuteReader();
        return AuditRows.Read(r);
    }

    public List<AuditCheckpoint> ReadCheckpoints() => AuditSql.Checkpoints(_connection, null, 0);

    public void Dispose() => _connection.Dispose();

    private void TryRollback()
    {
        try
        {
            Execute(_connection, "ROLLBACK;");
        }
        catch (SqliteException)
        {
            // No transaction was open (BEGIN itself failed); nothing to undo.
        }
    }

    private static SqliteConnection Connect(string path, SqliteOpenMode mode)
    {
        if (Interlocked.Exchange(ref s_initialised, 1) == 0) SQLitePCL.Batteries_V2.Init();
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>
    /// The connection of a reader. SQLite reads a WAL database only through its write-ahead log (<c>-wal</c>) and the
    /// log's shared-memory index (<c>-shm</c>, where readers and writers take their locks): a connection opens both,
    /// creating them when they are missing, even with <c>SQLITE_OPEN_READONLY</c>; and only the last connection to close
    /// removes them, after taking the database's EXCLUSIVE lock (every WAL connection holds a SHARED one while open) and
    /// checkpointing, which a read-only connection cannot do. So a read-only connection to a log whose writer had closed
    /// left an empty <c>audit.db-wal</c> and an <c>audit.db-shm</c> behind (no pragma changes this; the URI parameter
    /// <c>readonly_shm</c> only fails where no <c>-shm</c> exists).
    /// <para>
    /// When the log holds no frame (no <c>-wal</c>, or an empty one) and there is no rollback journal, nothing waits to
    /// be checkpointed into <c>audit.db</c>: the reader then opens read-write, without create, with <c>PRAGMA
    /// query_only</c> (SQLite refuses any statement that writes). It still creates the two files while it reads, but
    /// closing last it removes them as a writer does, by SQLite's own protocol: the EXCLUSIVE lock proves that no other
    /// connection, of any process, uses them, and the checkpoint of an empty log writes nothing to the database. Readers
    /// side by side all open so, and the last to close removes the files. A writer that starts meanwhile shares them as
    /// usual; when it closes before this reader, the reader is the last and checkpoints the writer's committed frames
    /// into <c>audit.db</c> (as the writer's own close does when it is the last): the database changes because a writer
    /// ran, and nothing committed is lost. An empty <c>-wal</c> and its <c>-shm</c> that an earlier build's reader left
    /// are removed the same way (they hold no data).
    /// </para>
    /// <para>
    /// When the <c>-wal</c> holds frames (a writer runs, or one was killed before its last close) or a <c>-journal</c>
    /// exists, the reader opens read-only: a read-write connection closing last would checkpoint a killed writer's log
    /// into <c>audit.db</c> or roll its journal back, writing the home. It reads every committed transaction of that log
    /// and leaves both files, which were there before (it may rebuild the <c>-shm</c> index when it finds it stale; the
    /// database and the log are untouched).
    /// </para>
    /// <para>
    /// Not chosen: the URI parameters <c>immutable=1</c> and <c>nolock=1</c> open no <c>-wal</c> or <c>-shm</c>, but they
    /// read without locks: beside a live writer they can read a page that a checkpoint is rewriting (a torn database) and
    /// miss the transactions still in its log. <c>locking_mode=EXCLUSIVE</c> keeps the index in memory but needs the
    /// database's EXCLUSIVE lock, which shuts writers out and which a read-only connection cannot take.
    /// </para>
    /// A database file that the OS write-protects is opened read-only by SQLite even when read-write is asked: in a
    /// writable folder such a reader leaves the two files as before. On a read-only file system a log with no
    /// <c>-wal</c> cannot be read in either mode (SQLite 3.35: "unable to open database file"), as before.
    /// </summary>
    private static SqliteConnection ConnectReader(string path)
    {
        var wal = new FileInfo(path + "-wal");
        var nothingToCheckpoint = (!wal.Exists || wal.Length == 0) && !File.Exists(path + "-journal");
        if (!nothingToCheckpoint) return Connect(path, SqliteOpenMode.ReadOnly);
        var connection = Connect(path, SqliteOpenMode.ReadWrite);
        try
        {
            Execute(connection, "PRAGMA query_only=ON;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }
}
