using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Privacy;

/// <summary>The risk of one isolated train record (no values, only its row number and distances).</summary>
/// <param name="TrainRow">0-based row of the record in the train set.</param>
/// <param name="Isolation">Distance to its nearest other train record (standardised with train's statistics).</param>
/// <param name="DcrSynthetic">Distance to its nearest synthetic row.</param>
/// <param name="DcrHoldout">Distance to its nearest holdout row.</param>
/// <param name="DcrRatio">DcrSynthetic / DcrHoldout: below 1, the synthetic data comes closer to the record than any real record the generator did not see.</param>
/// <param name="MembershipScore">The DOMIAS score log p_G(x) − log p_R(x) at the record.</param>
/// <param name="ScorePercentile">Share of the attack's holdout (non-member) scores below the record's: near 1, the record stands out as a member.</param>
public sealed record OutlierRecordRisk(int TrainRow, double Isolation, double DcrSynthetic, double DcrHoldout, double DcrRatio,
    double MembershipScore, double ScorePercentile);

/// <summary>Per-record risk of the most isolated train records (RELIABILITY.md PRIV-8).</summary>
/// <param name="Fraction">The share of train records examined (0.01).</param>
/// <param name="MedianRatioOutliers">Median DCR ratio of the isolated records.</param>
/// <param name="MedianRatioAll">Median DCR ratio of all train records (the reference).</param>
/// <param name="ShareRatioBelowOne">Share of isolated records with a ratio below 1.</param>
/// <param name="MedianScorePercentile">Median score percentile of the isolated records (0.5 for a non-leaking generator).</param>
/// <param name="MaxScorePercentile">Highest score percentile among them.</param>
/// <param name="Records">Each isolated record, most isolated first.</param>
public sealed record OutlierRiskReport(double Fraction, double MedianRatioOutliers, double MedianRatioAll, double ShareRatioBelowOne,
    double MedianScorePercentile, double MaxScorePercentile, IReadOnlyList<OutlierRecordRisk> Records);

/// <summary>
/// The most isolated train records are the most exposed (Stadler et al. 2022; LOGAN): for the top
/// <c>fraction</c> (at least one) by distance to their nearest other train record, the distances to the synthetic
/// and holdout sets and the DOMIAS membership score, ranked against the holdout rows' scores. Distances are in the
/// space standardised with train's mean and sample standard deviation, as for DCR.
/// </summary>
public static class OutlierRisk
{
    // the share of train records examined by default
    internal const double DefaultFraction = 0.01;

    /// <summary>Runs the analysis; the DOMIAS split uses the same seed as <see cref="MembershipInference.Domias(SeriesSet, SeriesSet, SeriesSet, ulong, int, int)"/>.</summary>
    public static OutlierRiskReport Run(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed = 0, double fraction = DefaultFraction,
        int maxSynthetic = 5000, int maxDegreeOfParallelism = -1) =>
        Run(synthetic, train, holdout, seed, fraction, maxSynthetic, maxDegreeOfParallelism, null, null, null);

    // Run; domias: the attack fitted by the caller for the same seed and maxSynthetic (the evaluator's, shared with
    // MembershipInference.Domias), else fitted here; trainToSynthetic: each train row's distance to the nearest synthetic
    // row when the caller has it (the DCR's search, DistanceToClosestRecord.Search, on rows standardised as these: train's
    // mean and sample deviation, a zero deviation as 1), else searched here; trainToHoldout: the same for the nearest holdout row
    internal static OutlierRiskReport Run(SeriesSet synthetic, SeriesSet train, SeriesSet holdout, ulong seed, double fraction,
        int maxSynthetic, int maxDegreeOfParallelism, DomiasFit? domias, double[]? trainToSynthetic, double[]? trainToHoldout)
    {
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(holdout);
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction));
        if (train.RowCount < 2) throw new ArgumentException("isolation needs at least 2 train rows");
        if (MembershipInference.WhyNot(synthetic, train, holdout, seed, maxSynthetic) is { } why) throw new ArgumentException(why);
        var d = train.SeriesCount;
        var trainRows = MembershipInference.Rows(train);
        var (mean, sd) = AttackRows.Scale(trainRows, d);
        var t = AttackRows.Standardise(trainRows, d, mean, sd);
        var s = AttackRows.Standardise(MembershipInference.Rows(synthetic), d, mean, sd);
        var h = AttackRows.Standardise(MembershipInference.Rows(holdout), d, mean, sd);
        var n = train.RowCount;
        var toSynthetic = trainToSynthetic ?? NearestNeighbors.NearestDistances(t, s, d, maxDegreeOfParallelism);
        var toHoldout = trainToHoldout ?? NearestNeighbors.NearestDistances(t, h, d, maxDegreeOfParallelism);
        var ratio = new double[n];
        for (var i = 0; i < n; i++) ratio[i] = toSynthetic[i] / Math.Max(toHoldout[i], 1e-12);

        var count = Math.Max(1, (int)Math.Ceiling(fraction * n));
        // the count rows farthest from their nearest other train row (ties: the lower row), without measuring every row's
        var (top, isolation) = AttackRows.MostIsolated(t, d, count, maxDegreeOfParallelism);
        domias ??= MembershipInference.Fit(synthetic, train, holdout, seed, maxSynthetic, maxDegreeOfParallelism);
        var scores = domias.Score(MembershipInference.Take(trainRows, top, d));
        var sortedNon = (double[])domias.NonMemberScores.Clone();
        Array.Sort(sortedNon);
        var records = top.Select((row, k) => new OutlierRecordRisk(row, isolation[k], toSynthetic[row], toHoldout[row], ratio[row],
            scores[k], BelowShare(sortedNon, scores[k]))).ToArray();
        return new OutlierRiskReport(fraction, Descriptive.Median(records.Select(r => r.DcrRatio).ToArray()), Descriptive.Median(ratio),
            (double)records.Count(r => r.DcrRatio < 1) / count, Descriptive.Median(records.Select(r => r.ScorePercentile).ToArray()),
            records.Max(r => r.ScorePercentile), records);
    }

    // share of sorted values strictly below x, ties counting half
    private static double BelowShare(double[] sorted, double x)
    {
        if (sorted.Length == 0) return double.NaN;
        int below = 0, equal = 0;
        foreach (var v in sorted)
        {
            if (v < x) below++;
            else if (v.Equals(x)) equal++;
        }

        return (below + (0.5 * equal)) / sorted.Length;
    }
}
