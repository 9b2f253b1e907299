namespace Crucible.Data.Csv;

/// <summary>Whether an issue makes the data unusable.</summary>
public enum IssueSeverity
{
    /// <summary>Reported; the data stays usable.</summary>
    Warning,

    /// <summary>The row (or file) is rejected.</summary>
    Error,
}

/// <summary>
/// Why a <see cref="DataIssue"/> was raised, where one rule has several causes that a caller words differently
/// (<see cref="DataIssue.Cause"/>).
/// </summary>
public enum DataIssueCause
{
    /// <summary>No finer cause than the issue's rule.</summary>
    None,

    /// <summary>
    /// <see cref="CsvRules.Header"/>: the header has no column named <see cref="CsvReadOptions.DateColumnName"/> (a caller
    /// that reads a file with a date-column option of its own, a state file's, names that option).
    /// </summary>
    DateColumnMissing,

    /// <summary><see cref="CsvRules.Missing"/>: a missing value under <see cref="MissingValuePolicy.Reject"/>.</summary>
    MissingValueRefused,

    /// <summary>
    /// <see cref="CsvRules.Missing"/> under <see cref="MissingValuePolicy.ForwardFill"/>: a missing value with no earlier
    /// value in its column to fill from (before the first row that has one); no limit would fill it.
    /// </summary>
    NothingToForwardFill,

    /// <summary>
    /// <see cref="CsvRules.Missing"/> under <see cref="MissingValuePolicy.ForwardFill"/>: a missing value past
    /// <see cref="CsvReadOptions.ForwardFillLimit"/> filled rows in a row; a higher limit would fill it.
    /// </summary>
    ForwardFillLimitExceeded,
}

/// <summary>
/// One problem found in a file. <see cref="Line"/> is the 1-based physical line of the problem: where the record
/// starts for a problem with the record's values or field count, and where the problem stands for a structural one (a
/// quote, a field over its cap, too many columns), which in a record whose quoted fields hold line breaks can be a later
/// line than the record's first;
/// <see cref="Record"/> the 1-based data-record number (0 for the header or the whole file),
/// <see cref="Column"/> the 1-based column (0 when the problem concerns the whole row or file).
/// <see cref="RawValue"/> is null unless values were allowed to be shown.
/// </summary>
public sealed record DataIssue(
    IssueSeverity Severity,
    string Rule,
    string File,
    long Line,
    long Record,
    int Column,
    string ColumnName,
    string Message,
    string? RawValue = null,
    long ByteOffset = -1)
{
    /// <summary><c>file:line:col: error [RULE]: message</c>, the one-line form the CLI prints.</summary>
    public override string ToString()
    {
        var where = Line > 0 ? $"{File}:{Line}:{Column}" : File;
        var kind = Severity == IssueSeverity.Error ? "error" : "warning";
        return $"{where}: {kind} [{Rule}]: {Message}";
    }

    /// <summary>
    /// Why the issue was raised, where its rule has causes a caller tells apart (<see cref="DataIssueCause.None"/> where
    /// the rule says all): a caller that words its own advice (a state file's reader, which names its own options)
    /// branches on it rather than on the message. Not written to the report's JSON (a report read back from JSON has
    /// <see cref="DataIssueCause.None"/>).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DataIssueCause Cause { get; init; }

    /// <summary>The same issue as an exception, for APIs that fail on the first error.</summary>
    public InvalidInputException ToException() =>
        new(Rule, Message, new InputLocation(File, Line, Column, ColumnName));
}

/// <summary>How many times an opt-in repair changed the data.</summary>
public sealed record RepairCount(string Repair, long Count);

/// <summary>
/// The data-quality report of one file. Reconciles exactly: <c>RowsIn = Accepted + Rejected</c>, where
/// <c>Rejected = RejectedByError + DroppedByRepair</c>. Every repair is counted in <see cref="Repairs"/>;
/// nothing is repaired silently. <see cref="Usable"/> is false when there is any error.
/// </summary>
public sealed record DataQualityReport
{
    /// <summary>The file as named by the caller.</summary>
    public required string File { get; init; }

    /// <summary>What the values were declared to be.</summary>
    public required InputKind Input { get; init; }

    /// <summary>Value column names (without the date column).</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    /// <summary>Data records read (blank lines and the header excluded).</summary>
    public required long RowsIn { get; init; }

    /// <summary>Rows that end up in the frame.</summary>
    public required long Accepted { get; init; }

    /// <summary>Rows not in the frame: <see cref="RejectedByError"/> + <see cref="DroppedByRepair"/>.</summary>
    public required long Rejected { get; init; }

    /// <summary>Rows rejected because of an error.</summary>
    public required long RejectedByError { get; init; }

    /// <summary>Rows removed by an opt-in repair (de-duplication).</summary>
    public required long DroppedByRepair { get; init; }

    /// <summary>Blank lines skipped (not rows).</summary>
    public required long BlankLines { get; init; }

    /// <summary>Bytes read.</summary>
    public required long Bytes { get; init; }

    /// <summary>First accepted date, when dated.</summary>
    public DateOnly? FirstDate { get; init; }

    /// <summary>Last accepted date, when dated.</summary>
    public DateOnly? LastDate { get; init; }

    /// <summary>Missing values seen per column (before any fill).</summary>
    public required IReadOnlyDictionary<string, long> MissingByColumn { get; init; }

    /// <summary>The repairs applied, with counts.</summary>
    public required IReadOnlyList<RepairCount> Repairs { get; init; }

    /// <summary>Errors (up to the configured maximum).</summary>
    public required IReadOnlyList<DataIssue> Errors { get; init; }

    /// <summary>Warnings (a bounded number of entries per rule; see <see cref="IssueCounts"/> for totals).</summary>
    public required IReadOnlyList<DataIssue> Warnings { get; init; }

    /// <summary>How many issues of each rule were found, errors and warnings.</summary>
    public required IReadOnlyDictionary<string, long> IssueCounts { get; init; }

    /// <summary>True when reading stopped early (too many errors, or a fatal structural error).</summary>
    public required bool Truncated { get; init; }

    /// <summary>True when there are no errors: the data can be used.</summary>
    public bool Usable => Errors.Count == 0;

    /// <summary>True when <c>RowsIn == Accepted + Rejected</c> and <c>Rejected == RejectedByError + DroppedByRepair</c>.</summary>
    public bool Reconciles => RowsIn == Accepted + Rejected && Rejected == RejectedByError + DroppedByRepair;

    /// <summary>The first error as an exception (for fail-fast callers); null when usable.</summary>
    public InvalidInputException? FirstErrorAsException() => Errors.Count == 0 ? null : Errors[0].ToException();

    /// <summary>The report as indented JSON (snake_case keys, culture-invariant numbers).</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, DataJsonContext.Default.DataQualityReport);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static DataQualityReport FromJson(string json) =>
        System.Text.Json.JsonSerializer.Deserialize(json, DataJsonContext.Default.DataQualityReport)
        ?? throw new InvalidInputException("JSON-E", "empty data-quality report JSON");
}
