namespace Crucible.Data.Csv;

/// <summary>
/// The stable rule identifiers used in data-quality reports and <see cref="InvalidInputException.Rule"/>.
/// <c>-E-</c> rules are errors (the row or file is rejected); <c>-W-</c> rules are warnings.
/// The identifiers never change meaning once released; new rules get new identifiers.
/// </summary>
public static class CsvRules
{
    /// <summary>The file cannot be opened or read.</summary>
    public const string FileUnreadable = "CSV-E-FILE";

    /// <summary>The file has no header or no data rows.</summary>
    public const string Empty = "CSV-E-EMPTY";

    /// <summary>Invalid UTF-8, or a UTF-16 byte-order mark (only UTF-8, with or without BOM, is accepted).</summary>
    public const string Encoding = "CSV-E-ENCODING";

    /// <summary>Bad header: empty or duplicate names, first column not the date column, wrong delimiter, or a header repeated mid-file.</summary>
    public const string Header = "CSV-E-HEADER";

    /// <summary>A row has more or fewer fields than the header ("expected N fields, saw M").</summary>
    public const string Fields = "CSV-E-FIELDS";

    /// <summary>A quote that is never closed (reported at the line where it opened) or a stray quote in an unquoted field.</summary>
    public const string Quote = "CSV-E-QUOTE";

    /// <summary>A field or record longer than the configured cap.</summary>
    public const string FieldLength = "CSV-E-FIELDLEN";

    /// <summary>More columns than the configured cap.</summary>
    public const string Columns = "CSV-E-COLUMNS";

    /// <summary>More rows than the configured cap.</summary>
    public const string Rows = "CSV-E-ROWS";

    /// <summary>A value that is not a number in the declared format (including unlisted missing-value tokens such as <c>NA</c>).</summary>
    public const string Number = "CSV-E-NUM";

    /// <summary>A NaN or infinity literal (<c>NaN</c>, <c>Infinity</c>, <c>inf</c>, <c>1.#INF</c>, <c>∞</c>) or a value that overflows.</summary>
    public const string NonFinite = "CSV-E-NONFINITE";

    /// <summary>A value written with a decimal separator other than the declared one (mixed conventions).</summary>
    public const string Decimal = "CSV-E-DECIMAL";

    /// <summary>A value with thousands separators when none were declared.</summary>
    public const string Thousands = "CSV-E-THOUSANDS";

    /// <summary>A missing value where the missing-value policy does not allow it (or beyond the forward-fill limit).</summary>
    public const string Missing = "CSV-E-MISSING";

    /// <summary>A date that is not in the declared format, is ambiguous, or carries a time or timezone suffix.</summary>
    public const string Date = "CSV-E-DATE";

    /// <summary>A duplicate date: conflicting values, or identical values without de-duplication enabled.</summary>
    public const string DuplicateDate = "CSV-E-DUPDATE";

    /// <summary>Dates out of ascending order (without the sort repair enabled).</summary>
    public const string Unsorted = "CSV-E-UNSORTED";

    /// <summary>A value outside the column's domain: a price ≤ 0, a simple return ≤ −1, a percent return ≤ −100.</summary>
    public const string Domain = "CSV-E-DOMAIN";

    /// <summary>A jump whose price ratio is close to an integer split factor or 100 (unadjusted split or unit error).</summary>
    public const string SplitJump = "CSV-E-SPLIT";

    /// <summary>Impossible OHLC bar: High below max(Open, Close), Low above min(Open, Close), or High below Low.</summary>
    public const string Ohlc = "CSV-E-OHLC";

    /// <summary>Warning: a gap of more business days between consecutive rows than configured.</summary>
    public const string GapWarning = "CSV-W-GAP";

    /// <summary>Warning: a row dated on a Saturday or Sunday (often a timezone shift).</summary>
    public const string WeekendWarning = "CSV-W-WEEKEND";

    /// <summary>Warning: an exact duplicate row dropped by the opt-in de-duplication repair.</summary>
    public const string DuplicateWarning = "CSV-W-DUPDATE";

    /// <summary>Warning: rows were reordered by the opt-in sort repair.</summary>
    public const string SortedWarning = "CSV-W-SORTED";

    /// <summary>Warning: missing values kept as NaN (policy <see cref="MissingValuePolicy.Keep"/>) or forward-filled.</summary>
    public const string MissingWarning = "CSV-W-MISSING";

    /// <summary>Warning: a suspicious jump reported but accepted (policy <see cref="JumpPolicy.Warn"/>).</summary>
    public const string SplitJumpWarning = "CSV-W-SPLIT";

    /// <summary>
    /// Warning: a column read as log or simple returns whose median magnitude is 0.1 or more, which values in percent
    /// have and daily to monthly returns do not (at least 20 values; the column's header cell, line 0).
    /// </summary>
    public const string PercentWarning = "CSV-W-PERCENT";

    /// <summary>
    /// Warning: a value column whose values are all equal (a constant price, an all-zero return column; at least two
    /// values, missing ones not counted), which train refuses (<see cref="Transform"/>); warned at the column's header cell.
    /// </summary>
    public const string ConstantWarning = "CSV-W-CONSTANT";

    /// <summary>
    /// A value column read whose name the caller's output reserves (<see cref="CsvReadOptions.ReservedColumns"/>: train's
    /// scenario files begin with <c>scenario,step</c>); refused at the column's header cell.
    /// </summary>
    public const string ReservedColumn = "reserved-column";

    /// <summary>Error collection stopped after the configured maximum number of errors.</summary>
    public const string TooManyErrors = "CSV-E-MAXERRORS";

    /// <summary>A time split that leaks: holdout rows within the embargo of training rows, shared rows, or an embargo shorter than the window.</summary>
    public const string SplitLeak = "SPLIT-LEAK";

    /// <summary>A join that is impossible: no common dates, clashing column names, or undated frames.</summary>
    public const string Join = "JOIN-E";

    /// <summary>A transform used before it was fitted, or with data of the wrong shape.</summary>
    public const string Transform = "TRANSFORM-E";

    /// <summary>A window request that cannot be met (window longer than the data, bad stride).</summary>
    public const string Window = "WINDOW-E";
}
