using Crucible.Data;

namespace Crucible.Governance.Registry;

/// <summary>
/// The life cycle of a registered model (MRM-10). Only forward moves are allowed; any live model can be retired. Written
/// by its wire name (<see cref="ModelStatuses.WireName"/>: the audit entries' <c>status</c>, <c>from</c> and <c>to</c>).
/// </summary>
public enum ModelStatus
{
    /// <summary>Registered, not yet validated.</summary>
    Candidate,

    /// <summary>Passed validation (a validation report hash is recorded as evidence).</summary>
    Validated,

    /// <summary>Approved for use.</summary>
    Promoted,

    /// <summary>Withdrawn; terminal.</summary>
    Retired,
}

/// <summary>The stable wire names of <see cref="ModelStatus"/>, in the audit log, <c>--json</c>, the service and model cards.</summary>
public static class ModelStatuses
{
    private static readonly WireNames<ModelStatus> Names = new(
        (ModelStatus.Candidate, "candidate"),
        (ModelStatus.Validated, "validated"),
        (ModelStatus.Promoted, "promoted"),
        (ModelStatus.Retired, "retired"));

    /// <summary>Every status, in the order of the life cycle.</summary>
    public static IReadOnlyList<ModelStatus> All => Names.All;

    /// <summary>The wire name of <paramref name="status"/>, e.g. <c>candidate</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is not a defined status.</exception>
    public static string WireName(this ModelStatus status) =>
        Names.NameOf(status) ?? throw new ArgumentOutOfRangeException(nameof(status), status, "unknown model status");

    /// <summary>The status whose wire name is <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public static ModelStatus? FromWireName(string? name) => Names.ValueOf(name);
}
