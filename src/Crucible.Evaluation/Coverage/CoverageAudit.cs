using Crucible.Data;
using Crucible.Data.Segments;
using Crucible.Evaluation.Risk;
using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Coverage;

/// <summary>
/// One tail level p of a segment: the real p-quantile of the segment's returns (the threshold), the share of real and
/// of synthetic events strictly below it, and ES at α = 1 − p of each set (mean of the ⌈n·p⌉ largest losses).
/// </summary>
/// <param name="Level">p, e.g. 0.01.</param>
/// <param name="Threshold">The real p-quantile (numpy's linear interpolation) of the segment's returns.</param>
/// <param name="TailFrequency">Share of events below <paramref name="Threshold"/>: [real, synthetic].</param>
/// <param name="Es">Expected shortfall at α = 1 − p as a positive loss: [real, synthetic].</param>
/// <param name="UnderStressed">Synthetic frequency or ES below (1 − tolerance) × the real one.</param>
public sealed record CoverageLevel(double Level, double Threshold, Pair TailFrequency, Pair Es, bool UnderStressed);

/// <summary>The coverage of one segment (dimension and label) by the synthetic set.</summary>
/// <param name="Dimension">The dimension, e.g. <c>asset_class</c>.</param>
/// <param name="Segment">The label, e.g. <c>equity</c>.</param>
/// <param name="Series">The member series, in column order.</param>
/// <param name="RealEvents">Real events (rows or horizon windows) of the segment.</param>
/// <param name="SyntheticEvents">Synthetic events.</param>
/// <param name="Levels">One entry per tail level (1 % and 5 %).</param>
public sealed record SegmentCoverage(string Dimension, string Segment, string[] Series, int RealEvents, int SyntheticEvents, IReadOnlyList<CoverageLevel> Levels)
{
    /// <summary>Whether any level is under-stressed.</summary>
    public bool UnderStressed => Levels.Any(l => l.UnderStressed);
}

/// <summary>The coverage audit of every declared segment; see <see cref="CoverageAudit"/>.</summary>
/// <param name="Tolerance">The declared relative tolerance of the under-stress flag.</param>
/// <param name="Horizon">Steps per event: 1 (rows), or the common synthetic path length H (H-step windows).</param>
/// <param name="Segments">Dimension by dimension (file order), segments in ordinal label order.</param>
/// <param name="Unassigned">Per dimension, the series it does not declare (they are in none of its segments).</param>
public sealed record CoverageReport(double Tolerance, int Horizon, IReadOnlyList<SegmentCoverage> Segments, IReadOnlyList<KeyValuePair<string, string[]>> Unassigned)
{
    /// <summary>
    /// The dimensions of the file that declare none of the data's series (a segments file may serve several data sets),
    /// each with the series names it declares, in file order: they have no segment in the audit.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string[]>> Ignored { get; init; } = [];

    /// <summary>One warning per ignored dimension, naming it and the series it declares that the data lacks.</summary>
    public IReadOnlyList<string> Warnings => [.. Ignored.Select(i =>
        $"segment dimension '{i.Key}' names none of the data's series ({string.Join(", ", i.Value)}): it is not audited")];

    /// <summary>The under-stressed segments.</summary>
    public IReadOnlyList<SegmentCoverage> UnderStressed => [.. Segments.Where(s => s.UnderStressed)];
}

/// <summary>
/// Scenario coverage per declared market segment (fairness and coverage, issue #9): does the generator stress every
/// segment as often and as hard as history did? For each segment g of each dimension, the segment's equal-weight
/// portfolio log return log((1/n_g) Σ_{i∈g} exp r_i) is computed per step, and summed over H steps per event (H = 1
/// for rows; H = the synthetic paths' common length for scenario sets, whose real counterpart is every H-step window of
/// each real path, stride 1). At each level p ∈ {1 %, 5 %} the real p-quantile q_p is the threshold; the audit reports
/// the share of real and synthetic events below q_p and the ES at α = 1 − p of both, and flags the segment as
/// under-stressed when, at some level, the synthetic frequency &lt; (1 − tolerance) × the real frequency or the
/// synthetic ES &lt; (1 − tolerance) × the real ES (ES compared when the real ES is a loss, &gt; 0).
/// </summary>
public static class CoverageAudit
{
    /// <summary>The tail levels p of the audit: the real 1 % and 5 % quantiles.</summary>
    public static IReadOnlyList<double> Levels { get; } = [0.01, 0.05];

