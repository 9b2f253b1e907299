using Crucible.Data;

namespace Crucible.Governance.Audit;

/// <summary>What an audit entry records. Stored as its wire name (<see cref="AuditKinds.WireName"/>), never as a number.</summary>
public enum AuditKind
{
    /// <summary><c>run.started</c>: a train, generate or evaluate run began (payload: run id, config hash, input hashes).</summary>
    RunStarted,

    /// <summary><c>run.completed</c>: a run finished (payload: run id, manifest hash, output hashes).</summary>
    RunCompleted,

    /// <summary><c>run.failed</c>: a run stopped with an error (payload: run id, error kind; never raw values).</summary>
    RunFailed,

    /// <summary><c>model.registered</c>: a model entered the registry as a candidate (payload: model id, manifest hash).</summary>
    ModelRegistered,

    /// <summary><c>model.status_changed</c>: candidate → validated → promoted → retired (payload: model id, from, to, reason).</summary>
    ModelStatusChanged,

    /// <summary><c>scenarios.generated</c>: a scenario set was produced (payload: model id, seed, count, output hash).</summary>
    ScenariosGenerated,

    /// <summary><c>evaluation.completed</c>: an evaluation report was written (payload: report hash, verdicts).</summary>
    EvaluationCompleted,

    /// <summary><c>privacy.report</c>: a privacy audit or DP statement (payload: ε, δ, accountant, report hash).</summary>
    PrivacyReport,

    /// <summary><c>audit.verified</c>: an audit verification ran (payload: entries, checkpoints, result).</summary>
    AuditVerified,

    /// <summary>
    /// <c>model.status_refused</c>: a status change was refused for segregation of duties (MRM-10), e.g. promotion by the
    /// actor who validated the model (payload: model id, from, to, rule, reason).
    /// </summary>
    ModelStatusRefused,

    /// <summary>
    /// <c>audit.key_rotated</c>: the checkpoint signing key was rotated on purpose (payload: old and new key ids and public
    /// keys, the new key's signature over the handover, reason). A checkpoint at this entry is signed by the OLD key, so
    /// the chain of rotations, each signed by its predecessor, carries trust from the first public key to the current one.
    /// </summary>
    KeyRotated,

    /// <summary>
    /// <c>audit.key_lost</c>: the signing key was lost and a new key epoch began (same payload as <see cref="KeyRotated"/>);
    /// the old key did not sign the change, so <c>audit verify</c> reports it as a key break.
    /// </summary>
    KeyLost,
}

/// <summary>The stable wire names of <see cref="AuditKind"/>.</summary>
public static class AuditKinds
{
    private static readonly WireNames<AuditKind> Names = new(
        (AuditKind.RunStarted, "run.started"),
        (AuditKind.RunCompleted, "run.completed"),
        (AuditKind.RunFailed, "run.failed"),
        (AuditKind.ModelRegistered, "model.registered"),
        (AuditKind.ModelStatusChanged, "model.status_changed"),
        (AuditKind.ScenariosGenerated, "scenarios.generated"),
        (AuditKind.EvaluationCompleted, "evaluation.completed"),
        (AuditKind.PrivacyReport, "privacy.report"),
        (AuditKind.AuditVerified, "audit.verified"),
        (AuditKind.ModelStatusRefused, "model.status_refused"),
        (AuditKind.KeyRotated, "audit.key_rotated"),
        (AuditKind.KeyLost, "audit.key_lost"));

    /// <summary>The wire name of <paramref name="kind"/>, e.g. <c>model.status_changed</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined kind.</exception>
    public static string WireName(this AuditKind kind) =>
        Names.NameOf(kind) ?? throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown audit kind");

    /// <summary>The kind whose wire name is <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public static AuditKind? FromWireName(string? name) => Names.ValueOf(name);
}
