using Crucible.Diffusion.Sequence;
using Crucible.Service.Training;

namespace Crucible.Service.Scenarios;

/// <summary>
/// The options of a sequence model's sampling as a scenario request (<see cref="ScenarioRequest"/>) names them, for the
/// library's refusals (<see cref="SequenceOptionException.Worded"/>): <c>guidance</c>, <c>guidance_min_noise</c> and
/// <c>regime_guidance</c> (a value negative or not finite, which <see cref="ScenarioValidation"/> refuses first, or a regime
/// factor that underflows or overflows); the training options by a training job's members (<see cref="TrainingRequestNames"/>).
/// </summary>
internal sealed class ScenarioRequestNames : SequenceOptionNames
{
    private ScenarioRequestNames()
    {
    }

    /// <summary>The one instance.</summary>
    public static ScenarioRequestNames Instance { get; } = new();

    /// <inheritdoc />
    public override string Name(SequenceOption option) => option switch
    {
        SequenceOption.Guidance => "guidance",
        SequenceOption.GuidanceMinNoise => "guidance_min_noise",
        SequenceOption.RegimeGuidance => "regime_guidance",
        _ => TrainingRequestNames.Instance.Name(option),
    };

    /// <inheritdoc />
    public override string Given(SequenceOption option, params IReadOnlyList<string> values) =>
        option is SequenceOption.Guidance or SequenceOption.GuidanceMinNoise or SequenceOption.RegimeGuidance
            ? $"\"{Name(option)}\": {string.Join(",", values)}" : TrainingRequestNames.Instance.Given(option, values);
}