    /// <summary>Runs the audit of <paramref name="synthetic"/> against <paramref name="real"/> over the segments of <paramref name="map"/>.</summary>
    /// <param name="real">The real returns (validated by the caller).</param>
    /// <param name="synthetic">The synthetic returns, same series in the same order.</param>
    /// <param name="map">The declared segments.</param>
    /// <param name="tolerance">Overrides <see cref="SegmentMap.Tolerance"/> when given.</param>
    /// <exception cref="InvalidInputException"><c>SEG-E-NONE</c> when no dimension declares any of the series.</exception>
    public static CoverageReport Run(SeriesSet real, SeriesSet synthetic, SegmentMap map, double? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentNullException.ThrowIfNull(map);
        double tol = tolerance ?? map.Tolerance;
        if (!(tol is > 0 and < 1)) throw new InvalidInputException("invalid-option", "the coverage tolerance must be in (0, 1)");
        var (syntheticPaths, horizon) = SyntheticEvents(synthetic);
        var realPaths = real.PathRows();
        var segments = new List<SegmentCoverage>();
        var unassigned = new List<KeyValuePair<string, string[]>>();
        var ignored = new List<KeyValuePair<string, string[]>>();
        foreach (var dimension in map.Dimensions)
        {
            var groups = dimension.SegmentsOf(real.Names);
            if (groups.Count == 0)
            {
                ignored.Add(new(dimension.Name, [.. dimension.Labels.Select(l => l.Key)]));
                continue;
            }

            unassigned.Add(new(dimension.Name, [.. dimension.Unassigned(real.Names)]));
            foreach (var (label, members) in groups)
            {
                var r = RealEvents(real, realPaths, members, horizon);
                var s = PathSums(synthetic, syntheticPaths, members);
                if (r.Length == 0)
                    throw new InvalidInputException("too-few-rows", $"the real set has no path of {horizon} steps for the coverage audit's {horizon}-step events");
                segments.Add(new SegmentCoverage(dimension.Name, label, [.. members.Select(i => real.Names[i])], r.Length, s.Length,
                    [.. Levels.Select(p => Level(r, s, p, tol))]));
            }
        }

        if (segments.Count == 0)
            throw new InvalidInputException("SEG-E-NONE", $"the segments file declares none of the series ({string.Join(", ", real.Names)})");
        return new CoverageReport(tol, horizon, segments, unassigned) { Ignored = ignored };
    }

    /// <summary>The level-p statistics of real events <paramref name="real"/> and synthetic events <paramref name="synthetic"/>.</summary>
    internal static CoverageLevel Level(double[] real, double[] synthetic, double p, double tolerance)
    {
        var sortedR = (double[])real.Clone();
        var sortedS = (double[])synthetic.Clone();
        Array.Sort(sortedR);
        Array.Sort(sortedS);
        double threshold = Descriptive.SortedPercentile(sortedR, 100 * p);
        var frequency = new Pair(Below(sortedR, threshold), Below(sortedS, threshold));
        var es = new Pair(RiskMeasures.ValueAtRiskAndExpectedShortfallSorted(sortedR, 1 - p).ES,
            RiskMeasures.ValueAtRiskAndExpectedShortfallSorted(sortedS, 1 - p).ES);
        bool under = frequency.Synthetic < (1 - tolerance) * frequency.Real
            || (es.Real > 0 && es.Synthetic < (1 - tolerance) * es.Real);
        return new CoverageLevel(p, threshold, frequency, es, under);
    }

    // share of sorted values strictly below x
    private static double Below(double[] sorted, double x)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < x) lo = mid + 1;
            else hi = mid;
        }

        return (double)lo / sorted.Length;
    }

    // synthetic events: whole paths when every path has one length (scenario sets), else every row
    private static (IReadOnlyList<int[]> Paths, int Horizon) SyntheticEvents(SeriesSet synthetic)
    {
        var paths = synthetic.PathRows();
        if (synthetic.ScenarioIds is not null && paths.All(p => p.Length == paths[0].Length))
            return (paths, paths[0].Length);
        return ([.. Enumerable.Range(0, synthetic.RowCount).Select(t => new[] { t })], 1);
    }

    private static double[] PathSums(SeriesSet set, IReadOnlyList<int[]> paths, int[] members)
    {
        var result = new double[paths.Count];
        for (int k = 0; k < paths.Count; k++)
        {
            var steps = SegmentReturns(set, paths[k], members);
            double sum = 0;
            foreach (var v in steps) sum += v;
            result[k] = sum;
        }

        return result;
    }

    // every H-step window (stride 1) of every real path; H = 1 gives every row
    private static double[] RealEvents(SeriesSet real, IReadOnlyList<int[]> paths, int[] members, int horizon)
    {
        var events = new List<double>();
        foreach (var rows in paths)
        {
            var steps = SegmentReturns(real, rows, members);
            for (int start = 0; start + horizon <= steps.Length; start++) events.Add(WindowSum(steps, start, horizon));
        }

        return [.. events];
    }

    // the sum of steps[start .. start + length), in step order (as a synthetic path's sum)
    private static double WindowSum(double[] steps, int start, int length)
    {
        double sum = 0;
        for (int t = start; t < start + length; t++) sum += steps[t];
        return sum;
    }

    private static double[] SegmentReturns(SeriesSet set, int[] rows, int[] members)
    {
        var columns = members.Select(i => set.Gather(i, rows)).ToArray();
        var weights = Enumerable.Repeat(1.0 / members.Length, members.Length).ToArray();
        return RiskMeasures.PortfolioLogReturns(columns, weights);
    }
}
