using Crucible.Data;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Reverse;

/// <summary>A reverse stress test: which plausible scenarios make the portfolio lose at least the threshold over the horizon?</summary>
public sealed record ReverseStressRequest
{
    /// <summary>The portfolio.</summary>
    public required Portfolio Portfolio { get; init; }

    /// <summary>The loss threshold as a fraction of capital over the horizon, e.g. 0.15 for a 15 % loss (1 − e^{R} ≥ 0.15).</summary>
    public double LossThreshold { get; init; } = 0.15;

    /// <summary>The horizon W in steps (e.g. 20 trading days).</summary>
    public int Horizon { get; init; } = 20;

    /// <summary>Candidate scenarios drawn.</summary>
    public int Candidates { get; init; } = 10_000;

    /// <summary>How many breaching scenarios to report (the most plausible).</summary>
    public int Top { get; init; } = 20;

    /// <summary>The guidance scale for an <see cref="IGuidedScenarioGenerator"/> (0: no guidance, plain rejection).</summary>
    public double GuidanceScale { get; init; }

    /// <summary>The seed.</summary>
    public ulong Seed { get; init; }
}

/// <summary>One breaching scenario.</summary>
/// <param name="Index">Its index among the candidates.</param>
/// <param name="Loss">Its loss as a fraction of capital, 1 − e^{R}: 1 for a scenario that wipes the book out (<see cref="WipedOut"/>).</param>
/// <param name="Plausibility">Its plausibility score (higher is more plausible).</param>
/// <param name="Attribution">
/// Each series' part of <paramref name="Loss"/>, in the same units (a fraction of capital): its part of the log loss
/// (<paramref name="AttributionLog"/>) scaled by Loss / (−R), so the parts sum to Loss (<see cref="SimpleAttribution"/>).
/// </param>
/// <param name="SeriesReturns">Each series' cumulative log return over the horizon.</param>
/// <param name="AttributionLog">Each series' part of the log loss −R (the Euler parts of <see cref="StressAnalysis"/>; they sum to −R).</param>
public sealed record BreachingScenario(int Index, double Loss, double Plausibility, double[] Attribution, double[] SeriesReturns, double[] AttributionLog)
{
    /// <summary>
    /// The scenario of horizon log return <paramref name="logReturn"/> (R) whose log loss −R splits into
    /// <paramref name="logParts"/>: Loss = 1 − e^R, and each series' part of it (<see cref="SimpleAttribution"/>).
    /// </summary>
    public static BreachingScenario FromLogParts(int index, double logReturn, double plausibility, double[] logParts, double[] seriesReturns) =>
        new(index, -Numeric.ExpM1(logReturn), plausibility, SimpleAttribution(logParts, logReturn), seriesReturns, logParts);

    /// <summary>
    /// A scenario that wipes the book out (a step's gross return ≤ 0): it loses the whole capital, Loss = 1 (R = −∞), split
    /// among the series as <paramref name="parts"/> (the wiping step's split, summing to 1); the log loss is infinite, so
    /// <see cref="AttributionLog"/> is NaN (null in the report).
    /// </summary>
    public static BreachingScenario WipedOut(int index, double plausibility, double[] parts, double[] seriesReturns)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return new(index, 1, plausibility, parts, seriesReturns, [.. parts.Select(_ => double.NaN)]);
    }

    /// <summary>
    /// The allocation of a scenario's simple loss 1 − e^R to the series: each series' part of the log loss −R
    /// (<paramref name="logParts"/>, summing to −R) times (1 − e^R) / (−R), the same factor for every series (1 at R = 0,
    /// where the ratio tends to 1). Shares and signs are those of the log parts; the parts sum to 1 − e^R up to rounding.
    /// </summary>
    public static double[] SimpleAttribution(double[] logParts, double logReturn)
    {
        ArgumentNullException.ThrowIfNull(logParts);
        var scale = logReturn == 0 ? 1 : -Numeric.ExpM1(logReturn) / -logReturn;
        return [.. logParts.Select(p => p * scale)];
    }
}

