using System.Globalization;

namespace Crucible.Data.Transforms;

/// <summary>How <see cref="VolatilityScaler"/> estimates volatility.</summary>
public enum VolatilityMethod
{
    /// <summary>RiskMetrics EWMA: <c>σ²_t = λ σ²_{t−1} + (1 − λ) r²_{t−1}</c>.</summary>
    Ewma,

    /// <summary>Rolling realised volatility: <c>σ²_t = mean(r²_{t−k}, …, r²_{t−1})</c>.</summary>
    Rolling,
}

/// <summary>
/// Per-series volatility scaling <c>y_t = r_t / σ_t</c> with a causal volatility estimate (σ_t uses returns up to
/// t−1 only), for the volatility-adaptive noise schedule. The recursion starts from the train mean of r² (frozen at
/// <see cref="Fit"/>; a rolling window is pre-filled with it), so the map is deterministic for any frame and
/// <see cref="Inverse"/> runs the same recursion on the rebuilt returns. σ is floored at 1e-3 × the train RMS. A NaN
/// or infinite return scales to NaN or ±∞ in its own row and leaves the estimate where it was; returns too large to square
/// (above about 1e154) are squared in scaled units, so σ stays finite.
/// </summary>
public sealed class VolatilityScaler : ISeriesTransform
{
    // 2^480: a scaled return above it rescales the running squares (its square is still far from overflow)
    private static readonly double LargeReturn = Math.ScaleB(1.0, 480);

    private string[] _columns = [];
    private double[] _initialVariance = [];

