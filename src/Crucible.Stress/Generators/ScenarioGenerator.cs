using System.Globalization;
using Crucible.Data;
using Crucible.Evaluation;

namespace Crucible.Stress.Generators;

/// <summary>
/// Sampled scenario windows: <see cref="Count"/> windows of <see cref="Window"/> steps over <see cref="Columns"/>.Count
/// series of log returns, row-major as (count, W, D): <c>Values[(c·W + t)·D + d]</c>.
/// </summary>
public sealed record ScenarioWindows(IReadOnlyList<string> Columns, int Count, int Window, double[] Values)
{
    /// <summary>D, the number of series.</summary>
    public int SeriesCount => Columns.Count;

    /// <summary>The log return of series <paramref name="d"/> at step <paramref name="t"/> of window <paramref name="c"/>.</summary>
    public double this[int c, int t, int d] => Values[(((c * Window) + t) * Columns.Count) + d];

    /// <summary>The windows as a scenario set: scenario ids 1..count, one row per step (the evaluation's and the stress test's input).</summary>
    public SeriesSet ToSeriesSet()
    {
        var d = Columns.Count;
        var rows = Count * Window;
        var columns = new double[d][];
        for (var i = 0; i < d; i++)
        {
            var col = new double[rows];
            for (var r = 0; r < rows; r++) col[r] = Values[(r * d) + i];
            columns[i] = col;
        }

        var ids = new int[rows];
        for (var r = 0; r < rows; r++) ids[r] = (r / Window) + 1;
        return new SeriesSet([.. Columns], columns, ids);
    }

    /// <summary>
    /// A scenario set whose paths all have the same length as windows (paths in order of first appearance);
    /// <see cref="InvalidInputException"/> (rule <c>ragged-scenarios</c>) when lengths differ.
    /// </summary>
    public static ScenarioWindows FromSeriesSet(SeriesSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var paths = set.PathRows();
        var window = paths[0].Length;
        if (paths.Any(p => p.Length != window))
            throw new InvalidInputException("ragged-scenarios", "the scenarios have different numbers of steps; windows need one length");
        var d = set.SeriesCount;
        var values = new double[paths.Count * window * d];
        for (var c = 0; c < paths.Count; c++)
        {
            for (var t = 0; t < window; t++)
            {
                for (var i = 0; i < d; i++) values[(((c * window) + t) * d) + i] = set.Columns[i][paths[c][t]];
            }
        }

        return new ScenarioWindows(set.Names, paths.Count, window, values);
    }

    /// <summary>The windows as an undated frame of count·W rows (for <c>ScenarioCsv.Format(frame, W)</c>).</summary>
    public TimeSeriesFrame ToFrame() => new([], Columns, Values, Count * Window);
}

/// <summary>
/// A scenario generator that can be fitted on a panel of log returns: the interface every baseline and the
/// conditional diffusion generator sit behind, so that backtests, ensembles and comparison tables treat them alike.
/// </summary>
public interface IScenarioGenerator
{
    /// <summary>A short stable name for tables and reports (e.g. <c>stationary-bootstrap</c>).</summary>
    string Name { get; }

    /// <summary>Fits on <paramref name="logReturns"/> (rows in time order, one column per series); deterministic given <paramref name="seed"/>.</summary>
    IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed);
}

/// <summary>A fitted generator: samples windows of log returns that continue from the end of its training data.</summary>
public interface IFittedScenarioGenerator
{
    /// <summary>The generator's name.</summary>
    string Name { get; }

    /// <summary>The series it generates, in order.</summary>
    IReadOnlyList<string> Columns { get; }

    /// <summary><paramref name="count"/> windows of <paramref name="window"/> steps; the same seed gives the same values.</summary>
    ScenarioWindows Sample(int count, int window, ulong seed);
}

/// <summary>Argument checks shared by the generators.</summary>
internal static class GeneratorChecks
{
    public static void Fit(TimeSeriesFrame frame, int minRows)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.ColumnCount == 0) throw new InvalidInputException("no-series", "the training frame has no series");
        if (frame.RowCount < minRows)
            throw new InvalidInputException("too-few-rows", string.Create(CultureInfo.InvariantCulture, $"the generator needs at least {minRows} rows to fit, got {frame.RowCount}"));
        foreach (var v in frame.Values)
        {
            if (!double.IsFinite(v)) throw new InvalidInputException("non-finite", "the training frame holds a non-finite value");
        }
    }

    /// <summary>
    /// Positive count and window, and no more than <see cref="Diffusion.Samplers.DiffusionSampler.MaxSampleValues"/>
    /// values in all (<paramref name="count"/> × <paramref name="window"/> × <paramref name="series"/>): a count near
    /// <see cref="int.MaxValue"/> is bad input (<c>count</c>), not an overflow or an out-of-memory crash.
    /// </summary>
    public static void Sample(int count, int window, int series)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        Diffusion.Samplers.DiffusionSampler.CheckSampleValues(count, (long)window * Math.Max(series, 1),
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{window} steps × {series} series"));
    }
}

/// <summary>
/// A fitted generator whose scenarios depend on the latest data (a filter state such as GARCH's σ², or the market state a
/// conditional generator is conditioned on): <see cref="Observe"/> moves that state one day on, without refitting, so a
/// backtest can re-estimate VaR every day between yearly refits.
/// </summary>
public interface IFilteringScenarioGenerator : IFittedScenarioGenerator
{
    /// <summary>The generator after one more observed day of log returns (one per column); this instance is unchanged.</summary>
    IFittedScenarioGenerator Observe(ReadOnlySpan<double> logReturns);
}

/// <summary>
/// A generator fitted already (e.g. a trained model loaded from its folder) in a place that fits generators, such as a
/// comparison table: <see cref="Fit"/> returns it and reads nothing. The caller vouches that it was fitted on the same
/// train data as the others.
/// </summary>
public sealed class PreFittedScenarioGenerator(IFittedScenarioGenerator fitted) : IScenarioGenerator
{
    /// <inheritdoc/>
    public string Name => fitted.Name;

    /// <inheritdoc/>
    public IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(logReturns);
        if (!logReturns.Columns.SequenceEqual(fitted.Columns, StringComparer.Ordinal))
            throw new InvalidInputException("column-mismatch", $"the fitted generator {fitted.Name} has series {string.Join(", ", fitted.Columns)}, the data {string.Join(", ", logReturns.Columns)}");
        return fitted;
    }
}
