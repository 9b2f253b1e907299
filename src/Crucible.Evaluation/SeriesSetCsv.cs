using System.Globalization;
using Crucible.Data;
using Crucible.Data.Csv;

namespace Crucible.Evaluation;

/// <summary>
/// A minimal reader of the evaluation's own CSV files (fixtures, benchmarks, eval_ref.py's format, scenario files):
/// a header row; a first column named <c>scenario</c> gives scenario ids (and a following <c>step</c> column is
/// skipped); otherwise a first column named <c>date</c> (any case), or a first column whose first value is not a
/// number, is skipped. Every other column is a series of invariant-culture finite numbers (log returns), except, in a
/// scenario file, the price columns its metadata <c>FILE.meta.json</c> declares (<c>generate --prices</c>): those are
/// skipped, after <see cref="ScenarioSidecar"/> has checked that the metadata is this file's and that they end the header.
/// The file is tokenized by the data loader's RFC 4180 tokenizer (<see cref="CsvRecordReader"/>): quoted fields, CRLF,
/// LF or CR, a UTF-8 byte-order mark, the data loader's caps; a header cell names its column as it does for the data
/// loader (<see cref="CsvHeader.CellName"/>: spaces and tabs around it trimmed, quoted or not). Full data validation (calendars, prices) is
/// Crucible.Data's job; this reader rejects what it cannot use, naming file, line, column and rule:
/// <c>file-not-found</c>, <c>unclosed-quote</c> (a quote never closed, or a stray one), <c>encoding</c> (UTF-16),
/// <c>field-length</c>, <c>too-many-columns</c>, <c>empty-file</c>, <c>empty-header</c>,
/// <c>duplicate-column</c>, <c>no-series</c>, <c>column-mismatch</c>, <c>ragged-row</c>, <c>non-integer</c>, <c>step-order</c>
/// (a scenario's steps not following one by one in its rows' order),
/// <c>CSV-E-MISSING</c> (a blank cell), <c>non-numeric</c>, <c>non-finite</c>, <c>no-rows</c>, and the sidecar's <c>scenario-metadata</c>,
/// <c>scenario-metadata-sha256</c>, <c>price-columns</c>.
/// </summary>
public static class SeriesSetCsv
{
    /// <summary>
    /// Reads <paramref name="path"/>; throws <see cref="InvalidInputException"/> naming line and column on bad input.
    /// With <paramref name="expectedNames"/> (the real data's series), the series must be those names, matched by name
    /// (<see cref="SeriesNameMatch"/>): the same names in another order are returned in the expected order; a different set
    /// is refused (rule <c>column-mismatch</c>, naming every missing and extra series, at the first extra column).
    /// </summary>
    public static SeriesSet Read(string path, IReadOnlyList<string>? expectedNames = null) => Read(path, expectedNames, out _);

    /// <summary>
    /// As <see cref="Read(string, IReadOnlyList{string}?)"/>; <paramref name="fileOrder"/> is the series in the file's
    /// order (which differs from the returned set's when the file held the expected names in another order).
    /// </summary>
    public static SeriesSet Read(string path, IReadOnlyList<string>? expectedNames, out IReadOnlyList<string> fileOrder) =>
        Read(path, expectedNames, out fileOrder, out _);

    /// <summary>
    /// As <see cref="Read(string, IReadOnlyList{string}?, out IReadOnlyList{string})"/>; <paramref name="dateOrder"/> is
    /// the first row whose date is not after the previous row's (a duplicate or an inversion), when the skipped first
    /// column holds an ISO date (<c>yyyy-MM-dd</c>) in every row; null when the dates increase strictly, or the file has
    /// no such column (a scenario file, a file without dates). The rows are read in file order either way.
    /// </summary>
    public static SeriesSet Read(string path, IReadOnlyList<string>? expectedNames, out IReadOnlyList<string> fileOrder, out DateOrderBreak? dateOrder)
    {
        Data.IO.InputFile.ThrowIfFolder(path, "not-a-file");
        if (!File.Exists(path)) throw new InvalidInputException("file-not-found", "file not found", new InputLocation(path, 0, 0));
        try
        {
            return ReadRecords(path, expectedNames, out fileOrder, out dateOrder);
        }
        catch (InvalidInputException e) when (TokenizerRule(e.Rule) is { } rule)
        {
            throw new InvalidInputException(rule, e.Message, e.Location);
        }
    }

