using Crucible.Data;
using Crucible.Data.Csv;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// Rule <c>CSV-E-HEADER</c> (<see cref="CsvRules.Header"/>), located at the header: the state file that
/// <see cref="SequenceState.Load"/> reads has no column named as its date column (<see cref="DateColumn"/>, e.g. a FRED
/// download headed <c>observation_date</c> read with the default <c>Date</c>). Typed, so that a shell names its own
/// option for the column (<c>crucible train --state-date-column</c>, a training job's <c>state_date_column</c>) by
/// <see cref="SequenceOptionException.Worded"/> (or its own advice, <see cref="WithAdvice"/>) without reading the message.
/// </summary>
public sealed class StateDateColumnException : SequenceOptionException
{
    /// <summary>
    /// Creates the refusal of a state file whose header lacks <paramref name="dateColumn"/>; <paramref name="readerMessage"/>
    /// is the CSV reader's message for the header, <paramref name="location"/> where it points.
    /// </summary>
    public StateDateColumnException(string dateColumn, string readerMessage, InputLocation? location)
        : base(CsvRules.Header, readerMessage + $" (the state file's date column is '{dateColumn}': give the header of its own date column, e.g. observation_date; "
            + "the price file's date column does not apply to the state file)",
            n => readerMessage + $" (the state file's date column is '{dateColumn}': name it with {n.Name(SequenceOption.StateDateColumn)}, "
                + $"e.g. {n.Given(SequenceOption.StateDateColumn, "observation_date")}; {n.Name(SequenceOption.DateColumn)} names {n.Name(SequenceOption.Data)}'s)",
            location)
    {
        DateColumn = dateColumn;
        ReaderMessage = readerMessage;
    }

    /// <summary>The date column's header looked for (the <c>dateColumn</c> given, or <see cref="SequenceState.DefaultDateColumn"/>).</summary>
    public string DateColumn { get; }

    /// <summary>The CSV reader's message for the header, without the advice.</summary>
    public string ReaderMessage { get; }

    /// <summary>The same refusal (rule, location) with <paramref name="advice"/> in parentheses after <see cref="ReaderMessage"/>.</summary>
    public InvalidInputException WithAdvice(string advice) => new(Rule, $"{ReaderMessage} ({advice})", Location);
}
