using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Registry;

/// <summary>
/// The proof, kept in a model folder that a PostgreSQL registry wrote into the home
/// (<c>models/ID/.postgres-registration.json</c>), that a shared database's log recorded the folder's registration: the
/// <c>model.registered</c> entry itself (its hash is recomputed), a signed checkpoint of that log that the home exported to
/// its <c>audit-checkpoints.postgres-….jsonl</c> file, and the RFC 6962 inclusion proof of the entry under that
/// checkpoint's Merkle root. The lost-log check of the home's SQLite log (<see cref="AuditLog.ThrowIfLost(CrucibleHome)"/>)
/// does not count a folder whose proof holds as evidence that the SQLite log existed: that folder is the database's.
/// A file that merely names a store proves nothing: a proof is forged only with the home's signing key, and the forged
/// checkpoint then disagrees with the database (<c>audit verify --store postgres:…</c> fails on it).
/// </summary>
internal static class PostgresRegistrationProof
{
    /// <summary>The proof's file name inside a model folder.</summary>
    public const string FileName = ".postgres-registration.json";

    // a proof is a few kilobytes (an entry, a checkpoint line, at most 64 hashes); anything larger is no proof
    private const long MaxBytes = 1 << 20;

    /// <summary>The proof's JSON for <paramref name="entry"/> (a <c>model.registered</c>) under <paramref name="checkpointLine"/>.</summary>
    public static byte[] Build(AuditEntry entry, string checkpointLine, IReadOnlyList<byte[]> proof) =>
        CanonicalJson.Serialize(new JsonObject
        {
            ["entry"] = new JsonObject
            {
                ["seq"] = entry.Seq,
                ["ts_utc"] = entry.TimestampUtc,
                ["kind"] = entry.Kind,
                ["actor"] = entry.Actor,
                ["payload"] = entry.Payload,
                ["prev_hash"] = Convert.ToHexStringLower(entry.PrevHash),
            },
            ["checkpoint"] = checkpointLine,
            ["inclusion_proof"] = new JsonArray([.. proof.Select(p => (JsonNode)Convert.ToHexStringLower(p))]),
        });

    /// <summary>
    /// Whether <paramref name="folder"/> (a model folder of <paramref name="home"/>) holds a proof that holds: the entry
    /// recomputes to its hash, is a <c>model.registered</c> of the folder's id with the folder's <c>manifest.json</c> hash,
    /// is included under the checkpoint's root, the checkpoint line is a complete line of one of the home's PostgreSQL
    /// exports, and its signature verifies with the home's public key or a retired one of the same key id. Never throws
    /// for a missing or malformed proof: it is simply not one.
    /// </summary>
    public static bool Holds(CrucibleHome home, string folder)
    {
        var path = Path.Combine(folder, FileName);
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > MaxBytes) return false;
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var e = doc.RootElement.GetProperty("entry");
            long seq = e.GetProperty("seq").GetInt64();
            string kind = e.GetProperty("kind").GetString()!, payload = e.GetProperty("payload").GetString()!;
            if (seq < 1 || !string.Equals(kind, AuditKind.ModelRegistered.WireName(), StringComparison.Ordinal)) return false;
            using (var registered = JsonDocument.Parse(payload))
            {
                var manifest = Path.Combine(folder, ModelRegistry.ManifestFileName);
                if (!string.Equals(registered.RootElement.GetProperty("model_id").GetString(), Path.GetFileName(folder), StringComparison.Ordinal)
                    || !File.Exists(manifest)
                    || !string.Equals(registered.RootElement.GetProperty("manifest_sha256").GetString(), FileHash.Sha256(manifest), StringComparison.Ordinal))
                    return false;
            }

            var entryHash = AuditLog.ComputeEntryHash(seq, e.GetProperty("ts_utc").GetString()!, kind, e.GetProperty("actor").GetString()!,
                Encoding.UTF8.GetBytes(payload), Convert.FromHexString(e.GetProperty("prev_hash").GetString()!));
            var line = doc.RootElement.GetProperty("checkpoint").GetString()!;
            if (!home.PostgresAuditCheckpointFiles().Any(f => CompleteLines(f).Contains(line))) return false;
            var checkpoint = AuditLog.ParseCheckpointLine(line);
            var proof = doc.RootElement.GetProperty("inclusion_proof").EnumerateArray().Select(p => Convert.FromHexString(p.GetString()!)).ToList();
            if (checkpoint.Seq < seq
                || !MerkleTree.VerifyInclusion(seq - 1, checkpoint.Seq, MerkleTree.LeafHash(entryHash), proof, checkpoint.MerkleRoot)) return false;
            return SignedByHomeKey(home, checkpoint);
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException or JsonException or FormatException
            or KeyNotFoundException or InvalidOperationException or ArgumentException or InvalidInputException)
        {
            return false;
        }
    }

    // the home's public key when it has the checkpoint's key id, else the retired public key of that id
    private static bool SignedByHomeKey(CrucibleHome home, AuditCheckpoint checkpoint)
    {
        if (checkpoint.KeyId.Length == 0 || !checkpoint.KeyId.All(char.IsAsciiHexDigitLower)) return false; // a key id names a file
        var privatePath = Path.Combine(home.KeysFolder, AuditSigningKey.PrivateFileName);
        foreach (var candidate in new[] { Path.Combine(home.KeysFolder, AuditSigningKey.PublicFileName), AuditSigningKey.RetiredPublicPathFor(privatePath, checkpoint.KeyId) })
        {
            if (!File.Exists(candidate)) continue;
            using var key = AuditSigningKey.LoadPublic(candidate);
            if (string.Equals(key.KeyId, checkpoint.KeyId, StringComparison.Ordinal)) return key.Verify(checkpoint.SignedBytes(), checkpoint.Signature);
        }

        return false;
    }

    // the complete (newline-terminated) lines of an export: a torn last line was never acknowledged
    private static HashSet<string> CompleteLines(string file)
    {
        var lines = Encoding.UTF8.GetString(Data.IO.InputFile.ReadAllBytes(file, Data.IO.InputFile.MaxStateBytes)).Split('\n');
        return lines[..^1].Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal);
    }
}
