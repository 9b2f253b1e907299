using Crucible.Diffusion.Sequence;

namespace Crucible.Cli.Commands;

/// <summary>
/// The options of a sequence training as <c>crucible train</c> takes them, for the advice of the library's refusals
/// (<see cref="SequenceOptionException.Worded"/>): its flags (<c>--state-columns VIXCLS,DFF</c>), <c>state_scale</c>, a key
/// of its <c>--config</c> file, <c>guidance_scale</c> with that flag (the advice to set it), and the public state by its
/// config key and its flag, either of which sets it.
/// </summary>
internal sealed class TrainFlagNames : SequenceOptionNames
{
    private TrainFlagNames()
    {
    }

    /// <summary>The one instance.</summary>
    public static TrainFlagNames Instance { get; } = new();

    /// <inheritdoc />
    public override string Name(SequenceOption option) => option switch
    {
        SequenceOption.Data => "--data",
        SequenceOption.DateFormat => "--date-format",
        SequenceOption.DateColumn => "--date-column",
        SequenceOption.State => "--state",
        SequenceOption.StateColumns => "--state-columns",
        SequenceOption.StateDateFormat => "--state-date-format",
        SequenceOption.StateDateColumn => "--state-date-column",
        SequenceOption.StateMissing => "--state-missing",
        SequenceOption.StateFfillLimit => "--state-ffill-limit",
        SequenceOption.StateScale => "state_scale",
        SequenceOption.PublicState => "privacy.public_state (--dp-public-state)",
        SequenceOption.CalibrateGuidance => "--calibrate-guidance",
        SequenceOption.GuidanceScale => "--config guidance_scale",
        _ => throw new ArgumentOutOfRangeException(nameof(option), option, "unknown sequence option"),
    };

    /// <inheritdoc />
    public override string Given(SequenceOption option, params IReadOnlyList<string> values) => option switch
    {
        SequenceOption.StateScale => $"\"state_scale\": \"{string.Join(",", values)}\"",
        SequenceOption.GuidanceScale => $"\"guidance_scale\": {string.Join(",", values)}",
        SequenceOption.PublicState => $"--dp-public-state, privacy.public_state: {string.Join(",", values)}", // a switch, or the config's key
        _ => $"{Name(option)} {string.Join(",", values)}",
    };

    /// <summary>What <paramref name="run"/> returns; a refusal whose advice names options, worded with these flags.</summary>
    public static T Worded<T>(Func<T> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        try
        {
            return run();
        }
        catch (SequenceOptionException e)
        {
            throw e.Worded(Instance);
        }
    }
}