    /// <summary>Creates an unfitted scaler.</summary>
    /// <param name="method">EWMA (default) or rolling.</param>
    /// <param name="lambda">EWMA decay, in (0, 1); default 0.94 (RiskMetrics daily).</param>
    /// <param name="window">Rolling window length in rows, ≥ 2; default 20.</param>
    public VolatilityScaler(VolatilityMethod method = VolatilityMethod.Ewma, double lambda = 0.94, int window = 20)
    {
        if (!(lambda > 0 && lambda < 1)) throw new ArgumentOutOfRangeException(nameof(lambda), "lambda must be in (0, 1)");
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 2);
        Method = method;
        Lambda = lambda;
        Window = window;
    }

    /// <summary>The estimator.</summary>
    public VolatilityMethod Method { get; }

    /// <summary>The EWMA decay.</summary>
    public double Lambda { get; }

    /// <summary>The rolling window length.</summary>
    public int Window { get; }

    /// <inheritdoc />
    public TransformKind Kind => TransformKind.VolatilityScaler;

    /// <inheritdoc />
    public bool IsFitted { get; private set; }

    /// <inheritdoc />
    public void Fit(TimeSeriesFrame train)
    {
        TransformGuard.RequireRows(train, 2, Kind);
        TransformGuard.RequireFinite(train, Kind);
        _columns = train.Columns.ToArray();
        _initialVariance = new double[train.ColumnCount];
        for (var c = 0; c < train.ColumnCount; c++)
        {
            var sum = 0.0;
            foreach (var v in train.Column(c)) sum += v * v;
            _initialVariance[c] = sum / train.RowCount;
            if (!double.IsFinite(_initialVariance[c]) || double.IsInfinity(sum))
                _initialVariance[c] = ScaledMeanSquare(train.Column(c), train.Columns[c]);
        }

        IsFitted = true;
    }

    // the mean of v² when the plain sum of squares overflows (values above about 1e154): Σ (v/M)² · M², M the largest |v|
    // a power of two; refused when the mean square itself is beyond double range
    private double ScaledMeanSquare(ReadOnlySpan<double> values, string column)
    {
        var largest = 0.0;
        foreach (var v in values) largest = Math.Max(largest, Math.Abs(v));
        var exponent = Math.ILogB(largest);
        var sum = 0.0;
        foreach (var v in values)
        {
            var scaled = Math.ScaleB(v, -exponent);
            sum += scaled * scaled;
        }

        var mean = Math.ScaleB(sum / values.Length, 2 * exponent);
        if (!double.IsFinite(mean))
        {
            throw new InvalidInputException(Csv.CsvRules.Transform, string.Create(CultureInfo.InvariantCulture,
                $"the {Kind} transform cannot be fitted on '{column}': its values are too large (up to {largest:R}) for their mean square to be a double"));
        }

        return mean;
    }

    /// <summary>The causal volatility σ_t per row and column (row-major), computed from returns <paramref name="frame"/>.</summary>
    public double[] Sigma(TimeSeriesFrame frame)
    {
        TransformGuard.RequireFitted(IsFitted, Kind);
        TransformGuard.RequireColumns(_columns, frame, Kind);
        var sigma = new double[frame.Values.Length];
        Run(frame.Values, new double[frame.Values.Length], sigma, frame.ColumnCount, inverse: false);
        return sigma;
    }

    /// <inheritdoc />
    public TimeSeriesFrame Forward(TimeSeriesFrame frame) => Apply(frame, inverse: false);

    /// <inheritdoc />
    public TimeSeriesFrame Inverse(TimeSeriesFrame frame) => Apply(frame, inverse: true);

    private TimeSeriesFrame Apply(TimeSeriesFrame frame, bool inverse)
    {
        TransformGuard.RequireFitted(IsFitted, Kind);
        TransformGuard.RequireColumns(_columns, frame, Kind);
        var result = new double[frame.Values.Length];
        Run(frame.Values, result, new double[frame.Values.Length], frame.ColumnCount, inverse);
        return frame.WithValues(result);
    }

    private void Run(double[] input, double[] output, double[] sigmaOut, int d, bool inverse)
    {
        var rows = d == 0 ? 0 : input.Length / d;
        var ring = new double[Window];
        for (var c = 0; c < d; c++)
        {
            var variance = _initialVariance[c];
            var floor = Math.Max(Math.Sqrt(_initialVariance[c]) * 1e-3, 1e-12);
            Array.Fill(ring, _initialVariance[c]);
            // variance and ring hold squares in units of 4^k (an exact power-of-two scaling), so that r² cannot overflow:
            // k stays 0, and the arithmetic is the plain one, unless a return above about 2^480 comes
            var k = 0;
            for (var t = 0; t < rows; t++)
            {
                if (Method == VolatilityMethod.Rolling)
                {
                    var s = 0.0;
                    foreach (var q in ring) s += q;
                    variance = s / Window;
                }

                var sigma = Math.Max(Math.ScaleB(Math.Sqrt(variance), k), floor);
                var i = t * d + c;
                sigmaOut[i] = sigma;
                double r;
                if (inverse)
                {
                    r = input[i] * sigma;
                    output[i] = r;
                }
                else
                {
                    r = input[i];
                    output[i] = r / sigma;
                }

                // a missing (NaN) or infinite return is its own row's problem: the estimate stays where it was (its r² is
                // taken to be the current variance), instead of NaN or ∞ for the rest of the column
                if (!double.IsFinite(r))
                {
                    if (Method == VolatilityMethod.Rolling) ring[t % Window] = variance;
                    continue;
                }

                var scaledR = Math.ScaleB(r, -k);
                if (Math.Abs(scaledR) > LargeReturn)
                {
                    var m = Math.ILogB(scaledR) - 240;
                    k += m;
                    variance = Math.ScaleB(variance, -2 * m);
                    for (var j = 0; j < ring.Length; j++) ring[j] = Math.ScaleB(ring[j], -2 * m);
                    scaledR = Math.ScaleB(r, -k);
                }

                if (Method == VolatilityMethod.Ewma) variance = Lambda * variance + (1 - Lambda) * scaledR * scaledR;
                else ring[t % Window] = scaledR * scaledR;
            }
        }
    }

    /// <inheritdoc />
    public TransformState ToState()
    {
        TransformGuard.RequireFitted(IsFitted, Kind);
        return new TransformState(Kind, _columns,
            new Dictionary<string, double[]> { ["initial_variance"] = _initialVariance },
            new Dictionary<string, string>
            {
                ["method"] = Method.ToString(),
                ["lambda"] = Lambda.ToString("R", CultureInfo.InvariantCulture),
                ["window"] = Window.ToString(CultureInfo.InvariantCulture),
            });
    }

    /// <summary>Restores a fitted scaler from its state.</summary>
    public static VolatilityScaler FromState(TransformState state) =>
        new(TransformGuard.EnumSetting<VolatilityMethod>(state, "method"), TransformGuard.FractionSetting(state, "lambda"),
            TransformGuard.IntSetting(state, "window", 2))
        {
            _columns = state.Columns.ToArray(),
            _initialVariance = TransformGuard.Array(state, "initial_variance", state.Columns.Count, v => double.IsFinite(v) && v >= 0, "finite variances ≥ 0"),
            IsFitted = true,
        };
}
