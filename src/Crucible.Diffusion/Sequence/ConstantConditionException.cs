using Crucible.Data;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// Rule <c>constant-condition</c>: a condition feature equal in every row its statistics are computed from, so nothing
/// can be conditioned on it. Carries the feature and the condition dates it is constant over, so that the caller that
/// read the state file (<see cref="SequenceTraining.Train"/>) can name the column and the rows.
/// </summary>
public sealed class ConstantConditionException : InvalidInputException
{
    /// <summary>The rule.</summary>
    public const string RuleName = "constant-condition";

    /// <summary>Creates the refusal of <paramref name="feature"/>, constant over the condition dates <paramref name="from"/> .. <paramref name="to"/>.</summary>
    public ConstantConditionException(string feature, DateOnly from, DateOnly to, string message)
        : base(RuleName, message)
    {
        Feature = feature;
        From = from;
        To = to;
    }

    /// <summary>The condition feature.</summary>
    public string Feature { get; }

    /// <summary>The first condition date it was read on (a condition dated d holds the state of the day before).</summary>
    public DateOnly From { get; }

    /// <summary>The last condition date it was read on.</summary>
    public DateOnly To { get; }
}
