using System.Globalization;
using Crucible.Data;
using Crucible.Evaluation;
using Crucible.Evaluation.Risk;
using Crucible.Stress.Portfolios;

namespace Crucible.Stress.Risk;

/// <summary>Risk of a portfolio under a scenario set at one confidence level α.</summary>
/// <param name="Alpha">The confidence, e.g. 0.99.</param>
/// <param name="TailCount">k = ⌈n(1 − α)⌉ scenarios in the tail.</param>
/// <param name="ValueAtRisk">VaR_α of the horizon log returns: the k-th largest loss.</param>
/// <param name="ExpectedShortfall">ES_α: the mean of the k largest losses.</param>
/// <param name="ConditionalDrawdown">CDaR_α of the set: the mean of the k worst per-scenario maximum drawdowns.</param>
/// <param name="SeriesContributions">The Euler allocation of ES per series (aligned with the set's series); sums to ES.</param>
/// <param name="GroupContributions">The same summed per declared factor group (series in no group are left out).</param>
/// <param name="ValueAtRiskAmount">With a capital C: C·(1 − e^{−VaR}), the VaR as money lost.</param>
/// <param name="ExpectedShortfallAmount">With a capital C: the mean of C·(1 − e^{−L}) over the k worst losses L.</param>
public sealed record RiskLevel(
    double Alpha,
    int TailCount,
    double ValueAtRisk,
    double ExpectedShortfall,
    double ConditionalDrawdown,
    double[] SeriesContributions,
    IReadOnlyDictionary<string, double> GroupContributions,
    double? ValueAtRiskAmount,
    double? ExpectedShortfallAmount);

/// <summary>The result of stressing one portfolio with one scenario set.</summary>
/// <param name="Portfolio">The portfolio.</param>
/// <param name="Series">The scenario set's series, in order.</param>
/// <param name="Weights">The weights aligned with <paramref name="Series"/>.</param>
/// <param name="Scenarios">The number of scenarios.</param>
/// <param name="Steps">Steps of the shortest and the longest scenario.</param>
/// <param name="HorizonReturns">Each scenario's horizon log return Σ_t p_t.</param>
/// <param name="MaxDrawdowns">Each scenario's maximum drawdown of its portfolio path.</param>
/// <param name="Levels">One entry per requested α.</param>
public sealed record StressResult(
    Portfolio Portfolio,
    IReadOnlyList<string> Series,
    double[] Weights,
    int Scenarios,
    (int Min, int Max) Steps,
    double[] HorizonReturns,
    double[] MaxDrawdowns,
    IReadOnlyList<RiskLevel> Levels);

/// <summary>
/// Portfolio risk under a scenario set (METRICS.md "scenario-level risk"): VaR, ES and CDaR per α, and the Euler
/// allocation of ES.
/// </summary>
/// <remarks>
/// <para><b>Euler allocation.</b> ES_α is the mean loss over the tail scenarios T (the k largest losses). Its Euler
/// allocation is the mean over T of each series' part of the loss. A step's simple P&amp;L u = Σ_i w_i x_i
/// (x_i = e^{r_i} − 1) is linear, so w_i x_i is its exact Euler part; the log return ln(1 + u) is u·φ(u) with
/// φ(u) = ln(1 + u)/u, so series i's part of the step's log return is w_i x_i φ(u). These parts sum to the step's log
/// return, hence over steps to the scenario's loss, hence over T to ES: the contributions add up to ES exactly (up to
/// float rounding). With small returns φ → 1 and they tend to the gradient form w_i ∂ES/∂w_i.</para>
/// <para>A file of plain returns (no <c>scenario</c> column) is taken as one-step scenarios, one per row: historical
/// simulation.</para>
/// </remarks>
public static class StressAnalysis
{
    /// <summary>The default confidence levels.</summary>
    public static IReadOnlyList<double> DefaultAlphas { get; } = [0.95, 0.975, 0.99];

    /// <summary>
    /// Stresses <paramref name="portfolio"/> with <paramref name="scenarios"/> at each α in <paramref name="alphas"/>
    /// (distinct: a level given twice is an <see cref="ArgumentException"/>).
    /// </summary>
    public static StressResult Run(SeriesSet scenarios, Portfolio portfolio, IReadOnlyList<double> alphas)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        ArgumentNullException.ThrowIfNull(portfolio);
        ArgumentNullException.ThrowIfNull(alphas);
        scenarios.Validate("scenarios");
        if (alphas.Count == 0) throw new InvalidInputException("alpha", "at least one confidence level is needed");
        foreach (var a in alphas)
        {
            if (!(a > 0 && a < 1)) throw new InvalidInputException("alpha", string.Create(CultureInfo.InvariantCulture, $"a confidence level must lie in (0, 1), got {a}"));
        }

