using System.Globalization;
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
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"dates must be strictly increasing (row {i}: {dates[i]:yyyy-MM-dd})"), nameof(dates));
            }
        }

        if (columns.Distinct(StringComparer.Ordinal).Count() != columns.Count)
            throw new ArgumentException("column names must be unique", nameof(columns));
        Dates = dates;
        Columns = columns;
        _values = values;
        RowCount = rowCount;
    }

    // a frame of the first rowCount rows of values, which may hold more rows (Head): the rows are not copied
    private TimeSeriesFrame(DateOnly[] dates, IReadOnlyList<string> columns, int rowCount, double[] values)
    {
        Dates = dates;
        Columns = columns;
        _values = values;
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

    // the rows' values from the first row on: RowCount × ColumnCount of them, or more when this frame is a Head of a
    // longer frame (whose array it shares)
    private readonly double[] _values;
    private double[]? _copy;

    /// <summary>
    /// Row-major values, <see cref="RowCount"/> × <see cref="ColumnCount"/>. A <see cref="Head"/> frame copies its rows
    /// out of the longer frame's array on the first read of this property (once); <see cref="ValueSpan"/> reads them in place.
    /// </summary>
    public double[] Values => _values.Length == RowCount * ColumnCount ? _values : _copy ??= _values[..(RowCount * ColumnCount)];

    /// <summary>The row-major values, <see cref="RowCount"/> × <see cref="ColumnCount"/>, read in place (no copy, a <see cref="Head"/> frame's too).</summary>
    public ReadOnlySpan<double> ValueSpan => _values.AsSpan(0, RowCount * ColumnCount);

    /// <summary>Number of rows.</summary>
    public int RowCount { get; }

    /// <summary>Number of columns.</summary>
    public int ColumnCount => Columns.Count;

    /// <summary>Whether rows carry dates.</summary>
    public bool HasDates => Dates.Length > 0 || RowCount == 0;

    /// <summary>The value at <paramref name="row"/>, <paramref name="column"/>.</summary>
    public double this[int row, int column] => _values[CheckedRow(row) * ColumnCount + column];

    /// <summary>Row <paramref name="row"/> as a read-only span.</summary>
    public ReadOnlySpan<double> Row(int row) => _values.AsSpan(CheckedRow(row) * ColumnCount, ColumnCount);

    // a row of a Head frame past its last is refused as a row past the array's end would be (the longer frame's rows are not its own)
    private int CheckedRow(int row) => (uint)row < (uint)RowCount ? row : throw new IndexOutOfRangeException($"row {row} of {RowCount}");

    /// <summary>A copy of column <paramref name="column"/>.</summary>
    public double[] Column(int column)
    {
        var result = new double[RowCount];
        for (var r = 0; r < RowCount; r++) result[r] = _values[r * ColumnCount + column];
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
        var values = _values.AsSpan(start * ColumnCount, (end - start) * ColumnCount).ToArray();
        var dates = Dates.Length == 0 ? [] : Dates[start..end];
        return new TimeSeriesFrame(dates, Columns, values, end - start);
    }

    /// <summary>
    /// Rows <c>[0, rows)</c> as a frame that shares this frame's values instead of copying them (the dates are copied:
    /// 4 bytes a row): a train split read while the whole file stays held. Its <see cref="ValueSpan"/>, indexer,
    /// <see cref="Row"/> and <see cref="Column"/> read the shared rows; <see cref="Values"/> copies them out once.
    /// </summary>
    public TimeSeriesFrame Head(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, RowCount);
        return new TimeSeriesFrame(Dates.Length == 0 ? [] : Dates[..rows], Columns, rows, _values);
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
            for (var c = 0; c < index.Length; c++) values[r * index.Length + c] = _values[r * ColumnCount + index[c]];
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
        var given = ValueSpan; // in place: a Head's rows are not copied out
        if (kind == InputKind.Prices)
        {
            if (RowCount < 2) throw new InvalidInputException(CsvRules.Transform, "log returns from prices need at least two rows");
            var n = RowCount - 1;
            var values = new double[n * ColumnCount];
            for (var r = 0; r < n; r++)
            {
                for (var c = 0; c < ColumnCount; c++)
                {
                    double before = given[r * ColumnCount + c], after = given[(r + 1) * ColumnCount + c];
                    var v = Math.Log(after / before);
                    // a missing value kept as NaN stays NaN; a zero or negative price (a declared domain lets one through) or
                    // a ratio past the largest double has no log return
                    if (before <= 0 || after <= 0 || (!double.IsFinite(v) && double.IsFinite(before) && double.IsFinite(after)))
                    {
                        var row = before <= 0 ? r : r + 1;
                        throw NoLogReturn(row, c, before <= 0 || after <= 0
                            ? "a price that is zero or negative has no log return"
                            : "the ratio to the price before it is too large for a log return");
                    }

                    values[r * ColumnCount + c] = v;
                }
            }

            return new TimeSeriesFrame(Dates.Length == 0 ? [] : Dates[1..], Columns, values, n);
        }

        var result = new double[given.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = kind switch
            {
                InputKind.SimpleReturns => Numeric.Log1P(given[i]),
                InputKind.PercentReturns => Numeric.Log1P(given[i] / 100.0),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };
            // a missing value kept as NaN stays NaN; a return of −100% or less (a declared domain lets one through) has none
            if (!double.IsFinite(result[i]) && double.IsFinite(given[i]))
            {
                throw NoLogReturn(i / ColumnCount, i % ColumnCount,
                    kind == InputKind.SimpleReturns ? "a simple return of -1 or less has no log return" : "a percent return of -100 or less has no log return");
            }
        }

        return WithValues(result);
    }

    // the value at row, column has no log return: refused at its column and date (its row, from 1, when undated), the value
    // not shown (cells stay confidential)
    private InvalidInputException NoLogReturn(int row, int column, string what) =>
        new(CsvRules.Transform, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"column '{Columns[column]}' on {(Dates.Length > 0 ? Dates[row].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : $"row {row + 1}")}: {what}; declare the input kind the values are, or leave the column out"));

    /// <summary>The row index of the last date ≤ <paramref name="date"/>, or −1 (binary search; dated frames only).</summary>
    public int IndexAtOrBefore(DateOnly date)
    {
        var i = Array.BinarySearch(Dates, date);
        return i >= 0 ? i : ~i - 1;
    }

    /// <summary>
    /// The row index of the last date at least <paramref name="days"/> calendar days before <paramref name="date"/> (a
    /// lagged lookup: the state of the day before is <c>IndexDaysBefore(d, 1)</c>), or −1, also when that day would precede
    /// 0001-01-01, where <see cref="DateOnly.AddDays"/> throws.
    /// </summary>
    public int IndexDaysBefore(DateOnly date, int days) => date.DayNumber < days ? -1 : IndexAtOrBefore(date.AddDays(-days));
}
