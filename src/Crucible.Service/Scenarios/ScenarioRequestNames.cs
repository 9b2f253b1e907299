using Crucible.Diffusion.Sequence;
using Crucible.Service.Training;

namespace Crucible.Service.Scenarios;

/// <summary>
/// The options of a sequence model's sampling as a scenario request (<see cref="ScenarioRequest"/>) names them, for the
/// library's refusals (<see cref="SequenceOptionException.Worded"/>): <c>regime_guidance</c> (a factor that underflows or
/// overflows, the one such refusal sampling makes); the training options by a training job's members
/// (<see cref="TrainingRequestNames"/>).
/// </summary>
internal sealed class ScenarioRequestNames : SequenceOptionNames
{
    private ScenarioRequestNames()
    {
    }

    /// <summary>The one instance.</summary>
    public static ScenarioRequestNames Instance { get; } = new();

    /// <inheritdoc />
    public override string Name(SequenceOption option) =>
        option == SequenceOption.RegimeGuidance ? "regime_guidance" : TrainingRequestNames.Instance.Name(option);

    /// <inheritdoc />
    public override string Given(SequenceOption option, params IReadOnlyList<string> values) =>
        option == SequenceOption.RegimeGuidance ? $"\"regime_guidance\": {string.Join(",", values)}" : TrainingRequestNames.Instance.Given(option, values);
}
