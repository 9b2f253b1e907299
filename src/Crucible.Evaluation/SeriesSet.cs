using System.Globalization;
using Crucible.Data;

namespace Crucible.Evaluation;

/// <summary>
/// An in-memory set of return series: <paramref name="Names"/>[i] names <paramref name="Columns"/>[i], one value per
/// row (returns as rows, one column per series, all columns equally long). <paramref name="ScenarioIds"/>, when given,
/// holds one scenario id per row: rows with the same id form one path, in row order; paths are taken in order of the
/// first appearance of their id. Without scenario ids the whole set is one path.
/// </summary>
public sealed record SeriesSet(string[] Names, double[][] Columns, int[]? ScenarioIds = null)
{
    /// <summary>Number of rows (0 when there are no columns).</summary>
    public int RowCount => Columns.Length == 0 ? 0 : Columns[0].Length;

    /// <summary>Number of series.</summary>
    public int SeriesCount => Columns.Length;

    /// <summary>
    /// The set of a frame's columns, for <see cref="Evaluator.Evaluate"/> and the stress library: the columns of
    /// <paramref name="frame"/> (a history read by <c>CsvSeriesReader</c>, or the draws of a generator's <c>Sample</c>)
    /// in its order. With <paramref name="stepsPerScenario"/> k, rows b·k … b·k + k − 1 form scenario b + 1, as
    /// <c>ScenarioCsv.Format(frame, k)</c> writes them and a scenario file is read back (k = 1: a tabular generator's
    /// one-step rows; k = W: a sequence generator's windows); without it the whole frame is one path (a history).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepsPerScenario"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The rows are not a whole number of <paramref name="stepsPerScenario"/>-step scenarios.</exception>
    public static SeriesSet FromFrame(TimeSeriesFrame frame, int? stepsPerScenario = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        int n = frame.RowCount, d = frame.ColumnCount;
        int[]? ids = null;
        if (stepsPerScenario is { } k)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(k, 1, nameof(stepsPerScenario));
            if (n % k != 0)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{n} rows are not a whole number of {k}-step scenarios"), nameof(frame));
            ids = new int[n];
            for (var r = 0; r < n; r++) ids[r] = 1 + (r / k);
        }

        var columns = new double[d][];
        for (var i = 0; i < d; i++) columns[i] = frame.Column(i);
        return new SeriesSet([.. frame.Columns], columns, ids);
    }

    /// <summary>Checks names, lengths, finiteness and scenario ids; throws <see cref="InvalidInputException"/> on the first problem.</summary>
    public void Validate(string label)
    {
        if (Names.Length != Columns.Length)
            throw new InvalidInputException("shape", $"{label}: {Names.Length} names for {Columns.Length} columns");
        if (Columns.Length == 0) throw new InvalidInputException("no-series", $"{label}: no series");
        if (Names.Distinct(StringComparer.Ordinal).Count() != Names.Length)
            throw new InvalidInputException("duplicate-column", $"{label}: duplicate series names");
        var n = Columns[0].Length;
        if (n == 0) throw new InvalidInputException("no-rows", $"{label}: no rows");
        for (var i = 0; i < Columns.Length; i++)
        {
            if (Columns[i].Length != n)
                throw new InvalidInputException("shape", $"{label}: series '{Names[i]}' has {Columns[i].Length} rows, expected {n}");
            for (var t = 0; t < n; t++)
            {
                if (!double.IsFinite(Columns[i][t]))
                    throw new InvalidInputException("non-finite",
                        $"{label}: series '{Names[i]}' row {t.ToString(CultureInfo.InvariantCulture)} is not a finite number");
            }
        }
        if (ScenarioIds is not null && ScenarioIds.Length != n)
            throw new InvalidInputException("shape", $"{label}: {ScenarioIds.Length} scenario ids for {n} rows");
    }

    /// <summary>Row indices of each path: one array per scenario (order of first appearance), or all rows.</summary>
    public IReadOnlyList<int[]> PathRows()
    {
        var n = RowCount;
        if (ScenarioIds is null) return [Enumerable.Range(0, n).ToArray()];
        var order = new List<int>();
        var rows = new Dictionary<int, List<int>>();
        for (var t = 0; t < n; t++)
        {
            var id = ScenarioIds[t];
            if (!rows.TryGetValue(id, out var list))
            {
                list = [];
                rows[id] = list;
                order.Add(id);
            }
            list.Add(t);
        }
        return order.Select(id => rows[id].ToArray()).ToArray();
    }

    /// <summary>The values of series <paramref name="series"/> at the given rows.</summary>
    public double[] Gather(int series, int[] rows)
    {
        var col = Columns[series];
        if (rows.Length == col.Length && ScenarioIds is null) return col;
        var result = new double[rows.Length];
        for (var i = 0; i < rows.Length; i++) result[i] = col[rows[i]];
        return result;
    }

    /// <summary>
    /// This set with its series in the order of <paramref name="reference"/> (the set itself when already in that order),
    /// by <see cref="SeriesNameMatch"/>; throws <see cref="InvalidInputException"/> <c>column-mismatch</c> naming the
    /// missing and extra series when the names differ. <paramref name="label"/> names this set in the message.
    /// </summary>
    public SeriesSet InOrderOf(IReadOnlyList<string> reference, string label, string referenceLabel = "the real data")
    {
        var match = SeriesNameMatch.Of(Names, reference);
        if (!match.Matched) throw new InvalidInputException("column-mismatch", $"{label}: {match.Problem(referenceLabel)}");
        return match.Reordered ? Select(match.Positions!) : this;
    }

    /// <summary>The set of the series at <paramref name="positions"/>, in that order (the same rows and scenario ids).</summary>
    internal SeriesSet Select(int[] positions) =>
        new(positions.Select(i => Names[i]).ToArray(), positions.Select(i => Columns[i]).ToArray(), ScenarioIds);
}
