namespace Crucible.Data;

/// <summary>
/// Where a problem in user input was found: file, 1-based line and column, and the rule it broke.
/// Line and column are 0 when the problem concerns the whole file or a whole column.
/// </summary>
public sealed record InputLocation(string File, long Line, int Column, string ColumnName = "")
{
    /// <summary><c>file:line:column</c>, the shape compilers and editors understand.</summary>
    public override string ToString() =>
        Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

/// <summary>
/// Thrown for bad user input (a malformed CSV, an unknown column, an invalid option value).
/// The CLI turns it into a one-line message naming file, line, column and rule, and exit code 2.
/// </summary>
public class InvalidInputException : Exception
{
    public InvalidInputException(string rule, string message, InputLocation? location = null)
        : base(message)
    {
        Rule = rule;
        Location = location;
    }

    public InvalidInputException() : this("invalid-input", "invalid input") { }

    public InvalidInputException(string message) : this("invalid-input", message) { }

    public InvalidInputException(string message, Exception innerException) : base(message, innerException)
    {
        Rule = "invalid-input";
    }

    /// <summary>A short stable identifier of the broken rule, e.g. <c>non-numeric</c> or <c>duplicate-date</c>.</summary>
    public string Rule { get; }

    /// <summary>Where the problem was found, when it concerns a file.</summary>
    public InputLocation? Location { get; }

    /// <summary>
    /// The exception as <see cref="Exception.ToString"/> gives it, with <see cref="ToUserMessage"/> in place of the bare
    /// message: an exception a library user does not catch (printed by the runtime, or by a logger) then still names the
    /// file, line, column and rule, not only "not a number". <see cref="Exception.Message"/> is unchanged.
    /// </summary>
    public override string ToString()
    {
        string full = base.ToString(), head = $"{GetType()}: {Message}";
        return full.StartsWith(head, StringComparison.Ordinal) ? $"{GetType()}: {ToUserMessage()}{full[head.Length..]}" : full;
    }

    /// <summary>The message as the CLI prints it: <c>file:line:column: error [rule]: message</c>.</summary>
    public string ToUserMessage() =>
        Location is null ? $"error [{Rule}]: {Message}" : $"{Location}: error [{Rule}]: {Message}";
}
