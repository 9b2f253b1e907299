using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Crucible.Governance.Audit;

/// <summary>
/// The PostgreSQL store, shared by several service replicas: the same tables and columns as the SQLite log
/// (RELIABILITY.md §4.2; <c>BIGINT</c>/<c>BYTEA</c> for <c>INTEGER</c>/<c>BLOB</c>), append-only triggers (a guard rail,
/// as in SQLite), the registered models' files (<c>model_file</c>) so that every replica can load every model, and the
/// run manifests (<c>runs</c>, as in SQLite) so that every replica answers for every run.
/// </summary>
/// <remarks>
/// A writer is one transaction: <c>BEGIN</c> → <c>pg_advisory_xact_lock(AppendLock)</c> → read the head → insert →
/// <c>COMMIT</c>. The lock serialises writers across every replica and is released by the commit or rollback, including
/// the rollback PostgreSQL performs when a writer's connection or process dies mid-transaction, so a dead writer leaves
/// neither a partial entry nor a held lock. Under READ COMMITTED each statement after the lock sees every commit made
/// before it was granted, so the head read is the true head and no two writers can fork the chain (the primary key on
/// <c>seq</c> would refuse a fork anyway). The acknowledgement (receipt) is returned only after <c>COMMIT</c> returned.
/// Connections come from an <see cref="NpgsqlDataSource"/> pool, so a restarted database is reconnected to.
/// </remarks>
internal sealed class PostgresAuditStore : IAuditStore
{
    /// <summary>The advisory lock key of audit writers ("CrucAudt").</summary>
    public const long AppendLock = 0x4372_7563_4175_6474;

    /// <summary>The advisory lock key held by a model registration, from its existence check to its entry ("CrucRegs").</summary>
    public const long RegisterLock = 0x4372_7563_5265_6773;

    /// <summary>The advisory lock key held while the schema is created ("CrucScma").</summary>
    public const long SchemaLock = 0x4372_7563_5363_6d61;

    private readonly NpgsqlDataSource _source;