        // each level is a key of the report (AlphaKey): one given twice would write that key twice
        if (alphas.GroupBy(a => a).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"the confidence level {twice.Key:R} is given twice"), nameof(alphas));

        var set = scenarios.ScenarioIds is null ? AsOneStepScenarios(scenarios) : scenarios;
        var weights = portfolio.WeightsFor(set.Names);
        var paths = PortfolioPnl.Paths(set, weights);
        var parts = LossParts(set, weights);
        var n = paths.Length;
        var horizon = new double[n];
        var mdd = new double[n];
        for (var s = 0; s < n; s++)
        {
            double sum = 0;
            foreach (var p in paths[s]) sum += p;
            horizon[s] = sum;
            mdd[s] = RiskMeasures.MaxDrawdown(paths[s]);
        }

        // tail order: losses descending, ties by scenario index, so the tail set is a function of the data
        var order = Enumerable.Range(0, n).OrderByDescending(s => -horizon[s]).ThenBy(s => s).ToArray();
        var levels = new List<RiskLevel>(alphas.Count);
        foreach (var alpha in alphas)
        {
            var (var, es) = RiskMeasures.ValueAtRiskAndExpectedShortfall(horizon, alpha);
            var cdar = RiskMeasures.ConditionalDrawdownAtRisk(paths, alpha);
            var k = RiskMeasures.TailCount(n, alpha);
            var contributions = new double[set.SeriesCount];
            for (var j = 0; j < k; j++)
            {
                var s = order[j];
                for (var i = 0; i < contributions.Length; i++) contributions[i] += parts[s][i];
            }

            for (var i = 0; i < contributions.Length; i++) contributions[i] /= k;
            var groups = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var g in portfolio.Groups)
                groups[g.Name] = g.Series.Sum(name => contributions[Array.IndexOf(set.Names, name)]);
            double? varAmount = null, esAmount = null;
            if (portfolio.Capital is { } capital)
            {
                varAmount = -capital * Numeric.ExpM1(-var);
                double sum = 0;
                for (var j = 0; j < k; j++) sum += -capital * Numeric.ExpM1(horizon[order[j]]);
                esAmount = sum / k;
            }

            levels.Add(new RiskLevel(alpha, k, var, es, cdar, contributions, groups, varAmount, esAmount));
        }

        var lengths = paths.Select(p => p.Length).ToArray();
        return new StressResult(portfolio, set.Names, weights, n, (lengths.Min(), lengths.Max()), horizon, mdd, levels);
    }

    /// <summary>
    /// Each scenario's loss −Σ_t p_t split per series: −Σ_t w_i x_{t,i} φ(u_t) (see remarks). Row s sums to the
    /// scenario's loss.
    /// </summary>
    /// <summary>
    /// The attribution of a scenario that wipes the book out (its loss is the whole capital, 1): the first wiping step's
    /// simple loss −u = −Σ_i x_i, x_i = w_i (e^{r_i} − 1), split as its terms are, x_i / u, so the parts sum to 1. The log
    /// loss is infinite and has no parts.
    /// </summary>
    internal static double[] WipeOutParts(SeriesSet set, double[] weights, int scenario)
    {
        var d = set.SeriesCount;
        var r = new double[d];
        foreach (var row in set.PathRows()[scenario])
        {
            for (var i = 0; i < d; i++) r[i] = set.Columns[i][row];
            var u = PortfolioPnl.SimpleReturn(r, weights);
            if (u > -1) continue;
            var part = new double[d];
            for (var i = 0; i < d; i++) part[i] = weights[i] == 0 ? 0 : weights[i] * Numeric.ExpM1(r[i]) / u;
            return part;
        }

        throw new ArgumentException("the scenario does not wipe the book out", nameof(scenario));
    }

    internal static double[][] LossParts(SeriesSet set, double[] weights)
    {
        var rows = set.PathRows();
        var d = set.SeriesCount;
        var result = new double[rows.Count][];
        var x = new double[d];
        for (var s = 0; s < rows.Count; s++)
        {
            var part = new double[d];
            foreach (var row in rows[s])
            {
                double u = 0;
                for (var i = 0; i < d; i++)
                {
                    x[i] = weights[i] == 0 ? 0 : weights[i] * Numeric.ExpM1(set.Columns[i][row]);
                    u += x[i];
                }

                var phi = PortfolioPnl.LogRatio(u);
                for (var i = 0; i < d; i++) part[i] -= x[i] * phi;
            }

            result[s] = part;
        }

        return result;
    }

    private static SeriesSet AsOneStepScenarios(SeriesSet set) =>
        set with { ScenarioIds = Enumerable.Range(1, set.RowCount).ToArray() };
}