/// <summary>The outcome of a reverse stress test.</summary>
/// <param name="Generator">The generator's name.</param>
/// <param name="Sampling"><c>guided</c> or <c>rejection</c> (unguided candidates filtered by the threshold).</param>
/// <param name="PlausibilityMethod">How plausibility was scored.</param>
/// <param name="Series">The series, in order.</param>
/// <param name="Candidates">Candidates drawn.</param>
/// <param name="Breaching">How many of them breach the threshold.</param>
/// <param name="Top">The most plausible breaching scenarios, most plausible first.</param>
/// <param name="MeanAttribution">
/// The mean <see cref="BreachingScenario.Attribution"/> (parts of the simple loss) over all breaching scenarios: the risk
/// factors that drive the breaches; it sums to <paramref name="MeanLoss"/> (NaN for every series when none breaches).
/// </param>
/// <param name="MeanLoss">The mean loss 1 − e^R over all breaching scenarios (NaN when none breaches).</param>
/// <param name="MeanAttributionLog">
/// The mean <see cref="BreachingScenario.AttributionLog"/> (parts of the log loss) over all breaching scenarios (NaN when none
/// breaches, or when one wipes the book out: its log loss is infinite).
/// </param>
public sealed record ReverseStressResult(
    string Generator, string Sampling, string PlausibilityMethod, IReadOnlyList<string> Series, int Candidates, int Breaching,
    IReadOnlyList<BreachingScenario> Top, double[] MeanAttribution, double MeanLoss, double[] MeanAttributionLog)
{
    /// <summary>The share of candidates that breach.</summary>
    public double BreachRate => (double)Breaching / Candidates;

    /// <summary>Every attempt of the recalibration loop that produced this result (<see cref="Recalibration"/>), or null.</summary>
    public IReadOnlyList<CalibrationAttempt>? Calibration { get; init; }

    /// <summary>
    /// For candidates read from a scenario file: each candidate's scenario id in that file (candidate i is the file's
    /// i-th scenario in order of first appearance), so that a reported scenario can be found in the file whatever its
    /// ids; null for drawn candidates.
    /// </summary>
    public IReadOnlyList<int>? ScenarioIds { get; init; }

    /// <summary>The conditions, classifier-free guidance weight and stress specification the model's candidates were drawn under, or null when none were requested.</summary>
    public ModelConditions? Conditioning { get; init; }
}

/// <summary>
/// What a stress test's sequence model drew under (<c>crucible stress --condition/--guidance/--stress</c>), as
/// <c>crucible generate</c> records it in its metadata: the conditions under the model's own feature names (sorted, the
/// stress specification's included), the classifier-free guidance weight w in effect (the request's, or else the model's
/// default) and the stress specification as given.
/// </summary>
/// <param name="Conditions">Feature name → raw value; empty when only the guidance weight or a specification of moves was given.</param>
/// <param name="Guidance">The classifier-free guidance weight w the windows were drawn with; null for a model without condition inputs.</param>
/// <param name="Stress">The stress specification (<see cref="Diffusion.Conditioning.StressSpec"/>) the request gave, or null.</param>
public sealed record ModelConditions(IReadOnlyDictionary<string, double> Conditions, double? Guidance, string? Stress = null);