    private PostgresAuditStore(NpgsqlDataSource source) => _source = source;

    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS audit_entry(
          seq BIGINT PRIMARY KEY,
          ts_utc TEXT NOT NULL,
          kind TEXT NOT NULL,
          actor TEXT NOT NULL,
          payload BYTEA NOT NULL,
          prev_hash BYTEA NOT NULL,
          entry_hash BYTEA NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS audit_checkpoint(
          seq BIGINT PRIMARY KEY,
          head_hash BYTEA NOT NULL,
          merkle_root BYTEA NOT NULL,
          ts_utc TEXT NOT NULL,
          key_id TEXT NOT NULL,
          sig BYTEA NOT NULL);
        CREATE INDEX IF NOT EXISTS audit_entry_kind ON audit_entry(kind);
        CREATE TABLE IF NOT EXISTS audit_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO audit_meta(key, value) VALUES ('format', 'crucible-audit-v1') ON CONFLICT (key) DO NOTHING;
        CREATE TABLE IF NOT EXISTS model_file(
          model_id TEXT NOT NULL,
          name TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          bytes BYTEA NOT NULL,
          PRIMARY KEY (model_id, name, sha256));
        CREATE TABLE IF NOT EXISTS runs(
          run_id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          manifest_sha256 TEXT NOT NULL,
          manifest BYTEA NOT NULL);
        CREATE OR REPLACE FUNCTION crucible_append_only() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'append-only: % on %', TG_OP, TG_TABLE_NAME; END $$;
        CREATE OR REPLACE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
          FOR EACH ROW EXECUTE FUNCTION crucible_append_only();
        CREATE OR REPLACE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
          FOR EACH STATEMENT EXECUTE FUNCTION crucible_append_only();
        CREATE OR REPLACE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
          FOR EACH ROW EXECUTE FUNCTION crucible_append_only();
        CREATE OR REPLACE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
          FOR EACH STATEMENT EXECUTE FUNCTION crucible_append_only();
        CREATE OR REPLACE TRIGGER model_file_append_only BEFORE UPDATE OR DELETE ON model_file
          FOR EACH ROW EXECUTE FUNCTION crucible_append_only();
        CREATE OR REPLACE TRIGGER runs_append_only BEFORE UPDATE OR DELETE ON runs
          FOR EACH ROW EXECUTE FUNCTION crucible_append_only();
        """;

    /// <summary>Connects to <paramref name="connectionString"/> and creates the tables when they are missing.</summary>
    /// <exception cref="Crucible.Data.InvalidInputException"><c>STORE-E-CONNECT</c>: the database cannot be reached or refuses the login.</exception>
    public static PostgresAuditStore Open(string connectionString)
    {
        var source = NpgsqlDataSource.Create(connectionString);
        try
        {
            using var connection = source.OpenConnection();
            using var tx = connection.BeginTransaction();
            // two replicas starting at once would otherwise race on CREATE ... IF NOT EXISTS
            Lock(connection, tx, SchemaLock);
            using (var cmd = new NpgsqlCommand(Schema, connection, tx)) cmd.ExecuteNonQuery();
            tx.Commit();
            return new PostgresAuditStore(source);
        }
        catch (NpgsqlException e)
        {
            source.Dispose();
            // Npgsql's messages name the host and the server's complaint, never the password
            throw new Crucible.Data.InvalidInputException("STORE-E-CONNECT", "cannot open the PostgreSQL store: " + e.Message);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a store for reading an existing log (verification, <see cref="AuditLog.OpenReadOnly(AuditLogOptions)"/>): it
    /// connects lazily and creates nothing; a read of a missing table fails, so callers ask <see cref="HasTables"/> first.
    /// </summary>
    public static PostgresAuditStore OpenReader(string connectionString) => new(NpgsqlDataSource.Create(connectionString));

    /// <summary>Whether the database holds both audit tables.</summary>
    public bool HasTables()
    {
        using var connection = _source.OpenConnection();
        using var cmd = new NpgsqlCommand("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('audit_entry', 'audit_checkpoint');", connection);
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 2;
    }

    /// <summary>Whether the database holds the <c>runs</c> table (a log written before it existed does not).</summary>
    public bool HasRunsTable()
    {
        using var connection = _source.OpenConnection();
        using var cmd = new NpgsqlCommand("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'runs';", connection);
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 1;
    }

    public T Write<T>(Func<IAuditTransaction, T> work)
    {
        using var connection = _source.OpenConnection();
        using var tx = connection.BeginTransaction();
        Lock(connection, tx, AppendLock);
        var result = work(new Transaction(connection, tx));
        tx.Commit(); // disposing an uncommitted transaction (work threw) rolls it back
        return result;
    }

    /// <summary>
    /// Holds the session-level advisory lock <paramref name="key"/> on a connection of its own until disposed (the
    /// session's end releases it too, so a killed holder leaves no lock).
    /// </summary>
    public IDisposable HoldLock(long key)
    {
        var connection = _source.OpenConnection();
        try
        {
            using var cmd = new NpgsqlCommand("SELECT pg_advisory_lock(@k);", connection);
            cmd.Parameters.AddWithValue("k", key);
            cmd.ExecuteNonQuery();
            return new SessionLock(connection, key);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private sealed class SessionLock(NpgsqlConnection connection, long key) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(@k);", connection);
                cmd.Parameters.AddWithValue("k", key);
                cmd.ExecuteNonQuery();
            }
            finally
            {
                connection.Dispose(); // a broken session's locks die with it; a pooled one is reset (DISCARD ALL) before reuse
            }
        }
    }

    public string ExportMarker(string checkpointFile) => "exported_checkpoint:" + Environment.MachineName + ":" + Path.GetFullPath(checkpointFile);

    public long HeadSeq()
    {
        using var connection = _source.OpenConnection();
        using var cmd = new NpgsqlCommand("SELECT COALESCE(MAX(seq), 0) FROM audit_entry;", connection);
        return (long)cmd.ExecuteScalar()!;
    }

    public List<AuditEntry> ReadEntries(long fromSeq, int limit)
    {
        using var connection = _source.OpenConnection();
        using var cmd = new NpgsqlCommand("SELECT seq, ts_utc, kind, actor, payload, prev_hash, entry_hash FROM audit_entry WHERE seq >= @from ORDER BY seq LIMIT @limit;", connection);
        cmd.Parameters.AddWithValue("from", fromSeq);
        cmd.Parameters.AddWithValue("limit", (long)limit);
        using var r = cmd.ExecuteReader();
        return AuditRows.Read(r);
    }

    public List<AuditEntry> ReadEntriesOfKinds(IReadOnlyList<string> kinds)
    {
        using var connection = _source.OpenConnection();
        using var cmd = new NpgsqlCommand("SELECT seq, ts_utc, kind, actor, payload, prev_hash, entry_hash FROM audit_entry WHERE kind = ANY(@kinds) ORDER BY seq;", connection);
        cmd.Parameters.AddWithValue("kinds", kinds.ToArray());
        using var r = cmd.ExecuteReader();
        return AuditRows.Read(r);
    }

    public List<AuditCheckpoint> ReadCheckpoints()
    {
        using var connection = _source.OpenConnection();
        return AuditSql.Checkpoints(connection, null, 0);
    }

    /// <summary>The <c>audit_meta</c> value under <paramref name="key"/>, or null (read outside any write transaction).</summary>
    public string? ReadMeta(string key)
    {
        using var connection = _source.OpenConnection();
        return AuditSql.GetMeta(connection, null, key);
    }

    /// <summary>Stores one file of a model (idempotent: the same id, name and hash is kept once).</summary>
    public void PutModelFile(string modelId, string name, string sha256, byte[] bytes)
    {
        using var connection = _source.OpenConnection();
        using var cmd = new NpgsqlCommand("INSERT INTO model_file(model_id, name, sha256, bytes) VALUES (@id, @n, @h, @b) ON CONFLICT DO NOTHING;", connection);
        cmd.Parameters.AddWithValue("id", modelId);
        cmd.Parameters.AddWithValue("n", name);
        cmd.Parameters.AddWithValue("h", sha256);
        cmd.Parameters.AddWithValue("b", NpgsqlDbType.Bytea, bytes);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The stored bytes of one model file with the given hash, or null.</summary>
    public byte[]? GetModelFile(string modelId, string name, string sha256)
    {
        using var connection = _source.OpenConnection();
        using var cmd = new NpgsqlCommand("SELECT bytes FROM model_file WHERE model_id = @id AND name = @n AND sha256 = @h;", connection);
        cmd.Parameters.AddWithValue("id", modelId);
        cmd.Parameters.AddWithValue("n", name);
        cmd.Parameters.AddWithValue("h", sha256);
        return cmd.ExecuteScalar() as byte[];
    }

    public byte[]? ReadRun(string runId)
    {
        using var connection = _source.OpenConnection();
        using var cmd = new NpgsqlCommand("SELECT manifest FROM runs WHERE run_id = @id;", connection);
        cmd.Parameters.AddWithValue("id", runId);
        return cmd.ExecuteScalar() as byte[];
    }

    public void Dispose() => _source.Dispose();

    private static void Lock(NpgsqlConnection connection, NpgsqlTransaction tx, long key)
    {
        using var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@k);", connection, tx);
        cmd.Parameters.AddWithValue("k", key);
        cmd.ExecuteNonQuery();
    }

    private sealed class Transaction(NpgsqlConnection connection, NpgsqlTransaction tx) : IAuditTransaction
    {
        public (long Seq, byte[] Hash) Head() => AuditSql.Head(connection, tx);

        public List<byte[]> EntryHashes(long afterSeq, long toSeq) => AuditSql.EntryHashes(connection, tx, afterSeq, toSeq);

        public void InsertEntry(long seq, string ts, string kind, string actor, byte[] payload, byte[] prevHash, byte[] entryHash) =>
            AuditSql.InsertEntry(connection, tx, seq, ts, kind, actor, payload, prevHash, entryHash);

        public void InsertCheckpoint(AuditCheckpoint c) => AuditSql.InsertCheckpoint(connection, tx, c);

        public void InsertRun(string runId, string kind, string sha256, byte[] manifest) => AuditSql.InsertRun(connection, tx, runId, kind, sha256, manifest);

        public long LastCheckpointSeq() => AuditSql.LastCheckpointSeq(connection, tx);

        public List<AuditCheckpoint> CheckpointsAfter(long seq) => AuditSql.Checkpoints(connection, tx, seq);

        public string? GetMeta(string key) => AuditSql.GetMeta(connection, tx, key);

        public void SetMeta(string key, string value) => AuditSql.SetMeta(connection, tx, key, value);
    }
}
