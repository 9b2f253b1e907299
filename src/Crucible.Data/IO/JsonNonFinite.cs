using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Crucible.Data.IO;

/// <summary>
/// Names a non-finite literal (<c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>, any case; Python's <c>json.dumps</c> writes
/// them, JSON has none) where System.Text.Json's reader stopped, so that a refusal can say what was written instead of
/// the reader's "'N' is an invalid start of a value". One definition for every JSON input that explains such errors.
/// </summary>
public static partial class JsonNonFinite
{
    /// <summary>
    /// The non-finite literal around the reader's error position of <paramref name="error"/> in <paramref name="json"/>
    /// and its byte in the line (from 0), or (null, 0) when the error is not at one.
    /// </summary>
    /// <param name="json">The UTF-8 document the reader failed on.</param>
    /// <param name="error">The reader's exception (its 0-based line number and byte position in the line).</param>
    public static (string? Literal, long Column) At(ReadOnlySpan<byte> json, JsonException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (json.IsEmpty || error.LineNumber is not { } line || error.BytePositionInLine is not { } position) return (null, 0);
        int start = 0;
        for (long l = 0; l < line; l++)
        {
            int next = json[start..].IndexOf((byte)'\n');
            if (next < 0) return (null, 0);
            start += next + 1;
        }

        if (position > json.Length - start) return (null, 0);
        // the reader stops at the literal's first letter (after a sign), or inside it ("nan" read as a broken "null")
        int from = start + (int)position;
        while (from > start && char.IsAsciiLetter((char)json[from - 1])) from--;
        if (from > start && json[from - 1] is (byte)'-' or (byte)'+') from--;
        var match = Literal().Match(Encoding.ASCII.GetString(json[from..Math.Min(json.Length, from + 12)]));
        return match.Success ? (match.Value, from - start) : (null, 0);
    }

    /// <summary>
    /// The refusal of a JSON input file whose reader error is at a non-finite literal: rule <c>non-finite</c>, naming the
    /// literal, at <paramref name="source"/>'s line and the literal's column (both from 1); null when the error is another.
    /// </summary>
    /// <param name="json">The text the reader failed on.</param>
    /// <param name="error">The reader's exception.</param>
    /// <param name="source">The file (or input) name for the location.</param>
    public static InvalidInputException? Refusal(string json, JsonException error, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(error);
        var (literal, column) = At(Encoding.UTF8.GetBytes(json), error);
        return literal is null
            ? null
            : new InvalidInputException("non-finite", $"{literal} is not a JSON number (JSON has no NaN or Infinity): give a finite number",
                new InputLocation(source, (error.LineNumber ?? 0) + 1, (int)column + 1));
    }

    [GeneratedRegex(@"^[-+]?(nan|infinity|inf)(?![A-Za-z0-9])", RegexOptions.IgnoreCase)]
    private static partial Regex Literal();
}
