using System.Globalization;

namespace Crucible.Evaluation.Privacy;

/// <summary>The (ε, δ) differential-privacy statement of the evaluated model (its manifest's <c>privacy</c>), for the DP-12 check.</summary>
/// <param name="Epsilon">ε spent, ≥ 0.</param>
/// <param name="Delta">δ, in [0, 1).</param>
public sealed record DpGuarantee(double Epsilon, double Delta)
{
    /// <summary>
    /// Where the statement was read when not from the evaluated model's folder (<c>evaluate --model DIR</c>): the scenario
    /// file's metadata (<c>FILE.meta.json</c>, <see cref="ScenarioSidecar.DpStatementOf"/>), by file name; null for the model's
    /// manifest. Named in the gate's rule and report.json's <c>gate.dp_source</c>.
    /// </summary>
    public string? Source { get; init; }

    /// <summary>Checks that ε is finite and ≥ 0 and δ in [0, 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">ε or δ is out of range.</exception>
    public DpGuarantee Validated()
    {
        if (!(double.IsFinite(Epsilon) && Epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "ε must be finite and ≥ 0");
        if (!(Delta is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(Delta), Delta, "δ must be in [0, 1)");
        return this;
    }
}

/// <summary>
/// The RELIABILITY.md PRIV-7 gate of one membership attack: <paramref name="Passed"/> when TPR@FPR0.1 ≤
/// <paramref name="Bound"/> = 0.1 + h(n, 0.1) and, when the model carries a DP statement, TPR ≤ e^ε·FPR + δ + h(n, ·) at
/// FPR 0.1 and 0.01 (DP-12). h is the half-width of the 95% Wilson interval (<see cref="MembershipGate.HalfWidth"/>).
/// </summary>
/// <param name="Members">n, the member targets the attack's TPR is a proportion of.</param>
/// <param name="Bound">0.1 + h(n, 0.1), the chance bound on TPR@FPR0.1.</param>
/// <param name="WithinChance">TPR@FPR0.1 ≤ <paramref name="Bound"/>.</param>
/// <param name="Dp">The model's DP statement, or null when none is known (no DP check).</param>
/// <param name="DpBoundFpr10">e^ε·0.1 + δ + h(n, e^ε·0.1 + δ), or null without <paramref name="Dp"/>.</param>
/// <param name="DpBoundFpr01">e^ε·0.01 + δ + h(n, e^ε·0.01 + δ), or null without <paramref name="Dp"/>.</param>
/// <param name="WithinDp">Both TPRs within their DP bounds, or null without <paramref name="Dp"/>.</param>
/// <param name="Passed"><paramref name="WithinChance"/> and (without a DP statement) or <paramref name="WithinDp"/>.</param>
/// <param name="Rule">The rule with its numbers, in words (report.json's <c>gate.rule</c>).</param>
public sealed record MembershipGate(int Members, double Bound, bool WithinChance, DpGuarantee? Dp, double? DpBoundFpr10, double? DpBoundFpr01,
    bool? WithinDp, bool Passed, string Rule)
{
    /// <summary>The FPR of the gate's main operating point.</summary>
    public const double Fpr10 = 0.1;

    /// <summary>The FPR of the low operating point (checked against DP-12 only).</summary>
    public const double Fpr01 = 0.01;

    /// <summary>
    /// h(n, p): the half-width of the 95% Wilson score interval (<see cref="SuccessRate.Wilson"/>) of a proportion
    /// observed as <paramref name="proportion"/> on <paramref name="n"/> trials, z/(n + z²)·√(n·p(1 − p) + z²/4).
    /// </summary>
    /// <remarks>
    /// The null hypothesis of the chance gate is "the attack is no better than chance": then its TPR at any threshold
    /// equals that threshold's FPR, so at FPR 0.1 the n member targets give TPR ~ Binomial(n, 0.1)/n. The Wilson interval
    /// is the project's interval for a proportion (the form Anonymeter reports, used by the DCR share and IMS); unlike the
    /// Wald interval it keeps its coverage at p = 0.1 with small n (the Wald half-width undercovers there). The gate adds
    /// its half-width to 0.1 (RELIABILITY.md's proposal, "0.10 + its 95% CI half-width"): a two-sided 95% half-width, so
    /// an attack no better than chance exceeds the bound about 2.5% of the time at one fixed threshold. TPR@FPR0.1 is
    /// the best of the ROC points with FPR ≤ 0.1, whose FPR is itself estimated on the non-members; that selection is
    /// not corrected for.
    /// </remarks>
    public static double HalfWidth(int n, double proportion) => SuccessRate.WilsonOfProportion(n, proportion).Error;

    /// <summary>
    /// The DP-12 bound on TPR at <paramref name="fpr"/> for a model with <paramref name="dp"/> at <paramref name="n"/>
    /// member targets: b + h(n, b) with b = min(e^ε·FPR + δ, 1) (the hypothesis-testing reading of (ε, δ)-DP: no test
    /// of membership has TPR above b at that FPR). h is the same Wilson half-width as the chance gate's, taken at b,
    /// the TPR of an attack sitting exactly on the bound: a breach is a TPR the bound cannot explain by sampling, so a
    /// chance-level attack on a model with ε near 0 is not flagged for noise.
    /// </summary>
    public static double DpBound(DpGuarantee dp, double fpr, int n)
    {
        ArgumentNullException.ThrowIfNull(dp);
        dp.Validated();
        var b = Math.Min((Math.Exp(dp.Epsilon) * fpr) + dp.Delta, 1);
        return b + HalfWidth(n, b);
    }

    /// <summary>
    /// The gate for an attack with <paramref name="tprAtFpr10"/> and <paramref name="tprAtFpr01"/> on
    /// <paramref name="members"/> member targets; <paramref name="dp"/> adds the DP-12 check.
    /// </summary>
    public static MembershipGate Check(int members, double tprAtFpr10, double tprAtFpr01, DpGuarantee? dp = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(members);
        var inv = CultureInfo.InvariantCulture;
        var h = HalfWidth(members, Fpr10);
        var bound = Fpr10 + h;
        // NaN (no ROC) fails: a gate that cannot be read is not a pass
        var withinChance = tprAtFpr10 <= bound;
        var rule = string.Create(inv,
            $"tpr_at_fpr_10pct <= 0.1 + {h:G4} = {bound:G4} (0.1 plus the 95% Wilson half-width at n = {members} member targets: the TPR of an attack no better than chance)");
        if (dp is null) return new MembershipGate(members, bound, withinChance, null, null, null, null, withinChance, rule);
        var dp10 = DpBound(dp, Fpr10, members);
        var dp01 = DpBound(dp, Fpr01, members);
        var withinDp = tprAtFpr10 <= dp10 && tprAtFpr01 <= dp01;
        rule += string.Create(inv,
            $"; DP-12 at epsilon = {dp.Epsilon:G4}, delta = {dp.Delta:G4}{(dp.Source is null ? "" : $" (from {dp.Source}, the scenario file's metadata, its csv_sha256 checked)")}: tpr_at_fpr_10pct <= e^eps*0.1 + delta + h = {dp10:G4} and tpr_at_fpr_1pct <= e^eps*0.01 + delta + h = {dp01:G4}");
        return new MembershipGate(members, bound, withinChance, dp, dp10, dp01, withinDp, withinChance && withinDp, rule);
    }

    /// <summary>The privacy warning of a failed gate for the attack <paramref name="attack"/>, else null.</summary>
    public string? Warning(string attack, double tprAtFpr10, double tprAtFpr01)
    {
        if (Passed) return null;
        var inv = CultureInfo.InvariantCulture;
        var parts = new List<string>();
        if (!WithinChance) parts.Add(string.Create(inv, $"TPR {tprAtFpr10:G4} at FPR 0.1 is above the chance bound {Bound:G4}"));
        if (WithinDp == false && Dp is { } dp)
            parts.Add(string.Create(inv,
                $"TPR {tprAtFpr10:G4} / {tprAtFpr01:G4} at FPR 0.1 / 0.01 breaks the DP-12 bound {DpBoundFpr10:G4} / {DpBoundFpr01:G4} of the model's epsilon {dp.Epsilon:G4}, delta {dp.Delta:G4} (an implementation bug, or a statement that does not cover this release)"));
        return $"membership inference ({attack}) gate failed (PRIV-7): " + string.Join("; ", parts);
    }
}
