using Crucible.Stress.Generators;

namespace Crucible.Stress.Reverse;

/// <summary>
/// A differentiable function of one scenario window (W steps × D series of log returns, row-major), which guided
/// sampling pushes up: e.g. a portfolio's loss over the window (<see cref="PortfolioLossObjective"/>).
/// </summary>
public interface IScenarioObjective
{
    /// <summary>The value at <paramref name="window"/>; writes ∂value/∂window into <paramref name="gradient"/> (same layout).</summary>
    double Evaluate(ReadOnlySpan<double> window, int series, Span<double> gradient);
}

/// <summary>
/// A generator that can be steered: sampling pulled toward objective ≥ target by the objective's gradient (guidance scaled
/// by <c>guidanceScale</c>), so that samples reach high objective values while staying where the model puts mass. The
/// conditional diffusion generator implements it (<see cref="Generators.FittedSequenceDiffusion"/> with
/// <see cref="ObjectiveGuidance"/>); no baseline does, and <see cref="ReverseStress"/> then falls back to rejection
/// sampling (and says so in its result).
/// </summary>
public interface IGuidedScenarioGenerator : IFittedScenarioGenerator
{
    /// <summary><paramref name="count"/> windows of <paramref name="window"/> steps guided toward <paramref name="objective"/> ≥ <paramref name="target"/>.</summary>
    ScenarioWindows SampleGuided(int count, int window, IScenarioObjective objective, double target, double guidanceScale, ulong seed);
}

/// <summary>How plausible scenario windows are: higher is more plausible (a model log-likelihood, or minus a distance to the data).</summary>
public interface IPlausibilityScore
{
    /// <summary>A short name of the method, for reports.</summary>
    string Method { get; }

    /// <summary>One score per window.</summary>
    double[] Score(ScenarioWindows windows);
}
