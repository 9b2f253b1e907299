using System.Globalization;
using System.Collections.Frozen;

namespace Crucible.Data.Csv;

/// <summary>What to do with a missing value (a token from <see cref="CsvReadOptions.MissingTokens"/>).</summary>
public enum MissingValuePolicy
{
    /// <summary>Strict default: a missing value is error <see cref="CsvRules.Missing"/> and its row is rejected.</summary>
    Reject,

    /// <summary>Keep it as NaN in the frame; counted per column and reported as warning <see cref="CsvRules.MissingWarning"/>.</summary>
    Keep,

    /// <summary>Opt-in repair: carry the previous accepted value forward, at most <see cref="CsvReadOptions.ForwardFillLimit"/> rows in a row; counted.</summary>
    ForwardFill,
}

/// <summary>What to do with a jump that looks like an unadjusted split or a 100× unit error (prices only).</summary>
public enum JumpPolicy
{
    /// <summary>Strict default: error <see cref="CsvRules.SplitJump"/>. Nothing is ever repaired.</summary>
    Reject,

    /// <summary>Report warning <see cref="CsvRules.SplitJumpWarning"/> and keep the row unchanged.</summary>
    Warn,
}

/// <summary>The allowed range of values in a column.</summary>
public enum ColumnDomain
{
    /// <summary>Follow the input kind: prices &gt; 0, simple returns &gt; −1, percent returns &gt; −100, log returns any finite value.</summary>
    FromInputKind,

    /// <summary>Any finite value (spreads, rates, futures, P&amp;L).</summary>
    AnyFinite,

    /// <summary>Finite and ≥ 0.</summary>
    NonNegative,

    /// <summary>Finite and &gt; 0.</summary>
    Positive,
}

/// <summary>
/// How to read and validate a CSV of time series. Defaults are strict: nothing is repaired unless a repair is
/// switched on here, and every repair is counted in the <see cref="DataQualityReport"/>.
/// Parsing never depends on the machine's culture.
/// </summary>
public sealed record CsvReadOptions
{
    /// <summary>What the values are. Default <see cref="InputKind.Prices"/>.</summary>
    public InputKind Input { get; init; } = InputKind.Prices;

    /// <summary>Whether the file has a date column (<see cref="DateColumnName"/>). Default true.</summary>
    public bool HasDateColumn { get; init; } = true;

    /// <summary>
    /// The date column's header name, compared case-insensitively; the column may stand anywhere in the header (the
    /// value columns are the others, in file order). A header without it is <see cref="CsvRules.Header"/>. Default <c>Date</c>.
    /// </summary>
    public string DateColumnName { get; init; } = "Date";

    /// <summary>
    /// The exact date format (.NET custom format, invariant culture). Default ISO 8601 <c>yyyy-MM-dd</c>;
    /// values with a time or timezone suffix, and ambiguous forms such as <c>03/04/2020</c>, are errors.
    /// </summary>
    public string DateFormat { get; init; } = "yyyy-MM-dd";

    /// <summary>The field delimiter. Default <c>,</c>; EU files often use <c>;</c>.</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>The decimal separator. Default <c>.</c>; <c>,</c> is accepted for EU files (then the delimiter must differ).</summary>
    public char DecimalSeparator { get; init; } = '.';

    /// <summary>The thousands separator, or null (default) when values must not contain one.</summary>
    public char? ThousandsSeparator { get; init; }

    /// <summary>
    /// The explicit list of tokens that mean "missing", compared exactly after trimming spaces. Default: only the empty field.
    /// There is no implicit pandas-style set: <c>NA</c> is a parse error unless listed.
    /// </summary>
    public IReadOnlySet<string> MissingTokens { get; init; } = FrozenSet.Create(StringComparer.Ordinal, "");

    /// <summary>
    /// The value columns to read, by header name, in this order; null (default) reads every column. The others are
    /// skipped unread: not parsed or validated (a column of ISINs or ratings is no error), not counted, not in the frame.
    /// A name the header lacks, or one given twice, is <see cref="CsvRules.Header"/> naming the file's value columns.
    /// Duplicate dates are compared on the columns read.
    /// </summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>
    /// Names a value column read may not have, each with what the name is (the caller's own columns: <c>train</c> writes
    /// scenario files that begin with <c>scenario,step</c>). Such a column is refused at its header cell,
    /// <see cref="CsvRules.ReservedColumn"/>: "series 'NAME' has the name of WHAT; rename the series". Names are compared
    /// exactly (ordinal). Default: none.
    /// </summary>
    public IReadOnlyDictionary<string, string> ReservedColumns { get; init; } = new Dictionary<string, string>();

    /// <summary>What to do with missing values. Default <see cref="MissingValuePolicy.Reject"/>.</summary>
    public MissingValuePolicy Missing { get; init; } = MissingValuePolicy.Reject;

