using Crucible.Data;

namespace Crucible.Evaluation.Risk;

/// <summary>
/// Historical risk measures of log returns r (losses L = −r) at a confidence α in (0, 1), e.g. 0.99.
/// The tail size is k = max(1, ⌈n(1 − α)⌉), computed exactly for the decimal α (<see cref="TailCount"/>: 250·(1 − 0.99) is 3, not 4).
/// Empty inputs give NaN.
/// </summary>
/// <remarks>
/// Conventions, checked against numpy (Crucible.Stress.Tests References): VaR_α, the k-th largest loss, is
/// −<c>np.quantile(r, 1 − α, method="inverted_cdf")</c> in exact arithmetic; numpy evaluates n(1 − α) in floating point,
/// so where it is an integer that rounds up (20 × 0.05 = 1.0000000000000009) numpy takes the next observation, one less
/// deep in the tail, and ours takes the decimal α at its word. ES_α is the mean of the k largest losses: the
/// Acerbi–Tasche estimator when n(1 − α) is an integer; otherwise Acerbi–Tasche weights the k-th loss by
/// n(1 − α) − (k − 1), and ours weights it fully (k = 1 when n(1 − α) &lt; 1: ES = VaR = the largest loss). Losses are
/// positive: a gain in the tail gives a negative VaR.
/// </remarks>
public static class RiskMeasures
{
    /// <summary>
    /// k = max(1, ⌈n(1 − α)⌉), the number of tail observations used for n observations, exactly: α taken as the decimal it
    /// is written as (its shortest round-trip form, 0.99 and not 0.98999999999999999), n(1 − α) in decimal arithmetic (a
    /// 10-digit n times a 1 − α of at most 17 significant digits fits its 28), so no binary rounding moves the ceiling. (A
    /// 1e-9 guard on the binary product did that up to about 1e8 rows and was off by one above.)
    /// </summary>
    public static int TailCount(int n, double alpha) => Math.Max(1, (int)Math.Ceiling(n * TailFraction(alpha)));

