using System.Globalization;
using Crucible.Data.Csv;

namespace Crucible.Data.Splits;

/// <summary>
/// Builds time-ordered splits: train | embargo | holdout, walk-forward (rolling train window) and expanding-window
/// folds for continual retraining. Every split returned has passed <see cref="LeakageCheck"/>.
/// </summary>
public static class TimeSplitter
{
    /// <summary>
    /// Train on rows dated ≤ <paramref name="trainEnd"/>, skip <paramref name="embargoRows"/> rows, hold out the rest.
    /// </summary>
    public static TimeSplit TrainHoldout(TimeSeriesFrame frame, DateOnly trainEnd, int embargoRows, int window)
    {
        if (!frame.HasDates) throw new InvalidInputException(CsvRules.SplitLeak, "a split by date needs a dated frame");
        var last = frame.IndexAtOrBefore(trainEnd);
        if (last < 0) throw new InvalidInputException(CsvRules.SplitLeak, "no rows on or before the train end date");
        if ((long)last + 1 + embargoRows >= frame.RowCount) // 64 bits: an embargo near int.MaxValue does not wrap
            throw new InvalidInputException(CsvRules.SplitLeak, "no holdout rows remain after the train end date and the embargo");
        var split = new TimeSplit(0, last + 1, embargoRows, last + 1 + embargoRows, frame.RowCount);
        LeakageCheck.Verify(split, window, frame.Dates);
        return split;
    }

    /// <summary>Train on the first <paramref name="trainFraction"/> of <paramref name="rowCount"/> rows, then embargo, then holdout.</summary>
    public static TimeSplit TrainHoldout(int rowCount, double trainFraction, int embargoRows, int window, IReadOnlyList<DateOnly>? dates = null)
    {
        if (!(trainFraction > 0 && trainFraction < 1))
            throw new InvalidInputException(CsvRules.SplitLeak, "the train fraction must be in (0, 1)");
        var trainEnd = (int)Math.Floor(rowCount * trainFraction);
        if ((long)trainEnd + embargoRows >= rowCount) // 64 bits: an embargo near int.MaxValue does not wrap the holdout start
        {
            throw new InvalidInputException(CsvRules.SplitLeak, string.Create(CultureInfo.InvariantCulture,
                $"no holdout rows remain after the {trainEnd} train rows and the embargo of {embargoRows} rows ({rowCount} rows in all)"));
        }

        var split = new TimeSplit(0, trainEnd, embargoRows, trainEnd + embargoRows, rowCount);
        LeakageCheck.Verify(split, window, dates);
        return split;
    }

    /// <summary>
    /// Walk-forward folds: a train window of <paramref name="trainRows"/> rows sliding by <paramref name="step"/>
    /// (default <paramref name="holdoutRows"/>), each followed by the embargo and <paramref name="holdoutRows"/> holdout rows.
    /// </summary>
    public static IReadOnlyList<TimeSplit> WalkForward(int rowCount, int trainRows, int holdoutRows, int embargoRows, int window,
        int? step = null, IReadOnlyList<DateOnly>? dates = null) =>
        Folds(rowCount, trainRows, holdoutRows, embargoRows, window, step ?? holdoutRows, expanding: false, dates);

    /// <summary>
    /// Expanding-window folds: train on rows <c>[0, initialTrainRows + k·step)</c>, then embargo, then
    /// <paramref name="holdoutRows"/> holdout rows.
    /// </summary>
    public static IReadOnlyList<TimeSplit> Expanding(int rowCount, int initialTrainRows, int holdoutRows, int embargoRows, int window,
        int? step = null, IReadOnlyList<DateOnly>? dates = null) =>
        Folds(rowCount, initialTrainRows, holdoutRows, embargoRows, window, step ?? holdoutRows, expanding: true, dates);

    private static List<TimeSplit> Folds(int rowCount, int trainRows, int holdoutRows, int embargoRows, int window, int step,
        bool expanding, IReadOnlyList<DateOnly>? dates)
    {
        if (trainRows < 1 || holdoutRows < 1 || step < 1)
            throw new InvalidInputException(CsvRules.SplitLeak, "train rows, holdout rows and step must be positive");
        var folds = new List<TimeSplit>();
        for (var k = 0; ; k++)
        {
            // 64 bits: a step or embargo near int.MaxValue ends the folds instead of wrapping to negative rows
            var trainEnd = trainRows + (long)k * step;
            var holdoutStart = trainEnd + embargoRows;
            var holdoutEnd = holdoutStart + holdoutRows;
            if (holdoutEnd > rowCount) break;
            var trainStart = expanding ? 0 : k * step;
            var split = new TimeSplit(trainStart, (int)trainEnd, embargoRows, (int)holdoutStart, (int)holdoutEnd);
            LeakageCheck.Verify(split, window, dates);
            folds.Add(split);
        }

        if (folds.Count == 0)
            throw new InvalidInputException(CsvRules.SplitLeak, $"{rowCount} rows are too few for one fold");
        return folds;
    }
}
