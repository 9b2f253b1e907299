namespace Crucible.Diffusion.Conditioning;

/// <summary>
/// The stable rule identifiers of stress-specification errors (<see cref="Crucible.Data.InvalidInputException.Rule"/>).
/// The CLI prints them with the column of the specification where the problem starts.
/// </summary>
public static class StressRules
{
    /// <summary>The text does not follow the grammar (an empty term, a missing value or operator, an unbalanced parenthesis).</summary>
    public const string Syntax = "STRESS-E-SYNTAX";

    /// <summary>A number or unit that cannot be read or does not fit the term (e.g. <c>%</c> missing on a move).</summary>
    public const string Value = "STRESS-E-VALUE";

    /// <summary>A condition name, alias or archetype that the model does not know.</summary>
    public const string UnknownName = "STRESS-E-NAME";

    /// <summary>A series name in a move that is not one of the generated series.</summary>
    public const string UnknownSeries = "STRESS-E-SERIES";

    /// <summary>Two terms that set the same thing (two archetypes, two values or two shifts of one feature).</summary>
    public const string Conflict = "STRESS-E-CONFLICT";

    /// <summary>A condition space or archetype that cannot be built (undated frame, bad statistics, unknown feature).</summary>
    public const string Space = "STRESS-E-SPACE";
}
