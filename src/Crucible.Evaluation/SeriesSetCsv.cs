using System.Globalization;
using Crucible.Data;

namespace Crucible.Evaluation;

/// <summary>
/// A minimal reader of the evaluation's own CSV files (fixtures, benchmarks, eval_ref.py's format, scenario files):
/// a header row; a first column named <c>scenario</c> gives scenario ids (and a following <c>step</c> column is
/// skipped); otherwise a first column named <c>date</c> (any case), or a first column whose first value is not a
/// number, is skipped. Every other column is a series of invariant-culture finite numbers (log returns), except, in a
/// scenario file, the price columns its metadata <c>FILE.meta.json</c> declares (<c>generate --prices</c>): those are
/// skipped, after <see cref="ScenarioSidecar"/> has checked that the metadata is this file's and that they end the header.
/// Full data validation (calendars, prices) is Crucible.Data's job; this reader rejects what it cannot use, naming
/// file, line, column and rule: <c>file-not-found</c>, <c>empty-file</c>, <c>empty-header</c>,
/// <c>duplicate-column</c>, <c>no-series</c>, <c>column-mismatch</c>, <c>ragged-row</c>, <c>non-integer</c>,
/// <c>non-numeric</c>, <c>non-finite</c>, <c>no-rows</c>, and the sidecar's <c>scenario-metadata</c>,
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
    public static SeriesSet Read(string path, IReadOnlyList<string>? expectedNames, out IReadOnlyList<string> fileOrder)
    {
        if (!File.Exists(path)) throw new InvalidInputException("file-not-found", "file not found", new InputLocation(path, 0, 0));
        using var reader = new StreamReader(path);
        var header = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(header)) throw new InvalidInputException("empty-file", "no header row", new InputLocation(path, 1, 1));
        var names = HeaderFields(header, path);
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
        string? line;
        long lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var span = line.AsSpan();
            if (trailing && span.EndsWith(",")) span = span[..^1];
            var cellCount = span.Count(',') + 1;
            if (cellCount != names.Length)
                throw new InvalidInputException("ragged-row", $"{cellCount} cells, header has {names.Length}",
                    new InputLocation(path, lineNo, 1));
            var firstCell = names.Length == 1 ? span : span[..span.IndexOf(',')];
            if (first < 0)
            {
                first = double.TryParse(firstCell, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? 0 : 1;
                positions = CheckSeries(path, names, first, expectedNames, hintPriceColumns: false);
            }
            if (scenario)
            {
                if (!int.TryParse(firstCell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
                    throw new InvalidInputException("non-integer", $"scenario id '{firstCell}' is not an integer",
                        new InputLocation(path, lineNo, 1, "scenario"));
                ids.Add(id);
            }
            var row = new double[end - first];
            var c = 0;
            foreach (var range in span.Split(','))
            {
                if (c >= end) break;
                if (c >= first)
                {
                    var cell = span[range];
                    if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                        throw new InvalidInputException("non-numeric", $"'{cell}' is not a number",
                            new InputLocation(path, lineNo, c + 1, names[c]));
                    if (!double.IsFinite(v))
                        throw new InvalidInputException("non-finite", $"'{cell}' is not a finite number",
                            new InputLocation(path, lineNo, c + 1, names[c]));
                    row[c - first] = v;
                }
                c++;
            }
            rows.Add(row);
        }
        if (rows.Count == 0) throw new InvalidInputException("no-rows", "no data rows", new InputLocation(path, 2, 1));
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

    // the header's names, trimmed: RFC 4180 fields, so that a name quoted because it holds a comma or a quote (as
    // ScenarioCsv writes it: "x,y", "a""b") reads back as the name itself
    private static string[] HeaderFields(string header, string path)
    {
        var names = new List<string>();
        var field = new System.Text.StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            while (i < header.Length && header[i] == ' ') i++;
            if (i < header.Length && header[i] == '"')
            {
                int open = i++;
                while (true)
                {
                    if (i >= header.Length)
                        throw new InvalidInputException("unclosed-quote", "a quoted column name is not closed", new InputLocation(path, 1, names.Count + 1));
                    char ch = header[i++];
                    if (ch != '"')
                    {
                        field.Append(ch);
                        continue;
                    }

                    if (i < header.Length && header[i] == '"')
                    {
                        field.Append('"'); // "" inside quotes is one quote
                        i++;
                        continue;
                    }

                    break;
                }

                while (i < header.Length && header[i] == ' ') i++;
                if (i < header.Length && header[i] != ',')
                    throw new InvalidInputException("unclosed-quote", $"text after the quoted column name that starts at character {open + 1}", new InputLocation(path, 1, names.Count + 1));
                names.Add(field.ToString());
            }
            else
            {
                int comma = header.IndexOf(',', i);
                names.Add(header[i..(comma < 0 ? header.Length : comma)].Trim());
                i = comma < 0 ? header.Length : comma;
            }

            if (i >= header.Length) return [.. names];
            i++; // the comma
        }
    }

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
