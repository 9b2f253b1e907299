using Crucible.Data.Statistics;

namespace Crucible.Evaluation.Risk;

/// <summary>The Basel traffic-light zone of a 250-day, 99 % VaR backtest.</summary>
public enum TrafficLight
{
    /// <summary>0–4 exceptions.</summary>
    Green,

    /// <summary>5–9 exceptions.</summary>
    Yellow,

    /// <summary>10 or more exceptions.</summary>
    Red,
}

/// <summary>The outcome of a VaR backtest: exceptions are days whose loss −r exceeds the VaR.</summary>
public sealed record VarBacktestResult(int Observations, int Exceptions, double KupiecStatistic, double KupiecPValue, TrafficLight Zone);

/// <summary>
/// VaR backtests (METRICS.md): Kupiec's proportion-of-failures test and the Basel traffic light.
/// </summary>
public static class VarBacktest
{
    /// <summary>
    /// Backtests a constant VaR (a positive loss level) on <paramref name="returns"/>: an exception is a loss −r strictly
    /// above <paramref name="valueAtRisk"/>. The zone uses the Basel 250-day, 99 % thresholds whatever the length.
    /// </summary>
    public static VarBacktestResult Run(ReadOnlySpan<double> returns, double valueAtRisk, double alpha)
    {
        var exceptions = 0;
        foreach (var r in returns)
        {
            if (-r > valueAtRisk) exceptions++;
        }
        var lr = KupiecStatistic(exceptions, returns.Length, alpha);
        return new VarBacktestResult(returns.Length, exceptions, lr, ChiSquareOneSurvival(lr), Zone(exceptions));
    }

    /// <summary>
    /// Kupiec's likelihood ratio LR = −2 ln[(1−p)^(T−x) p^x] + 2 ln[(1−x/T)^(T−x) (x/T)^x] with p = 1 − α, x exceptions in
    /// T observations (0·ln 0 taken as 0); asymptotically χ² with one degree of freedom. NaN when T = 0.
    /// </summary>
    public static double KupiecStatistic(int exceptions, int observations, double alpha)
    {
        if (observations <= 0) return double.NaN;
        var p = 1 - alpha;
        double x = exceptions, t = observations;
        var phat = x / t;
        double XLogY(double a, double b) => a == 0 ? 0 : a * Math.Log(b);
        var logNull = XLogY(t - x, 1 - p) + XLogY(x, p);
        var logAlt = XLogY(t - x, 1 - phat) + XLogY(x, phat);
        return Math.Max(0, -2 * (logNull - logAlt));
    }

    /// <summary>Basel zone for a count of exceptions in 250 days at 99 %: green 0–4, yellow 5–9, red ≥ 10.</summary>
    public static TrafficLight Zone(int exceptions) => exceptions <= 4 ? TrafficLight.Green : exceptions <= 9 ? TrafficLight.Yellow : TrafficLight.Red;

    /// <summary>P(χ²₁ &gt; x) = erfc(√(x/2)) (scipy <c>chi2.sf(x, 1)</c>); 1 for x ≤ 0, NaN for NaN.</summary>
    public static double ChiSquareOneSurvival(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        return x <= 0 ? 1.0 : NormalDistribution.Erfc(Math.Sqrt(x / 2));
    }
}
