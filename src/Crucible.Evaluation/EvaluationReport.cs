using Crucible.Evaluation.Privacy;
using Crucible.Evaluation.Utility;

namespace Crucible.Evaluation;

/// <summary>A statistic measured on the real and on the synthetic set; written to JSON as <c>[real, synthetic]</c>.</summary>
public sealed record Pair(double Real, double Synthetic);

/// <summary>A statistic vector (e.g. ACF by lag) for the real and the synthetic set; JSON <c>[[real…], [synthetic…]]</c>.</summary>
public sealed record VectorPair(double[] Real, double[] Synthetic);

/// <summary>A matrix statistic for both sets; JSON <c>{"real": [[…]], "synthetic": [[…]]}</c>.</summary>
public sealed record MatrixPair(double[][] Real, double[][] Synthetic);

/// <summary>
/// Per-series results. Marginal statistics (<see cref="Ks"/> to <see cref="Es"/>) pool all rows; temporal ones
/// (<see cref="Acf"/>, <see cref="AcfAbs"/>, <see cref="Pacf"/>, <see cref="Leverage"/>, <see cref="MaxDrawdown"/>)
/// are computed within each path and averaged over paths. <see cref="Cdar"/> is the CDaR of the path (one path) or
/// of the scenario set (several paths). Against a synthetic scenario set of H-step paths, the real temporal statistics
/// and <see cref="Cdar"/> are those of the real series' H-step windows (stride 1): each computed within its window and
/// averaged over the windows (lags ≥ H are NaN on both sides), and the CDaR of the set of windows' max drawdowns
/// (<see cref="PortfolioReport.Horizon"/>). A path or window undefined at a lag it is long enough for (a constant window)
/// is left out of that lag's mean and counted in <see cref="TemporalLeftOut"/>.
/// </summary>
public sealed record SeriesReport(
    string Name, double Ks, double Wasserstein, Pair Mean, Pair Std, Pair Skewness, Pair ExcessKurtosis,
    VectorPair Acf, VectorPair AcfAbs, VectorPair Pacf, VectorPair Leverage, Pair Var, Pair Es, Pair MaxDrawdown, Pair Cdar)
{
    /// <summary>
    /// How many paths or windows were left out of <see cref="Acf"/>, <see cref="AcfAbs"/>, <see cref="Pacf"/> or
    /// <see cref="Leverage"/> at some lag because the statistic is undefined there (a constant window); null when none was.
    /// </summary>
    public TemporalLeftOut? TemporalLeftOut { get; init; }
}

/// <summary>
/// Per side, the number of paths (or H-step windows) whose ACF, ACF of |r|, PACF or leverage is undefined at one or more
/// lags the window's length allows (lag &lt; n; n − lag ≥ 2 pairs for the leverage) — a constant window, or a constant
/// side of the leverage pairs — out of all of them. Each such value is left out of its lag's mean over the windows; a lag
/// is NaN (null) only when no window defines it. JSON <c>temporal_left_out</c>, written only when a count is above 0.
/// </summary>
public sealed record TemporalLeftOut(int Real, int RealWindows, int Synthetic, int SyntheticWindows)
{
    /// <summary>
    /// The report's one warning for every series with windows left out (null when none has): each series' counts, and
    /// what its figures then are; <paramref name="windowed"/>: the real side was measured over
    /// <paramref name="horizon"/>-step windows, else over its paths.
    /// </summary>
    public static string? Warning(IEnumerable<SeriesReport> series, int? horizon, bool windowed)
    {
        var realUnit = windowed ? $"{horizon}-step windows" : "paths";
        var counts = series.Where(s => s.TemporalLeftOut is not null).Select(s => string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"'{s.Name}' {s.TemporalLeftOut!.Real} of {s.TemporalLeftOut.RealWindows} real {realUnit}, {s.TemporalLeftOut.Synthetic} of {s.TemporalLeftOut.SyntheticWindows} synthetic paths")).ToList();
        return counts.Count == 0 ? null
            : "acf, acf_abs, pacf or leverage is undefined at some lag (a constant window or flat stretch; for the leverage, a constant side of its pairs, which ties make likely at the last lags where a window has only 2 or 3 pairs) in: "
              + string.Join("; ", counts)
              + ". Those windows are left out of those lags' means (per_series.NAME.temporal_left_out), which are null only where no window defines them";
    }
}