    /// <summary>With <see cref="MissingValuePolicy.ForwardFill"/>: the most consecutive rows a value may be carried. Default 5.</summary>
    public int ForwardFillLimit { get; init; } = 5;

    /// <summary>Opt-in repair: sort rows by date instead of rejecting out-of-order rows. Counted. Default false.</summary>
    public bool SortByDate { get; init; }

    /// <summary>Opt-in repair: drop rows that exactly duplicate the previous row (same date, same values). Counted. Default false.</summary>
    public bool DropExactDuplicates { get; init; }

    /// <summary>Gaps longer than this many business days (Mon–Fri) between consecutive rows give a warning. Default 5.</summary>
    public int MaxGapBusinessDays { get; init; } = 5;

    /// <summary>Whether rows dated on a weekend give a warning. Default true.</summary>
    public bool WarnOnWeekend { get; init; } = true;

    /// <summary>
    /// Per-column domains by header name. Columns not listed use <see cref="ColumnDomain.FromInputKind"/>, except a
    /// column named <c>Volume</c> in a price file, which is <see cref="ColumnDomain.NonNegative"/>.
    /// </summary>
    public IReadOnlyDictionary<string, ColumnDomain> ColumnDomains { get; init; } = new Dictionary<string, ColumnDomain>();

    /// <summary>
    /// Prices only (columns with a strictly positive domain): a move with <c>|ln(p_t/p_{t-1})| &gt;</c> this value whose
    /// ratio (or inverse ratio) is within <see cref="SplitRatioTolerance"/> of a split factor k in 2..20 or of 100 is
    /// flagged. Default ln(1.8).
    /// </summary>
    public double SplitLogReturnThreshold { get; init; } = Math.Log(1.8);

    /// <summary>Relative tolerance for "close to an integer ratio" (a split day's own move is included). Default 0.05.</summary>
    public double SplitRatioTolerance { get; init; } = 0.05;

    /// <summary>What to do with suspected splits and 100× errors. Default <see cref="JumpPolicy.Reject"/>.</summary>
    public JumpPolicy Jumps { get; init; } = JumpPolicy.Reject;

    /// <summary>Check Open/High/Low/Close columns (found by name, case-insensitive) for impossible bars. Default true.</summary>
    public bool CheckOhlc { get; init; } = true;

    /// <summary>Cap on a field's length in bytes. Default 4096.</summary>
    public int MaxFieldLength { get; init; } = 4096;

    /// <summary>Cap on a record's length in bytes (quoted fields may span lines). Default 16 MiB.</summary>
    public int MaxRecordLength { get; init; } = 16 << 20;

    /// <summary>Cap on the number of columns. Default 10,000.</summary>
    public int MaxColumns { get; init; } = 10_000;

    /// <summary>Cap on the number of data rows. Default 100 million.</summary>
    public long MaxRows { get; init; } = 100_000_000;

    /// <summary>Collect-all mode stops after this many errors (then reports <see cref="CsvRules.TooManyErrors"/>). Default 100.</summary>
    public int MaxErrors { get; init; } = 100;

    /// <summary>Each warning rule keeps this many detailed entries; all are counted. Default 20.</summary>
    public int MaxWarningsPerRule { get; init; } = 20;

    /// <summary>
    /// Whether raw cell values may appear in messages and reports. Default false: data may be confidential,
    /// so errors name line, column and rule only.
    /// </summary>
    public bool ShowValues { get; init; }

    /// <summary>
    /// How the reader's advice says to declare the values percent returns (<see cref="InputKind.PercentReturns"/>), in the
    /// refusal of a simple return ≤ −1 and in the percent warning (<see cref="CsvRules.PercentWarning"/>): <c>--input percent</c>,
    /// <c>crucible</c>'s flag, which data check's report records, unless the caller takes the input kind otherwise (a
    /// training job of the service: its request's <c>"input": "percent"</c>).
    /// </summary>
    public string PercentInputAdvice { get; init; } = "--input percent";

    /// <summary>The strict defaults.</summary>
    public static CsvReadOptions Default { get; } = new();

    /// <summary>
    /// The first time or timezone specifier (h H m s f F t z K) of a .NET custom date format, outside quoted literals and
    /// backslash escapes; null when there is none. A one-character format is a standard format and is not searched.
    /// </summary>

