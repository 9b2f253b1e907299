using Crucible.Data;
using Crucible.Evaluation.Statistics;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Utility;

/// <summary>What the utility forecaster predicts one step ahead, for every series.</summary>
public enum ForecastTarget
{
    /// <summary>The next log return r_{t+1}, from lagged returns.</summary>
    Return,

    /// <summary>The next one-step realised volatility |r_{t+1}|, from lagged absolute returns.</summary>
    Volatility,
}

/// <summary>A forecaster's score on one evaluation set: R² averaged over the target series (scikit-learn
/// <c>r2_score</c>, uniform average) and the mean squared error over all targets.</summary>
public sealed record ForecastScore(double R2, double Mse);

/// <summary>
/// Utility for one forecasting target (METRICS.md "Utility"). <see cref="Tstr"/>: fitted on synthetic, scored on the
/// real holdout; <see cref="Trtr"/>: fitted on real train, scored on the real holdout; <see cref="Trts"/>: fitted on
/// real train, scored on synthetic. The ratios are TSTR over TRTR (1 = synthetic data as useful as real data; above 1
/// for MSE, below 1 for R², is worse). <paramref name="R2Ratio"/> is NaN (null in the report) when the TRTR R² is not
/// positive: a ratio of two R² ≤ 0 reads backwards (TSTR −0.10 against TRTR −0.03 gives 3.3, "better than real", for
/// a worse forecaster) and one over zero has no value; compare the two R² themselves then. <paramref name="MseRatio"/> is
/// NaN (null in the report, with a warning, <see cref="UtilityEvaluation.Warnings"/>) when the TRTR MSE is 0: a real
/// holdout the train-fitted forecaster predicts exactly (a series that never moves) leaves nothing to divide by, and
/// TSTR MSE / 0 was +∞, which passed a <c>min</c> threshold; compare the TSTR MSE itself then. Importances are per series, on the real holdout, for the TSTR and TRTR
/// forecasters; <see cref="ImportanceSpearman"/> is the Spearman correlation of the two rankings.
/// </summary>
public sealed record UtilityTaskReport(
    ForecastTarget Target, ForecastScore Tstr, ForecastScore Trtr, ForecastScore Trts, double MseRatio, double R2Ratio,
    double[] ImportanceTstr, double[] ImportanceTrtr, double ImportanceSpearman);

/// <summary>The utility section: both forecasting targets, the lags and permutation repeats used, and sample counts.</summary>
public sealed record UtilityReport(int Lags, int Repeats, int SyntheticSamples, int TrainSamples, int RealSamples,
    UtilityTaskReport Return, UtilityTaskReport Volatility);

