using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;

namespace Crucible.Governance.Audit;

/// <summary>What a key change wrote: <see cref="AuditLog.RotateKey"/> or <see cref="AuditLog.StartKeyEpochAfterLoss"/>.</summary>
/// <param name="Kind"><see cref="AuditKind.KeyRotated"/> or <see cref="AuditKind.KeyLost"/>.</param>
/// <param name="Seq">The seq of the key change entry (a checkpoint is written at it).</param>
/// <param name="OldKeyId">The retired (or lost) key's id.</param>
/// <param name="NewKeyId">The new key's id, which signs every later checkpoint.</param>
/// <param name="RetiredPublicKeyPath">Where the retired key's public half is kept (<c>keys/retired/KEYID.pub.pem</c>).</param>
public sealed record AuditKeyRotation(AuditKind Kind, long Seq, string OldKeyId, string NewKeyId, string RetiredPublicKeyPath);

/// <summary>A key change that <c>audit verify</c> found in the chain.</summary>
/// <param name="Seq">The seq of the <c>audit.key_rotated</c> or <c>audit.key_lost</c> entry.</param>
/// <param name="OldKeyId">The key that signed the checkpoints up to it.</param>
/// <param name="NewKeyId">The key that signs the checkpoints after it.</param>
/// <param name="SignedByOldKey">
/// True for a rotation (a checkpoint at the entry, signed by the old key, vouches for the new one); false for a lost-key
/// epoch: a key break, which verification reports but does not fail.
/// </param>
public sealed record AuditKeyChange(long Seq, string OldKeyId, string NewKeyId, bool SignedByOldKey);

/// <content>Planned rotation of the checkpoint signing key, a new key epoch after a lost key, and the key history that verification walks.</content>
public sealed partial class AuditLog
{
    /// <summary>The domain tag of the statement the new key signs in a key change entry.</summary>
    public const string HandoverDomain = "crucible-audit-key-handover-v1";

    /// <summary>
    /// Rotates the checkpoint signing key on purpose (<c>crucible audit rotate-key</c>). In order: a new key pair is written
    /// to <see cref="AuditSigningKey.PendingFileName"/>; the old key's public half to <c>keys/retired/OLDID.pub.pem</c>; then,
    /// in one transaction, an <c>audit.key_rotated</c> entry (payload: old and new key ids and DER public keys in base64,
    /// the new key's signature over the handover statement, <paramref name="reason"/>), a checkpoint at that entry signed
    /// by the OLD key, and <c>audit_meta.signing_key_id</c> set to the new key; the checkpoint is exported; last, the new
    /// public key is written to <see cref="AuditSigningKey.PublicFileName"/> and the pending key renamed over
    /// <see cref="AuditSigningKey.PrivateFileName"/>. The committed transaction is the commitment: a crash before it leaves
    /// the home on the old key (the pending file is ignored and replaced by the next rotation), a crash after it is
    /// finished by the next writer that opens the log (the pending key is the one the log names). The retired private key
    /// is overwritten, not kept: a retired key that still exists could sign checkpoints that rewrite history. This log
    /// signs with the new key from then on; other processes that opened the log with the old key are refused on their next append.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>AUDIT-E-KEY</c>: another process rotated the key since this log was opened.</exception>
    /// <exception cref="InvalidOperationException">The log has no signing key (it writes no checkpoints), or was opened read-only.</exception>
    public AuditKeyRotation RotateKey(string? reason = null, string? actor = null)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ThrowIfReadOnly();
            if (_key is null || _options.SigningKeyPath is not { } keyPath)
                throw new InvalidOperationException("this audit log writes no checkpoints: it has no signing key to rotate");
            var old = _key;
            var next = AuditSigningKey.CreatePending(keyPath, _options.FaultInjection);
            AuditKeyRotation done;
            try
            {
                Fault("pending-written");
                var retired = old.WriteRetiredPublic(keyPath);
                Fault("retired-written");
                var seq = WriteHandover(AuditKind.KeyRotated, old.KeyId, old.PublicKeyInfo, old, next, reason, actor);
                done = new AuditKeyRotation(AuditKind.KeyRotated, seq, old.KeyId, next.KeyId, retired);
            }
            catch
            {
                next.Dispose();
                throw;
            }

