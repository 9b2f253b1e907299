using System.CommandLine.Parsing;
using System.Globalization;

namespace Crucible.Cli.Commands;

/// <summary>
/// Culture-invariant parsing of numeric option values. System.CommandLine parses an <c>Option&lt;double&gt;</c> with the
/// current culture, so under de-DE <c>--sampling-rate 0.04</c> read as 4 ('.' is the group separator there); the CLI
/// forces the invariant culture at start-up, but a host that does not (or <c>CRUCIBLE_CULTURE</c>) would misread every
/// decimal. <see cref="CrucibleCommand.Build"/> gives every decimal option of every command these parsers.
/// </summary>
internal static class InvariantNumber
{
    /// <summary>The option's value as a double in the invariant culture ('.' decimal point, no group separators).</summary>
    public static double Parse(ArgumentResult result)
    {
        if (result.Tokens.Count == 0) return default;
        var text = result.Tokens[^1].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        result.AddError($"Cannot parse argument '{text}' for option '{(result.Parent as OptionResult)?.Option.Name}' as a number (use '.' as the decimal point).");
        return default;
    }

    /// <summary>As <see cref="Parse"/>, for an optional value (null when the option is absent).</summary>
    public static double? ParseOptional(ArgumentResult result) => result.Tokens.Count == 0 ? null : Parse(result);
}
