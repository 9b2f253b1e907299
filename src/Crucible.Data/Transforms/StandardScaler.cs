namespace Crucible.Data.Transforms;

/// <summary>
/// Per-column standardisation <c>(x − mean) / sd</c>, with the train mean and population standard deviation
/// (divisor n). A column with zero spread keeps scale 1. Inverse: <c>y · sd + mean</c>.
/// </summary>
public sealed class StandardScaler : ISeriesTransform
{
    private string[] _columns = [];
    private double[] _mean = [];
    private double[] _scale = [];

    /// <inheritdoc />
    public TransformKind Kind => TransformKind.StandardScaler;

    /// <inheritdoc />
    public bool IsFitted { get; private set; }

    /// <summary>The frozen per-column means.</summary>
    public IReadOnlyList<double> Mean => _mean;

    /// <summary>The frozen per-column scales (population standard deviations, or 1 for constant columns).</summary>
    public IReadOnlyList<double> Scale => _scale;

    // A square below 2.2e-308 (subnormal) loses bits and one below 2.5e-324 is 0, so a sum of squares under this may have
    // lost a good part of itself (values of magnitude 1e-150 and less); over it, a billion such losses are below its last
    // bit. Only a column whose values all lie within 1e-140 of their mean comes under it: tiny values, or a constant column.
    private const double UnderflowSumOfSquares = 1e-280;

    /// <inheritdoc />
    public void Fit(TimeSeriesFrame train)
    {
        TransformGuard.RequireRows(train, 1, Kind);
        TransformGuard.RequireFinite(train, Kind);
        var d = train.ColumnCount;
        _columns = train.Columns.ToArray();
        _mean = new double[d];
        _scale = new double[d];
        for (var c = 0; c < d; c++)
        {
            var col = train.Column(c);
            var mean = col.Average();
            if (!double.IsFinite(mean))
            {
                // the sum overflowed (values near double.MaxValue): the mean as a sum of v / n, which cannot
                mean = 0;
                foreach (var v in col) mean += v / col.Length;
            }

            var ss = 0.0;
            foreach (var v in col) ss += (v - mean) * (v - mean);
            var sd = Math.Sqrt(ss / col.Length);
            if (double.IsInfinity(sd) || ss < UnderflowSumOfSquares)
            {
                // the squares overflowed or may have underflowed: the deviations scaled by the largest magnitude, then
                // scaled back (a column of zeros keeps sd 0; a constant column of any other value gives 0 again)
                var m = Math.Abs(mean);
                foreach (var v in col) m = Math.Max(m, Math.Abs(v));
                if (m > 0)
                {
                    var scaled = 0.0;
                    foreach (var v in col) scaled += (v / m - mean / m) * (v / m - mean / m);
                    sd = m * Math.Sqrt(scaled / col.Length);
                }
            }

            _mean[c] = mean;
            _scale[c] = sd > 0 && double.IsFinite(sd) ? sd : 1.0;
        }

        IsFitted = true;
    }

    /// <inheritdoc />
    public TimeSeriesFrame Forward(TimeSeriesFrame frame) => Apply(frame, inverse: false);

    /// <inheritdoc />
    public TimeSeriesFrame Inverse(TimeSeriesFrame frame) => Apply(frame, inverse: true);

    private TimeSeriesFrame Apply(TimeSeriesFrame frame, bool inverse) =>
        TransformGuard.MapColumnwise(IsFitted, _columns, frame, Kind, inverse
            ? (c, v) => v * _scale[c] + _mean[c]
            : (c, v) => (v - _mean[c]) / _scale[c]);

    /// <inheritdoc />
    public TransformState ToState()
    {
        TransformGuard.RequireFitted(IsFitted, Kind);
        return new TransformState(Kind, _columns,
            new Dictionary<string, double[]> { ["mean"] = _mean, ["scale"] = _scale }, new Dictionary<string, string>());
    }

    /// <summary>Restores a fitted scaler from its state.</summary>
    public static StandardScaler FromState(TransformState state)
    {
        var d = state.Columns.Count;
        return new StandardScaler
        {
            _columns = state.Columns.ToArray(),
            _mean = TransformGuard.Array(state, "mean", d, double.IsFinite, "finite means"),
            _scale = TransformGuard.Array(state, "scale", d, s => double.IsFinite(s) && s > 0, "finite scales > 0"),
            IsFitted = true,
        };
    }
}