/// <summary>
/// Train-on-synthetic / train-on-real utility with a linear next-step forecaster (the published precedent is
/// SigCWGAN's TSTR vs TRTR linear regression, PEERS.md c6), and permutation feature importance.
/// </summary>
/// <remarks>
/// <para>Forecaster: multi-output least squares with intercept (<see cref="LinearForecaster"/>) from the last
/// <c>lags</c> steps of every series (returns for <see cref="ForecastTarget.Return"/>, absolute returns for
/// <see cref="ForecastTarget.Volatility"/>) to the next step of every series, built within each path (scenario).</para>
/// <para>Permutation importance of series i: the real-holdout R² minus the mean R² after the holdout samples' lagged
/// values of series i (all its lags together) are permuted across samples; <c>repeats</c> Philox permutations per
/// series, the same ones for the TSTR and the TRTR forecaster. The Spearman correlation (average ranks) of the two
/// importance vectors says whether a model trained on synthetic data relies on the same series as one trained on
/// real data.</para>
/// </remarks>
public static class UtilityEvaluation
{
    /// <summary>
    /// Both targets' utility. Throws <see cref="InvalidInputException"/> (<c>too-few-rows</c>) when <see cref="WhyNot"/>
    /// says the sets are too short. Permutations come from Philox streams 0 (returns) and 1 (volatility) of
    /// <paramref name="seed"/>.
    /// </summary>
    public static UtilityReport Evaluate(SeriesSet train, SeriesSet synthetic, SeriesSet real, int lags = 5, int repeats = 5,
        ulong seed = 0, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(real);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lags);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(repeats);
        var ret = Task(ForecastTarget.Return, train, synthetic, real, lags, repeats, seed, maxDegreeOfParallelism, out var counts);
        var vol = Task(ForecastTarget.Volatility, train, synthetic, real, lags, repeats, seed, maxDegreeOfParallelism, out _);
        return new UtilityReport(lags, repeats, counts.Synthetic, counts.Train, counts.Real, ret, vol);
    }

    /// <summary>
    /// Null when the sets are long enough, else why not: each fitting set (synthetic, train) needs at least twice as many
    /// samples as the forecaster has coefficients (L·D + 1 per target), and the real holdout at least 2 samples.
    /// </summary>
    public static string? WhyNot(SeriesSet train, SeriesSet synthetic, SeriesSet real, int lags)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(real);
        var coefficients = (lags * real.SeriesCount) + 1;
        static int Samples(SeriesSet s, int lags) => s.PathRows().Sum(p => Math.Max(0, p.Length - lags));
        foreach (var (name, set, need) in new[] { ("synthetic", synthetic, 2 * coefficients), ("train", train, 2 * coefficients), ("real", real, 2) })
        {
            var n = Samples(set, lags);
            if (n < need)
                return $"{name} has {n} next-step samples with {lags} lags; the utility forecaster needs at least {need}";
        }
        return null;
    }

    private static UtilityTaskReport Task(ForecastTarget target, SeriesSet train, SeriesSet synthetic, SeriesSet real, int lags, int repeats,
        ulong seed, int maxDop, out (int Synthetic, int Train, int Real) counts)
    {
        if (WhyNot(train, synthetic, real, lags) is { } reason) throw new InvalidInputException("too-few-rows", reason);
        var dTrain = LaggedDesign.Build(train, lags, target);
        var dSyn = LaggedDesign.Build(synthetic, lags, target);
        var dReal = LaggedDesign.Build(real, lags, target);
        counts = (dSyn.Rows, dTrain.Rows, dReal.Rows);
        var onSyn = LinearForecaster.Fit(dSyn, maxDop);
        var onTrain = LinearForecaster.Fit(dTrain, maxDop);
        // scores from the designs' cross products: no prediction over the (possibly very large) synthetic set is needed
        var tstr = Score(onSyn, dReal, maxDop);
        var trtr = Score(onTrain, dReal, maxDop);
        var trts = Score(onTrain, dSyn, maxDop);
        // the same permutations for both forecasters: stream 0 for returns, 1 for volatility
        var permutations = Permutations(dReal.Rows, dReal.Series, repeats, new Philox(seed, (ulong)target));
        var impSyn = Importance(onSyn, dReal, permutations);
        var impTrain = Importance(onTrain, dReal, permutations);
        return new UtilityTaskReport(target, tstr, trtr, trts, MseRatio(tstr.Mse, trtr.Mse), R2Ratio(tstr.R2, trtr.R2), impSyn, impTrain,
            Spearman(impSyn, impTrain));
    }

    /// <summary>
    /// TSTR R² / TRTR R² when the TRTR R² is positive, else NaN: with R²_TRTR ≤ 0 the quotient no longer orders the
    /// forecasters (below 1 would mean better, above 1 worse, and at 0 it is undefined), so a threshold on it would
    /// pass a worse synthetic set; NaN never passes a threshold.
    /// </summary>
    internal static double R2Ratio(double tstr, double trtr) => trtr > 0 ? tstr / trtr : double.NaN;

    /// <summary>
    /// TSTR MSE / TRTR MSE when the TRTR MSE is positive, else NaN: over an exact real forecaster the quotient is +∞ (or
    /// 0/0), not a figure; NaN never passes a threshold, and <see cref="Warnings"/> says why it is null.
    /// </summary>
    internal static double MseRatio(double tstr, double trtr) => trtr > 0 ? tstr / trtr : double.NaN;

    /// <summary>
    /// The report's warnings about <paramref name="utility"/>: one for each target whose <c>mse_ratio</c> is undefined
    /// because the train-on-real forecaster predicts the real holdout exactly (TRTR MSE 0); none otherwise, and none
    /// without a utility section.
    /// </summary>
    internal static IReadOnlyList<string> Warnings(UtilityReport? utility)
    {
        if (utility is null) return [];
        var warnings = new List<string>();
        foreach (var (name, task) in new[] { ("return", utility.Return), ("volatility", utility.Volatility) })
        {
            if (task.Trtr.Mse > 0) continue;
            var what = task.Target == ForecastTarget.Return ? "next-step returns" : "next-step absolute returns";
            warnings.Add($"utility.{name}.mse_ratio is undefined (null): the forecaster fitted on the real train set predicts the real holdout's {what} exactly (TRTR MSE 0, a series that never moves), so there is no ratio to it; compare utility.{name}.tstr.mse itself");
        }
        return warnings;
    }

    /// <summary>
    /// R² and MSE of <paramref name="model"/> on <paramref name="design"/> from its cross products, without predicting
    /// sample by sample: with z = (centred features, centred targets), G = Σ z zᵀ and s = Σ z, the residual of target j is
    /// e = wᵀz + δ with w = (−B_{·j}, unit j) and δ = c_j − offset_j, so Σe² = wᵀGw + 2δ·wᵀs + n·δ², and
    /// Σ(y − ȳ)² = G_jj − s_j²/n.
    /// </summary>
    internal static ForecastScore Score(LinearForecaster model, LaggedDesign design, int maxDop = -1)
    {
        int p = design.Features, d = design.Series, n = design.Rows;
        var g = design.CrossProducts(maxDop);
        var s = design.Sums();
        var offset = model.Offset(design);
        var b = model.Coefficients;
        double r2Sum = 0, sse = 0;
        var gb = new double[p];
        for (var j = 0; j < d; j++)
        {
            var y = p + j;
            // wᵀGw = G_yy − 2·Σ_a B_a G_ay + Σ_ab B_a G_ab B_b
            double quad = g[y, y], ws = s[y];
            for (var a = 0; a < p; a++)
            {
                double acc = 0;
                for (var c = 0; c < p; c++) acc += g[a, c] * b[c, j];
                gb[a] = acc;
            }
            for (var a = 0; a < p; a++)
            {
                quad += (b[a, j] * gb[a]) - (2 * b[a, j] * g[a, y]);
                ws -= b[a, j] * s[a];
            }
            var delta = design.Centre[j] - offset[j];
            var res = Math.Max(0, quad + (2 * delta * ws) + (n * delta * delta));
            var tot = g[y, y] - (s[y] * s[y] / n);
            sse += res;
            r2Sum += tot != 0 ? 1 - (res / tot) : res == 0 ? 1 : 0;
        }
        return new ForecastScore(r2Sum / d, sse / ((double)n * d));
    }

    /// <summary>R² (uniform average over targets, scikit-learn's conventions for constant targets) and MSE of predictions
    /// given as one array per target.</summary>
    internal static ForecastScore Score(LaggedDesign design, double[][] pred) => Score(Targets.Of(design), pred);

    /// <summary>The targets of a design, one array per target, with each target's total sum of squares Σ(y − ȳ)².</summary>
    private sealed record Targets(double[][] Values, double[] Total)
    {
        public static Targets Of(LaggedDesign design)
        {
            var values = Enumerable.Range(0, design.Series).Select(j => design.Gather(-1 - j)).ToArray();
            var total = values.Select(y =>
            {
                var mean = Descriptive.Mean(y);
                double tot = 0;
                foreach (var v in y) tot += (v - mean) * (v - mean);
                return tot;
            }).ToArray();
            return new Targets(values, total);
        }
    }

    private static ForecastScore Score(Targets targets, double[][] pred)
    {
        var d = targets.Total.Length;
        var n = targets.Values[0].Length;
        double r2Sum = 0, sse = 0;
        for (var j = 0; j < d; j++)
        {
            var y = targets.Values[j];
            var pj = pred[j];
            double res = 0;
            for (var r = 0; r < n; r++)
            {
                var e = y[r] - pj[r];
                res += e * e;
            }
            sse += res;
            var tot = targets.Total[j];
            // sklearn (force_finite): a constant target scores 1 when predicted exactly, else 0
            r2Sum += tot != 0 ? 1 - (res / tot) : res == 0 ? 1 : 0;
        }
        return new ForecastScore(r2Sum / d, sse / ((double)n * d));
    }

    /// <summary>One permutation of the n samples per (series, repeat): [series][repeat][sample].</summary>
    internal static int[][][] Permutations(int n, int series, int repeats, Philox rng)
    {
        var result = new int[series][][];
        for (var i = 0; i < series; i++)
        {
            result[i] = new int[repeats][];
            for (var k = 0; k < repeats; k++)
            {
                var p = new int[n];
                for (var r = 0; r < n; r++) p[r] = r;
                rng.Shuffle(p.AsSpan());
                result[i][k] = p;
            }
        }
        return result;
    }

    /// <summary>
    /// Per series i: R² on <paramref name="design"/> minus the mean R² with series i's lagged values taken from sample
    /// <c>permutations[i][k][r]</c> instead of sample r. Only series i's contribution to the predictions changes, so each
    /// permuted prediction is the base prediction minus that contribution plus the permuted one.
    /// </summary>
    internal static double[] Importance(LinearForecaster model, LaggedDesign design, int[][][] permutations)
    {
        int n = design.Rows, d = design.Series;
        var targets = Targets.Of(design);
        var basePred = model.Predict(design);
        var baseline = Score(targets, basePred).R2;
        var result = new double[d];
        var contribution = Enumerable.Range(0, d).Select(_ => new double[n]).ToArray();
        var permuted = Enumerable.Range(0, d).Select(_ => new double[n]).ToArray();
        for (var i = 0; i < d; i++)
        {
            foreach (var c in contribution) Array.Clear(c);
            for (var l = 0; l < design.Lags; l++) model.AddContribution(design, (l * d) + i, contribution);
            double sum = 0;
            foreach (var perm in permutations[i])
            {
                for (var j = 0; j < d; j++)
                {
                    var (b, c, dst) = (basePred[j], contribution[j], permuted[j]);
                    for (var r = 0; r < n; r++) dst[r] = b[r] - c[r] + c[perm[r]];
                }
                sum += Score(targets, permuted).R2;
            }
            result[i] = baseline - (sum / permutations[i].Length);
        }
        return result;
    }

    /// <summary>Spearman's ρ: the Pearson correlation of the average ranks (scipy <c>spearmanr</c>); NaN when either is constant.</summary>
    internal static double Spearman(double[] a, double[] b) =>
        a.Length < 2 ? double.NaN : Descriptive.Correlation(Descriptive.Ranks(a), Descriptive.Ranks(b));
}
