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
/// Christoffersen's (1998) tests on a sequence of exception indicators: independence (a first-order Markov chain of
/// exceptions against an i.i.d. one) and conditional coverage (Kupiec's POF plus independence).
/// </summary>
/// <param name="Transitions">n00, n01, n10, n11: day-to-day transitions (no exception → exception is n01), over T − 1 pairs.</param>
/// <param name="IndependenceStatistic">LR_ind, asymptotically χ²(1).</param>
/// <param name="IndependencePValue">P(χ²₁ &gt; LR_ind).</param>
/// <param name="ConditionalCoverageStatistic">LR_cc = LR_pof + LR_ind, asymptotically χ²(2).</param>
/// <param name="ConditionalCoveragePValue">P(χ²₂ &gt; LR_cc) = e^{−LR_cc/2}.</param>
public sealed record ChristoffersenResult(
    (int N00, int N01, int N10, int N11) Transitions, double IndependenceStatistic, double IndependencePValue,
    double ConditionalCoverageStatistic, double ConditionalCoveragePValue);

/// <summary>
/// VaR backtests (METRICS.md): Kupiec's proportion-of-failures test, Christoffersen's independence and conditional
/// coverage tests, and the Basel traffic light.
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

    /// <summary>
    /// Christoffersen's independence and conditional-coverage tests of the exception indicators
    /// <paramref name="exceptions"/> (in time order) for a VaR at confidence <paramref name="alpha"/>:
    /// LR_ind = −2 ln[(1−π)^{n00+n10} π^{n01+n11}] + 2 ln[(1−π0)^{n00} π0^{n01} (1−π1)^{n10} π1^{n11}] with
    /// π0 = n01/(n00+n01), π1 = n11/(n10+n11), π = (n01+n11)/(T−1), 0·ln 0 taken as 0 (so no exception, every day an
    /// exception, or a single pair give 0); LR_cc = <see cref="KupiecStatistic"/>(x, T, α) + LR_ind. NaN statistics for
    /// fewer than two days.
    /// </summary>
    public static ChristoffersenResult Christoffersen(ReadOnlySpan<bool> exceptions, double alpha)
    {
        int n00 = 0, n01 = 0, n10 = 0, n11 = 0, x = 0;
        for (var t = 0; t < exceptions.Length; t++)
        {
            if (exceptions[t]) x++;
            if (t == 0) continue;
            switch (exceptions[t - 1], exceptions[t])
            {
                case (false, false): n00++; break;
                case (false, true): n01++; break;
                case (true, false): n10++; break;
                default: n11++; break;
            }
        }

        if (exceptions.Length < 2) return new ChristoffersenResult((n00, n01, n10, n11), double.NaN, double.NaN, double.NaN, double.NaN);
        static double XLogY(double a, double b) => a == 0 ? 0 : a * Math.Log(b);
        double pi0 = n00 + n01 == 0 ? 0 : (double)n01 / (n00 + n01);
        double pi1 = n10 + n11 == 0 ? 0 : (double)n11 / (n10 + n11);
        double pi = (double)(n01 + n11) / (n00 + n01 + n10 + n11);
        var logNull = XLogY(n00 + n10, 1 - pi) + XLogY(n01 + n11, pi);
        var logAlt = XLogY(n00, 1 - pi0) + XLogY(n01, pi0) + XLogY(n10, 1 - pi1) + XLogY(n11, pi1);
        var ind = Math.Max(0, -2 * (logNull - logAlt));
        var cc = KupiecStatistic(x, exceptions.Length, alpha) + ind;
        return new ChristoffersenResult((n00, n01, n10, n11), ind, ChiSquareOneSurvival(ind), cc, Math.Exp(-cc / 2));
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
