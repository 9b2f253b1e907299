using System.Globalization;
using Crucible.Data;
using Crucible.Evaluation.Privacy;
using Crucible.Stress.Generators;

namespace Crucible.Stress.Reverse;

/// <summary>
/// Plausibility as closeness to the data manifold: every series standardised by its historical standard deviation,
/// a window flattened to W·D coordinates, and the score is minus the RMS distance (Euclidean distance / √(W·D)) to the
/// nearest historical window of the same length (stride 1). A window that happened scores 0; a window unlike any
/// history scores far below. Exact nearest-neighbour search (<see cref="NearestNeighbors"/>).
/// </summary>
public sealed class NearestWindowPlausibility : IPlausibilityScore
{
    private readonly TimeSeriesFrame _history;
    private readonly double[] _std;
    private readonly string? _file;

    /// <summary>
    /// Scores against <paramref name="history"/> (log returns, the generator's columns in order), read from
    /// <paramref name="file"/> when given: a problem with the history (a constant series, fewer rows than a window) then
    /// names that file (and the series).
    /// </summary>
    public NearestWindowPlausibility(TimeSeriesFrame history, string? file = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        _history = history;
        _file = file;
        _std = new double[history.ColumnCount];
        for (var i = 0; i < _std.Length; i++)
        {
            _std[i] = Math.Sqrt(Garch11StudentT.SampleVariance(history.Column(i)));
            if (!(_std[i] > 0))
                throw new InvalidInputException("constant-series", $"series '{history.Columns[i]}' of the history does not vary", Where(history.Columns[i]));
        }
    }

    private InputLocation? Where(string column) => _file is null ? null : new InputLocation(_file, 0, 0, column);

    /// <inheritdoc/>
    public string Method => "nearest-historical-window";

    /// <inheritdoc/>
    public double[] Score(ScenarioWindows windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (!windows.Columns.SequenceEqual(_history.Columns)) throw new ArgumentException("the windows' series differ from the history's", nameof(windows));
        var d = _std.Length;
        var w = windows.Window;
        var dim = w * d;
        var n = _history.RowCount - w + 1;
        if (n < 1) throw new InvalidInputException("too-few-rows", string.Create(CultureInfo.InvariantCulture, $"the history ({_history.RowCount} returns) is shorter than one window of {w}"), Where(""));
        var references = new double[n * dim];
        for (var s = 0; s < n; s++)
        {
            for (var k = 0; k < dim; k++) references[(s * dim) + k] = _history.Values[(s * d) + k] / _std[k % d];
        }

        var queries = new double[windows.Values.Length];
        for (var k = 0; k < queries.Length; k++) queries[k] = windows.Values[k] / _std[k % d];
        var distances = NearestNeighbors.NearestDistances(queries, references, dim);
        return distances.Select(x => -x / Math.Sqrt(dim)).ToArray();
    }
}
