using System.Globalization;
using Crucible.Data.Csv;

namespace Crucible.Data.Splits;

/// <summary>
/// Refuses splits that leak (RELIABILITY.md MRM-4): the embargo must be at least one window, the last train row plus
/// the embargo must come strictly before the first holdout row (<c>TrainEnd − 1 + EmbargoRows &lt; HoldoutStart</c>),
/// the last train date must be strictly before the first holdout date, and train and holdout must share no row.
/// Violations throw <see cref="InvalidInputException"/> with rule <see cref="CsvRules.SplitLeak"/>.
/// </summary>
public static class LeakageCheck
{
    /// <summary>Checks one split against an optional date index (one date per row of the full frame).</summary>
    public static void Verify(TimeSplit split, int window, IReadOnlyList<DateOnly>? dates = null)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (window < 1) Fail($"the window must be at least 1 row, got {window}");
        if (split.TrainStart < 0 || split.TrainEnd <= split.TrainStart)
            Fail($"empty or negative train range [{split.TrainStart}, {split.TrainEnd})");
        if (split.HoldoutEnd <= split.HoldoutStart)
            Fail($"empty holdout range [{split.HoldoutStart}, {split.HoldoutEnd})");
        if (split.EmbargoRows < window)
            Fail($"embargo of {split.EmbargoRows} rows is shorter than the window of {window} rows");
        if ((long)split.TrainEnd - 1 + split.EmbargoRows >= split.HoldoutStart) // 64 bits: an embargo near int.MaxValue does not wrap
        {
            Fail($"the last train row {split.TrainEnd - 1} plus the embargo of {split.EmbargoRows} rows is not before the first holdout row {split.HoldoutStart}");
        }

        if (dates is null) return;
        if (split.HoldoutEnd > dates.Count) Fail($"the holdout ends at row {split.HoldoutEnd} but there are {dates.Count} dates");
        var lastTrain = dates[split.TrainEnd - 1];
        var firstHoldout = dates[split.HoldoutStart];
        if (lastTrain >= firstHoldout)
            Fail($"the last train date {Iso(lastTrain)} is not before the first holdout date {Iso(firstHoldout)}");
        var embargoEnd = dates[split.TrainEnd - 1 + split.EmbargoRows];
        if (embargoEnd >= firstHoldout)
            Fail($"the embargo ends on {Iso(embargoEnd)}, not before the first holdout date {Iso(firstHoldout)}");
        for (var i = split.TrainStart + 1; i < split.HoldoutEnd; i++)
        {
            if (dates[i] <= dates[i - 1]) Fail($"dates are not strictly increasing at row {i}; a time split needs ordered dates");
        }
    }

    /// <summary>
    /// Checks materialised train and holdout frames against the full frame they came from: both must be contiguous
    /// runs of <paramref name="full"/>'s dates, share no date, and be separated by at least <paramref name="embargoRows"/>
    /// rows (≥ <paramref name="window"/>).
    /// </summary>
    public static void Verify(TimeSeriesFrame full, TimeSeriesFrame train, TimeSeriesFrame holdout, int embargoRows, int window)
    {
        if (!full.HasDates || !train.HasDates || !holdout.HasDates || train.RowCount == 0 || holdout.RowCount == 0)
            Fail("leakage check on frames needs dated, non-empty train and holdout frames");
        var shared = new HashSet<DateOnly>(train.Dates);
        shared.IntersectWith(holdout.Dates);
        if (shared.Count > 0) Fail($"train and holdout share {shared.Count} rows (first {Iso(shared.Min())})");
        var trainStart = Array.BinarySearch(full.Dates, train.Dates[0]);
        var trainLast = Array.BinarySearch(full.Dates, train.Dates[^1]);
        var holdoutStart = Array.BinarySearch(full.Dates, holdout.Dates[0]);
        var holdoutLast = Array.BinarySearch(full.Dates, holdout.Dates[^1]);
        if (trainStart < 0 || trainLast < 0 || holdoutStart < 0 || holdoutLast < 0)
            Fail("train or holdout contains dates that are not in the full frame");
        if (trainLast - trainStart + 1 != train.RowCount || holdoutLast - holdoutStart + 1 != holdout.RowCount)
            Fail("train and holdout must be contiguous runs of the full frame");
        Verify(new TimeSplit(trainStart, trainLast + 1, embargoRows, holdoutStart, holdoutLast + 1), window, full.Dates);
    }

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string message) =>
        throw new InvalidInputException(CsvRules.SplitLeak, "split leaks: " + message);
}
