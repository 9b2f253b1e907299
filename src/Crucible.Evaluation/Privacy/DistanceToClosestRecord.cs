using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Distance to closest record (DCR). Every row is standardised with the per-series mean and sample standard
/// deviation (n − 1) fitted on the train set (a zero deviation is replaced by 1); the DCR of a synthetic row is the
/// Euclidean distance to its nearest train row (and, separately, to its nearest holdout row).
/// </summary>
public static class DistanceToClosestRecord
{
    /// <summary>Per-synthetic-row nearest distances to train and to holdout, after standardising with train's statistics.</summary>
    public static (double[] ToTrain, double[] ToHoldout) Distances(SeriesSet synthetic, SeriesSet train, SeriesSet holdout,
        int maxDegreeOfParallelism = -1)
    {
        var search = Search(synthetic, train, holdout, outliers: false, nearestTwo: false, maxDegreeOfParallelism);
        return (search.ToTrain, search.ToHoldout);
    }

    /// <summary>
    /// <see cref="Distances"/> with the standardised rows it searched and what other measures of the evaluator need from
    /// the same searches. With <paramref name="outliers"/>: each train row's distance to the nearest synthetic row, from the
    /// same pass over the synthetic × train pairs (<see cref="NearestNeighbors.MutualNearestSquared"/>), and to the nearest
    /// holdout row (the outlier analysis', <see cref="OutlierRisk"/>). With <paramref name="nearestTwo"/>: each synthetic
    /// row's two smallest squared distances in holdout (and each train row's, with <paramref name="outliers"/>), of which
    /// the nearest distances are the first; the audit's NNDR takes them (<see cref="PrivacyAudit"/>).
    /// </summary>
    internal static DcrSearch Search(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, bool outliers, bool nearestTwo,
        int maxDegreeOfParallelism)
    {
        var d = train.SeriesCount;
        var (mean, sd) = TrainScale(train);
        var s = Standardise(synthetic, mean, sd);
        var t = Standardise(train, mean, sd);
        var h = Standardise(holdout, mean, sd);
        double[] toTrain;
        double[]? trainToSynthetic = null, trainToHoldout = null, synHoldTwo = null, trainHoldTwo = null;
        if (outliers)
        {
            var (synToTrain, trainToSyn) = NearestNeighbors.MutualNearestSquared(s, t, d, maxDegreeOfParallelism);
            (toTrain, trainToSynthetic) = (Root(synToTrain), Root(trainToSyn));
        }
        else
        {
            toTrain = NearestNeighbors.NearestDistances(s, t, d, maxDegreeOfParallelism);
        }
        double[] toHoldout;
        if (nearestTwo && holdout.RowCount >= 2)
        {
            synHoldTwo = NearestNeighbors.KNearestSquared(s, h, d, 2, null, maxDegreeOfParallelism).Squared;
            toHoldout = FirstRoot(synHoldTwo);
            if (outliers)
            {
                trainHoldTwo = NearestNeighbors.KNearestSquared(t, h, d, 2, null, maxDegreeOfParallelism).Squared;
                trainToHoldout = FirstRoot(trainHoldTwo);
            }
        }
        else
        {
            toHoldout = NearestNeighbors.NearestDistances(s, h, d, maxDegreeOfParallelism);
            if (outliers) trainToHoldout = NearestNeighbors.NearestDistances(t, h, d, maxDegreeOfParallelism);
        }
        return new DcrSearch(s, t, h, toTrain, toHoldout, trainToSynthetic, trainToHoldout, synHoldTwo, trainHoldTwo);
    }

    /// <summary>√ of the first of each row's two smallest squared distances (row-major m × 2): the nearest distance, the
    /// bits <see cref="NearestNeighbors.NearestDistances"/> gives.</summary>
    internal static double[] FirstRoot(double[] twoSmallest)
    {
        var nearest = new double[twoSmallest.Length / 2];
        for (var i = 0; i < nearest.Length; i++) nearest[i] = Math.Sqrt(twoSmallest[2 * i]);
        return nearest;
    }

    private static double[] Root(double[] squared)
    {
        for (var i = 0; i < squared.Length; i++) squared[i] = Math.Sqrt(squared[i]);
        return squared;
    }

    /// <summary>
    /// DCR over flattened windows (METRICS.md: "each synthetic row (or flattened window)"): every synthetic path must
    /// have <paramref name="window"/> rows; train and holdout contribute every window of that length, stride 1, inside
    /// each of their paths. Rows are standardised with train's per-series statistics as in <see cref="Distances"/>,
    /// then a window is the vector (z_{s,1..D}, z_{s+1,1..D}, …, z_{s+W−1,1..D}) and distances are Euclidean over W·D.
    /// </summary>
    public static (double[] ToTrain, double[] ToHoldout) WindowDistances(SeriesSet synthetic, SeriesSet train, SeriesSet holdout,
        int window, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var (toTrain, toHoldout, _) = ScaledWindowDistances(synthetic, train, holdout, window, TrainScale(train), null, maxDegreeOfParallelism);
        return (toTrain, toHoldout);
    }

