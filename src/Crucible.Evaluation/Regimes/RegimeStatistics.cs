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
/// and <em>calm</em> otherwise. Reported per set: the share of stressed steps, and the transition frequencies
/// P(stressed at t+1 | calm at t) and P(calm at t+1 | stressed at t), counted over consecutive steps within each path
/// and pooled over paths (NaN when a state never occurs before the last step).
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

    /// <summary>Share of stressed steps and the two transition frequencies for a set of portfolio paths.</summary>
    public static (double HighVolatilityShare, double CalmToStressed, double StressedToCalm) Summarise(
        IReadOnlyList<double[]> portfolioPaths, int window, double threshold)
    {
        long steps = 0, stressedSteps = 0, calm = 0, stressed = 0, c2s = 0, s2c = 0;
        foreach (var path in portfolioPaths)
        {
            var v = RollingVolatility(path, window);
            for (var t = 0; t < v.Length; t++)
            {
                var s = v[t] > threshold;
                steps++;
                if (s) stressedSteps++;
                if (t + 1 >= v.Length) continue;
                var next = v[t + 1] > threshold;
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