/// <summary>
/// Portfolio risk at α (METRICS.md "scenario-level risk"), with per-step portfolio log returns log Σ w_i·exp(r_i).
/// For a synthetic set with scenario ids: VaR and ES over the scenarios' horizon returns (the sum of each path's steps),
/// and the CDaR of the set (mean of the worst ⌈n(1 − α)⌉ per-scenario max drawdowns). For a synthetic single path
/// (rows): VaR and ES over the one-step returns, and the CDaR of that path (mean of the worst ⌈n(1 − α)⌉ values of its
/// drawdown series). The real set is measured at the same horizon H (<see cref="Horizon"/>): VaR and ES over the sums of
/// every H-step window (stride 1) of each real path (every row when H = 1, each path when the real paths have H
/// steps), and against a synthetic scenario set the CDaR of those windows' max drawdowns.
/// </summary>
public sealed record PortfolioReport(double[] Weights, Pair Var, Pair Es, Pair Cdar, PortfolioBacktest Backtest)
{
    /// <summary>
    /// Steps per horizon return of <see cref="Var"/> and <see cref="Es"/>, real and synthetic: the synthetic scenarios'
    /// common length, 1 for synthetic rows; null when the synthetic scenarios have several lengths (each set's own paths
    /// are then summed as they are).
    /// </summary>
    public int? Horizon { get; init; }
}

/// <summary>
/// Backtest of the synthetic data's one-day VaR on the real data: <see cref="ValueAtRisk"/> is VaR_α of the synthetic
/// per-step portfolio log returns (all steps of all paths pooled), and <see cref="Result"/> counts the real
/// per-step portfolio losses above it over the last 250 real steps (fewer when the real set is shorter), with
/// Kupiec's test and the Basel traffic light (METRICS.md "VaR backtest"). The last 250 steps are one window of the
/// real period and can be its calmest: <see cref="AllDays"/> tests the same VaR on every real step, and
/// <see cref="Horizon"/> the scenarios' H-step VaR on the real set's non-overlapping H-step windows.
/// </summary>
public sealed record PortfolioBacktest(double ValueAtRisk, Risk.VarBacktestResult Result)
{
    /// <summary>The one-day VaR <see cref="ValueAtRisk"/> tested on every real step of every real path.</summary>
    public DailyVarBacktest? AllDays { get; init; }

    /// <summary>
    /// The synthetic scenarios' H-step VaR tested on the real set's non-overlapping H-step windows; null for synthetic
    /// rows (H = 1: <see cref="AllDays"/> is that test), scenarios of several lengths, or a real set with no H-step path.
    /// </summary>
    public HorizonVarBacktest? Horizon { get; init; }
}

/// <summary>
/// The one-day VaR tested on every real step (all paths, in time order): exceptions, Kupiec's POF test and the Basel
/// zone with the bounds for that many observations at α (<see cref="Risk.VarBacktest.Bounds"/>), and Christoffersen's
/// independence and conditional-coverage tests on the day-to-day transitions within each path
/// (<see cref="Risk.VarBacktest.Christoffersen(IReadOnlyList{bool[]}, double)"/>).
/// </summary>
/// <param name="Result">Exceptions over every real step; <c>Observations</c> is the real set's step count.</param>
/// <param name="Christoffersen">Christoffersen's tests; null when no real path has two steps (no transition to test).</param>
/// <param name="Paths">The real paths the steps come from (1 for a real file of rows).</param>
public sealed record DailyVarBacktest(Risk.VarBacktestResult Result, Risk.ChristoffersenResult? Christoffersen, int Paths);

