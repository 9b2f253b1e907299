using Crucible.Diffusion.Sequence;

namespace Crucible.Cli.Commands;

/// <summary>
/// The options of a sequence training as <c>crucible train</c> takes them, for the advice of the library's refusals
/// (<see cref="SequenceOptionException.Worded"/>): its flags (<c>--state-columns VIXCLS,DFF</c>), and <c>state_scale</c>,
/// a key of its <c>--config</c> file.
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
        _ => throw new ArgumentOutOfRangeException(nameof(option), option, "unknown sequence option"),
    };

    /// <inheritdoc />
    public override string Given(SequenceOption option, params IReadOnlyList<string> values) =>
        option == SequenceOption.StateScale ? $"\"state_scale\": \"{string.Join(",", values)}\"" : $"{Name(option)} {string.Join(",", values)}";

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
