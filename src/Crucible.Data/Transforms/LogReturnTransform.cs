using System.Globalization;

namespace Crucible.Data.Transforms;

/// <summary>
/// Converts input values to log returns. For return inputs it is element-wise and keeps the row count:
/// simple <c>ln(1 + r)</c>, percent <c>ln(1 + r/100)</c>, log returns unchanged; the inverse is <c>expm1</c>.
/// For prices, <see cref="Forward"/> gives <c>ln(p_t/p_{t-1})</c> with one row fewer, and <see cref="Inverse"/>
/// rebuilds prices from the anchor row frozen at <see cref="Fit"/> (the first train row), prepending it; use
/// <see cref="InverseFrom"/> to rebuild paths from another anchor (for example the last observed prices).
/// </summary>
public sealed class LogReturnTransform : ISeriesTransform
{
    private string[] _columns = [];
    private double[] _anchor = [];
    private DateOnly? _anchorDate;

    /// <summary>Creates an unfitted transform for inputs of kind <paramref name="input"/>.</summary>
    public LogReturnTransform(InputKind input) => Input = input;

    /// <summary>What the input values are.</summary>
    public InputKind Input { get; }

    /// <inheritdoc />
    public TransformKind Kind => TransformKind.LogReturn;

    /// <inheritdoc />
    public bool IsFitted { get; private set; }

    /// <summary>Prices only: the frozen anchor prices (first train row).</summary>
    public IReadOnlyList<double> AnchorPrices => _anchor;

    /// <inheritdoc />
    public void Fit(TimeSeriesFrame train)
    {
        TransformGuard.RequireRows(train, Input == InputKind.Prices ? 2 : 1, Kind);
        _columns = train.Columns.ToArray();
        if (Input == InputKind.Prices)
        {
            _anchor = train.Row(0).ToArray();
            _anchorDate = train.Dates.Length > 0 ? train.Dates[0] : null;
        }

        IsFitted = true;
    }

    /// <inheritdoc />
    public TimeSeriesFrame Forward(TimeSeriesFrame frame)
    {
        TransformGuard.RequireFitted(IsFitted, Kind);
        TransformGuard.RequireColumns(_columns, frame, Kind);
        return frame.ToLogReturns(Input);
    }

    /// <inheritdoc />
    public TimeSeriesFrame Inverse(TimeSeriesFrame frame)
    {
        TransformGuard.RequireFitted(IsFitted, Kind);
        TransformGuard.RequireColumns(_columns, frame, Kind);
        if (Input == InputKind.Prices) return InverseFrom(frame, _anchor, _anchorDate);
        var result = new double[frame.Values.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var y = frame.Values[i];
            result[i] = Input switch
            {
                InputKind.SimpleReturns => Numeric.ExpM1(y),
                InputKind.PercentReturns => 100.0 * Numeric.ExpM1(y),
                _ => y,
            };
        }

        return frame.WithValues(result);
    }

    /// <summary>
    /// Prices only: rebuilds price paths <c>p_t = anchor · exp(Σ_{s≤t} r_s)</c> from log returns, with the anchor as
    /// the first row (dated <paramref name="anchorDate"/> when the returns are dated).
    /// </summary>
    public static TimeSeriesFrame InverseFrom(TimeSeriesFrame logReturns, ReadOnlySpan<double> anchor, DateOnly? anchorDate)
    {
        var d = logReturns.ColumnCount;
        if (anchor.Length != d) throw new InvalidInputException(Csv.CsvRules.Transform, $"{anchor.Length} anchor prices for {d} columns");
        var n = logReturns.RowCount + 1;
        var values = new double[n * d];
        var cumulative = new double[d];
        anchor.CopyTo(values);
        for (var r = 1; r < n; r++)
        {
            for (var c = 0; c < d; c++)
            {
                cumulative[c] += logReturns.Values[(r - 1) * d + c];
                values[r * d + c] = anchor[c] * Math.Exp(cumulative[c]);
            }
        }

        DateOnly[] dates = [];
        if (logReturns.Dates.Length > 0)
        {
            var first = anchorDate ?? logReturns.Dates[0].AddDays(-1);
            dates = [first, .. logReturns.Dates];
        }

        return new TimeSeriesFrame(dates, logReturns.Columns, values, n);
    }

    /// <inheritdoc />
    public TransformState ToState()
    {
        TransformGuard.RequireFitted(IsFitted, Kind);
        var settings = new Dictionary<string, string> { ["input"] = Input.ToString() };
        if (_anchorDate is { } a) settings["anchor_date"] = a.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return new TransformState(Kind, _columns, new Dictionary<string, double[]> { ["anchor"] = _anchor }, settings);
    }

    /// <summary>Restores a fitted transform from its state.</summary>
    public static LogReturnTransform FromState(TransformState state)
    {
        var input = TransformGuard.EnumSetting<InputKind>(state, "input");
        var t = new LogReturnTransform(input)
        {
            _columns = state.Columns.ToArray(),
            // prices rebuild paths from the anchor: one positive price per column, as Fit keeps them
            _anchor = input == InputKind.Prices
                ? TransformGuard.Array(state, "anchor", state.Columns.Count, p => double.IsFinite(p) && p > 0, "finite prices > 0")
                : state.Arrays.TryGetValue("anchor", out var a) && a is not null ? a : [],
            IsFitted = true,
        };
        if (state.Settings.TryGetValue("anchor_date", out var date))
        {
            t._anchorDate = DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d
                : throw TransformGuard.Broken(state, "setting 'anchor_date' must be a date yyyy-MM-dd");
        }

        return t;
    }
}
