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

    /// <summary>Scores against <paramref name="history"/> (log returns, the generator's columns in order).</summary>
    public NearestWindowPlausibility(TimeSeriesFrame history)
    {
        ArgumentNullException.ThrowIfNull(history);
        _history = history;
        _std = new double[history.ColumnCount];
        for (var i = 0; i < _std.Length; i++)
        {
            _std[i] = Math.Sqrt(Garch11StudentT.SampleVariance(history.Column(i)));
            if (!(_std[i] > 0)) throw new InvalidInputException("constant-series", $"series '{history.Columns[i]}' does not vary");
        }
    }

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
        if (n < 1) throw new InvalidInputException("too-few-rows", "the history is shorter than one window");
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
