using Crucible.Data.Statistics;

namespace Crucible.Evaluation.Risk;

/// <summary>
/// The Basel traffic-light zone of a VaR backtest (<see cref="TrafficLightBounds"/>: 0–4, 5–9 and 10 or more exceptions
/// for 250 observations at 99 %).
/// </summary>
public enum TrafficLight
{
    /// <summary>Fewer exceptions than <see cref="TrafficLightBounds.YellowFrom"/>.</summary>
    Green,

    /// <summary>From <see cref="TrafficLightBounds.YellowFrom"/> to below <see cref="TrafficLightBounds.RedFrom"/>.</summary>
    Yellow,

    /// <summary><see cref="TrafficLightBounds.RedFrom"/> or more.</summary>
    Red,
}

/// <summary>The stable names of <see cref="TrafficLight"/> in reports (report.json, the backtest's JSON, HTML, the CLI).</summary>
public static class TrafficLights
{
    private static readonly Crucible.Data.WireNames<TrafficLight> Names = new(
        (TrafficLight.Green, "green"),
        (TrafficLight.Yellow, "yellow"),
        (TrafficLight.Red, "red"));

    /// <summary>The name of <paramref name="zone"/>: <c>green</c>, <c>yellow</c> or <c>red</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="zone"/> is not a defined zone.</exception>
    public static string WireName(this TrafficLight zone) =>
        Names.NameOf(zone) ?? throw new ArgumentOutOfRangeException(nameof(zone), zone, "unknown traffic-light zone");
}

/// <summary>
/// The Basel traffic-light zones of a VaR backtest over <see cref="Observations"/> observations at confidence
/// <see cref="Alpha"/> (Basel Committee 1996, "Supervisory framework for the use of backtesting in conjunction with the
/// internal models approach to market risk capital requirements"): with X ~ Binomial(n, p = 1 − α) the exceptions of a
/// correct VaR, k exceptions are green while P(X ≤ k) &lt; 0.95, yellow while P(X ≤ k) &lt; 0.9999, red from there
/// (<see cref="VarBacktest.Bounds"/>). For 250 observations at 99 % that is green 0–4, yellow 5–9, red ≥ 10.
/// </summary>
/// <param name="Observations">n, the days tested.</param>
/// <param name="Alpha">α, the VaR's confidence.</param>
/// <param name="YellowFrom">The fewest exceptions in the yellow zone (≥ 1: zero exceptions are always green).</param>
/// <param name="RedFrom">The fewest exceptions in the red zone (≥ <paramref name="YellowFrom"/>).</param>
public sealed record TrafficLightBounds(int Observations, double Alpha, int YellowFrom, int RedFrom)
{
    /// <summary>The zone of <paramref name="exceptions"/> exceptions.</summary>
    public TrafficLight Zone(int exceptions) => exceptions >= RedFrom ? TrafficLight.Red : exceptions >= YellowFrom ? TrafficLight.Yellow : TrafficLight.Green;

