using Crucible.Diffusion.Sequence;

namespace Crucible.Cli.Commands;

/// <summary>
/// The options of a sequence model's sampling as <c>crucible generate</c> takes them, for the advice of the library's
/// refusals (<see cref="SequenceOptionException.Worded"/>): <c>--guidance</c>, <c>--guidance-min-noise</c>,
/// <c>--regime-guidance</c>; the training options by
/// <c>crucible train</c>'s names (<see cref="TrainFlagNames"/>).
/// </summary>
internal sealed class GenerateFlagNames : SequenceOptionNames
{
    private GenerateFlagNames()
    {
    }

    /// <summary>The one instance.</summary>
    public static GenerateFlagNames Instance { get; } = new();

    /// <inheritdoc />
    public override string Name(SequenceOption option) => option switch
    {
        SequenceOption.Guidance => "--guidance",
        SequenceOption.GuidanceMinNoise => "--guidance-min-noise",
        SequenceOption.RegimeGuidance => "--regime-guidance",
        _ => TrainFlagNames.Instance.Name(option),
    };

    /// <inheritdoc />
    public override string Given(SequenceOption option, params IReadOnlyList<string> values) =>
        option is SequenceOption.Guidance or SequenceOption.GuidanceMinNoise or SequenceOption.RegimeGuidance
            ? $"{Name(option)} {string.Join(",", values)}" : TrainFlagNames.Instance.Given(option, values);
}
