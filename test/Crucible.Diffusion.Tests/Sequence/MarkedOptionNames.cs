using Crucible.Diffusion.Sequence;

namespace Crucible.Diffusion.Tests.Sequence;

/// <summary>
/// A shell's names for the tests of <see cref="SequenceOptionException.Worded"/>: <c>&lt;StateColumns&gt;</c>, and given
/// values <c>&lt;StateColumns=VIXCLS|DFF&gt;</c>, so that an assertion sees which option each place names and with what.
/// </summary>
internal sealed class MarkedOptionNames : SequenceOptionNames
{
    public static MarkedOptionNames Instance { get; } = new();

    public override string Name(SequenceOption option) => $"<{option}>";

    public override string Given(SequenceOption option, params IReadOnlyList<string> values) => $"<{option}={string.Join("|", values)}>";
}
