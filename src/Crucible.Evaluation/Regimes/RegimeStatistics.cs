using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Regimes;

/// <summary>
/// Volatility regimes of the portfolio path.
/// </summary>
/// <remarks>
/// Definition: the portfolio log return of a step is p_t = log Σ_i w_i·exp(r_{t,i}) (equal weights unless given);
/// its realised volatility v_t is the sample standard deviation (n − 1) of p over the trailing window of
/// <c>window</c> steps ending at t, defined for every full window inside one path (windows never cross scenarios).
/// A step is <em>stressed</em> when v_t is strictly above the threshold, the <c>percentile</c>-th percentile (numpy
/// linear interpolation) of v over all full windows of the fitting set (the train set when given, else the real set),
/// and <em>calm</em> otherwise; a window holding a wiped-out step (a NaN log return) is stressed. Reported per set: the share of stressed steps, and the transition frequencies
/// P(stressed at t+1 | calm at t) and P(calm at t+1 | stressed at t), counted over consecutive steps within each path
/// and pooled over paths (NaN when a state never occurs before the last step, and for a set whose paths are no longer
/// than the window, which have no two consecutive windows: <see cref="WhyNoTransitions"/> gives the reason the report
/// carries).
/// </remarks>
public static class RegimeStatistics
{
    /// <summary>Trailing-window sample standard deviations v_t, t = window−1 .. n−1 (empty when n &lt; window).</summary>
    public static double[] RollingVolatility(ReadOnlySpan<double> x, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 2);
        if (x.Length < window) return [];
        var result = new double[x.Length - window + 1];
        for (var t = 0; t < result.Length; t++) result[t] = Descriptive.StandardDeviation(x.Slice(t, window));
        return result;
    }

    /// <summary>The stressed-regime threshold: the percentile of the rolling volatilities of the fitting paths.</summary>
    public static double FitThreshold(IReadOnlyList<double[]> portfolioPaths, int window, double percentile)
    {
        var all = portfolioPaths.SelectMany(p => RollingVolatility(p, window)).ToArray();
        return Descriptive.Percentile(all, percentile);
    }

    /// <summary>
    /// Why <see cref="Summarise"/> can count no transition in <paramref name="set"/>'s paths, or null when it can: a
    /// transition needs two consecutive full windows inside one path, so a path of n steps gives n − window of them, none
    /// when every path is at most <paramref name="window"/> steps long (H-step scenarios with an H-step window). Then
    /// P(calm → stressed) and P(stressed → calm) are undefined for the set (NaN, null in report.json) whatever the data,
    /// and the reason says so, with the longest path and a window that would count transitions.
    /// </summary>
    /// <param name="set">The set's name in the reason ("real", "synthetic").</param>
    /// <param name="portfolioPaths">The set's portfolio paths.</param>
    /// <param name="window">The regime window (steps).</param>
    public static string? WhyNoTransitions(string set, IReadOnlyList<double[]> portfolioPaths, int window)
    {
        ArgumentNullException.ThrowIfNull(portfolioPaths);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 2);
        int longest = portfolioPaths.Count == 0 ? 0 : portfolioPaths.Max(p => p.Length);
        if (longest > window) return null;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string steps = longest == 1 ? "1 step" : string.Create(inv, $"{longest} steps");
        // the largest window ≥ 2 that leaves at least as many transitions as windows in the longest path: ⌊n/2⌋
        string fix = longest >= 4
            ? string.Create(inv, $"; a regime window of {longest / 2} steps (half the path) counts {longest - longest / 2} transitions a path")
            : string.Create(inv, $"; paths of {steps} are too short for any regime window (2 steps at least) to count a transition");
        return longest == window
            ? string.Create(inv, $"no regime transition can be counted in the {set} set: its paths have at most {longest} steps, the regime window, so each has one full window and no two consecutive ones; calm_to_stressed and stressed_to_calm are undefined (null) for it, and its high_vol_share is one window a path{fix}")
            : string.Create(inv, $"no regime can be measured in the {set} set: its paths have at most {steps}, fewer than the regime window of {window}, so none has a full window; high_vol_share, calm_to_stressed and stressed_to_calm are undefined (null) for it{fix}");
    }

    /// <summary>Share of stressed steps and the two transition frequencies for a set of portfolio paths; all three NaN for a
    /// NaN <paramref name="threshold"/> (<see cref="FitThreshold"/> of paths without a full window).</summary>
    public static (double HighVolatilityShare, double CalmToStressed, double StressedToCalm) Summarise(
        IReadOnlyList<double[]> portfolioPaths, int window, double threshold)
    {
        // no threshold (a fitting set without a full window): no step is calm or stressed, rather than every step calm
        if (double.IsNaN(threshold)) return (double.NaN, double.NaN, double.NaN);
        long steps = 0, stressedSteps = 0, calm = 0, stressed = 0, c2s = 0, s2c = 0;
        foreach (var path in portfolioPaths)
        {
            var v = RollingVolatility(path, window);
            for (var t = 0; t < v.Length; t++)
            {
                // a window holding a wiped-out step (NaN log return, so NaN volatility) is stressed: the most stressed outcome
                var s = v[t] > threshold || double.IsNaN(v[t]);
                steps++;
                if (s) stressedSteps++;
                if (t + 1 >= v.Length) continue;
                var next = v[t + 1] > threshold || double.IsNaN(v[t + 1]);
                if (s)
                {
                    stressed++;
                    if (!next) s2c++;
                }
                else
                {
                    calm++;
                    if (next) c2s++;
                }
            }
        }
        return (steps == 0 ? double.NaN : (double)stressedSteps / steps,
            calm == 0 ? double.NaN : (double)c2s / calm,
            stressed == 0 ? double.NaN : (double)s2c / stressed);
    }
}
