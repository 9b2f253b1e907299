namespace Crucible.Governance.Audit;

/// <summary>One stored audit entry, as read back from the log.</summary>
/// <param name="Seq">1-based, contiguous sequence number.</param>
/// <param name="TimestampUtc">RFC 3339 UTC time of the append.</param>
/// <param name="Kind">The wire name of the entry's <see cref="AuditKind"/>.</param>
/// <param name="Actor">Who appended it (a user or key id, never a secret).</param>
/// <param name="Payload">The canonical JSON payload (RFC 8785).</param>
/// <param name="PrevHash">The previous entry's hash (32 zero bytes for the first).</param>
/// <param name="EntryHash">This entry's hash (<see cref="AuditLog.ComputeEntryHash"/>).</param>
public sealed record AuditEntry(long Seq, string TimestampUtc, string Kind, string Actor, string Payload, byte[] PrevHash, byte[] EntryHash)
{
    /// <summary>The entry hash in lower-case hex.</summary>
    public string EntryHashHex => Convert.ToHexStringLower(EntryHash);
}

/// <summary>What an append returns once the entry is durably committed (the acknowledgement).</summary>
/// <param name="Seq">The entry's sequence number.</param>
/// <param name="EntryHash">The entry's hash in lower-case hex.</param>
public sealed record AuditReceipt(long Seq, string EntryHash);

/// <summary>A signed checkpoint: the chain head and the RFC 6962 root over all entry hashes up to <paramref name="Seq"/>.</summary>
/// <param name="Seq">The last entry covered.</param>
/// <param name="HeadHash">That entry's hash.</param>
/// <param name="MerkleRoot">The RFC 6962 root over the entry hashes 1..Seq (each entry hash is one leaf's data).</param>
/// <param name="TimestampUtc">RFC 3339 UTC time of signing.</param>
/// <param name="KeyId">The first 16 hex digits of SHA-256 of the signing key's public key (SubjectPublicKeyInfo).</param>
/// <param name="Signature">ECDSA P-256 / SHA-256 signature (IEEE P1363) over <see cref="AuditCheckpoint.SignedBytes()"/>.</param>
public sealed record AuditCheckpoint(long Seq, byte[] HeadHash, byte[] MerkleRoot, string TimestampUtc, string KeyId, byte[] Signature)
{
    /// <summary>The exact bytes that are signed: a domain tag and the fields, one per line.</summary>
    public byte[] SignedBytes() => SignedBytes(Seq, HeadHash, MerkleRoot, TimestampUtc, KeyId);

    internal static byte[] SignedBytes(long seq, byte[] head, byte[] root, string ts, string keyId) =>
        System.Text.Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"crucible-audit-checkpoint-v1\n{seq}\n{Convert.ToHexStringLower(head)}\n{Convert.ToHexStringLower(root)}\n{ts}\n{keyId}\n"));
}
