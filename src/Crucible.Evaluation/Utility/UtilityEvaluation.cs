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
/// for MSE, below 1 for R², is worse). Importances are per series, on the real holdout, for the TSTR and TRTR
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
    /// <summary>Both targets' utility. Every set needs more than <paramref name="lags"/> + 1 rows in some path.</summary>
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
        var dTrain = LaggedDesign.Build(train, lags, target);
        var dSyn = LaggedDesign.Build(synthetic, lags, target);
        var dReal = LaggedDesign.Build(real, lags, target);
        counts = (dSyn.Rows, dTrain.Rows, dReal.Rows);
        if (WhyNot(train, synthetic, real, lags) is { } reason) throw new InvalidInputException("too-few-rows", reason);
        var onSyn = LinearForecaster.Fit(dSyn, maxDop);
        var onTrain = LinearForecaster.Fit(dTrain, maxDop);
        var tstr = Score(dReal, onSyn.Predict(dReal));
        var trtr = Score(dReal, onTrain.Predict(dReal));
        var trts = Score(dSyn, onTrain.Predict(dSyn));
        // the same permutations for both forecasters: stream 0 for returns, 1 for volatility
        var permutations = Permutations(dReal.Rows, dReal.Series, repeats, new Philox(seed, (ulong)target));
        var impSyn = Importance(onSyn, dReal, permutations);
        var impTrain = Importance(onTrain, dReal, permutations);
        return new UtilityTaskReport(target, tstr, trtr, trts, tstr.Mse / trtr.Mse, tstr.R2 / trtr.R2, impSyn, impTrain,
            Spearman(impSyn, impTrain));
    }

    /// <summary>R² (uniform average over targets, scikit-learn's conventions for constant targets) and MSE of predictions.</summary>
    internal static ForecastScore Score(LaggedDesign design, double[] pred) => Score(Targets(design), pred);

    private static double[][] Targets(LaggedDesign design) => Enumerable.Range(0, design.Series).Select(j => design.Gather(-1 - j)).ToArray();

    private static ForecastScore Score(double[][] targets, double[] pred)
    {
        int d = targets.Length, n = targets[0].Length;
        double r2Sum = 0, sse = 0;
        for (var j = 0; j < d; j++)
        {
            var y = targets[j];
            var mean = Descriptive.Mean(y);
            double res = 0, tot = 0;
            for (var r = 0; r < n; r++)
            {
                var e = y[r] - pred[(r * d) + j];
                res += e * e;
                var c = y[r] - mean;
                tot += c * c;
            }
            sse += res;
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
        var targets = Targets(design);
        var basePred = model.Predict(design);
        var baseline = Score(targets, basePred).R2;
        var result = new double[d];
        var contribution = new double[n * d];
        var permuted = new double[n * d];
        for (var i = 0; i < d; i++)
        {
            Array.Clear(contribution);
            for (var l = 0; l < design.Lags; l++) model.AddContribution(design, (l * d) + i, contribution, 1.0);
            double sum = 0;
            foreach (var perm in permutations[i])
            {
                for (var r = 0; r < n; r++)
                {
                    var src = perm[r] * d;
                    var row = r * d;
                    for (var j = 0; j < d; j++) permuted[row + j] = basePred[row + j] - contribution[row + j] + contribution[src + j];
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
