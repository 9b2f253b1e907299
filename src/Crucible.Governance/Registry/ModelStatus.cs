namespace Crucible.Governance.Registry;

/// <summary>The life cycle of a registered model (MRM-10). Only forward moves are allowed; any live model can be retired.</summary>
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
