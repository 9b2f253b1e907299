using System.Globalization;
using Crucible.Data;
using Crucible.Evaluation;

namespace Crucible.Stress.Risk;

/// <summary>
/// Scenario P&amp;L of a portfolio (METRICS.md "Risk"). A step's portfolio log return is
/// <c>p = ln(1 + Σ_i w_i (e^{r_i} − 1))</c>, which for weights summing to 1 is METRICS.md's <c>ln Σ_i w_i e^{r_i}</c>
/// (the other 1 − Σ w_i is cash earning nothing); a scenario's horizon log return is the sum of its steps' p.
/// </summary>
/// <remarks>
/// Rebalancing convention: the book is brought back to its weights w at every step (constant-mix), so the horizon gross
/// return is Π_t (1 + u_t). A buy-and-hold book, whose weights drift, would instead earn
/// ln(1 + Σ_i w_i (e^{R_i} − 1)) with R_i the series' cumulative log return over the horizon; the two agree for one step
/// and differ by the rebalancing gain or drag over longer horizons. Units are fractions of capital; with a capital C, money is
/// C·(1 − e^{−L}) for a log loss L. Weights are fractions of capital, negative for a short; nothing needs to sum to 1.
/// </remarks>
public static class PortfolioPnl
{
    /// <summary>
    /// One step's portfolio log return for log returns <paramref name="logReturns"/> and weights
    /// <paramref name="weights"/>; NaN when the gross return 1 + Σ w_i (e^{r_i} − 1) is not positive (the portfolio is
    /// wiped out, which only a leveraged or short portfolio can be).
    /// </summary>
    public static double StepLogReturn(ReadOnlySpan<double> logReturns, ReadOnlySpan<double> weights) =>
        Evaluation.Risk.RiskMeasures.PortfolioStepLogReturn(logReturns, weights);

    /// <summary>The step's simple portfolio return u = Σ_i w_i (e^{r_i} − 1).</summary>
    public static double SimpleReturn(ReadOnlySpan<double> logReturns, ReadOnlySpan<double> weights) =>
        Evaluation.Risk.RiskMeasures.PortfolioSimpleReturn(logReturns, weights);

    /// <summary>φ(u) = ln(1 + u) / u, with φ(0) = 1: the factor that maps the simple return u onto the log return.</summary>
    public static double LogRatio(double u) => u == 0 ? 1.0 : Numeric.Log1P(u) / u;

    /// <summary>
    /// Per-scenario portfolio paths of <paramref name="scenarios"/> under <paramref name="weights"/> (aligned with the
    /// set's series): one array of per-step portfolio log returns per scenario, in order of first appearance. Throws
    /// <see cref="InvalidInputException"/> (rule <c>wiped-out</c>) when a step's gross return is not positive.
    /// </summary>
    public static double[][] Paths(SeriesSet scenarios, ReadOnlySpan<double> weights) => Paths(scenarios, weights, wipeOutIsError: true);

    /// <summary>
    /// <see cref="Paths(SeriesSet, ReadOnlySpan{double})"/>, where a step that wipes the book out is NaN in its path instead
    /// of an error unless <paramref name="wipeOutIsError"/>: reverse and adversarial stress take such a candidate as one that
    /// loses the whole capital (<see cref="HorizonReturn"/>).
    /// </summary>
    internal static double[][] Paths(SeriesSet scenarios, ReadOnlySpan<double> weights, bool wipeOutIsError)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        if (weights.Length != scenarios.SeriesCount) throw new ArgumentException("one weight per series is needed", nameof(weights));
        var rows = scenarios.PathRows();
        var paths = new double[rows.Count][];
        var r = new double[scenarios.SeriesCount];
        for (var s = 0; s < rows.Count; s++)
        {
            var path = new double[rows[s].Length];
            for (var t = 0; t < path.Length; t++)
            {
                var row = rows[s][t];
                for (var i = 0; i < r.Length; i++) r[i] = scenarios.Columns[i][row];
                path[t] = StepLogReturn(r, weights);
                if (double.IsNaN(path[t]) && wipeOutIsError)
                {
                    throw new InvalidInputException("wiped-out", string.Create(CultureInfo.InvariantCulture,
                        $"the portfolio loses all its capital in scenario {s + 1}, step {t + 1} (gross return ≤ 0): leverage too high for these scenarios"));
                }
            }

            paths[s] = path;
        }

        return paths;
    }

    /// <summary>
    /// A path's horizon log return R = Σ_t p_t, or −∞ when a step wiped the book out (NaN in the path): the whole capital
    /// is lost, a loss 1 − e^R of exactly 1.
    /// </summary>
    internal static double HorizonReturn(double[] path) => path.Any(double.IsNaN) ? double.NegativeInfinity : path.Sum();
}
