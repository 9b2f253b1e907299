using Crucible.Data.Csv;

namespace Crucible.Data;

/// <summary>
/// A validated, typed panel of time series: one row per date, one column per series, values row-major
/// (<c>Values[row * ColumnCount + column]</c>). Dates are strictly increasing when present; an undated frame
/// (read with <c>--no-date</c>) has an empty <see cref="Dates"/> array and is ordered by row.
/// Treat instances as immutable: methods return new frames.
/// </summary>
public sealed class TimeSeriesFrame
{
    /// <summary>Creates a frame; checks shapes and that dates are strictly increasing.</summary>
    /// <param name="dates">One date per row, strictly increasing, or empty for an undated frame.</param>
    /// <param name="columns">Column names, unique.</param>
    /// <param name="values">Row-major values, <c>rows × columns.Count</c> long.</param>
    /// <param name="rowCount">Number of rows (needed when the frame is undated).</param>
    public TimeSeriesFrame(DateOnly[] dates, IReadOnlyList<string> columns, double[] values, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(dates);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(values);
        if (dates.Length != 0 && dates.Length != rowCount)
            throw new ArgumentException($"{dates.Length} dates for {rowCount} rows", nameof(dates));
        if ((long)rowCount * columns.Count != values.Length)
            throw new ArgumentException($"{values.Length} values for {rowCount} rows × {columns.Count} columns", nameof(values));
        for (var i = 1; i < dates.Length; i++)
        {
            if (dates[i] <= dates[i - 1])
                throw new ArgumentException($"dates must be strictly increasing (row {i}: {dates[i]:yyyy-MM-dd})", nameof(dates));
        }

        if (columns.Distinct(StringComparer.Ordinal).Count() != columns.Count)
            throw new ArgumentException("column names must be unique", nameof(columns));
        Dates = dates;
        Columns = columns;
        Values = values;
        RowCount = rowCount;
    }

    /// <summary>Creates a dated frame.</summary>
    public TimeSeriesFrame(DateOnly[] dates, IReadOnlyList<string> columns, double[] values)
        : this(dates, columns, values, dates.Length)
    {
    }

    /// <summary>One date per row (strictly increasing), or empty for an undated frame.</summary>
    public DateOnly[] Dates { get; }

    /// <summary>Column names.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Row-major values, <see cref="RowCount"/> × <see cref="ColumnCount"/>.</summary>
    public double[] Values { get; }

    /// <summary>Number of rows.</summary>
    public int RowCount { get; }

    /// <summary>Number of columns.</summary>
    public int ColumnCount => Columns.Count;

    /// <summary>Whether rows carry dates.</summary>
    public bool HasDates => Dates.Length > 0 || RowCount == 0;

    /// <summary>The value at <paramref name="row"/>, <paramref name="column"/>.</summary>
    public double this[int row, int column] => Values[row * ColumnCount + column];

    /// <summary>Row <paramref name="row"/> as a read-only span.</summary>
    public ReadOnlySpan<double> Row(int row) => Values.AsSpan(row * ColumnCount, ColumnCount);

    /// <summary>A copy of column <paramref name="column"/>.</summary>
    public double[] Column(int column)
    {
        var result = new double[RowCount];
        for (var r = 0; r < RowCount; r++) result[r] = Values[r * ColumnCount + column];
        return result;
    }

    /// <summary>The index of the column named <paramref name="name"/>; throws <see cref="InvalidInputException"/> when absent.</summary>
    public int ColumnIndex(string name)
    {
        for (var c = 0; c < Columns.Count; c++)
        {
            if (string.Equals(Columns[c], name, StringComparison.Ordinal)) return c;
        }

        throw new InvalidInputException("COLUMN-E", $"no column named '{name}' (columns: {string.Join(", ", Columns)})");
    }

    /// <summary>Rows <c>[start, end)</c> as a new frame.</summary>
    public TimeSeriesFrame Slice(int start, int end)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(end, RowCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, end);
        var values = Values.AsSpan(start * ColumnCount, (end - start) * ColumnCount).ToArray();
        var dates = Dates.Length == 0 ? [] : Dates[start..end];
        return new TimeSeriesFrame(dates, Columns, values, end - start);
    }

    /// <summary>The named columns, in the order given, as a new frame.</summary>
    public TimeSeriesFrame SelectColumns(IReadOnlyList<string> names)
    {
        var index = names.Select(ColumnIndex).ToArray();
        for (var i = 1; i < index.Length; i++)
        {
            if (Array.IndexOf(index, index[i], 0, i) >= 0) throw new InvalidInputException("COLUMN-E", $"column '{names[i]}' is named twice");
        }

        var values = new double[RowCount * index.Length];
        for (var r = 0; r < RowCount; r++)
        {
            for (var c = 0; c < index.Length; c++) values[r * index.Length + c] = Values[r * ColumnCount + index[c]];
        }

        return new TimeSeriesFrame(Dates, names.ToArray(), values, RowCount);
    }

    /// <summary>A frame with the same dates and columns and new values.</summary>
    public TimeSeriesFrame WithValues(double[] values) => new(Dates, Columns, values, RowCount);

    /// <summary>
    /// Converts the values to log returns. Prices give <c>ln(p_t / p_{t-1})</c> and one row fewer (the first date is
    /// dropped); simple returns give <c>ln(1 + r)</c>; percent returns <c>ln(1 + r/100)</c>; log returns are this frame
    /// itself (frames are immutable: a copy would only hold the values twice).
    /// </summary>
    public TimeSeriesFrame ToLogReturns(InputKind kind)
    {
        if (kind == InputKind.LogReturns) return this;
        if (kind == InputKind.Prices)
        {
            if (RowCount < 2) throw new InvalidInputException(CsvRules.Transform, "log returns from prices need at least two rows");
            var n = RowCount - 1;
            var values = new double[n * ColumnCount];
            for (var r = 0; r < n; r++)
            {
                for (var c = 0; c < ColumnCount; c++)
                    values[r * ColumnCount + c] = Math.Log(Values[(r + 1) * ColumnCount + c] / Values[r * ColumnCount + c]);
            }

            return new TimeSeriesFrame(Dates.Length == 0 ? [] : Dates[1..], Columns, values, n);
        }

        var result = new double[Values.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = kind switch
            {
                InputKind.SimpleReturns => Numeric.Log1P(Values[i]),
                InputKind.PercentReturns => Numeric.Log1P(Values[i] / 100.0),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
        }

        return WithValues(result);
    }

    /// <summary>The row index of the last date ≤ <paramref name="date"/>, or −1 (binary search; dated frames only).</summary>
    public int IndexAtOrBefore(DateOnly date)
    {
        var i = Array.BinarySearch(Dates, date);
        return i >= 0 ? i : ~i - 1;
    }
}