    private static SeriesSet ReadRecords(string path, IReadOnlyList<string>? expectedNames, out IReadOnlyList<string> fileOrder,
        out DateOrderBreak? dateOrder)
    {
        dateOrder = null;
        // the data loader's RFC 4180 tokenizer: quoted fields (a name holding a comma or a quote, as ScenarioCsv writes
        // it: "x,y", "a""b"), CRLF, LF or CR, a UTF-8 byte-order mark
        using var csv = CsvRecordReader.Open(path);
        if (!csv.Read() || csv.IsBlank || (csv.FieldCount == 1 && !csv.FieldQuoted(0) && string.IsNullOrWhiteSpace(csv.FieldText(0))))
            throw new InvalidInputException("empty-file", "no header row", new InputLocation(path, 1, 1));
        // the header's names as the data loader reads them (CsvHeader: spaces and tabs around a cell trimmed, quoted or not)
        var names = new string[csv.FieldCount];
        for (var c = 0; c < names.Length; c++) names[c] = CsvHeader.CellNameAt(csv.Field(c), new InputLocation(path, csv.Line, c + 1));
        // a trailing delimiter (every line ends with a comma: what some spreadsheets export), as the data readers accept it
        bool trailing = names.Length > 1 && names[^1].Length == 0;
        if (trailing) names = names[..^1];
        for (var c = 0; c < names.Length; c++)
        {
            if (names[c].Length == 0) throw new InvalidInputException("empty-header", "a column has no name", new InputLocation(path, 1, c + 1));
            if (Array.IndexOf(names, names[c]) < c)
                throw new InvalidInputException("duplicate-column", $"column '{names[c]}' appears twice", new InputLocation(path, 1, c + 1, names[c]));
        }
        var scenario = names[0] == "scenario";
        var first = scenario ? (names.Length > 1 && names[1] == "step" ? 2 : 1)
            : names[0].Equals("date", StringComparison.OrdinalIgnoreCase) ? 1 : -1;
        // the price columns a scenario file's metadata declares end the header and are not series
        var end = scenario ? names.Length - ScenarioSidecar.PriceColumnCount(path, names, first) : names.Length;
        int[]? positions = null;
        if (first >= 0) positions = CheckSeries(path, names[..end], first, expectedNames, hintPriceColumns: scenario && end == names.Length);
        var rows = new List<double[]>();
        var ids = new List<int>();
        // each scenario's last step: its rows must follow its steps one by one (step-order)
        var lastStep = new Dictionary<int, long>();
        // the skipped first column's dates, while every one is an ISO date: the previous row's, and the first not after it
        bool dated = !scenario;
        (long Line, DateOnly Date)? previousDate = null;
        while (csv.Read())
        {
            if (csv.IsBlank) continue;
            var lineNo = csv.Line;
            var cellCount = csv.FieldCount;
            if (trailing && cellCount > 1 && csv.Field(cellCount - 1).Length == 0 && !csv.FieldQuoted(cellCount - 1)) cellCount--;
            if (cellCount != names.Length)
                throw new InvalidInputException("ragged-row", $"{cellCount} cells, header has {names.Length}",
                    new InputLocation(path, lineNo, 1));
            if (first < 0)
            {
                first = TryParseNumber(csv.Field(0), out _) ? 0 : 1;
                positions = CheckSeries(path, names, first, expectedNames, hintPriceColumns: false);
            }
            if (dated && first == 1)
            {
                if (!TryParseIsoDate(csv.Field(0), out var date)) dated = false;
                else
                {
                    if (previousDate is { } p && date <= p.Date) dateOrder ??= new DateOrderBreak(lineNo, date, p.Line, p.Date);
                    previousDate = (lineNo, date);
                }
            }

            if (scenario)
            {
                if (!int.TryParse(csv.Field(0), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
                    throw new InvalidInputException("non-integer", $"scenario id '{csv.FieldText(0)}' is not an integer",
                        new InputLocation(path, lineNo, 1, "scenario"));
                ids.Add(id);
                if (first == 2) CheckStep(path, lineNo, id, csv.FieldText(1), lastStep);
            }
            var row = new double[end - first];
            for (var c = first; c < end; c++)
            {
                // a blank cell is a missing value, named as the data loader names it (was: "'' is not a number")
                if (IsBlank(csv.Field(c)))
                    throw new InvalidInputException(CsvRules.Missing, BlankCellMessage, new InputLocation(path, lineNo, c + 1, names[c]));
                if (!TryParseNumber(csv.Field(c), out var v))
                    throw new InvalidInputException("non-numeric", $"'{csv.FieldText(c)}' is not a number",
                        new InputLocation(path, lineNo, c + 1, names[c]));
                if (!double.IsFinite(v))
                    throw new InvalidInputException("non-finite", $"'{csv.FieldText(c)}' is not a finite number",
                        new InputLocation(path, lineNo, c + 1, names[c]));
                row[c - first] = v;
            }
            rows.Add(row);
        }
        if (rows.Count == 0) throw new InvalidInputException("no-rows", "no data rows", new InputLocation(path, 2, 1));
        if (!dated || first != 1) dateOrder = null; // a first column that is not all dates says nothing about the rows' order
        var d = end - first;
        var columns = new double[d][];
        for (var i = 0; i < d; i++)
        {
            var col = new double[rows.Count];
            for (var t = 0; t < rows.Count; t++) col[t] = rows[t][i];
            columns[i] = col;
        }
        var set = new SeriesSet(names[first..end], columns, scenario ? ids.ToArray() : null);
        fileOrder = set.Names;
        return positions is null ? set : set.Select(positions);
    }

    // a scenario's step: an integer, the scenario's previous step + 1 (its first row's step is its own: eval_ref.py's
    // files count from 0, ScenarioCsv's from 1); a path read in file order is then the path the steps say
    private static void CheckStep(string path, long lineNo, int id, string text, Dictionary<int, long> lastStep)
    {
        var at = new InputLocation(path, lineNo, 2, "step");
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var step))
            throw new InvalidInputException("step-order", $"step '{text}' is not an integer", at);
        if (lastStep.TryGetValue(id, out var previous) && step != previous + 1)
            throw new InvalidInputException("step-order",
                $"scenario {id.ToString(CultureInfo.InvariantCulture)} has step {step.ToString(CultureInfo.InvariantCulture)} after step "
                + $"{previous.ToString(CultureInfo.InvariantCulture)}: each scenario's rows must follow its steps in order, one by one", at);
        lastStep[id] = step;
    }

