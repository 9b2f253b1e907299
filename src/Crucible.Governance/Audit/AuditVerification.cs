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
}
