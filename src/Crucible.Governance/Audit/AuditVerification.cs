namespace Crucible.Governance.Audit;

/// <summary>Why an audit log failed verification.</summary>
public enum AuditProblem
{
    /// <summary>No problem: the log verified.</summary>
    None,

    /// <summary>A sequence number is missing (a row was deleted) or out of order.</summary>
    Gap,

    /// <summary>An entry's <c>prev_hash</c> is not the previous entry's hash (rows swapped, inserted or re-linked).</summary>
    Link,

    /// <summary>An entry's stored hash is not the hash of its fields (a field or the hash itself was edited).</summary>
    Hash,

    /// <summary>A checkpoint's signature does not verify with the trusted public key.</summary>
    Signature,

    /// <summary>A validly signed checkpoint does not match the chain: entries before it were changed and the chain recomputed.</summary>
    CheckpointMismatch,

    /// <summary>The log is shorter than a checkpoint says it was (the tail was cut off).</summary>
    Truncation,

    /// <summary>A row or checkpoint line cannot be read (bad sizes, unknown kind, invalid JSON).</summary>
    Malformed,

    /// <summary>Checkpoints exist but no public key was available to check them.</summary>
    MissingKey,

    /// <summary>
    /// A key change entry (<c>audit.key_rotated</c>, <c>audit.key_lost</c>) that does not hold: a rotation that no checkpoint
    /// of the retiring key covers (forged without the old key), a new key that did not sign the handover, ids that are not
    /// those of the recorded public keys, or an old key that is not the key in use.
    /// </summary>
    KeyRotation,
}

/// <summary>The outcome of <see cref="AuditLog.Verify(string, AuditSigningKey?, string?)"/>.</summary>
/// <param name="Problem">What failed first, or <see cref="AuditProblem.None"/>.</param>
/// <param name="FirstBadSeq">
/// The first entry that cannot be trusted (null when the log verified). For <see cref="AuditProblem.CheckpointMismatch"/>
/// the altered entry lies in [<paramref name="FirstBadSeq"/>, <paramref name="CheckpointSeq"/>]: a recomputed chain is
/// consistent with itself, so only the checkpoint interval that contains the change can be named.
/// </param>
/// <param name="CheckpointSeq">The checkpoint involved in the failure, when one is.</param>
/// <param name="Entries">The number of entries read.</param>
/// <param name="CheckpointsChecked">The number of checkpoints (database and external file) checked.</param>
/// <param name="Message">A one-line explanation.</param>
public sealed record AuditVerification(
    AuditProblem Problem, long? FirstBadSeq, long? CheckpointSeq, long Entries, int CheckpointsChecked, string Message)
{
    /// <summary>Whether the log verified.</summary>
    public bool Ok => Problem == AuditProblem.None;

    /// <summary>The key changes met on the way (in seq order), each rotation vouched for by its predecessor's checkpoint.</summary>
    public IReadOnlyList<AuditKeyChange> KeyChanges { get; init; } = [];

    /// <summary>
    /// The key breaks: lost-key epochs, whose new key the old key did not sign. They do not fail verification (the log
    /// verified with the keys it names), but are reported: in <see cref="Message"/>, and by <c>audit verify</c> as a
    /// warning line.
    /// </summary>
    public IReadOnlyList<AuditKeyChange> KeyBreaks => [.. KeyChanges.Where(c => !c.SignedByOldKey)];

    /// <summary>
    /// Every independent problem verification established, in the order it met them; the first is this result's own
    /// <see cref="Problem"/>, <see cref="FirstBadSeq"/>, <see cref="CheckpointSeq"/> and <see cref="Message"/>. A bad
    /// checkpoint signature or a checkpoint that does not match the chain does not end the walk, so a log cut short below a
    /// tampered checkpoint reports both (the signature, then the truncation); a broken chain (gap, link, hash, malformed
    /// entry, bad key change) ends it, since what follows depends on it, and after a checkpoint mismatch the later
    /// checkpoints' mismatches (which follow from it) are not repeated. Empty when the log verified.
    /// </summary>
    public IReadOnlyList<AuditFinding> Findings
    {
        get => field ?? (Ok ? [] : [new AuditFinding(Problem, FirstBadSeq, CheckpointSeq, Message)]);
        init;
    }
}

/// <summary>One problem that <see cref="AuditLog.Verify(string, AuditSigningKey?, string?)"/> established (see <see cref="AuditVerification.Findings"/>).</summary>
/// <param name="Problem">What failed.</param>
/// <param name="FirstBadSeq">The first entry it makes untrustworthy, as <see cref="AuditVerification.FirstBadSeq"/>.</param>
/// <param name="CheckpointSeq">The checkpoint involved, when one is.</param>
/// <param name="Message">A one-line explanation.</param>
public sealed record AuditFinding(AuditProblem Problem, long? FirstBadSeq, long? CheckpointSeq, string Message);