/// <summary>
/// The synthetic scenarios' H-step VaR (<see cref="PortfolioReport.Var"/>'s synthetic value) tested on the real set's
/// non-overlapping H-step windows: each real path cut into windows of H steps from its first step (a last part shorter
/// than H is left out), a window's horizon log return the sum of its per-step portfolio log returns, an exception a loss
/// above the VaR (<see cref="Risk.VarBacktest.IsException"/>). Non-overlapping windows are independent draws when the
/// real returns are, so the exception count of a correct VaR is Binomial(n, 1 − α) and Kupiec's test applies. The Basel
/// traffic light is defined for 250 daily observations, not for a few dozen H-day windows: no colour is given, the
/// binomial probabilities of the count are.
/// </summary>
/// <param name="Horizon">H, the scenarios' steps.</param>
/// <param name="ValueAtRisk">The synthetic H-step VaR_α tested.</param>
/// <param name="Observations">n, the real H-step windows.</param>
/// <param name="Exceptions">x, the windows whose loss exceeds the VaR.</param>
/// <param name="KupiecStatistic">Kupiec's LR for x in n at α (<see cref="Risk.VarBacktest.KupiecStatistic"/>).</param>
/// <param name="KupiecPValue">P(χ²₁ &gt; LR).</param>
/// <param name="ProbabilityAtMost">P(X ≤ x), X ~ Binomial(n, 1 − α): the level the Basel zones read (≥ 0.95 would be past green).</param>
/// <param name="ProbabilityAtLeast">P(X ≥ x): how unlikely so many exceptions are for a correct VaR.</param>
public sealed record HorizonVarBacktest(int Horizon, double ValueAtRisk, int Observations, int Exceptions, double KupiecStatistic,
    double KupiecPValue, double ProbabilityAtMost, double ProbabilityAtLeast);

/// <summary>Volatility-regime statistics; see <see cref="Regimes.RegimeStatistics"/> for the exact definition.</summary>
public sealed record RegimeReport(int Window, double Percentile, double Threshold, Pair HighVolatilityShare, Pair CalmToStressed,
    Pair StressedToCalm)
{
    /// <summary>
    /// Why a set's transition rates are undefined because its paths are no longer than <see cref="Window"/>
    /// (<see cref="Regimes.RegimeStatistics.WhyNoTransitions"/>, real then synthetic, joined by "; "), else null.
    /// </summary>
    public string? TransitionsUnavailable { get; init; }
}

/// <summary>Distance-to-closest-record summary (standardised with train's mean and n − 1 standard deviation), and the
/// membership-inference attack when it ran.</summary>
public sealed record PrivacyReport(double DcrTrainMedian, double DcrTrainP05, double DcrHoldoutMedian, double ShareCloserToTrain)
{
    /// <summary>The DOMIAS-style attack (<see cref="Privacy.MembershipInference"/>), or null.</summary>
    public Privacy.MembershipReport? Membership { get; init; }

    /// <summary>Why the attack did not run (sets too small), else null.</summary>
    public string? MembershipSkipped { get; init; }

    /// <summary>The shadow-model membership attack (<see cref="Privacy.ShadowModelAttack"/>), or null.</summary>
    public Privacy.ShadowAttackReport? Shadow { get; init; }

    /// <summary>Why the shadow attack did not run, else null (also null when no shadow generator was given).</summary>
    public string? ShadowSkipped { get; init; }

    /// <summary>Attribute inference per declared sensitive series (<see cref="Privacy.AttributeInference"/>), or null.</summary>
    public IReadOnlyList<Privacy.AttributeInferenceReport>? AttributeInference { get; init; }

    /// <summary>The singling-out attack, univariate then multivariate (<see cref="Privacy.SinglingOut"/>), or null.</summary>
    public IReadOnlyList<Privacy.SinglingOutReport>? SinglingOut { get; init; }

    /// <summary>The linkability attack (<see cref="Privacy.Linkability"/>), or null.</summary>
    public Privacy.LinkabilityReport? Linkability { get; init; }

    /// <summary>Why the linkability attack did not run (a single series), else null.</summary>
    public string? LinkabilitySkipped { get; init; }

    /// <summary>Per-record risk of the most isolated train records (<see cref="Privacy.OutlierRisk"/>), or null.</summary>
    public Privacy.OutlierRiskReport? OutlierRisk { get; init; }

