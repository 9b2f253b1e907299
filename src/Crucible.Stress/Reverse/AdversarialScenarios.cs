using Crucible.Data;
using Crucible.Evaluation.Statistics;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Reverse;

/// <summary>An adversarial scenario search: the worst losses a portfolio can take among scenarios a model finds plausible.</summary>
public sealed record AdversarialRequest
{
    /// <summary>The portfolio.</summary>
    public required Portfolio Portfolio { get; init; }

    /// <summary>The horizon W in steps (at most the model's window when guided).</summary>
    public required int Horizon { get; init; }

    /// <summary>Candidates per rung of the loss ladder (and unguided draws that set the plausibility floor).</summary>
    public int CandidatesPerRung { get; init; } = 2000;

    /// <summary>
    /// The loss targets, as multiples of the unguided draws' 99% loss quantile (the ladder the guided draws climb).
    /// </summary>
    public IReadOnlyList<double> LadderMultiples { get; init; } = [1.0, 1.5, 2.0, 3.0];

    /// <summary>
    /// The plausibility floor as a quantile of the unguided draws' plausibility: a scenario is plausible when it scores at
    /// least as high as this share of the model's ordinary draws does not exceed (0.05: as plausible as 95% of them).
    /// </summary>
    public double FloorQuantile { get; init; } = 0.05;

    /// <summary>How many of the worst plausible scenarios to report.</summary>
    public int Top { get; init; } = 20;

    /// <summary>The guidance scale of the guided rungs.</summary>
    public double GuidanceScale { get; init; } = 1.0;

    /// <summary>The seed (rung k draws with seed + k + 1; the unguided draws with seed).</summary>
    public ulong Seed { get; init; }
}

/// <summary>The outcome of an adversarial search.</summary>
/// <param name="PlausibilityMethod">How plausibility was scored.</param>
/// <param name="Floor">The plausibility floor (the unguided draws' <see cref="AdversarialRequest.FloorQuantile"/> quantile).</param>
/// <param name="Targets">The log-loss target of each guided rung.</param>
/// <param name="Candidates">All candidates scored (unguided and guided).</param>
/// <param name="Plausible">Candidates at or above the floor.</param>
/// <param name="Worst">The worst plausible scenarios, largest loss first (loss as a fraction of capital).</param>
/// <param name="Series">The series, in order.</param>
public sealed record AdversarialResult(
    string PlausibilityMethod, double Floor, IReadOnlyList<double> Targets, int Candidates, int Plausible,
    IReadOnlyList<BreachingScenario> Worst, IReadOnlyList<string> Series)
{
    /// <summary>The conditions and classifier-free guidance weight the model's candidates were drawn under, or null when none were requested.</summary>
    public ModelConditions? Conditioning { get; init; }
}

/// <summary>
/// Adversarial scenarios (issue #8): the worst plausible scenarios for a portfolio. The model's own unguided draws set
/// two references — their 99% loss quantile L and the plausibility floor (a low quantile of their plausibility scores).
/// Guided draws then climb a ladder of loss targets (multiples of L) toward ever larger losses; every candidate, guided or
/// not, is scored, those below the floor are dropped as implausible, and the rest are ranked by loss. The answer is the
/// largest losses the model considers as plausible as its ordinary scenarios — a regulator's "deliberately unfavourable"
/// set with its plausibility made explicit, rather than an arbitrary shock. A candidate that wipes the book out loses the
/// whole capital (<see cref="BreachingScenario.WipedOut"/>), the largest loss there is.
/// </summary>
public static class AdversarialScenarios
{
    /// <summary>Runs the search with <paramref name="generator"/> and scores plausibility with <paramref name="plausibility"/>.</summary>
    public static AdversarialResult Run(IGuidedScenarioGenerator generator, AdversarialRequest request, IPlausibilityScore plausibility)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(plausibility);
        if (!(request.FloorQuantile is >= 0 and < 1)) throw new InvalidInputException("floor-quantile", "the plausibility floor quantile lies in [0, 1)");
        if (request.CandidatesPerRung < 10) throw new InvalidInputException("candidates", "at least 10 candidates per rung are needed");
        if (request.LadderMultiples.Count == 0 || request.LadderMultiples.Any(m => !(m > 0) || !double.IsFinite(m)))
            throw new InvalidInputException("ladder", "the ladder needs positive, finite multiples");
        var weights = request.Portfolio.WeightsFor(generator.Columns);

