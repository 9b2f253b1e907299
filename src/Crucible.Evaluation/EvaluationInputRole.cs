namespace Crucible.Evaluation;

/// <summary>The part an input set plays in an evaluation (<see cref="EvaluationInput"/>).</summary>
public enum EvaluationInputRole
{
    /// <summary>The real (holdout) set the synthetic set is compared with.</summary>
    Real,

    /// <summary>The synthetic set under evaluation.</summary>
    Synthetic,

    /// <summary>The generator's training set (privacy, the regime threshold, utility).</summary>
    Train,
}

/// <summary>The stable names of <see cref="EvaluationInputRole"/>: the CLI's options (<c>--real</c>) and the service's
/// request members (<c>real_csv</c>) are built on them.</summary>
public static class EvaluationInputRoles
{
    private static readonly Crucible.Data.WireNames<EvaluationInputRole> Names = new(
        (EvaluationInputRole.Real, "real"),
        (EvaluationInputRole.Synthetic, "synthetic"),
        (EvaluationInputRole.Train, "train"));

    /// <summary>The name of <paramref name="role"/>: <c>real</c>, <c>synthetic</c> or <c>train</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="role"/> is not a defined role.</exception>
    public static string WireName(this EvaluationInputRole role) =>
        Names.NameOf(role) ?? throw new ArgumentOutOfRangeException(nameof(role), role, "not an evaluation input role");
}