    /// <summary>
    /// The message of a blank cell (rule <c>CSV-E-MISSING</c>, as the data loader's strict reading names it): these files
    /// take no missing-value option, so it says what to do instead. It names no shell's option: <c>crucible evaluate</c> and
    /// the service's evaluation uploads both read it.
    /// </summary>
    public const string BlankCellMessage = "missing value (a blank cell): this file is read strictly and takes no missing-value option "
        + "(a missing-value policy applies only to the price and return files a model trains on); fill the gap or drop its row first";

    // an empty or white-space-only cell (quoted or not)
    private static bool IsBlank(ReadOnlySpan<byte> cell)
    {
        foreach (byte b in cell)
        {
            if (b is not ((byte)' ' or (byte)'\t')) return false;
        }

        return true;
    }

    // an ISO date yyyy-MM-dd, spaces and tabs around it allowed
    private static bool TryParseIsoDate(ReadOnlySpan<byte> cell, out DateOnly date)
    {
        date = default;
        cell = cell.Trim(" \t"u8);
        if (cell.Length != 10) return false;
        Span<char> text = stackalloc char[10];
        for (var i = 0; i < 10; i++) text[i] = (char)cell[i];
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    // an invariant-culture number as double.TryParse(cell, NumberStyles.Float, InvariantCulture) reads it (surrounding
    // white space allowed): the data loader's exact fast path for plain decimals, else .NET's parser itself
    private static bool TryParseNumber(ReadOnlySpan<byte> cell, out double value) =>
        FastDouble.TryParse(cell, out value) || double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    // this reader's rule for a structural problem the tokenizer found, null for any other rule
    private static string? TokenizerRule(string rule) => rule switch
    {
        CsvRules.Quote => "unclosed-quote",
        CsvRules.Encoding => "encoding",
        CsvRules.FieldLength => "field-length",
        CsvRules.Columns => "too-many-columns",
        _ => null,
    };

    // names: the header without price columns; hintPriceColumns: a column mismatch names the suspected price columns of a
    // scenario file read without price metadata (ScenarioSidecar.PriceColumnHint). Returns, with expected names, the
    // positions (among the series) of the expected names when they are in another order, else null.
    private static int[]? CheckSeries(string path, string[] names, int first, IReadOnlyList<string>? expected, bool hintPriceColumns)
    {
        if (names.Length - first == 0) throw new InvalidInputException("no-series", "no series columns", new InputLocation(path, 1, 1));
        if (expected is null) return null;
        var match = SeriesNameMatch.Of(names[first..], expected);
        if (match.Matched) return match.Reordered ? match.Positions : null;
        var hint = hintPriceColumns ? ScenarioSidecar.PriceColumnHint(path, ScenarioSidecar.SuspectedPriceColumns(names, first)) : "";
        // located at the first extra column, else (only missing series) at the last
        var column = match.Extra.Count > 0 ? Array.IndexOf(names, match.Extra[0], first) : names.Length - 1;
        throw new InvalidInputException("column-mismatch", match.Problem("the real data") + hint,
            new InputLocation(path, 1, column + 1, match.Extra.Count > 0 ? match.Extra[0] : ""));
    }
}

/// <summary>
/// Where the dates of a series file stop increasing (<see cref="SeriesSetCsv.Read(string, IReadOnlyList{string}?, out IReadOnlyList{string}, out DateOrderBreak?)"/>):
/// the row at <paramref name="Line"/> is dated <paramref name="Date"/>, not after the <paramref name="Previous"/> of the row
/// before it, at <paramref name="PreviousLine"/> (equal: a duplicate date; earlier: the rows are not sorted).
/// </summary>
public sealed record DateOrderBreak(long Line, DateOnly Date, long PreviousLine, DateOnly Previous);