        // 1. the references: the unguided draws' 99% loss quantile and plausibility floor
        var unguided = generator.Sample(request.CandidatesPerRung, request.Horizon, request.Seed);
        var unguidedLoss = LogLosses(unguided, weights);
        var unguidedScores = plausibility.Score(unguided);
        double floor = Descriptive.Percentile(unguidedScores, 100 * request.FloorQuantile);
        // losses may hold +∞ (wiped-out draws): Percentile's interpolation beside it is its limit (the finite neighbour at a
        // weight of 0, +∞ otherwise)
        double reference = Math.Max(Descriptive.Percentile(unguidedLoss, 99), 1e-6);
        if (!double.IsFinite(reference))
        {
            throw new InvalidInputException("wiped-out",
                "over 1% of the model's ordinary draws wipe the book out, so the loss ladder has no finite reference: lower the leverage");
        }

        // 2. the ladder of guided draws toward larger and larger losses
        var objective = new PortfolioLossObjective(weights);
        var sets = new List<(ScenarioWindows Windows, double[] Loss, double[] Score)> { (unguided, unguidedLoss, unguidedScores) };
        var targets = new List<double>();
        for (int k = 0; k < request.LadderMultiples.Count; k++)
        {
            double target = request.LadderMultiples[k] * reference;
            targets.Add(target);
            var windows = generator.SampleGuided(request.CandidatesPerRung, request.Horizon, objective, target, request.GuidanceScale, request.Seed + (ulong)k + 1);
            sets.Add((windows, LogLosses(windows, weights), plausibility.Score(windows)));
        }

        // 3. keep the plausible, rank by loss
        var pool = new List<(int Set, int Index, double Loss, double Score)>();
        int candidates = 0;
        for (int s = 0; s < sets.Count; s++)
        {
            candidates += sets[s].Loss.Length;
            for (int i = 0; i < sets[s].Loss.Length; i++)
            {
                if (sets[s].Score[i] >= floor) pool.Add((s, i, sets[s].Loss[i], sets[s].Score[i]));
            }
        }

        var worst = new List<BreachingScenario>();
        foreach (var p in pool.OrderByDescending(p => p.Loss).ThenBy(p => p.Set).ThenBy(p => p.Index).Take(request.Top))
        {
            var w = sets[p.Set].Windows;
            var single = new ScenarioWindows(w.Columns, 1, w.Window, w.Values.AsSpan(p.Index * w.Window * w.SeriesCount, w.Window * w.SeriesCount).ToArray());
            var set = single.ToSeriesSet();
            var cumulative = new double[w.SeriesCount];
            for (int t = 0; t < w.Window; t++)
            {
                for (int i = 0; i < w.SeriesCount; i++) cumulative[i] += single[0, t, i];
            }

            var index = (p.Set * request.CandidatesPerRung) + p.Index;
            worst.Add(double.IsPositiveInfinity(p.Loss)
                ? BreachingScenario.WipedOut(index, p.Score, StressAnalysis.WipeOutParts(set, weights, 0), cumulative)
                : BreachingScenario.FromLogParts(index, -p.Loss, p.Score, StressAnalysis.LossParts(set, weights)[0], cumulative));
        }

        return new AdversarialResult(plausibility.Method, floor, targets, candidates, pool.Count, worst, generator.Columns);
    }

    // each window's portfolio log loss −Σ_t p_t: +∞ for one that wipes the book out (the whole capital lost, a loss of 1)
    private static double[] LogLosses(ScenarioWindows windows, double[] weights) =>
        [.. PortfolioPnl.Paths(windows.ToSeriesSet(), weights, wipeOutIsError: false).Select(p => -PortfolioPnl.HorizonReturn(p))];
}