    // WindowDistances with the rows standardised by `scale` (the statistics of the train rows the privacy section measures);
    // with `draw` (a limit and the evaluation's seed), at most that many windows of each set, drawn uniformly without
    // replacement in their order (PrivacySubsample.Draw, children TrainWindows, HoldoutWindows, SyntheticWindows), and the
    // windows of each set and how many were drawn
    internal static (double[] ToTrain, double[] ToHoldout, WindowSubsampleCounts? Counts) ScaledWindowDistances(SeriesSet synthetic, SeriesSet train,
        SeriesSet holdout, int window, (double[] Mean, double[] Sd) scale, (int Limit, ulong Seed)? draw, int maxDegreeOfParallelism)
    {
        var d = train.SeriesCount;
        var (mean, sd) = scale;
        Func<int, int[]>? Pick(PrivacySubsample.Draws child) =>
            draw is { } x ? total => PrivacySubsample.Draw(total, x.Limit, PrivacySubsample.Generator(x.Seed, child)) : null;
        var s = Flatten(synthetic, Standardise(synthetic, mean, sd), window, onePerPath: true, Pick(PrivacySubsample.Draws.SyntheticWindows));
        var t = Flatten(train, Standardise(train, mean, sd), window, onePerPath: false, Pick(PrivacySubsample.Draws.TrainWindows));
        var h = Flatten(holdout, Standardise(holdout, mean, sd), window, onePerPath: false, Pick(PrivacySubsample.Draws.HoldoutWindows));
        var counts = draw is null ? null : new WindowSubsampleCounts(t.Count, h.Count, s.Count);
        return (NearestNeighbors.NearestDistances(s.Flat, t.Flat, window * d, maxDegreeOfParallelism),
            NearestNeighbors.NearestDistances(s.Flat, h.Flat, window * d, maxDegreeOfParallelism), counts);
    }

    /// <summary>The common length of the synthetic paths when every path has the same length ≥ 2, else 0.</summary>
    public static int CommonPathLength(SeriesSet synthetic)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        if (synthetic.ScenarioIds is null) return 0;
        var paths = synthetic.PathRows();
        var w = paths[0].Length;
        foreach (var p in paths)
        {
            if (p.Length != w) return 0;
        }
        return w >= 2 ? w : 0;
    }

    // windows of `window` rows, flattened row after row: one per path (synthetic) or every start, stride 1 (real), in
    // order; with `pick`, only the windows at the increasing indices it gives for their number; and that number and how many were kept
    private static (double[] Flat, SubsampleCount Count) Flatten(SeriesSet set, double[] z, int window, bool onePerPath, Func<int, int[]>? pick)
    {
        var d = set.SeriesCount;
        var paths = set.PathRows();
        var windows = new List<(int Path, int Start)>();
        for (var p = 0; p < paths.Count; p++)
        {
            var path = paths[p];
            if (onePerPath)
            {
                if (path.Length != window) throw new ArgumentException($"a synthetic path has {path.Length} rows, not {window}", nameof(set));
                windows.Add((p, 0));
                continue;
            }
            for (var s = 0; s + window <= path.Length; s++) windows.Add((p, s));
        }
        var chosen = pick?.Invoke(windows.Count);
        var count = chosen?.Length ?? windows.Count;
        var flat = new double[count * window * d];
        for (var i = 0; i < count; i++)
        {
            var (p, start) = windows[chosen is null ? i : chosen[i]];
            var rows = paths[p];
            for (var k = 0; k < window; k++) z.AsSpan(rows[start + k] * d, d).CopyTo(flat.AsSpan(((i * window) + k) * d, d));
        }
        return (flat, new SubsampleCount(windows.Count, count));
    }

    /// <summary>
    /// Summary of the distances: medians, the 5th percentile to train (numpy linear interpolation), and the share of
    /// synthetic rows strictly closer to train than to holdout.
    /// </summary>
    public static PrivacyReport Summarise(double[] toTrain, double[] toHoldout)
    {
        var sorted = (double[])toTrain.Clone();
        Array.Sort(sorted);
        var closer = 0;
        for (var i = 0; i < toTrain.Length; i++)
        {
            if (toTrain[i] < toHoldout[i]) closer++;
        }
        return new PrivacyReport(
            Descriptive.Median(toTrain),
            Descriptive.SortedPercentile(sorted, 5),
            Descriptive.Median(toHoldout),
            toTrain.Length == 0 ? double.NaN : (double)closer / toTrain.Length);
    }

    internal static (double[] Mean, double[] Sd) TrainScale(SeriesSet train)
    {
        var d = train.SeriesCount;
        var mean = new double[d];
        var sd = new double[d];
        for (var i = 0; i < d; i++)
        {
            mean[i] = Descriptive.Mean(train.Columns[i]);
            sd[i] = Descriptive.StandardDeviation(train.Columns[i]);
            if (sd[i] == 0 || double.IsNaN(sd[i])) sd[i] = 1;
        }
        return (mean, sd);
    }

    private static double[] Standardise(SeriesSet set, double[] mean, double[] sd)
    {
        var d = set.SeriesCount;
        var n = set.RowCount;
        var z = new double[n * d];
        for (var i = 0; i < d; i++)
        {
            var col = set.Columns[i];
            for (var t = 0; t < n; t++) z[t * d + i] = (col[t] - mean[i]) / sd[i];
        }
        return z;
    }
}

/// <summary>
/// What <see cref="DistanceToClosestRecord.Search"/> measured: the rows of the three sets standardised with train's
/// statistics (row-major), each synthetic row's distance to the nearest train and holdout row, and, when asked for, each
/// train row's distance to the nearest synthetic and holdout row, and the two smallest squared distances (row-major × 2)
/// of each synthetic and train row in holdout.
/// </summary>
internal sealed record DcrSearch(double[] Synthetic, double[] Train, double[] Holdout, double[] ToTrain, double[] ToHoldout,
    double[]? TrainToSynthetic, double[]? TrainToHoldout, double[]? SyntheticHoldoutTwo, double[]? TrainHoldoutTwo);