/// <summary>
/// Reverse stress testing (issue #8): draw candidate scenarios over the horizon (guided toward the portfolio's loss when
/// the generator supports guidance, otherwise plain samples), keep those whose loss reaches the threshold, rank them by
/// plausibility, and attribute each loss to the series. Every reported scenario breaches by construction. A candidate that
/// wipes the book out (a levered or short book) is a valid, extreme one: it loses the whole capital
/// (<see cref="BreachingScenario.WipedOut"/>) and breaches any threshold.
/// </summary>
public static class ReverseStress
{
    /// <summary>Runs the reverse stress test of <paramref name="request"/> with <paramref name="generator"/>.</summary>
    public static ReverseStressResult Run(IFittedScenarioGenerator generator, ReverseStressRequest request, IPlausibilityScore plausibility)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(plausibility);
        if (!(request.LossThreshold > 0 && request.LossThreshold < 1))
            throw new InvalidInputException("loss-threshold", "the loss threshold is a fraction of capital in (0, 1)");
        var weights = request.Portfolio.WeightsFor(generator.Columns);
        var guided = generator is IGuidedScenarioGenerator && request.GuidanceScale > 0;
        var windows = guided
            ? ((IGuidedScenarioGenerator)generator).SampleGuided(request.Candidates, request.Horizon, new PortfolioLossObjective(weights),
                -Math.Log(1 - request.LossThreshold), request.GuidanceScale, request.Seed)
            : generator.Sample(request.Candidates, request.Horizon, request.Seed);
        return Evaluate(windows, request, plausibility, generator.Name, guided ? "guided" : "rejection");
    }

    /// <summary>
    /// The reverse stress test over given candidate windows (e.g. a scenario file's scenarios): the breaching ones, most
    /// plausible first, with their attribution. <paramref name="source"/> and <paramref name="sampling"/> label the result.
    /// </summary>
    public static ReverseStressResult Evaluate(ScenarioWindows windows, ReverseStressRequest request, IPlausibilityScore plausibility,
        string source, string sampling)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(plausibility);
        if (!(request.LossThreshold > 0 && request.LossThreshold < 1))
            throw new InvalidInputException("loss-threshold", "the loss threshold is a fraction of capital in (0, 1)");
        var weights = request.Portfolio.WeightsFor(windows.Columns);
        var horizon = windows.Window;
        var set = windows.ToSeriesSet();
        // a candidate that wipes the book out has R = −∞: it loses the whole capital and breaches any threshold
        var returns = PortfolioPnl.Paths(set, weights, wipeOutIsError: false).Select(PortfolioPnl.HorizonReturn).ToArray();
        var parts = StressAnalysis.LossParts(set, weights);
        var logThreshold = -Math.Log(1 - request.LossThreshold);
        var breaching = new List<int>();
        for (var s = 0; s < returns.Length; s++)
        {
            if (-returns[s] >= logThreshold) breaching.Add(s);
        }

        var d = windows.SeriesCount;
        var mean = new double[d];
        var meanLog = new double[d];
        double meanLoss = breaching.Count == 0 ? double.NaN : 0;
        if (breaching.Count == 0)
        {
            Array.Fill(mean, double.NaN);
            Array.Fill(meanLog, double.NaN);
        }

        foreach (var s in breaching)
        {
            var r = returns[s];
            var wiped = double.IsNegativeInfinity(r);
            var simple = wiped ? StressAnalysis.WipeOutParts(set, weights, s) : BreachingScenario.SimpleAttribution(parts[s], r);
            for (var i = 0; i < d; i++)
            {
                mean[i] += simple[i] / breaching.Count;
                meanLog[i] += wiped ? double.NaN : parts[s][i] / breaching.Count;
            }

            meanLoss += -Numeric.ExpM1(r) / breaching.Count;
        }

        var top = new List<BreachingScenario>();
        if (breaching.Count > 0)
        {
            var subset = new double[breaching.Count * horizon * d];
            for (var j = 0; j < breaching.Count; j++)
                Array.Copy(windows.Values, breaching[j] * horizon * d, subset, j * horizon * d, horizon * d);
            var scores = plausibility.Score(windows with { Count = breaching.Count, Values = subset });
            foreach (var j in Enumerable.Range(0, breaching.Count).OrderByDescending(j => scores[j]).ThenBy(j => j).Take(request.Top))
            {
                var s = breaching[j];
                var cumulative = new double[d];
                for (var t = 0; t < horizon; t++)
                {
                    for (var i = 0; i < d; i++) cumulative[i] += windows[s, t, i];
                }

                top.Add(double.IsNegativeInfinity(returns[s])
                    ? BreachingScenario.WipedOut(s, scores[j], StressAnalysis.WipeOutParts(set, weights, s), cumulative)
                    : BreachingScenario.FromLogParts(s, returns[s], scores[j], parts[s], cumulative));
            }
        }

        return new ReverseStressResult(source, sampling, plausibility.Method, windows.Columns, windows.Count, breaching.Count, top, mean, meanLoss, meanLog);
    }
}
