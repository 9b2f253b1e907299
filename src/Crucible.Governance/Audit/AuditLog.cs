using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Microsoft.Data.Sqlite;

namespace Crucible.Governance.Audit;

/// <summary>Where an <see cref="AuditLog"/> keeps its database, key and exported checkpoints, and how often it checkpoints.</summary>
public sealed class AuditLogOptions
{
    /// <summary>The SQLite file (<c>audit.db</c> in the home folder by default).</summary>
    public required string DatabasePath { get; init; }

    /// <summary>The private key PEM that signs checkpoints (created on first use). Null: checkpoints are not written.</summary>
    public string? SigningKeyPath { get; init; }

    /// <summary>The append-only JSON-lines file that every checkpoint is also exported to. Null: no export.</summary>
    public string? CheckpointFile { get; init; }

    /// <summary>A checkpoint is written with every entry whose seq is a multiple of this, and when a writer closes.</summary>
    public int CheckpointInterval { get; init; } = 64;

    /// <summary>The clock for entry and checkpoint times (injectable for tests).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The actor recorded when an append names none (a user or key id, never a secret).</summary>
    public string DefaultActor { get; init; } = "local";

    /// <summary>The options for the audit log of <paramref name="home"/>: <c>audit.db</c>, <c>keys/</c>, <c>audit-checkpoints.jsonl</c>.</summary>
    public static AuditLogOptions ForHome(CrucibleHome home) => new()
    {
        DatabasePath = home.AuditDatabase,
        SigningKeyPath = Path.Combine(home.KeysFolder, AuditSigningKey.PrivateFileName),
        CheckpointFile = home.AuditCheckpoints,
        DefaultActor = SafeUserName(),
    };

    private static string SafeUserName()
    {
        try
        {
            return "user:" + Environment.UserName;
        }
        catch (InvalidOperationException)
        {
            return "local";
        }
    }
}

/// <summary>
/// The append-only, tamper-evident audit log (RELIABILITY.md §4, LOG-1..8), in SQLite (WAL, <c>synchronous=FULL</c>).
/// </summary>
/// <remarks>
/// <para><b>Design: a SHA-256 hash chain with signed, exported checkpoints that carry an RFC 6962 Merkle root.</b>
/// Each entry stores <c>entry_hash = SHA-256("crucible-audit-v1" ‖ seq (8 bytes, big-endian) ‖ len‖ts ‖ len‖kind ‖
/// len‖actor ‖ len‖payload ‖ prev_hash)</c> with 4-byte big-endian length prefixes (no two field lists encode alike),
/// and the first entry's <c>prev_hash</c> is 32 zero bytes. A chain is chosen over a pure Merkle log because verifying
/// it is one linear pass that names the first bad entry exactly (edited, deleted, swapped rows and edited hashes all
/// break it at that entry), and appends cost one hash. The chain alone proves nothing against someone who rewrites the
/// whole file, so every <see cref="AuditLogOptions.CheckpointInterval"/> entries, and whenever a writer closes, a
/// checkpoint (seq, head hash, RFC 6962 root over all entry hashes, time) is signed with an ECDSA P-256 key kept
/// <i>outside</i> the database and is also appended to a separate JSON-lines file meant to be shipped elsewhere
/// (another volume, WORM storage, the operator's records). A recomputed chain therefore fails at the first
/// checkpoint after the change: its head no longer matches the signed one, and the forger cannot re-sign without the
/// private key; even with the key, the exported copy still holds the old signed head. Truncation below a checkpoint is
/// caught the same way. The Merkle root lets a scenario set carry an RFC 9162 inclusion proof that an auditor checks
/// with no database access. What this cannot catch: changes after the last checkpoint that was exported out of the
/// writer's reach, by someone who holds the private key (the window is at most one checkpoint interval, and every CLI
/// writer checkpoints when it closes).</para>
/// <para>Triggers refuse UPDATE and DELETE; they are a guard rail only, since anyone with the file can drop them.</para>
/// <para>Append is <c>BEGIN IMMEDIATE</c> → read the head → insert → <c>COMMIT</c>; the receipt is returned only after
/// the commit, which with WAL and <c>synchronous=FULL</c> is durable, so every acknowledged entry survives a crash.</para>
/// </remarks>
public sealed class AuditLog : IDisposable
{
    /// <summary>The domain tag at the start of every entry hash.</summary>
    public const string HashDomain = "crucible-audit-v1";

