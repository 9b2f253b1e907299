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
            var cells = line.Split(',');
            if (cells.Length != names.Length)
                throw new InvalidInputException("ragged-row", $"{cells.Length} cells, header has {names.Length}",
                    new InputLocation(path, lineNo, 1));
            if (first < 0)
                first = double.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? 0 : 1;
            if (scenario)
            {
                if (!int.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
                    throw new InvalidInputException("non-integer", $"scenario id '{cells[0]}'", new InputLocation(path, lineNo, 1, "scenario"));
                ids.Add(id);
            }
            var row = new double[names.Length - first];
            for (var c = first; c < names.Length; c++)
            {
                if (!double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new InvalidInputException("non-numeric", $"'{cells[c]}' is not a number",
                        new InputLocation(path, lineNo, c + 1, names[c]));
                row[c - first] = v;
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