    /// <summary>The bounds in words: <c>green 0–4, yellow 5–9, red ≥10 for 250 observations at 99%</c>.</summary>
    public override string ToString()
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string green = YellowFrom == 1 ? "green 0" : string.Create(inv, $"green 0–{YellowFrom - 1}");
        string yellow = RedFrom == YellowFrom ? "no yellow" : RedFrom == YellowFrom + 1 ? string.Create(inv, $"yellow {YellowFrom}") : string.Create(inv, $"yellow {YellowFrom}–{RedFrom - 1}");
        return string.Create(inv, $"{green}, {yellow}, red ≥{RedFrom} for {Observations} observations at {Alpha * 100:G6}%");
    }
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
    /// above <paramref name="valueAtRisk"/>, or a wiped-out day (<see cref="IsException"/>). The zone is Basel's for that many observations at <paramref name="alpha"/>
    /// (<see cref="Bounds"/>).
    /// </summary>
    public static VarBacktestResult Run(ReadOnlySpan<double> returns, double valueAtRisk, double alpha)
    {
        var exceptions = 0;
        foreach (var r in returns)
        {
            if (IsException(r, valueAtRisk)) exceptions++;
        }
        var lr = KupiecStatistic(exceptions, returns.Length, alpha);
        return new VarBacktestResult(returns.Length, exceptions, lr, ChiSquareOneSurvival(lr), Zone(exceptions, returns.Length, alpha));
    }

    /// <summary>
    /// Whether a day's portfolio log return <paramref name="logReturn"/> is an exception of <paramref name="valueAtRisk"/>:
    /// its loss −r is strictly above the VaR, or r is NaN, the portfolio log return of a day whose gross return
    /// 1 + Σ w (e^r − 1) is not positive (<see cref="RiskMeasures.PortfolioStepLogReturn"/>): a levered or short book that
    /// lost all its capital, the largest loss there is (NaN compares false, so such a day went uncounted).
    /// </summary>
    public static bool IsException(double logReturn, double valueAtRisk) => double.IsNaN(logReturn) || -logReturn > valueAtRisk;

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
        var counts = new TransitionCounts();
        counts.Add(exceptions);
        return counts.Result(alpha);
    }

    /// <summary>
    /// <see cref="Christoffersen(ReadOnlySpan{bool}, double)"/> over several separate sequences (a real set of paths, each
    /// in time order): the day-to-day transitions are counted within each path only (a path's first day follows no day
    /// of another path), pooled over the paths, and LR_cc adds Kupiec's statistic of all their days. One path gives the
    /// single-sequence result; NaN statistics when no path has two days.
    /// </summary>
    public static ChristoffersenResult Christoffersen(IReadOnlyList<bool[]> paths, double alpha)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var counts = new TransitionCounts();
        foreach (var path in paths) counts.Add(path);
        return counts.Result(alpha);
    }

    // n00, n01, n10, n11 within sequences, x exceptions in t days
    private sealed class TransitionCounts
    {
        private int _n00, _n01, _n10, _n11, _x, _t;

        public void Add(ReadOnlySpan<bool> exceptions)
        {
            _t += exceptions.Length;
            for (var t = 0; t < exceptions.Length; t++)
            {
                if (exceptions[t]) _x++;
                if (t == 0) continue;
                switch (exceptions[t - 1], exceptions[t])
                {
                    case (false, false): _n00++; break;
                    case (false, true): _n01++; break;
                    case (true, false): _n10++; break;
                    default: _n11++; break;
                }
            }
        }

        public ChristoffersenResult Result(double alpha)
        {
            int n00 = _n00, n01 = _n01, n10 = _n10, n11 = _n11;
            if (n00 + n01 + n10 + n11 == 0) return new ChristoffersenResult((n00, n01, n10, n11), double.NaN, double.NaN, double.NaN, double.NaN);
            static double XLogY(double a, double b) => a == 0 ? 0 : a * Math.Log(b);
            double pi0 = n00 + n01 == 0 ? 0 : (double)n01 / (n00 + n01);
            double pi1 = n10 + n11 == 0 ? 0 : (double)n11 / (n10 + n11);
            double pi = (double)(n01 + n11) / (n00 + n01 + n10 + n11);
            var logNull = XLogY(n00 + n10, 1 - pi) + XLogY(n01 + n11, pi);
            var logAlt = XLogY(n00, 1 - pi0) + XLogY(n01, pi0) + XLogY(n10, 1 - pi1) + XLogY(n11, pi1);
            var ind = Math.Max(0, -2 * (logNull - logAlt));
            var cc = KupiecStatistic(_x, _t, alpha) + ind;
            return new ChristoffersenResult((n00, n01, n10, n11), ind, ChiSquareOneSurvival(ind), cc, Math.Exp(-cc / 2));
        }
    }

    /// <summary>The Basel zone of <paramref name="exceptions"/> exceptions in <paramref name="observations"/> observations at confidence <paramref name="alpha"/> (<see cref="Bounds"/>).</summary>
    public static TrafficLight Zone(int exceptions, int observations, double alpha) => Bounds(observations, alpha).Zone(exceptions);

    /// <summary>The probability level below which an exception count is green (Basel 1996).</summary>
    public const double GreenLevel = 0.95;

    /// <summary>The probability level below which an exception count is at most yellow (Basel 1996).</summary>
    public const double YellowLevel = 0.9999;

    /// <summary>
    /// The Basel zones for <paramref name="observations"/> observations at confidence <paramref name="alpha"/>: the smallest k with
    /// P(X ≤ k) ≥ <see cref="GreenLevel"/> starts the yellow zone and the smallest with P(X ≤ k) ≥ <see cref="YellowLevel"/>
    /// the red one, X ~ Binomial(n, 1 − α) (<see cref="BinomialCdf"/>). With so few days that zero exceptions already
    /// reach a level (n ≤ 5 at 99 %), the zone starts at one exception: zero exceptions are no evidence against a VaR.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative <paramref name="observations"/>, or α outside (0, 1).</exception>
    public static TrafficLightBounds Bounds(int observations, double alpha)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(observations);
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "the VaR confidence must lie in (0, 1)");
        int yellow = -1, red = -1;
        int k = 0;
        foreach (double cdf in BinomialCdfs(observations, 1 - alpha))
        {
            if (yellow < 0 && cdf >= GreenLevel) yellow = k;
            if (cdf >= YellowLevel)
            {
                red = k;
                break;
            }

            k++;
        }

        // P(X ≤ n) = 1 reaches both levels, so the loop ends by k = n; rounding can leave the last sum a hair below 1
        if (yellow < 0) yellow = observations;
        if (red < 0) red = observations;
        yellow = Math.Max(1, yellow);
        return new TrafficLightBounds(observations, alpha, yellow, Math.Max(yellow, red));
    }

    /// <summary>
    /// P(X ≤ <paramref name="k"/>) for X ~ Binomial(<paramref name="n"/>, <paramref name="p"/>), summed in log space
    /// (log pmf(0) = n·log(1 − p), log pmf(i + 1) = log pmf(i) + log((n − i)/(i + 1)) + log(p/(1 − p))), so that n of
    /// many thousands neither underflows nor overflows.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative n, k outside [0, n], or p outside (0, 1).</exception>
    public static double BinomialCdf(int k, int n, double p)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, "k must lie in [0, n]");
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must lie in (0, 1)");
        int i = 0;
        foreach (double cdf in BinomialCdfs(n, p))
        {
            if (i++ == k) return Math.Min(1, cdf);
        }

        return 1;
    }

    /// <summary>
    /// n·(1 − α), the exceptions a correct VaR at confidence <paramref name="alpha"/> expects in <paramref name="n"/>
    /// observations, computed in decimal from α's shortest decimal form: 924 observations at 99% expect 9.24, not the
    /// 9.240000000000009 of the binary 1 − 0.99 that a model card would print.
    /// </summary>
    public static double ExpectedExceptions(int n, double alpha)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (!(alpha is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be in (0, 1)");
        return (double)(n * (1m - decimal.Parse(alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// P(X ≥ <paramref name="k"/>) for X ~ Binomial(<paramref name="n"/>, <paramref name="p"/>): the probability that a
    /// correct VaR at confidence 1 − p has at least k exceptions in n independent observations. Summed from the upper
    /// tail's own terms in log space (not 1 − P(X ≤ k − 1), which loses the small tail to rounding); 1 for k = 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative n, k outside [0, n], or p outside (0, 1).</exception>
    public static double BinomialUpperTail(int k, int n, double p)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (k < 0 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, "k must lie in [0, n]");
        if (!(p > 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "p must lie in (0, 1)");
        if (k == 0) return 1;
        double logRatio = Math.Log(p) - Math.Log(1 - p);
        double logPmf = n * Math.Log(1 - p), logTail = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            logPmf += Math.Log(n - i) - Math.Log(i + 1) + logRatio;
            if (i + 1 < k) continue;
            double hi = Math.Max(logTail, logPmf), lo = Math.Min(logTail, logPmf);
            logTail = hi + Math.Log(1 + Math.Exp(lo - hi));
        }

        return Math.Min(1, Math.Exp(logTail));
    }

    // P(X ≤ 0), P(X ≤ 1), …, P(X ≤ n) for X ~ Binomial(n, p), 0 < p < 1: pmf and cdf carried as logarithms
    private static IEnumerable<double> BinomialCdfs(int n, double p)
    {
        double logRatio = Math.Log(p) - Math.Log(1 - p);
        double logPmf = n * Math.Log(1 - p), logCdf = logPmf;
        yield return Math.Exp(logCdf);
        for (int i = 0; i < n; i++)
        {
            logPmf += Math.Log(n - i) - Math.Log(i + 1) + logRatio;
            // log(e^a + e^b) = max + log(1 + e^(min − max))
            double hi = Math.Max(logCdf, logPmf), lo = Math.Min(logCdf, logPmf);
            logCdf = hi + Math.Log(1 + Math.Exp(lo - hi));
            yield return Math.Exp(logCdf);
        }
    }

    /// <summary>P(χ²₁ &gt; x) = erfc(√(x/2)) (scipy <c>chi2.sf(x, 1)</c>); 1 for x ≤ 0, NaN for NaN.</summary>
    public static double ChiSquareOneSurvival(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        return x <= 0 ? 1.0 : NormalDistribution.Erfc(Math.Sqrt(x / 2));
    }
}
