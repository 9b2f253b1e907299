using System.Globalization;
using Crucible.Data.Statistics;

namespace Crucible.Data.Transforms;

/// <summary>
/// Rank / quantile-to-normal transform for heavy-tailed series (per column). At <see cref="Fit"/> it keeps up to
/// <see cref="MaxKnots"/> knots <c>(x_k, z_k)</c>: train order statistics <c>x_k</c> and the normal quantiles
/// <c>z_k = Φ⁻¹((i_k + 0.5) / n)</c> of their Hazen plotting positions (tied values share one knot, with the mean z).
/// <see cref="Forward"/> interpolates linearly between knots, a monotone piecewise-linear map from x to z (the
/// empirical CDF composed with Φ⁻¹, interpolated in z-space). Beyond the train range it extrapolates linearly with
/// the slope of the outermost segment on each side, so every real value has an image and
/// <see cref="Inverse"/> (the same map with x and z swapped) works for any z, including values outside the
/// train range; tails beyond the train extremes are therefore linear in z, not re-estimated.
/// Needs at least two distinct finite values per column.
/// </summary>
public sealed class QuantileNormalTransform : ISeriesTransform
{
    private string[] _columns = [];
    private double[][] _x = [];
    private double[][] _z = [];

    /// <summary>Creates an unfitted transform with at most <paramref name="maxKnots"/> knots per column (≥ 2).</summary>
    public QuantileNormalTransform(int maxKnots = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKnots, 2);
        MaxKnots = maxKnots;
    }

    /// <summary>The maximum number of knots per column.</summary>
    public int MaxKnots { get; }

    /// <inheritdoc />
    public TransformKind Kind => TransformKind.QuantileNormal;

    /// <inheritdoc />
    public bool IsFitted { get; private set; }

    /// <inheritdoc />
    public void Fit(TimeSeriesFrame train)
    {
        TransformGuard.RequireRows(train, 2, Kind);
        TransformGuard.RequireFinite(train, Kind);
        var d = train.ColumnCount;
        _columns = train.Columns.ToArray();
        _x = new double[d][];
        _z = new double[d][];
        for (var c = 0; c < d; c++)
        {
            var sorted = train.Column(c);
            Array.Sort(sorted);
            var n = sorted.Length;
            var k = Math.Min(MaxKnots, n);
            var xs = new List<double>(k);
            var zs = new List<double>(k);
            var tied = 0;
            for (var j = 0; j < k; j++)
            {
                var i = (int)Math.Round((double)j * (n - 1) / (k - 1));
                var x = sorted[i];
                var z = NormalDistribution.InvCdf((i + 0.5) / n);
                if (xs.Count > 0 && xs[^1] == x)
                {
                    tied++;
                    zs[^1] += (z - zs[^1]) / (tied + 1); // running mean of the tied knots' z
                    continue;
                }

                tied = 0;
                xs.Add(x);
                zs.Add(z);
            }

            if (xs.Count < 2)
            {
                throw new InvalidInputException(Csv.CsvRules.Transform,
                    $"column '{_columns[c]}' has fewer than two distinct values; the quantile transform cannot be fitted");
            }

            _x[c] = xs.ToArray();
            _z[c] = zs.ToArray();
        }

        IsFitted = true;
    }

    /// <inheritdoc />
    public TimeSeriesFrame Forward(TimeSeriesFrame frame) => Apply(frame, inverse: false);

    /// <inheritdoc />
    public TimeSeriesFrame Inverse(TimeSeriesFrame frame) => Apply(frame, inverse: true);

    private TimeSeriesFrame Apply(TimeSeriesFrame frame, bool inverse) =>
        TransformGuard.MapColumnwise(IsFitted, _columns, frame, Kind, inverse
            ? (c, v) => Interpolate(_z[c], _x[c], v)
            : (c, v) => Interpolate(_x[c], _z[c], v));

    /// <summary>Piecewise-linear map through strictly increasing knots <paramref name="from"/> → <paramref name="to"/>, extrapolated linearly.</summary>
    private static double Interpolate(double[] from, double[] to, double v)
    {
        if (double.IsNaN(v)) return double.NaN;
        int lo;
        if (v <= from[0]) lo = 0;
        else if (v >= from[^1]) lo = from.Length - 2;
        else
        {
            var i = Array.BinarySearch(from, v);
            if (i >= 0) return to[i];
            lo = ~i - 1;
        }

        double span = from[lo + 1] - from[lo], rise = to[lo + 1] - to[lo];
        if (double.IsFinite(span) && double.IsFinite(rise)) return to[lo] + (v - from[lo]) * (rise / span);
        // knots more than double.MaxValue apart (a span of ∞ gave a slope of 0 or ∞): the same line through the halved
        // knots (halving is exact), as a weighted mean of the two knots' images
        var t = (v / 2 - from[lo] / 2) / (from[lo + 1] / 2 - from[lo] / 2);
        return to[lo] * (1 - t) + to[lo + 1] * t;
    }

    /// <inheritdoc />
    public TransformState ToState()
    {
        TransformGuard.RequireFitted(IsFitted, Kind);
        var arrays = new Dictionary<string, double[]>();
        for (var c = 0; c < _columns.Length; c++)
        {
            arrays[$"x{c}"] = _x[c];
            arrays[$"z{c}"] = _z[c];
        }

        return new TransformState(Kind, _columns, arrays,
            new Dictionary<string, string> { ["max_knots"] = MaxKnots.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>Restores a fitted transform from its state.</summary>
    public static QuantileNormalTransform FromState(TransformState state)
    {
        var t = new QuantileNormalTransform(TransformGuard.IntSetting(state, "max_knots", 2))
        {
            _columns = state.Columns.ToArray(),
        };
        var d = t._columns.Length;
        t._x = new double[d][];
        t._z = new double[d][];
        for (var c = 0; c < d; c++)
        {
            var x = state.Arrays.TryGetValue($"x{c}", out var xs) && xs is not null ? xs : throw new InvalidInputException(Csv.CsvRules.Transform, $"missing knots x{c}");
            // Interpolate needs two to MaxKnots knots, finite and strictly increasing both ways, as Fit writes them
            if (x.Length < 2 || x.Length > t.MaxKnots)
                throw TransformGuard.Broken(state, $"knots x{c} must number 2 to max_knots ({t.MaxKnots}), not {x.Length}");
            t._x[c] = TransformGuard.Array(state, $"x{c}", x.Length, double.IsFinite, "finite values");
            t._z[c] = TransformGuard.Array(state, $"z{c}", x.Length, double.IsFinite, "finite values");
            if (!TransformGuard.StrictlyIncreasing(t._x[c]) || !TransformGuard.StrictlyIncreasing(t._z[c]))
                throw TransformGuard.Broken(state, $"knots x{c} and z{c} must be strictly increasing");
        }

        t.IsFitted = true;
        return t;
    }
}
