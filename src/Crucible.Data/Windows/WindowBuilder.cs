using Crucible.Data.Csv;

namespace Crucible.Data.Windows;

/// <summary>
/// Windows for the sequence generator: <c>Values</c> is B × W × D row-major (<c>[b, t, d]</c> at
/// <c>(b·W + t)·D + d</c>); <c>Conditions</c>, when present, is B × C: the state as of each window's start date,
/// lagged (see <see cref="WindowBuilder.Build"/>).
/// </summary>
public sealed record WindowSet(
    double[] Values,
    int Count,
    int Window,
    int Dimensions,
    int[] StartRows,
    DateOnly[] StartDates,
    double[]? Conditions,
    IReadOnlyList<string> ConditionColumns,
    int SkippedWithoutCondition)
{
    /// <summary>The values as float32 (B × W × D), for the training engine.</summary>
    public float[] ValuesAsSingle() => Array.ConvertAll(Values, v => (float)v);

    /// <summary>The conditions as float32 (B × C), or null.</summary>
    public float[]? ConditionsAsSingle() => Conditions is null ? null : Array.ConvertAll(Conditions, v => (float)v);
}

/// <summary>Cuts a frame into overlapping windows with a stride.</summary>
public static class WindowBuilder
{
    /// <summary>
    /// Windows of <paramref name="window"/> rows starting every <paramref name="stride"/> rows. With a
    /// <paramref name="state"/> frame, each window gets the state row dated ≤ (window start date − <paramref name="lagDays"/>
    /// calendar days), so the condition uses only information available before the window; windows with no such
    /// state row are skipped and counted.
    /// </summary>
    public static WindowSet Build(TimeSeriesFrame frame, int window, int stride = 1, TimeSeriesFrame? state = null, int lagDays = 1)
    {
        if (window < 1 || stride < 1) throw new InvalidInputException(CsvRules.Window, "window and stride must be positive");
        if (frame.RowCount < window)
            throw new InvalidInputException(CsvRules.Window, $"the window of {window} rows is longer than the {frame.RowCount} rows of data");
        if (state is not null && (!frame.HasDates || !state.HasDates))
            throw new InvalidInputException(CsvRules.Window, "conditions need dated frames");
        if (lagDays < 1) throw new InvalidInputException(CsvRules.Window, "the condition lag must be at least one day");

        var d = frame.ColumnCount;
        var c = state?.ColumnCount ?? 0;
        var starts = new List<int>();
        var stateRows = new List<int>();
        var skipped = 0;
        // 64 bits: a stride near int.MaxValue ends the windows instead of wrapping to a negative start
        for (long s = 0; s + window <= frame.RowCount; s += stride)
        {
            if (state is not null)
            {
                var k = state.IndexDaysBefore(frame.Dates[s], lagDays);
                if (k < 0)
                {
                    skipped++;
                    continue;
                }

                stateRows.Add(k);
            }

            starts.Add((int)s);
        }

        if (starts.Count == 0) throw new InvalidInputException(CsvRules.Window, "no window has a lagged condition row");
        var values = new double[starts.Count * window * d];
        for (var b = 0; b < starts.Count; b++)
            Array.Copy(frame.Values, starts[b] * d, values, b * window * d, window * d);
        double[]? conditions = null;
        if (state is not null)
        {
            conditions = new double[starts.Count * c];
            for (var b = 0; b < starts.Count; b++) state.Row(stateRows[b]).CopyTo(conditions.AsSpan(b * c, c));
        }

        var dates = frame.Dates.Length == 0 ? [] : starts.Select(s => frame.Dates[s]).ToArray();
        return new WindowSet(values, starts.Count, window, d, starts.ToArray(), dates, conditions,
            state?.Columns ?? [], skipped);
    }
}