    // whether format is a valid custom date format (a lone '%' or an unclosed quote threw FormatException from every date
    // read, an internal error) that names a day: 2001-02-03 and 2012-11-30, written with it, read back as themselves (a
    // format without the year or the day read every row as year 1 or the 1st)
    private static bool NamesADay(string format)
    {
        foreach (var day in (ReadOnlySpan<DateOnly>)[new DateOnly(2001, 2, 3), new DateOnly(2012, 11, 30)])
        {
            try
            {
                var text = day.ToString(format, CultureInfo.InvariantCulture);
                if (!DateOnly.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var read) || read != day) return false;
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return true;
    }

    private static char? TimeField(string format)
    {
        if (format.Length < 2) return null;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c == '\\') i++;
            else if (c is '\'' or '"')
            {
                var close = format.IndexOf(c, i + 1);
                if (close < 0) return null; // an unclosed literal: the parser refuses every date, as before
                i = close;
            }
            else if (c is 'h' or 'H' or 'm' or 's' or 'f' or 'F' or 't' or 'z' or 'K') return c;
        }

        return null;
    }

    /// <summary>Checks the options themselves; throws <see cref="InvalidInputException"/> for contradictory settings.</summary>
    public void Validate() => Validate(null);

    /// <summary>
    /// Checks the options themselves; throws <see cref="InvalidInputException"/> (<c>OPT-E</c>) for contradictory settings,
    /// an empty date format or a limit out of range, naming the offending property and its allowed range.
    /// <paramref name="name"/> maps a property name (e.g. <c>ForwardFillLimit</c>) to the name the user knows it by
    /// (a CLI flag such as <c>--ffill-limit</c>); null, or null for a property, keeps the property name.
    /// </summary>
    public void Validate(Func<string, string?>? name)
    {
        string N(string property) => name?.Invoke(property) ?? property;
        static string Got(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Delimiter == DecimalSeparator)
            throw new InvalidInputException("OPT-E", $"the delimiter and the decimal separator are both '{Delimiter}'");
        // The thousands separator may equal the delimiter: such values are quoted ("1,234,567").
        if (ThousandsSeparator is { } t && t == DecimalSeparator)
            throw new InvalidInputException("OPT-E", $"the thousands separator '{t}' is also the decimal separator");
        if (Delimiter is '"' or '\r' or '\n' || Delimiter > 127)
            throw new InvalidInputException("OPT-E", "the delimiter must be an ASCII character other than a quote or line break");
        if (DecimalSeparator is not ('.' or ','))
            throw new InvalidInputException("OPT-E", "the decimal separator must be '.' or ','");
        if (ThousandsSeparator is { } ts && ts is not ('.' or ',' or '\'' or ' ' or '_'))
            throw new InvalidInputException("OPT-E", "the thousands separator must be one of . , ' space _");
        if (HasDateColumn && string.IsNullOrWhiteSpace(DateColumnName))
            throw new InvalidInputException("OPT-E", $"{N(nameof(DateColumnName))} is empty: give the date column's header name");
        if (string.IsNullOrWhiteSpace(DateFormat))
            throw new InvalidInputException("OPT-E", $"{N(nameof(DateFormat))} is empty: give an exact .NET date format such as yyyy-MM-dd");
        if (TimeField(DateFormat) is { } field)
            throw new InvalidInputException("OPT-E",
                $"{N(nameof(DateFormat))} '{DateFormat}' has the time or timezone field '{field}': rows are days, and a time read and dropped "
                + "would make every bar of a day after its first a duplicate date; intraday timestamps are not read (README Limits)");
        if (!NamesADay(DateFormat))
            throw new InvalidInputException("OPT-E",
                $"{N(nameof(DateFormat))} '{DateFormat}' is not an exact .NET date format that names a day (year, month and day, e.g. yyyy-MM-dd or dd.MM.yyyy): "
                + "a date it writes does not read back as the same day");
        void AtLeast(long value, long min, string property)
        {
            if (value < min)
                throw new InvalidInputException("OPT-E", $"{N(property)} must be at least {Got(min)}, got {Got(value)}");
        }

        if (Columns is { Count: 0 })
            throw new InvalidInputException("OPT-E", $"{N(nameof(Columns))} names no column: give at least one, or null for all");
        AtLeast(ForwardFillLimit, 0, nameof(ForwardFillLimit));
        AtLeast(MaxGapBusinessDays, 1, nameof(MaxGapBusinessDays));
        AtLeast(MaxFieldLength, 16, nameof(MaxFieldLength));
        AtLeast(MaxColumns, 1, nameof(MaxColumns));
        AtLeast(MaxRows, 1, nameof(MaxRows));
        AtLeast(MaxErrors, 1, nameof(MaxErrors));
        AtLeast(MaxWarningsPerRule, 0, nameof(MaxWarningsPerRule));
        if (MaxRecordLength < MaxFieldLength)
            throw new InvalidInputException("OPT-E",
                $"{N(nameof(MaxRecordLength))} must be at least {N(nameof(MaxFieldLength))} ({Got(MaxFieldLength)}), got {Got(MaxRecordLength)}");
    }
}