    private static readonly string[] ForbiddenKeyParts = ["secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "credential"];
    private static int s_sqliteInitialised;

    private readonly AuditLogOptions _options;
    private readonly SqliteConnection _connection;
    private readonly AuditSigningKey? _key;
    private readonly Lock _gate = new();
    private MerkleAccumulator _accumulator = new();
    private bool _appended;
    private bool _disposed;

    private AuditLog(AuditLogOptions options, SqliteConnection connection, AuditSigningKey? key)
    {
        _options = options;
        _connection = connection;
        _key = key;
    }

    /// <summary>The database path.</summary>
    public string DatabasePath => _options.DatabasePath;

    /// <summary>The id of the key that signs this log's checkpoints, or null when it writes none.</summary>
    public string? KeyId => _key?.KeyId;

    /// <summary>Opens (creating when needed) the audit log of <paramref name="home"/>.</summary>
    public static AuditLog Open(CrucibleHome home) => Open(AuditLogOptions.ForHome(home.EnsureExists()));

    /// <summary>Opens (creating when needed) an audit log, sets WAL and <c>synchronous=FULL</c> and checks they took effect.</summary>
    public static AuditLog Open(AuditLogOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CheckpointInterval, 1);
        var dir = Path.GetDirectoryName(Path.GetFullPath(options.DatabasePath))!;
        Directory.CreateDirectory(dir);
        var connection = Connect(options.DatabasePath, readOnly: false);
        try
        {
            Execute(connection, "PRAGMA busy_timeout=30000;");
            var mode = Convert.ToString(Scalar(connection, "PRAGMA journal_mode=WAL;"), CultureInfo.InvariantCulture);
            Execute(connection, "PRAGMA synchronous=FULL;");
            var sync = Convert.ToInt64(Scalar(connection, "PRAGMA synchronous;"), CultureInfo.InvariantCulture);
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase) || sync != 2)
                throw new InvalidOperationException($"audit log pragmas did not take effect (journal_mode={mode}, synchronous={sync})");
            Execute(connection, Schema);
            var key = options.SigningKeyPath is null ? null : AuditSigningKey.LoadOrCreate(options.SigningKeyPath);
            return new AuditLog(options, connection, key);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

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
        CREATE TABLE IF NOT EXISTS audit_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT OR IGNORE INTO audit_meta(key, value) VALUES ('format', 'crucible-audit-v1');
        CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint BEGIN SELECT RAISE(ABORT, 'append-only'); END;
        """;

    /// <summary>
    /// Appends one entry and returns its receipt once it is durably committed. The payload is stored as canonical JSON
    /// (RFC 8785); it must hold ids and hashes, never secrets or raw confidential values: member names that look like
    /// secrets (password, token, api_key, …) are refused.
    /// </summary>
    /// <exception cref="InvalidInputException">The payload is not canonicalisable or names a secret.</exception>
    public AuditReceipt Append(AuditKind kind, JsonNode? payload, string? actor = null) =>
        AppendMany([(kind, payload)], actor)[0];

    /// <summary>
    /// Appends several entries in one transaction (all or none), in order, and returns their receipts once committed.
    /// Same payload rules as <see cref="Append"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">A payload is not canonicalisable or names a secret (then nothing is appended).</exception>
    public IReadOnlyList<AuditReceipt> AppendMany(IReadOnlyList<(AuditKind Kind, JsonNode? Payload)> entries, string? actor = null)
    {
        var prepared = new List<(string Kind, byte[] Payload)>(entries.Count);
        foreach (var (kind, payload) in entries)
        {
            var bytes = CanonicalJson.Serialize(payload);
            RefuseSecrets(bytes);
            prepared.Add((kind.WireName(), bytes));
        }

        var who = actor ?? _options.DefaultActor;
        if (string.IsNullOrWhiteSpace(who)) throw new ArgumentException("actor must not be empty", nameof(actor));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var wroteCheckpoint = false;
            var receipts = new List<AuditReceipt>(prepared.Count);
            Execute(_connection, "BEGIN IMMEDIATE;");
            try
            {
                var (seq, prev) = Head();
                CatchUp(seq);
                using var insert = _connection.CreateCommand();
                insert.CommandText = "INSERT INTO audit_entry(seq, ts_utc, kind, actor, payload, prev_hash, entry_hash) VALUES ($s, $t, $k, $a, $p, $prev, $h);";
                var ps = insert.Parameters;
                foreach (var name in new[] { "$s", "$t", "$k", "$a", "$p", "$prev", "$h" }) ps.Add(new SqliteParameter { ParameterName = name });
                foreach (var (kind, bytes) in prepared)
                {
                    seq++;
                    var ts = Rfc3339(_options.Clock.GetUtcNow());
                    var hash = ComputeEntryHash(seq, ts, kind, who, bytes, prev);
                    ps["$s"].Value = seq;
                    ps["$t"].Value = ts;
                    ps["$k"].Value = kind;
                    ps["$a"].Value = who;
                    ps["$p"].Value = bytes;
                    ps["$prev"].Value = prev;
                    ps["$h"].Value = hash;
                    insert.ExecuteNonQuery();
                    _accumulator.Append(MerkleTree.LeafHash(hash));
                    if (_key is not null && seq % _options.CheckpointInterval == 0)
                    {
                        InsertCheckpoint(seq, hash);
                        wroteCheckpoint = true;
                    }

                    receipts.Add(new AuditReceipt(seq, Convert.ToHexStringLower(hash)));
                    prev = hash;
                }

                Execute(_connection, "COMMIT;");
            }
            catch
            {
                TryRollback();
                _accumulator = new MerkleAccumulator();
                throw;
            }

            _appended = true;
            if (wroteCheckpoint) ExportCheckpoints();
            return receipts;
        }
    }

    /// <summary>
    /// Signs and stores a checkpoint for the current head when it is newer than the last checkpoint, and exports it.
    /// Returns the checkpoint written, or null when the head was already checkpointed (or the log has no key).
    /// </summary>
    public AuditCheckpoint? Checkpoint()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_key is null) return null;
            AuditCheckpoint? written = null;
            Execute(_connection, "BEGIN IMMEDIATE;");
            try
            {
                var (headSeq, headHash) = Head();
                var last = Convert.ToInt64(Scalar(_connection, "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint;"), CultureInfo.InvariantCulture);
                if (headSeq > last)
                {
                    CatchUp(headSeq);
                    written = InsertCheckpoint(headSeq, headHash);
                }

                Execute(_connection, "COMMIT;");
            }
            catch
            {
                TryRollback();
                _accumulator = new MerkleAccumulator();
                throw;
            }

            ExportCheckpoints();
            return written;
        }
    }

    /// <summary>The entries with seq ≥ <paramref name="fromSeq"/>, in order, at most <paramref name="limit"/> of them.</summary>
    public IReadOnlyList<AuditEntry> List(long fromSeq = 1, int limit = int.MaxValue)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ReadEntries(_connection, fromSeq, limit).ToList();
        }
    }

    /// <summary>Reads entries from the database at <paramref name="databasePath"/> without opening it for writing.</summary>
    /// <exception cref="InvalidInputException">There is no audit database at the path.</exception>
    public static IReadOnlyList<AuditEntry> Read(string databasePath, long fromSeq = 1, int limit = int.MaxValue)
    {
        if (!File.Exists(databasePath))
            throw new InvalidInputException("AUDIT-E-NOLOG", "no audit log here", new InputLocation(databasePath, 0, 0));
        using var connection = Connect(databasePath, readOnly: true);
        return ReadEntries(connection, fromSeq, limit).ToList();
    }

    /// <summary>The number of entries (the head's seq).</summary>
    public long Count
    {
        get
        {
            lock (_gate) return Head().Seq;
        }
    }

    /// <summary>The stored checkpoints, in seq order.</summary>
    public IReadOnlyList<AuditCheckpoint> Checkpoints()
    {
        lock (_gate) return ReadCheckpoints(_connection).ToList();
    }

    /// <summary>The RFC 6962 inclusion proof of entry <paramref name="seq"/> in the tree of the first <paramref name="treeSize"/> entries.</summary>
    public IReadOnlyList<byte[]> InclusionProof(long seq, long treeSize)
    {
        lock (_gate)
        {
            var leaves = ReadEntries(_connection, 1, (int)Math.Min(int.MaxValue, treeSize)).Select(e => MerkleTree.LeafHash(e.EntryHash)).ToList();
            if (leaves.Count != treeSize) throw new ArgumentOutOfRangeException(nameof(treeSize), "the log has fewer entries");
            return MerkleTree.InclusionProof(leaves, seq - 1);
        }
    }

    /// <summary>The RFC 6962 consistency proof that the log's first <paramref name="oldSize"/> entries are a prefix of its first <paramref name="newSize"/>.</summary>
    public IReadOnlyList<byte[]> ConsistencyProof(long oldSize, long newSize)
    {
        lock (_gate)
        {
            var leaves = ReadEntries(_connection, 1, (int)Math.Min(int.MaxValue, newSize)).Select(e => MerkleTree.LeafHash(e.EntryHash)).ToList();
            if (leaves.Count != newSize) throw new ArgumentOutOfRangeException(nameof(newSize), "the log has fewer entries");
            return MerkleTree.ConsistencyProof(leaves, oldSize);
        }
    }

    /// <summary>Closes the log; a writer that appended signs a checkpoint for its last entry first.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                // Lock is re-entrant: Checkpoint takes _gate again on this thread.
                if (_appended && _key is not null) _ = Checkpoint();
            }
            finally
            {
                _disposed = true;
                _connection.Dispose();
                _key?.Dispose();
            }
        }
    }

    /// <summary>The entry hash (see the class remarks for the exact encoding).</summary>
    public static byte[] ComputeEntryHash(long seq, string timestampUtc, string kind, string actor, ReadOnlySpan<byte> payload,
        ReadOnlySpan<byte> prevHash)
    {
        if (prevHash.Length != 32) throw new ArgumentException("prev_hash has 32 bytes", nameof(prevHash));
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> eight = stackalloc byte[8];
        h.AppendData(Encoding.ASCII.GetBytes(HashDomain));
        BinaryPrimitives.WriteInt64BigEndian(eight, seq);
        h.AppendData(eight);
        Prefixed(h, Encoding.UTF8.GetBytes(timestampUtc));
        Prefixed(h, Encoding.UTF8.GetBytes(kind));
        Prefixed(h, Encoding.UTF8.GetBytes(actor));
        Prefixed(h, payload);
        h.AppendData(prevHash);
        return h.GetHashAndReset();

        static void Prefixed(IncrementalHash h, ReadOnlySpan<byte> field)
        {
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(four, field.Length);
            h.AppendData(four);
            h.AppendData(field);
        }
    }

    /// <summary>RFC 3339 UTC with 7 fractional digits, e.g. <c>2026-01-02T03:04:05.1234567Z</c>.</summary>
    public static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Verifies the log at <paramref name="databasePath"/> read-only: every seq contiguous from 1, every prev_hash link,
    /// every entry hash, every checkpoint (in the database and, when given, in the exported <paramref name="checkpointFile"/>)
    /// signed by <paramref name="publicKey"/> and matching the chain head and Merkle root at its seq, and the log not
    /// shorter than any checkpoint. Reports the first problem in seq order.
    /// </summary>
    /// <exception cref="InvalidInputException">There is neither a database nor a checkpoint file at the paths.</exception>
    public static AuditVerification Verify(string databasePath, AuditSigningKey? publicKey, string? checkpointFile)
    {
        var external = new SortedDictionary<long, AuditCheckpoint>();
        var haveDb = File.Exists(databasePath);
        if (checkpointFile is not null && File.Exists(checkpointFile))
        {
            var problem = ReadCheckpointFile(checkpointFile, external);
            if (problem is not null) return problem;
        }
        else if (!haveDb)
        {
            throw new InvalidInputException("AUDIT-E-NOLOG", "no audit log here", new InputLocation(databasePath, 0, 0));
        }

        var dbCheckpoints = new SortedDictionary<long, AuditCheckpoint>();
        List<AuditEntry> entries = [];
        if (haveDb)
        {
            using var connection = Connect(databasePath, readOnly: true);
            var tables = Convert.ToInt64(Scalar(connection,
                "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name IN ('audit_entry','audit_checkpoint');"), CultureInfo.InvariantCulture);
            if (tables != 2)
                return new AuditVerification(AuditProblem.Malformed, 1, null, 0, 0, "the database has no audit tables");
            try
            {
                entries = ReadEntries(connection, 1, int.MaxValue).ToList();
                foreach (var c in ReadCheckpoints(connection)) dbCheckpoints[c.Seq] = c;
            }
            catch (Exception e) when (e is InvalidCastException or SqliteException or InvalidDataException)
            {
                return new AuditVerification(AuditProblem.Malformed, null, null, 0, 0, $"cannot read the log: {e.Message}");
            }
        }

        var checkedCount = 0;
        if (publicKey is null && (dbCheckpoints.Count > 0 || external.Count > 0))
            return new AuditVerification(AuditProblem.MissingKey, null, null, entries.Count, 0,
                $"{dbCheckpoints.Count + external.Count} checkpoints but no public key to check them");

        var accumulator = new MerkleAccumulator();
        var prev = new byte[32];
        long expected = 1;
        long lastGoodCheckpoint = 0;
        foreach (var e in entries)
        {
            if (e.Seq != expected)
                return Fail(AuditProblem.Gap, expected, null, $"entry {expected} is missing (the next stored entry is {e.Seq})");
            if (e.PrevHash.Length != 32 || e.EntryHash.Length != 32)
                return Fail(AuditProblem.Malformed, e.Seq, null, $"entry {e.Seq} has a hash of the wrong size");
            if (!CryptographicOperations.FixedTimeEquals(e.PrevHash, prev))
                return Fail(AuditProblem.Link, e.Seq, null, $"entry {e.Seq} does not link to entry {e.Seq - 1} (rows swapped, inserted or re-linked)");
            var recomputed = ComputeEntryHash(e.Seq, e.TimestampUtc, e.Kind, e.Actor, Encoding.UTF8.GetBytes(e.Payload), e.PrevHash);
            if (!CryptographicOperations.FixedTimeEquals(recomputed, e.EntryHash))
                return Fail(AuditProblem.Hash, e.Seq, null, $"entry {e.Seq}: stored hash is not the hash of its fields (a field or the hash was edited)");
            if (AuditKinds.FromWireName(e.Kind) is null)
                return Fail(AuditProblem.Malformed, e.Seq, null, $"entry {e.Seq}: unknown kind '{e.Kind}'");
            prev = e.EntryHash;
            accumulator.Append(MerkleTree.LeafHash(e.EntryHash));
            foreach (var (source, table) in new[] { ("database", dbCheckpoints), ("exported", external) })
            {
                if (!table.TryGetValue(e.Seq, out var c)) continue;
                checkedCount++;
                if (!publicKey!.Verify(c.SignedBytes(), c.Signature) || !string.Equals(c.KeyId, publicKey.KeyId, StringComparison.Ordinal))
                    return Fail(AuditProblem.Signature, lastGoodCheckpoint + 1, c.Seq, $"{source} checkpoint {c.Seq}: signature does not verify with key {publicKey.KeyId}");
                if (!CryptographicOperations.FixedTimeEquals(c.HeadHash, e.EntryHash) || !CryptographicOperations.FixedTimeEquals(c.MerkleRoot, accumulator.Root()))
                    return Fail(AuditProblem.CheckpointMismatch, lastGoodCheckpoint + 1, c.Seq,
                        $"{source} checkpoint {c.Seq} does not match the chain: an entry in {lastGoodCheckpoint + 1}..{c.Seq} was changed and the chain recomputed");
            }

            if (dbCheckpoints.ContainsKey(e.Seq) || external.ContainsKey(e.Seq)) lastGoodCheckpoint = e.Seq;
            expected++;
        }

        var n = expected - 1;
        var beyond = dbCheckpoints.Keys.Concat(external.Keys).Where(s => s > n).DefaultIfEmpty(0).Max();
        if (beyond > 0)
        {
            var c = dbCheckpoints.TryGetValue(beyond, out var db) ? db : external[beyond];
            checkedCount++;
            if (!publicKey!.Verify(c.SignedBytes(), c.Signature))
                return Fail(AuditProblem.Signature, n + 1, beyond, $"checkpoint {beyond} (beyond the log's end) has a bad signature");
            return Fail(AuditProblem.Truncation, n + 1, beyond, $"the log ends at entry {n} but a signed checkpoint covers {beyond}: entries {n + 1}..{beyond} were cut off");
        }

        return new AuditVerification(AuditProblem.None, null, null, n, checkedCount,
            string.Create(CultureInfo.InvariantCulture, $"ok: {n} entries, {checkedCount} checkpoints verified"));

        AuditVerification Fail(AuditProblem p, long seq, long? checkpoint, string message) =>
            new(p, seq, checkpoint, entries.Count, checkedCount, message);
    }

    /// <summary>Verifies the audit log of <paramref name="home"/> with its own public key, or <paramref name="publicKeyPath"/>.</summary>
    public static AuditVerification Verify(CrucibleHome home, string? publicKeyPath = null, string? checkpointFile = null)
    {
        var keyPath = publicKeyPath ?? Path.Combine(home.KeysFolder, AuditSigningKey.PublicFileName);
        using var key = File.Exists(keyPath) || publicKeyPath is not null ? AuditSigningKey.LoadPublic(keyPath) : null;
        return Verify(home.AuditDatabase, key, checkpointFile ?? home.AuditCheckpoints);
    }

    private static AuditVerification? ReadCheckpointFile(string path, SortedDictionary<long, AuditCheckpoint> into)
    {
        var bytes = File.ReadAllBytes(path);
        var text = Encoding.UTF8.GetString(bytes);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0) continue;
            // A line without its newline at the very end is a write torn by a power loss: ignored, it was never acknowledged.
            if (i == lines.Length - 1) break;
            AuditCheckpoint c;
            try
            {
                c = ParseCheckpointLine(line);
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                return new AuditVerification(AuditProblem.Malformed, null, null, 0, 0,
                    string.Create(CultureInfo.InvariantCulture, $"{path}:{i + 1}: not a checkpoint line"));
            }

            if (into.TryGetValue(c.Seq, out var seen) && !Same(seen, c))
                return new AuditVerification(AuditProblem.Malformed, null, c.Seq, 0, 0,
                    string.Create(CultureInfo.InvariantCulture, $"{path}:{i + 1}: two different checkpoints for seq {c.Seq}"));
            into[c.Seq] = c;
        }

        return null;

        static bool Same(AuditCheckpoint a, AuditCheckpoint b) =>
            a.HeadHash.AsSpan().SequenceEqual(b.HeadHash) && a.MerkleRoot.AsSpan().SequenceEqual(b.MerkleRoot)
            && a.Signature.AsSpan().SequenceEqual(b.Signature) && a.TimestampUtc == b.TimestampUtc;
    }

    internal static AuditCheckpoint ParseCheckpointLine(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        return new AuditCheckpoint(
            r.GetProperty("seq").GetInt64(),
            Convert.FromHexString(r.GetProperty("head_hash").GetString()!),
            Convert.FromHexString(r.GetProperty("merkle_root").GetString()!),
            r.GetProperty("ts_utc").GetString()!,
            r.GetProperty("key_id").GetString()!,
            Convert.FromHexString(r.GetProperty("sig").GetString()!));
    }

    internal static string CheckpointLine(AuditCheckpoint c) =>
        Encoding.UTF8.GetString(CanonicalJson.Serialize(new JsonObject
        {
            ["seq"] = c.Seq,
            ["head_hash"] = Convert.ToHexStringLower(c.HeadHash),
            ["merkle_root"] = Convert.ToHexStringLower(c.MerkleRoot),
            ["ts_utc"] = c.TimestampUtc,
            ["key_id"] = c.KeyId,
            ["sig"] = Convert.ToHexStringLower(c.Signature),
        }));

    private static void RefuseSecrets(byte[] canonicalPayload)
    {
        using var doc = JsonDocument.Parse(canonicalPayload);
        Walk(doc.RootElement);

        static void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in e.EnumerateObject())
                {
                    var name = p.Name.ToLowerInvariant().Replace('-', '_');
                    foreach (var part in ForbiddenKeyParts)
                    {
                        if (name.Contains(part, StringComparison.Ordinal))
                            throw new InvalidInputException("AUDIT-E-SECRET",
                                $"audit payloads hold ids and hashes only; member '{p.Name}' looks like a secret");
                    }

                    Walk(p.Value);
                }
            }
            else if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in e.EnumerateArray()) Walk(item);
            }
        }
    }

    private AuditCheckpoint InsertCheckpoint(long seq, byte[] headHash)
    {
        var root = _accumulator.Root();
        var ts = Rfc3339(_options.Clock.GetUtcNow());
        var sig = _key!.Sign(AuditCheckpoint.SignedBytes(seq, headHash, root, ts, _key.KeyId));
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "INSERT INTO audit_checkpoint(seq, head_hash, merkle_root, ts_utc, key_id, sig) VALUES ($s, $h, $r, $t, $k, $sig);";
        cmd.Parameters.AddWithValue("$s", seq);
        cmd.Parameters.AddWithValue("$h", headHash);
        cmd.Parameters.AddWithValue("$r", root);
        cmd.Parameters.AddWithValue("$t", ts);
        cmd.Parameters.AddWithValue("$k", _key.KeyId);
        cmd.Parameters.AddWithValue("$sig", sig);
        cmd.ExecuteNonQuery();
        return new AuditCheckpoint(seq, headHash, root, ts, _key.KeyId, sig);
    }

    /// <summary>
    /// Appends the checkpoints not yet exported to the checkpoint file, under the database write lock so that writers in
    /// other processes do not interleave. Each batch is one write() followed by fsync; the exported seq is recorded after.
    /// A crash in between only repeats identical lines, which the verifier accepts.
    /// </summary>
    private void ExportCheckpoints()
    {
        if (_options.CheckpointFile is null) return;
        Execute(_connection, "BEGIN IMMEDIATE;");
        try
        {
            var exported = Convert.ToInt64(Scalar(_connection, "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM audit_meta WHERE key='exported_checkpoint'), 0);"),
                CultureInfo.InvariantCulture);
            var pending = ReadCheckpoints(_connection).Where(c => c.Seq > exported).ToList();
            if (pending.Count > 0)
            {
                var sb = new StringBuilder();
                foreach (var c in pending) sb.Append(CheckpointLine(c)).Append('\n');
                AppendDurably(_options.CheckpointFile, Encoding.UTF8.GetBytes(sb.ToString()));
                using var cmd = _connection.CreateCommand();
                cmd.CommandText = "INSERT INTO audit_meta(key, value) VALUES ('exported_checkpoint', $v) ON CONFLICT(key) DO UPDATE SET value = $v;";
                cmd.Parameters.AddWithValue("$v", pending[^1].Seq.ToString(CultureInfo.InvariantCulture));
                cmd.ExecuteNonQuery();
            }

            Execute(_connection, "COMMIT;");
        }
        catch
        {
            TryRollback();
            throw;
        }
    }

    private static void AppendDurably(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0);
        // A line torn by a crash (no trailing newline) was never acknowledged: its checkpoints were not marked exported,
        // so this batch writes them again. Cut it off rather than close it, or it would stay behind as a malformed line.
        stream.SetLength(CompleteLinesLength(stream));
        stream.Seek(0, SeekOrigin.End);
        stream.Write(bytes); // unbuffered: one write() call
        stream.Flush(flushToDisk: true);
    }

    // the length of the file up to and including its last newline (0 when it has none)
    private static long CompleteLinesLength(FileStream stream)
    {
        var buffer = new byte[4096];
        var end = stream.Length;
        while (end > 0)
        {
            var start = Math.Max(0, end - buffer.Length);
            var count = (int)(end - start);
            stream.Seek(start, SeekOrigin.Begin);
            stream.ReadExactly(buffer, 0, count);
            var newline = Array.LastIndexOf(buffer, (byte)'\n', count - 1, count);
            if (newline >= 0) return start + newline + 1;
            end = start;
        }

        return 0;
    }

    private (long Seq, byte[] Hash) Head()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT seq, entry_hash FROM audit_entry ORDER BY seq DESC LIMIT 1;";
        using var r = cmd.ExecuteReader();
        return r.Read() ? (r.GetInt64(0), r.GetFieldValue<byte[]>(1)) : (0, new byte[32]);
    }

    /// <summary>Brings the in-memory Merkle accumulator up to <paramref name="headSeq"/> (other processes may have appended).</summary>
    private void CatchUp(long headSeq)
    {
        if (_accumulator.Size > headSeq) _accumulator = new MerkleAccumulator();
        if (_accumulator.Size == headSeq) return;
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "SELECT entry_hash FROM audit_entry WHERE seq > $from AND seq <= $to ORDER BY seq;";
        cmd.Parameters.AddWithValue("$from", _accumulator.Size);
        cmd.Parameters.AddWithValue("$to", headSeq);
        using var r = cmd.ExecuteReader();
        while (r.Read()) _accumulator.Append(MerkleTree.LeafHash(r.GetFieldValue<byte[]>(0)));
        if (_accumulator.Size != headSeq)
            throw new InvalidDataException($"the audit log has gaps below seq {headSeq}; run 'crucible audit verify'");
    }

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

    private static IEnumerable<AuditEntry> ReadEntries(SqliteConnection connection, long fromSeq, int limit)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT seq, ts_utc, kind, actor, payload, prev_hash, entry_hash FROM audit_entry WHERE seq >= $from ORDER BY seq LIMIT $limit;";
        cmd.Parameters.AddWithValue("$from", fromSeq);
        cmd.Parameters.AddWithValue("$limit", limit);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            yield return new AuditEntry(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3),
                Encoding.UTF8.GetString(r.GetFieldValue<byte[]>(4)), r.GetFieldValue<byte[]>(5), r.GetFieldValue<byte[]>(6));
        }
    }

    private static IEnumerable<AuditCheckpoint> ReadCheckpoints(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT seq, head_hash, merkle_root, ts_utc, key_id, sig FROM audit_checkpoint ORDER BY seq;";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            yield return new AuditCheckpoint(r.GetInt64(0), r.GetFieldValue<byte[]>(1), r.GetFieldValue<byte[]>(2), r.GetString(3),
                r.GetString(4), r.GetFieldValue<byte[]>(5));
        }
    }

    private static SqliteConnection Connect(string path, bool readOnly)
    {
        if (Interlocked.Exchange(ref s_sqliteInitialised, 1) == 0) SQLitePCL.Batteries_V2.Init();
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        return connection;
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
