using System.Globalization;
using Crucible.Data;

namespace Crucible.Evaluation;

/// <summary>
/// A minimal reader of the evaluation's own CSV files (fixtures, benchmarks, eval_ref.py's format): a header row;
/// a first column named <c>scenario</c> gives scenario ids (and a following <c>step</c> column is skipped); otherwise
/// a non-numeric first column (a date) is skipped. Every other column is a series of invariant-culture numbers.
/// Full data validation (calendars, prices) is Crucible.Data's job; this reader only rejects what it cannot parse.
/// </summary>
public static class SeriesSetCsv
{
    /// <summary>Reads <paramref name="path"/>; throws <see cref="InvalidInputException"/> naming line and column on bad input.</summary>
    public static SeriesSet Read(string path)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new InvalidInputException("empty-file", $"{path}: empty file", new InputLocation(path, 1, 1));
        var names = header.Split(',').Select(h => h.Trim()).ToArray();
        var scenario = names[0] == "scenario";
        var first = scenario ? (names.Length > 1 && names[1] == "step" ? 2 : 1) : -1;
        var rows = new List<double[]>();
        var ids = new List<int>();
        string? line;
        long lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var span = line.AsSpan();
            var cellCount = span.Count(',') + 1;
            if (cellCount != names.Length)
                throw new InvalidInputException("ragged-row", $"{cellCount} cells, header has {names.Length}",
                    new InputLocation(path, lineNo, 1));
            var firstCell = span[..Math.Max(0, span.IndexOf(','))];
            if (names.Length == 1) firstCell = span;
            if (first < 0)
                first = double.TryParse(firstCell, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? 0 : 1;
            if (scenario)
            {
                if (!int.TryParse(firstCell, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
                    throw new InvalidInputException("non-integer", $"scenario id '{firstCell}'", new InputLocation(path, lineNo, 1, "scenario"));
                ids.Add(id);
            }
            var row = new double[names.Length - first];
            var c = 0;
            foreach (var range in span.Split(','))
            {
                if (c >= first)
                {
                    var cell = span[range];
                    if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                        throw new InvalidInputException("non-numeric", $"'{cell}' is not a number",
                            new InputLocation(path, lineNo, c + 1, names[c]));
                    row[c - first] = v;
                }
                c++;
            }
            rows.Add(row);
        }
        if (first < 0) first = 1;
        var d = names.Length - first;
        var columns = new double[d][];
        for (var i = 0; i < d; i++)
        {
            var col = new double[rows.Count];
            for (var t = 0; t < rows.Count; t++) col[t] = rows[t][i];
            columns[i] = col;
        }
        return new SeriesSet(names[first..], columns, scenario ? ids.ToArray() : null);
    }
}
