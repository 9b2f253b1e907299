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
        var d = train.SeriesCount;
        var mean = new double[d];
        var sd = new double[d];
        for (var i = 0; i < d; i++)
        {
            mean[i] = Descriptive.Mean(train.Columns[i]);
            sd[i] = Descriptive.StandardDeviation(train.Columns[i]);
            if (sd[i] == 0 || double.IsNaN(sd[i])) sd[i] = 1;
        }
        var s = Standardise(synthetic, mean, sd);
        var t = Standardise(train, mean, sd);
        var h = Standardise(holdout, mean, sd);
        return (NearestNeighbors.NearestDistances(s, t, d, maxDegreeOfParallelism),
            NearestNeighbors.NearestDistances(s, h, d, maxDegreeOfParallelism));
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