    /// <summary>The same DCR summary over flattened windows when every synthetic path has one length W ≥ 2
    /// (<see cref="Privacy.DistanceToClosestRecord.WindowDistances"/>), else null.</summary>
    public WindowPrivacyReport? Windows { get; init; }

    /// <summary>The split-disciplined DCR share gate, IMS and NNDR with the split's warnings
    /// (<see cref="Privacy.PrivacyAudit"/>, RELIABILITY.md PRIV-1/3/4/5/9).</summary>
    public Privacy.PrivacyAuditReport? Audit { get; init; }

    /// <summary>The rows drawn when the section was measured on a subsample (<see cref="EvaluationOptions.PrivacyRows"/>
    /// cut at least one set), else null.</summary>
    public Privacy.PrivacySubsample? Subsample { get; init; }
}

/// <summary>The DCR summary <paramref name="Dcr"/> over flattened windows of <paramref name="Window"/> rows.</summary>
public sealed record WindowPrivacyReport(int Window, PrivacyReport Dcr);

/// <summary>A histogram over shared bin edges (Edges has one more entry than each count array). The bins span the
/// lower 0.1st to the higher 99.9th percentile of the two samples; values outside are not counted.</summary>
public sealed record HistogramPair(double[] Edges, int[] Real, int[] Synthetic);

/// <summary>Data behind the HTML charts: quantiles for QQ plots, histograms, drawdown and DCR distributions.</summary>
public sealed record ChartData(
    IReadOnlyList<HistogramPair> Histograms, double[] QuantileLevels, IReadOnlyList<VectorPair> Quantiles,
    HistogramPair Drawdowns, HistogramPair? Dcr);

/// <summary>Row counts of the inputs.</summary>
public sealed record RowCounts(int Real, int Synthetic, int? Train, int RealPaths, int SyntheticPaths);

