using Crucible.Data.Csv;

namespace Crucible.Data;

/// <summary>Aligns frames on dates.</summary>
public static class Join
{
    /// <summary>
    /// Inner join on dates: the rows whose date is in every frame, with the columns of all frames side by side.
    /// Column names must be unique across frames.
    /// </summary>
    public static TimeSeriesFrame Inner(params IReadOnlyList<TimeSeriesFrame> frames)
    {
        if (frames.Count == 0) throw new InvalidInputException(CsvRules.Join, "nothing to join");
        foreach (var f in frames)
        {
            if (!f.HasDates) throw new InvalidInputException(CsvRules.Join, "a join needs dated frames");
        }

        var columns = frames.SelectMany(f => f.Columns).ToArray();
        var clash = columns.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new InvalidInputException(CsvRules.Join, $"column '{clash.Key}' appears in more than one frame");

        var dates = new List<DateOnly>();
        var rows = new List<int[]>();
        foreach (var (date, r0) in frames[0].Dates.Select((d, i) => (d, i)))
        {
            var idx = new int[frames.Count];
            idx[0] = r0;
            var all = true;
            for (var k = 1; k < frames.Count && all; k++)
            {
                idx[k] = Array.BinarySearch(frames[k].Dates, date);
                all = idx[k] >= 0;
            }

            if (!all) continue;
            dates.Add(date);
            rows.Add(idx);
        }

        if (dates.Count == 0) throw new InvalidInputException(CsvRules.Join, "the frames have no date in common");
        var values = new double[dates.Count * columns.Length];
        for (var r = 0; r < rows.Count; r++)
        {
            var offset = r * columns.Length;
            for (var k = 0; k < frames.Count; k++)
            {
                frames[k].Row(rows[r][k]).CopyTo(values.AsSpan(offset));
                offset += frames[k].ColumnCount;
            }
        }

        return new TimeSeriesFrame(dates.ToArray(), columns, values);
    }

    /// <summary>
    /// As-of join with a lag, for economic-state series: each row of <paramref name="target"/> dated d gets the latest
    /// <paramref name="state"/> row dated ≤ d − <paramref name="lagDays"/> calendar days (default 1), so a condition
    /// never uses same-day information. Target rows with no such state row (at the start) are dropped. When
    /// <paramref name="maxStalenessDays"/> is set, a state row older than that is an error (rule <see cref="CsvRules.Join"/>).
    /// </summary>
    public static TimeSeriesFrame AsOfLagged(TimeSeriesFrame target, TimeSeriesFrame state, int lagDays = 1, int? maxStalenessDays = null)
    {
        if (!target.HasDates || !state.HasDates) throw new InvalidInputException(CsvRules.Join, "an as-of join needs dated frames");
        if (lagDays < 1) throw new InvalidInputException(CsvRules.Join, "the lag must be at least one day (no same-day information)");
        var columns = target.Columns.Concat(state.Columns).ToArray();
        if (columns.Distinct(StringComparer.Ordinal).Count() != columns.Length)
            throw new InvalidInputException(CsvRules.Join, "the target and state frames share a column name");
        var dates = new List<DateOnly>();
        var values = new List<double>();
        for (var r = 0; r < target.RowCount; r++)
        {
            var d = target.Dates[r];
            var s = state.IndexDaysBefore(d, lagDays);
            if (s < 0) continue;
            if (maxStalenessDays is { } max && d.DayNumber - state.Dates[s].DayNumber > max)
            {
                throw new InvalidInputException(CsvRules.Join, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"the latest state row before {d:yyyy-MM-dd} is {d.DayNumber - state.Dates[s].DayNumber} days old (limit {max})"));
            }

            dates.Add(d);
            foreach (var v in target.Row(r)) values.Add(v);
            foreach (var v in state.Row(s)) values.Add(v);
        }

        if (dates.Count == 0) throw new InvalidInputException(CsvRules.Join, "no target row has a lagged state row");
        return new TimeSeriesFrame(dates.ToArray(), columns, values.ToArray());
    }
}