    /// <summary>1 − α exactly, for α taken as the decimal it is written as: the rounding of <see cref="TailCount"/>, which
    /// <see cref="SampleSize.MinimumRows"/> shares.</summary>
    internal static decimal TailFraction(double alpha)
    {
        if (alpha is <= 0 or >= 1 || double.IsNaN(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), "alpha must be in (0, 1)");
        var exact = decimal.Parse(alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        return 1 - exact;
    }

    /// <summary>Value at risk: the k-th largest loss −r.</summary>
    public static double ValueAtRisk(ReadOnlySpan<double> returns, double alpha) => ValueAtRiskAndExpectedShortfall(returns, alpha).VaR;

    /// <summary>Expected shortfall: the mean of the k largest losses −r.</summary>
    public static double ExpectedShortfall(ReadOnlySpan<double> returns, double alpha) =>
        ValueAtRiskAndExpectedShortfall(returns, alpha).ES;

    /// <summary>VaR and ES in one sort.</summary>
    public static (double VaR, double ES) ValueAtRiskAndExpectedShortfall(ReadOnlySpan<double> returns, double alpha)
    {
        if (returns.IsEmpty) return (double.NaN, double.NaN);
        var sorted = returns.ToArray();
        Array.Sort(sorted); // ascending returns = descending losses
        return ValueAtRiskAndExpectedShortfallSorted(sorted, alpha);
    }

    /// <summary>VaR and ES of returns already sorted ascending (not checked). A zero VaR is +0 (the loss −r of a zero
    /// return would be −0, printed "-0").</summary>
    public static (double VaR, double ES) ValueAtRiskAndExpectedShortfallSorted(ReadOnlySpan<double> sorted, double alpha)
    {
        if (sorted.IsEmpty) return (double.NaN, double.NaN);
        var k = TailCount(sorted.Length, alpha);
        double sum = 0;
        for (var i = 0; i < k; i++) sum += -sorted[i];
        var valueAtRisk = -sorted[k - 1];
        return (valueAtRisk == 0 ? 0 : valueAtRisk, sum / k);
    }

    /// <summary>
    /// Drawdown series of the path P_0 = 1, P_t = exp(Σ_{s≤t} r_s): D_t = 1 − P_t / max_{s≤t} P_s for t = 1..n
    /// (the starting point, always 0, is not included). Values lie in [0, 1), except that a NaN return, a step that wiped
    /// the book out (<see cref="PortfolioStepLogReturn"/>), is a drawdown of 1 there and at every later step.
    /// </summary>
    public static double[] DrawdownSeries(ReadOnlySpan<double> returns)
    {
        var result = new double[returns.Length];
        double cum = 0, peak = 1, peakLog = 0;
        for (var t = 0; t < returns.Length; t++)
        {
            if (double.IsNaN(returns[t]))
            {
                result.AsSpan(t).Fill(1);
                break;
            }

            cum += returns[t];
            var p = Math.Exp(cum);
            if (p > peak) peak = p;
            if (cum > peakLog) peakLog = cum;
            result[t] = Drawdown(p, peak, cum, peakLog);
        }
        return result;
    }

    /// <summary>Maximum drawdown max_t (1 − P_t / max_{s≤t} P_s) of the path exp(cumsum r) starting at 1, a positive
    /// fraction; 0 for an empty or never-falling path, 1 for a path with a NaN return (a step that wiped the book out,
    /// <see cref="PortfolioStepLogReturn"/>).</summary>
    public static double MaxDrawdown(ReadOnlySpan<double> returns)
    {
        double cum = 0, peak = 1, peakLog = 0, worst = 0;
        foreach (var r in returns)
        {
            if (double.IsNaN(r)) return 1;
            cum += r;
            var p = Math.Exp(cum);
            if (p > peak) peak = p;
            if (cum > peakLog) peakLog = cum;
            var dd = Drawdown(p, peak, cum, peakLog);
            if (dd > worst) worst = dd;
        }
        return worst;
    }

    // 1 − P/peak; once the peak has overflowed (Σr past about 709.78), 1 − exp(Σr − max Σr) from the logarithms
    private static double Drawdown(double p, double peak, double cum, double peakLog) =>
        double.IsFinite(peak) ? 1 - p / peak : 1 - Math.Exp(cum - peakLog);

    /// <summary>Mean of the k = ⌈n(1 − α)⌉ largest values (the upper-tail mean used by ES and CDaR). NaN for empty input.</summary>
    public static double UpperTailMean(ReadOnlySpan<double> values, double alpha)
    {
        if (values.IsEmpty) return double.NaN;
        var k = TailCount(values.Length, alpha);
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double sum = 0;
        for (var i = sorted.Length - 1; i >= sorted.Length - k; i--) sum += sorted[i];
        return sum / k;
    }

    /// <summary>CDaR of one path (Chekhlov et al.): the mean of the worst ⌈n(1 − α)⌉ values of its drawdown series.</summary>
    public static double ConditionalDrawdownAtRisk(ReadOnlySpan<double> returns, double alpha) =>
        UpperTailMean(DrawdownSeries(returns), alpha);

    /// <summary>CDaR of a scenario set (conditional expected drawdown): the mean of the worst ⌈n(1 − α)⌉ per-scenario
    /// maximum drawdowns, given one return path per scenario.</summary>
    public static double ConditionalDrawdownAtRisk(IReadOnlyList<double[]> paths, double alpha)
    {
        var mdd = new double[paths.Count];
        for (var i = 0; i < mdd.Length; i++) mdd[i] = MaxDrawdown(paths[i]);
        return UpperTailMean(mdd, alpha);
    }

    /// <summary>
    /// Portfolio log return per row, ln(1 + Σ_i w_i (e^{r_{t,i}} − 1)), for weights w (one per column, fractions of
    /// capital; negative for a short): the book is rebalanced to w at every step and the rest, 1 − Σ w_i, is cash earning
    /// nothing. For weights summing to 1 this is METRICS.md's ln Σ_i w_i e^{r_{t,i}}; for others (a levered book, or one
    /// partly in cash, as <c>crucible compare</c> passes a portfolio's weights) it is the stress test's P&amp;L
    /// (Crucible.Stress PortfolioPnl), where ln Σ w e^r would book ln Σ w as a return on a day nothing moves. NaN when
    /// the gross return is not positive (a levered or short book wiped out). <paramref name="columns"/> holds one array
    /// of log returns per series.
    /// </summary>
    public static double[] PortfolioLogReturns(IReadOnlyList<double[]> columns, ReadOnlySpan<double> weights)
    {
        if (columns.Count != weights.Length) throw new ArgumentException("one weight per series is needed", nameof(weights));
        var n = columns.Count == 0 ? 0 : columns[0].Length;
        var result = new double[n];
        var row = new double[columns.Count];
        for (var t = 0; t < n; t++)
        {
            for (var i = 0; i < row.Length; i++) row[i] = columns[i][t];
            result[t] = PortfolioStepLogReturn(row, weights);
        }
        return result;
    }

    /// <summary>
    /// One step's portfolio log return ln(1 + u), u = <see cref="PortfolioSimpleReturn"/>, for the series' log returns
    /// <paramref name="logReturns"/>; NaN when the gross return 1 + u is not positive (a levered or short book wiped out).
    /// The one definition of the P&amp;L (Crucible.Stress PortfolioPnl calls it).
    /// </summary>
    public static double PortfolioStepLogReturn(ReadOnlySpan<double> logReturns, ReadOnlySpan<double> weights)
    {
        var u = PortfolioSimpleReturn(logReturns, weights);
        return u > -1 ? Numeric.Log1P(u) : double.NaN;
    }

    /// <summary>
    /// One step's simple portfolio return u = Σ_i w_i (e^{r_i} − 1) of a book rebalanced to <paramref name="weights"/>
    /// (fractions of capital, the rest cash earning nothing) for the series' log returns <paramref name="logReturns"/>.
    /// </summary>
    public static double PortfolioSimpleReturn(ReadOnlySpan<double> logReturns, ReadOnlySpan<double> weights)
    {
        if (logReturns.Length != weights.Length) throw new ArgumentException("one weight per series is needed", nameof(weights));
        double u = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            if (weights[i] != 0) u += weights[i] * Numeric.ExpM1(logReturns[i]);
        }

        return u;
    }
}
