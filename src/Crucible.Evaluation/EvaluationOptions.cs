namespace Crucible.Evaluation;

/// <summary>The data to evaluate: real (the holdout), synthetic, and optionally the train set the generator saw.</summary>
/// <param name="Real">Real returns, used as the reference and, for privacy, as the holdout.</param>
/// <param name="Synthetic">Synthetic returns with the same series names in the same order.</param>
/// <param name="Train">The generator's train set; enables the privacy section and fits the regime threshold.</param>
public sealed record EvaluationInput(SeriesSet Real, SeriesSet Synthetic, SeriesSet? Train = null);

/// <summary>Evaluation settings. Defaults are those of METRICS.md.</summary>
public sealed record EvaluationOptions
{
    /// <summary>Confidence of VaR, ES and CDaR, in (0, 1).</summary>
    public double Alpha { get; init; } = 0.99;

    /// <summary>Number of lags of ACF, ACF of |x|, PACF and leverage (lags 1..Lags).</summary>
    public int Lags { get; init; } = 20;

    /// <summary>The level u of the lower-tail dependence λ_L(u).</summary>
    public double TailLevel { get; init; } = 0.05;

    /// <summary>Portfolio weights, one per series in column order; null means equal weights 1/D.</summary>
    public IReadOnlyList<double>? PortfolioWeights { get; init; }

    /// <summary>Trailing window (steps) of the realised volatility that defines regimes.</summary>
    public int RegimeWindow { get; init; } = 20;

    /// <summary>Percentile (0–100) of the fitting set's realised volatility above which a step is stressed.</summary>
    public double RegimePercentile { get; init; } = 80;

    /// <summary>Histogram bins of the HTML charts' data.</summary>
    public int HistogramBins { get; init; } = 40;

    /// <summary>Run the DOMIAS-style membership-inference attack in the privacy section (needs a train set).</summary>
    public bool MembershipInference { get; init; } = true;

    /// <summary>At most this many synthetic rows (drawn at random) fit the attack's synthetic density.</summary>
    public int MembershipMaxSynthetic { get; init; } = 5000;

    /// <summary>Series to run the attribute-inference attack on (needs a train set and at least two series); null: none.</summary>
    public IReadOnlyList<string>? SensitiveColumns { get; init; }

    /// <summary>Run the singling-out attack, univariate and multivariate (<see cref="Privacy.SinglingOut"/>; needs a train set).</summary>
    public bool SinglingOut { get; init; } = true;

    /// <summary>Run the linkability attack (<see cref="Privacy.Linkability"/>; needs a train set and at least two series).</summary>
    public bool Linkability { get; init; } = true;

    /// <summary>The attacker's two datasets of the linkability attack, by series name; null: the first ⌈D/2⌉ series and the
    /// rest (<see cref="Privacy.Linkability.DefaultSplit"/>).</summary>
    public Privacy.LinkabilityDatasets? LinkabilityColumns { get; init; }

    /// <summary>k of the linkability attack: a link is made when the k nearest synthetic rows of the two halves share one.</summary>
    public int LinkabilityNeighbours { get; init; } = Privacy.Linkability.DefaultNeighbours;

    /// <summary>Report the per-record risk of the most isolated 1% of train records (needs a train set).</summary>
    public bool OutlierRisk { get; init; } = true;

    /// <summary>
    /// Trains a shadow generator of the audited kind (the shadow-model membership attack runs only when given);
    /// see <see cref="Privacy.ShadowModelAttack"/>.
    /// </summary>
    public Privacy.ShadowGenerator? ShadowGenerator { get; init; }

    /// <summary>
    /// The (ε, δ) statement of the model that produced the synthetic set, when it was trained with DP: the membership
    /// attacks' PRIV-7 gates then also check the DP-12 bound TPR ≤ e^ε·FPR + δ (<see cref="Privacy.MembershipGate"/>).
    /// Null: the chance bound only.
    /// </summary>
    public Privacy.DpGuarantee? Dp { get; init; }

    /// <summary>Shadow generators the shadow-model attack trains.</summary>
    public int ShadowModels { get; init; } = 4;

    /// <summary>At most this many target records per group (members, non-members) in the shadow, attribute and linkability
    /// attacks, and the singling-out queries sought.</summary>
    public int AttackTargets { get; init; } = 500;

    /// <summary>Compute the utility section (needs a train set).</summary>
    public bool Utility { get; init; } = true;

    /// <summary>Lags of every series that the utility forecaster sees.</summary>
    public int UtilityLags { get; init; } = 5;

    /// <summary>Permutations per series of the utility's permutation importance.</summary>
    public int ImportanceRepeats { get; init; } = 5;

    /// <summary>Seed of the Philox streams of the randomised parts (the importance permutations).</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// At most this many rows of each of the train, holdout and synthetic sets enter the privacy section, drawn uniformly
    /// without replacement from <see cref="Seed"/> (<see cref="Privacy.PrivacySubsample"/>; at least
    /// <see cref="Privacy.PrivacySubsample.MinimumLimit"/>); the other sections use every row. Null: every row. A limit no
    /// smaller than every set changes nothing, and the report is the one without it, byte for byte.
    /// </summary>
    public int? PrivacyRows { get; init; }

    /// <summary>Declared market segments: when given, the report carries the per-segment coverage audit (<see cref="Coverage.CoverageAudit"/>).</summary>
    public Crucible.Data.Segments.SegmentMap? Segments { get; init; }

    /// <summary>SHA-256 (lower-case hex) of the holdout file the caller read <see cref="EvaluationInput.Real"/> from; it goes into
    /// <c>privacy.holdout_sha256</c>. Null: the hash of the holdout's values (<see cref="Privacy.PrivacyAudit.ContentBytes"/>).</summary>
    public string? HoldoutSha256 { get; init; }

    /// <summary>Maximum threads for the parallel parts; −1 uses all cores. Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>
    /// Stops <see cref="Evaluator.Evaluate"/>: checked before it starts, inside the per-series loop and between the report's
    /// parts (dependence and risk, distances to closest record, membership inference, privacy audit, each attack,
    /// utility, coverage), which then throws <see cref="OperationCanceledException"/> and returns nothing. A part already
    /// under way (a shadow model's training, the utility forecasters) runs to its end first. Not part of the report: a
    /// token that is never cancelled gives exactly the report of <c>default</c>.
    /// </summary>
    public CancellationToken Cancellation { get; init; }
}