/// <summary>
/// The evaluation report. JSON names (<see cref="Reporting.ReportJson"/>) follow eval_ref.py: <c>ks_mean</c>, <c>ks_max</c>,
/// <c>wasserstein_mean</c>, <c>corr_distance</c>, <c>lower_tail_dependence</c>, <c>per_series</c>, <c>privacy</c>.
/// </summary>
public sealed record EvaluationReport(
    string[] Columns, double Alpha, int Lags, double TailLevel, double KsMean, double KsMax, double WassersteinMean,
    double CorrDistance, MatrixPair LowerTailDependence, MatrixPair Correlation, IReadOnlyList<SeriesReport> PerSeries,
    PortfolioReport Portfolio, RegimeReport Regimes, PrivacyReport? Privacy, RowCounts Rows, ChartData Charts)
{
    /// <summary>Train-on-synthetic utility (<see cref="UtilityEvaluation"/>); null without a train set.</summary>
    public UtilityReport? Utility { get; init; }

    /// <summary>Why the utility section is missing although a train set was given (sets too short), else null.</summary>
    public string? UtilitySkipped { get; init; }

    /// <summary>The per-segment coverage audit when segments were declared (<see cref="EvaluationOptions.Segments"/>), else null.</summary>
    public Coverage.CoverageReport? Coverage { get; init; }

    /// <summary>
    /// Warnings about the inputs that do not stop the evaluation (e.g. the real and synthetic files are the same file, so
    /// every fidelity metric is trivially perfect); written as <c>warnings</c> in the JSON when any.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>
    /// Every scalar metric by its dotted JSON key, in report order: top-level scalars, <c>privacy.*</c> (with
    /// <c>privacy.membership_inference.{auc,tpr_at_fpr_10pct,tpr_at_fpr_1pct,gate_passed}</c>, gate_passed 1 or 0), then
    /// <c>per_series.NAME.KEY.real</c> / <c>.synthetic</c>, <c>portfolio.*</c> and <c>regimes.*</c> (pairs split
    /// into <c>.real</c> and <c>.synthetic</c>), then <c>utility.{return,volatility}.{tstr,trtr,trts}.{r2,mse}</c>,
    /// <c>.mse_ratio</c>, <c>.r2_ratio</c>, <c>.importance.spearman</c>, and with segments
    /// <c>coverage.under_stressed_segments</c> (a count, so <c>{"max": 0}</c> fails on any under-stressed segment). Used by <see cref="ThresholdCheck"/>.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, double>> ScalarMetrics()
    {
        var list = new List<KeyValuePair<string, double>>
        {
            new("ks_mean", KsMean), new("ks_max", KsMax), new("wasserstein_mean", WassersteinMean), new("corr_distance", CorrDistance),
        };
        if (Privacy is { } p)
        {
            list.Add(new("privacy.dcr_train_median", p.DcrTrainMedian));
            list.Add(new("privacy.dcr_train_p05", p.DcrTrainP05));
            list.Add(new("privacy.dcr_holdout_median", p.DcrHoldoutMedian));
            list.Add(new("privacy.share_closer_to_train", p.ShareCloserToTrain));
            if (p.Membership is { } mia)
            {
                list.Add(new("privacy.membership_inference.auc", mia.Auc));
                list.Add(new("privacy.membership_inference.tpr_at_fpr_10pct", mia.TprAtFpr10));
                list.Add(new("privacy.membership_inference.tpr_at_fpr_1pct", mia.TprAtFpr01));
                if (mia.Gate is { } g) list.Add(new("privacy.membership_inference.gate_passed", g.Passed ? 1 : 0));
            }
            if (p.Shadow is { } sh)
            {
                list.Add(new("privacy.shadow_membership_inference.auc", sh.Auc));
                list.Add(new("privacy.shadow_membership_inference.tpr_at_fpr_10pct", sh.TprAtFpr10));
                list.Add(new("privacy.shadow_membership_inference.tpr_at_fpr_1pct", sh.TprAtFpr01));
                if (sh.Gate is { } g) list.Add(new("privacy.shadow_membership_inference.gate_passed", g.Passed ? 1 : 0));
            }
            foreach (var ai in p.AttributeInference ?? [])
            {
                var key = "privacy.attribute_inference." + ai.Column + ".";
                AddOutcome(key, ai.Attack, ai.Control, ai.Risk);
                list.Add(new(key + "mae_train", ai.MaeTrain));
                list.Add(new(key + "mae_holdout", ai.MaeHoldout));
            }
            foreach (var so in p.SinglingOut ?? [])
            {
                var key = "privacy.singling_out." + so.Mode.WireName() + ".";
                AddOutcome(key, so.Attack, so.Control, so.Risk);
                list.Add(new(key + "queries", so.Queries));
            }
            if (p.Linkability is { } lk) AddOutcome("privacy.linkability.", lk.Attack, lk.Control, lk.Risk);
            if (p.OutlierRisk is { } o)
            {
                list.Add(new("privacy.outlier_risk.median_dcr_ratio", o.MedianRatioOutliers));
                list.Add(new("privacy.outlier_risk.share_ratio_below_one", o.ShareRatioBelowOne));
                list.Add(new("privacy.outlier_risk.max_score_percentile", o.MaxScorePercentile));
            }
            if (p.Audit is { } a)
            {
                // the split-disciplined metrics (PRIV-1/3/4/5); pass flags as 1 (pass) or 0
                list.Add(new("privacy.share_bound", a.DcrShare.Bound));
                list.Add(new("privacy.share_within_bound", a.DcrShare.WithinBound ? 1 : 0));
                list.Add(new("privacy.split.holdout_to_train", a.Split.HoldoutToTrain));
                list.Add(new("privacy.warning_count", a.Warnings.Count));
                list.Add(new("privacy.dcr_share.share_closer_to_train", a.DcrShare.Share));
                list.Add(new("privacy.dcr_share.score", a.DcrShare.Score));
                list.Add(new("privacy.ims.synthetic_to_training", a.Ims.SyntheticToTraining));
                list.Add(new("privacy.ims.synthetic_to_holdout", a.Ims.SyntheticToHoldout));
                list.Add(new("privacy.ims.within_margin", a.Ims.WithinMargin ? 1 : 0));
                list.Add(new("privacy.nndr.synthetic_to_training", a.Nndr.SyntheticToTraining));
                list.Add(new("privacy.nndr.synthetic_to_holdout", a.Nndr.SyntheticToHoldout));
                list.Add(new("privacy.nndr.training_to_holdout", a.Nndr.TrainingToHoldout));
                if (a.HoldoutExchangeability is { } x)
                {
                    list.Add(new("privacy.holdout_exchangeability.share_closer_to_train", x.Share));
                    list.Add(new("privacy.holdout_exchangeability.exchangeable", x.Exchangeable ? 1 : 0));
                }
            }
        }
        void AddPair(string key, Pair pair)
        {
            list.Add(new(key + ".real", pair.Real));
            list.Add(new(key + ".synthetic", pair.Synthetic));
        }
        foreach (var s in PerSeries)
        {
            var prefix = "per_series." + s.Name + ".";
            list.Add(new(prefix + "ks", s.Ks));
            list.Add(new(prefix + "wasserstein", s.Wasserstein));
            AddPair(prefix + "mean", s.Mean);
            AddPair(prefix + "std", s.Std);
            AddPair(prefix + "skewness", s.Skewness);
            AddPair(prefix + "excess_kurtosis", s.ExcessKurtosis);
            AddPair(prefix + "var", s.Var);
            AddPair(prefix + "es", s.Es);
            AddPair(prefix + "max_drawdown", s.MaxDrawdown);
            AddPair(prefix + "cdar", s.Cdar);
        }
        AddPair("portfolio.var", Portfolio.Var);
        AddPair("portfolio.es", Portfolio.Es);
        AddPair("portfolio.cdar", Portfolio.Cdar);
        list.Add(new("portfolio.backtest.exceptions", Portfolio.Backtest.Result.Exceptions));
        list.Add(new("portfolio.backtest.kupiec_p_value", Portfolio.Backtest.Result.KupiecPValue));
        if (Portfolio.Backtest.AllDays is { } allDays)
        {
            list.Add(new("portfolio.backtest_all_days.exceptions", allDays.Result.Exceptions));
            list.Add(new("portfolio.backtest_all_days.kupiec_p_value", allDays.Result.KupiecPValue));
        }
        if (Portfolio.Backtest.Horizon is { } horizonBacktest)
        {
            list.Add(new("portfolio.backtest_horizon.exceptions", horizonBacktest.Exceptions));
            list.Add(new("portfolio.backtest_horizon.kupiec_p_value", horizonBacktest.KupiecPValue));
        }
        AddPair("regimes.high_vol_share", Regimes.HighVolatilityShare);
        AddPair("regimes.calm_to_stressed", Regimes.CalmToStressed);
        AddPair("regimes.stressed_to_calm", Regimes.StressedToCalm);
        if (Utility is { } u)
        {
            foreach (var (name, task) in new[] { ("return", u.Return), ("volatility", u.Volatility) })
            {
                var prefix = "utility." + name + ".";
                foreach (var (kind, score) in new[] { ("tstr", task.Tstr), ("trtr", task.Trtr), ("trts", task.Trts) })
                {
                    list.Add(new(prefix + kind + ".r2", score.R2));
                    list.Add(new(prefix + kind + ".mse", score.Mse));
                }
                list.Add(new(prefix + "mse_ratio", task.MseRatio));
                list.Add(new(prefix + "r2_ratio", task.R2Ratio));
                list.Add(new(prefix + "importance.spearman", task.ImportanceSpearman));
            }
        }
        if (Coverage is { } c) list.Add(new("coverage.under_stressed_segments", c.UnderStressed.Count));
        return list;

        // an attack's risk (clamped to [0, 1]) and its success on train and on holdout, under `key`
        void AddOutcome(string key, SuccessRate attack, SuccessRate control, SuccessRate risk)
        {
            list.Add(new(key + "risk", Math.Clamp(risk.Value, 0, 1)));
            list.Add(new(key + "success_train", attack.Value));
            list.Add(new(key + "success_holdout", control.Value));
        }
    }
}
