using Crucible.Diffusion.Sequence;
using Crucible.Service.Training;

namespace Crucible.Service.Scenarios;

/// <summary>
/// The options of a sequence model's sampling as a scenario request (<see cref="ScenarioRequest"/>) names them, for the
/// library's refusals (<see cref="SequenceOptionException.Worded"/>): <c>regime_guidance</c> (a factor that underflows or
/// overflows); the training options by a training job's members (<see cref="TrainingRequestNames"/>). One instance a
/// refusal: it keeps the options the wording named (<see cref="Named"/>), the request's field the refusal is answered under.
/// </summary>
internal sealed class ScenarioRequestNames : SequenceOptionNames
{
    private readonly List<SequenceOption> _named = [];

    /// <summary>The options the wording named, in order.</summary>
    public IReadOnlyList<SequenceOption> Named => _named;

    /// <inheritdoc />
    public override string Name(SequenceOption option)
    {
        _named.Add(option);
        return option == SequenceOption.RegimeGuidance ? "regime_guidance" : TrainingRequestNames.Instance.Name(option);
    }

    /// <inheritdoc />
    public override string Given(SequenceOption option, params IReadOnlyList<string> values)
    {
        _named.Add(option);
        return option == SequenceOption.RegimeGuidance ? $"\"regime_guidance\": {string.Join(",", values)}" : TrainingRequestNames.Instance.Given(option, values);
    }
}