            _key = next;
            old.Dispose();
            Fault("committed");
            ExportCheckpoints();
            Fault("exported");
            if (!AuditSigningKey.FinishPending(keyPath, next.KeyId, Fault))
                throw new InvalidOperationException($"the rotation to key {next.KeyId} was committed but its pending key file is gone");
            return done;
        }
    }

    /// <summary>
    /// Starts a new key epoch when the private key that signed the log's checkpoints is lost for good
    /// (<c>crucible audit rotate-key --lost-key</c>): appends an <c>audit.key_lost</c> entry with the same payload as a
    /// rotation (the old key's public half taken from <paramref name="oldPublicKeyPath"/>, else the home's
    /// <see cref="AuditSigningKey.PublicFileName"/> or <c>keys/retired/</c>, and it must be the key the log names), a
    /// checkpoint at it signed by the NEW key, and <c>audit_meta.signing_key_id</c> set to the new key, in one transaction;
    /// the files follow as for <see cref="RotateKey"/>. The old key did not sign the change: <c>audit verify</c> reports it
    /// as a key break at that entry (and verifies the checkpoints before it with the old public key).
    /// </summary>
    /// <exception cref="InvalidInputException"><c>AUDIT-E-KEY</c>: the key is not lost (the key file holds the log's key, or
    /// another key that must be moved aside first), the log has no signed checkpoint, or the old public key is not available;
    /// <c>AUDIT-E-LOST</c>, <c>AUDIT-E-NOLOG</c> as for <see cref="Open(AuditLogOptions)"/>.</exception>
    public static AuditKeyRotation StartKeyEpochAfterLoss(AuditLogOptions options, string? oldPublicKeyPath = null, string? reason = null, string? actor = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keyPath = options.SigningKeyPath ?? throw new ArgumentException("a lost-key epoch needs the SigningKeyPath of the new key", nameof(options));
        string? expected;
        if (options.PostgresConnectionString is { } pg)
        {
            ThrowIfLostPostgres(pg, options.CheckpointFile);
            using var reader = PostgresAuditStore.OpenReader(pg);
            try
            {
                expected = reader.HasTables() ? CurrentKeyId(reader) : null;
            }
            catch (Npgsql.NpgsqlException e)
            {
                // Npgsql's messages name the host and the server's complaint, never the password
                throw new InvalidInputException("STORE-E-CONNECT", "cannot read the PostgreSQL store: " + e.Message);
            }
        }
        else
        {
            var db = options.DatabasePath ?? throw new ArgumentException("an audit log needs a DatabasePath or a PostgresConnectionString", nameof(options));
            if (IsAbsentOrEmpty(db)) throw new InvalidInputException(NoLogRule, "no audit log here", new InputLocation(db, 0, 0));
            ThrowIfLost(db, options.CheckpointFile, options.Home);
            expected = CurrentKeyId(db);
        }

        if (expected is null)
            throw new InvalidInputException(KeyRule, "the audit log has no signed checkpoint, so there is no key to replace: the next append makes one",
                new InputLocation(keyPath, 0, 0));
        if (AuditSigningKey.FinishPending(keyPath, expected))
            throw new InvalidInputException(KeyRule, $"the key is not lost: a committed rotation to key {expected} was finished now; nothing was appended",
                new InputLocation(keyPath, 0, 0));
        if (File.Exists(keyPath))
        {
            using var present = AuditSigningKey.LoadPrivate(keyPath);
            throw new InvalidInputException(KeyRule, string.Equals(present.KeyId, expected, StringComparison.Ordinal)
                ? $"the key is not lost: {keyPath} holds the log's key {expected}; rotate it with 'crucible audit rotate-key' (without --lost-key)"
                : $"{keyPath} holds key {present.KeyId}, not the log's key {expected}: move it aside first (nothing is overwritten); nothing was appended",
                new InputLocation(keyPath, 0, 0));
        }

        using var oldPublic = LoadOldPublic(keyPath, oldPublicKeyPath, expected);
        var next = AuditSigningKey.CreatePending(keyPath, options.FaultInjection);
        AuditLog? log = null;
        try
        {
            var retired = oldPublic.WriteRetiredPublic(keyPath);
            IAuditStore store = options.PostgresConnectionString is { } connection ? PostgresAuditStore.Open(connection) : SqliteAuditStore.OpenWriter(options.DatabasePath!);
            log = new AuditLog(options, store, next);
            var seq = log.WriteHandover(AuditKind.KeyLost, expected, oldPublic.PublicKeyInfo, null, next, reason, actor);
            log.Fault("committed");
            log.ExportCheckpoints();
            log.Fault("exported");
            if (!AuditSigningKey.FinishPending(keyPath, next.KeyId, log.Fault))
                throw new InvalidOperationException($"the new key epoch ({next.KeyId}) was committed but its pending key file is gone");
            return new AuditKeyRotation(AuditKind.KeyLost, seq, expected, next.KeyId, retired);
        }
        finally
        {
            if (log is not null) log.Dispose(); // disposes the store and the new key (nothing appended since: no closing checkpoint)
            else next.Dispose();
        }
    }

    /// <summary>
    /// The key the log now names when it is not this writer's (another process rotated the key after this one opened the
    /// log: every append is refused), else null. The service's readiness reports it.
    /// </summary>
    public string? KeyRotatedTo()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_key is null) return null;
            var current = _store.ReadMeta(SigningKeyMeta);
            return current is not null && !string.Equals(current, _key.KeyId, StringComparison.Ordinal) ? current : null;
        }
    }

    // the old key's public half for a lost-key epoch: the named file, else the home's public key file or its retired copy,
    // and it must be the key the log names
    private static AuditSigningKey LoadOldPublic(string keyPath, string? named, string expected)
    {
        var candidates = named is not null ? [named] : new[] { AuditSigningKey.PublicPathFor(keyPath), AuditSigningKey.RetiredPublicPathFor(keyPath, expected) };
        foreach (var path in candidates)
        {
            if (named is null && !File.Exists(path)) continue;
            var key = AuditSigningKey.LoadPublic(path);
            if (string.Equals(key.KeyId, expected, StringComparison.Ordinal)) return key;
            var id = key.KeyId;
            key.Dispose();
            if (named is not null)
                throw new InvalidInputException(KeyRule, $"{path} holds key {id}, not the log's key {expected}", new InputLocation(path, 0, 0));
        }

        throw new InvalidInputException(KeyRule,
            $"the public key of the lost key {expected} is not in the keys folder: give a copy with --old-public-key (the one your verifiers hold), "
            + "so that the checkpoints it signed can still be verified", new InputLocation(AuditSigningKey.PublicPathFor(keyPath), 0, 0));
    }

    // the key change entry, its checkpoint (signed by the old key for a rotation, by the new one after a loss) and the meta
    // row, in one transaction; returns the entry's seq
    private long WriteHandover(AuditKind kind, string oldKeyId, byte[] oldPublicKeyInfo, AuditSigningKey? oldSigner, AuditSigningKey next,
        string? reason, string? actor)
    {
        var who = actor ?? _options.DefaultActor;
        if (string.IsNullOrWhiteSpace(who)) throw new ArgumentException("actor must not be empty", nameof(actor));
        try
        {
            return _store.Write(tx =>
            {
                var current = tx.GetMeta(SigningKeyMeta) ?? tx.CheckpointsAfter(Math.Max(0, tx.LastCheckpointSeq() - 1)).LastOrDefault()?.KeyId;
                if (current is not null && !string.Equals(current, oldKeyId, StringComparison.Ordinal))
                    throw new InvalidInputException(KeyRule, $"the audit log's signing key is {current}, not {oldKeyId} (another process changed it): nothing was appended");
                var (head, prev) = tx.Head();
                CatchUp(tx, head);
                var seq = head + 1;
                var statement = HandoverStatement(kind.WireName(), seq, prev, oldPublicKeyInfo, next.PublicKeyInfo);
                var payload = new JsonObject
                {
                    ["old_key_id"] = oldKeyId,
                    ["old_public_key"] = Convert.ToBase64String(oldPublicKeyInfo),
                    ["new_key_id"] = next.KeyId,
                    ["new_public_key"] = Convert.ToBase64String(next.PublicKeyInfo),
                    ["new_key_signature"] = Convert.ToHexStringLower(next.Sign(statement)),
                };
                if (reason is not null) payload["reason"] = reason;
                var bytes = Prepare([(kind, payload)])[0].Payload;
                var ts = Rfc3339(_options.Clock.GetUtcNow());
                var hash = ComputeEntryHash(seq, ts, kind.WireName(), who, bytes, prev);
                tx.InsertEntry(seq, ts, kind.WireName(), who, bytes, prev, hash);
                _accumulator.Append(MerkleTree.LeafHash(hash));
                InsertCheckpoint(tx, seq, hash, oldSigner ?? next);
                tx.SetMeta(SigningKeyMeta, next.KeyId);
                Fault("before-commit");
                return seq;
            });
        }
        catch
        {
            _accumulator = new MerkleAccumulator();
            throw;
        }
    }

    /// <summary>
    /// The steps of <see cref="RotateKey"/>, in order, at which <see cref="AuditLogOptions.FaultInjection"/> is called: the
    /// pending key in its temporary file, the pending key written, the retired public key written, inside the transaction
    /// before its commit, after the commit, after the export, and the new public key written before the pending key is
    /// renamed over the private one. The kill tests (test/Crucible.CrashHost) kill the process at each.
    /// </summary>
    internal static readonly IReadOnlyList<string> RotationSteps =
        [AuditSigningKey.PendingTemporaryStep, "pending-written", "retired-written", "before-commit", "committed", "exported", AuditSigningKey.PublicWrittenStep];

    // the test hook of AuditLogOptions.FaultInjection: throws at a named step to stand for a crash there (or, in the crash
    // host of the tests, kills the process with SIGKILL there)
    private void Fault(string step) => _options.FaultInjection?.Invoke(step);

    /// <summary>
    /// The bytes the new key signs in a key change entry: the domain tag, the kind, the entry's seq and prev_hash (so the
    /// signature cannot be replayed elsewhere in the chain) and the SHA-256 of both public keys, one per line.
    /// </summary>
    internal static byte[] HandoverStatement(string kind, long seq, byte[] prevHash, byte[] oldPublicKeyInfo, byte[] newPublicKeyInfo) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{HandoverDomain}\n{kind}\n{seq}\n{Convert.ToHexStringLower(prevHash)}\n{Convert.ToHexStringLower(SHA256.HashData(oldPublicKeyInfo))}\n{Convert.ToHexStringLower(SHA256.HashData(newPublicKeyInfo))}\n"));

    /// <summary>
    /// The signing keys of a log that changed keys, read from its <c>audit.key_rotated</c> and <c>audit.key_lost</c>
    /// entries: key 0 is the first change's old key, key e + 1 the e-th change's new key. A checkpoint at seq s is checked
    /// with the key of its epoch: a rotation's own entry belongs to the old key's epoch (the old key signs the checkpoint
    /// at it), a lost-key entry to the new one's. Problems in a change entry are kept and reported when verification reaches its seq.
    /// </summary>
    internal sealed class KeyHistory : IDisposable
    {
        private readonly List<(long Seq, bool Lost, string? Problem)> _changes = [];
        private readonly List<AuditSigningKey?> _keys = []; // null: a key a broken change entry did not give

        private KeyHistory()
        {
        }

        /// <summary>The key changes in seq order (for the report).</summary>
        public List<AuditKeyChange> Changes { get; } = [];

        /// <summary>The key ids in order.</summary>
        public IEnumerable<string> KeyIds => _keys.Select(k => k?.KeyId ?? "?");

        /// <summary>The history of <paramref name="entries"/>, or null when they hold no key change.</summary>
        public static KeyHistory? Build(List<AuditEntry> entries)
        {
            var rotated = AuditKind.KeyRotated.WireName();
            var lost = AuditKind.KeyLost.WireName();
            KeyHistory? history = null;
            foreach (var e in entries)
            {
                var isLost = string.Equals(e.Kind, lost, StringComparison.Ordinal);
                if (!isLost && !string.Equals(e.Kind, rotated, StringComparison.Ordinal)) continue;
                history ??= new KeyHistory();
                history.Add(e, isLost);
            }

            return history;
        }

        private void Add(AuditEntry e, bool lost)
        {
            string? problem = null;
            string oldId = "?", newId = "?";
            try
            {
                using var doc = JsonDocument.Parse(e.Payload);
                var r = doc.RootElement;
                oldId = Text(r, "old_key_id");
                newId = Text(r, "new_key_id");
                var oldInfo = Convert.FromBase64String(Text(r, "old_public_key"));
                var newInfo = Convert.FromBase64String(Text(r, "new_public_key"));
                var signature = Convert.FromHexString(Text(r, "new_key_signature"));
                if (AuditSigningKey.KeyIdOf(oldInfo) != oldId || AuditSigningKey.KeyIdOf(newInfo) != newId)
                {
                    problem = "its key ids are not those of its public keys";
                }
                else if (_keys.Count > 0 && _keys[^1]?.KeyId != oldId)
                {
                    problem = $"it names the old key {oldId}, but the key in use was {_keys[^1]?.KeyId ?? "?"}";
                }

                if (_keys.Count == 0) _keys.Add(AuditSigningKey.FromPublicKeyInfo(oldInfo));
                var next = AuditSigningKey.FromPublicKeyInfo(newInfo);
                _keys.Add(next);
                if (problem is null && !next.Verify(HandoverStatement(e.Kind, e.Seq, e.PrevHash, oldInfo, newInfo), signature))
                    problem = $"the new key {newId} did not sign the handover";
            }
            catch (Exception x) when (x is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or CryptographicException)
            {
                problem = "its payload is not a key change (old_key_id, old_public_key, new_key_id, new_public_key, new_key_signature)";
            }

            // a broken change still opens an epoch, so later epochs keep their numbers; verification stops at it anyway
            while (_keys.Count < _changes.Count + 2) _keys.Add(null);
            _changes.Add((e.Seq, lost, problem));
            Changes.Add(new AuditKeyChange(e.Seq, oldId, newId, !lost));
        }

        // a JSON null is no string (GetString() answers null for it): a payload that is no key change, not a crash
        private static string Text(JsonElement r, string name) =>
            r.GetProperty(name).GetString() ?? throw new FormatException($"'{name}' is null");

        /// <summary>The key that must have signed a checkpoint at <paramref name="seq"/> (null: a broken change entry gave none).</summary>
        public AuditSigningKey? KeyAt(long seq)
        {
            var epoch = 0;
            foreach (var (s, lost, _) in _changes)
            {
                if (lost ? s <= seq : s < seq) epoch++;
            }

            return _keys[Math.Min(epoch, _keys.Count - 1)];
        }

        /// <summary>Whether <paramref name="trusted"/> is one of the log's keys (the verifier's anchor).</summary>
        public bool Holds(AuditSigningKey trusted) => _keys.Any(k => k is not null && k.PublicKeyInfo.AsSpan().SequenceEqual(trusted.PublicKeyInfo));

        /// <summary>The change at <paramref name="seq"/>, if one is there.</summary>
        public (bool Lost, string? Problem, AuditKeyChange Change)? At(long seq)
        {
            for (var i = 0; i < _changes.Count; i++)
            {
                if (_changes[i].Seq == seq) return (_changes[i].Lost, _changes[i].Problem, Changes[i]);
            }

            return null;
        }

        public void Dispose()
        {
            foreach (var k in _keys.Distinct()) k?.Dispose();
        }
    }
}
