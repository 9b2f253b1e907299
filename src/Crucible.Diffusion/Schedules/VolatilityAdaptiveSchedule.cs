using System.Globalization;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Schedules;

/// <summary>
/// A forward process whose noise is scaled per series by that series' empirical volatility σ_i:
/// <code>
/// q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) diag(σ²)),   x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) σ ⊙ ε,   ε ~ N(0, I)
/// </code>
/// with ᾱ_t from <see cref="Base"/>. Every series then sees the same signal-to-noise ratio
/// SNR_i(t) = ᾱ_t Var(x_0,i) / ((1 − ᾱ_t) σ_i²) = ᾱ_t / (1 − ᾱ_t) whatever its scale: a bond with 0.3% daily
/// volatility is not drowned in the first steps while an equity index with 1.5% still is barely touched, and the
/// prior x_T ~ N(0, diag(σ²)) already has each series' spread. With σ = 1 this is the isotropic DDPM of Ho et al.
/// (2020), step for step.
/// </summary>
/// <remarks>
/// <para>The process is the image of the isotropic one under y = x / σ (elementwise), so every formula of DDPM and
/// DDIM carries over with ε replaced by σ ⊙ ε: x̂_0 = (x_t − √(1 − ᾱ_t) σ ⊙ ε̂) / √ᾱ_t, the posterior
/// q(x_{t−1} | x_t, x_0) has the same mean coefficients and variance β̃_t σ², and v is defined in the whitened space,
/// v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 / σ. The network still predicts a unit-scale ε (or x_0, or v), and the samplers and
/// the trainer show it x_t / σ (per-series input preconditioning, the c_in of Karras et al. 2022), whose spread is 1
/// at every t when σ_i² is the series' variance: without it a network would see returns of 0.3% as near-constant
/// inputs and could not tell the noise from the signal.</para>
/// <para>What this does and does not buy: on data whose per-series scale is σ, the process with input preconditioning
/// is exactly the isotropic DDPM run on x / σ (a per-series standardisation without centring), scaled back. Its value
/// is that the model works in the data's own units (the prior N(0, diag σ²), x̂_0 and any guidance or constraint live
/// in return units) and that no series is drowned or ignored because of its scale. It does not model time-varying
/// volatility: σ_i is one number per series, fitted on the train split.</para>
/// <para>Series lie on the first axis of a sample: a row (D) or a window (D, W) whose row i is series i.</para>
/// <para>Immutable; computed in double. <see cref="NoiseScale"/> is a fitted statistic of the train split only.</para>
/// </remarks>
public sealed record VolatilityAdaptiveSchedule
{
    private readonly double[] _noiseScale;

    private VolatilityAdaptiveSchedule(NoiseSchedule schedule, double[] noiseScale, bool adaptive)
    {
        Base = schedule;
        _noiseScale = noiseScale;
        IsAdaptive = adaptive;
    }

    /// <summary>The schedule of ᾱ_t (linear or cosine).</summary>
    public NoiseSchedule Base { get; }

    /// <summary>σ_i, the noise scale of series i (1 for every series when not adaptive).</summary>
    public IReadOnlyList<double> NoiseScale => _noiseScale;

    /// <summary>Whether the scales were fitted to data (false: the isotropic process, σ = 1).</summary>
    public bool IsAdaptive { get; }

    /// <summary>D, the number of series.</summary>
    public int Series => _noiseScale.Length;

    /// <summary>T, the number of diffusion steps.</summary>
    public int Steps => Base.Steps;

    /// <summary>The isotropic process (σ_i = 1) over <paramref name="series"/> series: plain DDPM.</summary>
    public static VolatilityAdaptiveSchedule Isotropic(NoiseSchedule schedule, int series)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfLessThan(series, 1);
        var ones = new double[series];
        Array.Fill(ones, 1.0);
        return new VolatilityAdaptiveSchedule(schedule, ones, adaptive: false);
    }

    /// <summary>The process with the given per-series noise scales (each finite and &gt; 0).</summary>
    public static VolatilityAdaptiveSchedule FromVolatility(NoiseSchedule schedule, IReadOnlyList<double> volatility)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(volatility);
        if (volatility.Count < 1) throw new ArgumentException("at least one series is needed", nameof(volatility));
        var scale = new double[volatility.Count];
        for (int i = 0; i < scale.Length; i++)
        {
            double s = volatility[i];
            if (!(double.IsFinite(s) && s > 0)) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"series {i} has noise scale {s}; it must be finite and > 0"), nameof(volatility));
            scale[i] = s;
        }

        return new VolatilityAdaptiveSchedule(schedule, scale, adaptive: true);
    }

    /// <summary>
    /// Fits σ_i to the sample standard deviation (n − 1) of each series of <paramref name="x0"/>, computed in double
    /// with a two-pass (mean, then squared deviations) sum. A series whose deviation is below <paramref name="floor"/>
    /// (constant, or nearly) gets <paramref name="floor"/>.
    /// </summary>
    /// <param name="schedule">The schedule of ᾱ_t.</param>
    /// <param name="x0">Training samples, row-major: <paramref name="rows"/> samples of <paramref name="series"/> ×
    /// <paramref name="length"/> values (series-major within a sample).</param>
    /// <param name="rows">The number of samples (≥ 2).</param>
    /// <param name="series">D, the number of series.</param>
    /// <param name="length">Values per series in one sample (1 for rows, W for windows).</param>
    /// <param name="floor">The smallest scale allowed (&gt; 0).</param>
    public static VolatilityAdaptiveSchedule Fit(NoiseSchedule schedule, ReadOnlySpan<float> x0, int rows, int series, int length = 1, double floor = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(series, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (!(floor > 0)) throw new ArgumentOutOfRangeException(nameof(floor), floor, "the floor must be > 0");
        if (x0.Length != (long)rows * series * length) throw new ArgumentException($"expected {rows} × {series} × {length} values, got {x0.Length}", nameof(x0));
        int size = series * length;
        var moments = new SeriesMoments(series, length);
        for (int r = 0; r < rows; r++) moments.AddToSums(x0.Slice(r * size, size));
        moments.EndSums((long)rows * length);
        for (int r = 0; r < rows; r++) moments.AddToSquares(x0.Slice(r * size, size));
        return new VolatilityAdaptiveSchedule(schedule, moments.Scales(floor, nameof(x0)), adaptive: true);
    }

    /// <summary>
    /// <see cref="Fit(NoiseSchedule, ReadOnlySpan{float}, int, int, int, double)"/> over the samples of <paramref name="x0"/>,
    /// read one at a time (the same sums in the same order, so the same scales): each sample holds
    /// <paramref name="series"/> × <see cref="TrainingData.RowSize"/> / <paramref name="series"/> values, series-major.
    /// </summary>
    public static VolatilityAdaptiveSchedule Fit(NoiseSchedule schedule, TrainingData x0, int series, double floor = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(x0);
        ArgumentOutOfRangeException.ThrowIfLessThan(x0.Rows, 2, nameof(x0));
        ArgumentOutOfRangeException.ThrowIfLessThan(series, 1);
        if (!(floor > 0)) throw new ArgumentOutOfRangeException(nameof(floor), floor, "the floor must be > 0");
        if (x0.RowSize % series != 0) throw new ArgumentException($"samples of {x0.RowSize} values do not split into {series} series", nameof(x0));
        int length = x0.RowSize / series;
        var moments = new SeriesMoments(series, length);
        var row = new float[x0.RowSize];
        for (int r = 0; r < x0.Rows; r++)
        {
            x0.CopyRow(r, row);
            moments.AddToSums(row);
        }

        moments.EndSums((long)x0.Rows * length);
        for (int r = 0; r < x0.Rows; r++)
        {
            x0.CopyRow(r, row);
            moments.AddToSquares(row);
        }

        return new VolatilityAdaptiveSchedule(schedule, moments.Scales(floor, nameof(x0)), adaptive: true);
    }

    // Fit's two passes, one sample at a time: each series' values summed in sample order (then in order within the
    // sample), then their squared deviations from the mean in the same order
    private sealed class SeriesMoments(int series, int length)
    {
        private readonly double[] _sum = new double[series];
        private readonly double[] _squares = new double[series];
        private readonly double[] _mean = new double[series];
        private long _n;

        public void AddToSums(ReadOnlySpan<float> sample)
        {
            for (int i = 0; i < series; i++)
            {
                double sum = _sum[i];
                foreach (float v in sample.Slice(i * length, length)) sum += v;
                _sum[i] = sum;
            }
        }

        public void EndSums(long n)
        {
            _n = n;
            for (int i = 0; i < series; i++) _mean[i] = _sum[i] / n;
        }

        public void AddToSquares(ReadOnlySpan<float> sample)
        {
            for (int i = 0; i < series; i++)
            {
                double mean = _mean[i], squares = _squares[i];
                foreach (float v in sample.Slice(i * length, length)) squares += (v - mean) * (v - mean);
                _squares[i] = squares;
            }
        }

        public double[] Scales(double floor, string paramName)
        {
            var scale = new double[series];
            for (int i = 0; i < series; i++)
            {
                double sd = Math.Sqrt(_squares[i] / (_n - 1));
                if (!double.IsFinite(sd)) throw new ArgumentException($"series {i} has non-finite values", paramName);
                scale[i] = Math.Max(sd, floor);
            }

            return scale;
        }
    }

    /// <summary>√(1 − ᾱ_t) σ_i, the standard deviation of x_t given x_0 for series <paramref name="series"/>.</summary>
    public double NoiseStd(int t, int series) => Math.Sqrt(1.0 - Base.AlphasCumprod[t]) * _noiseScale[series];

    /// <summary>
    /// SNR_i(t) = ᾱ_t v_i / ((1 − ᾱ_t) σ_i²) for data of variance <paramref name="dataVariance"/> in series
    /// <paramref name="series"/>; with σ_i² = v_i it is the base ᾱ_t / (1 − ᾱ_t) for every series.
    /// </summary>
    public double SignalToNoise(int t, int series, double dataVariance)
    {
        double abar = Base.AlphasCumprod[t];
        return abar * dataVariance / ((1.0 - abar) * _noiseScale[series] * _noiseScale[series]);
    }

    /// <summary>
    /// σ for every value of one sample of <paramref name="sampleShape"/> (series on axis 0), in the sample's row-major
    /// order: the per-element scale the samplers and the trainer multiply ε by.
    /// </summary>
    /// <exception cref="ArgumentException">The first axis is not <see cref="Series"/> long.</exception>
    public double[] ElementScales(IReadOnlyList<int> sampleShape)
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        if (sampleShape.Count == 0 || sampleShape[0] != Series)
            throw new ArgumentException($"samples of shape ({string.Join(", ", sampleShape)}) do not have the schedule's {Series} series on axis 0", nameof(sampleShape));
        int length = 1;
        for (int k = 1; k < sampleShape.Count; k++) length *= sampleShape[k];
        var scales = new double[Series * length];
        for (int i = 0; i < Series; i++) scales.AsSpan(i * length, length).Fill(_noiseScale[i]);
        return scales;
    }

    /// <summary>
    /// diffusers' <c>add_noise</c>: <c>xt[k] = √ᾱ_t x0[k] + √(1 − ᾱ_t) σ_k ε[k]</c> for one sample, with σ_k from
    /// <see cref="ElementScales"/>. Computed in double and rounded once to float.
    /// </summary>
    public void AddNoise(ReadOnlySpan<float> x0, ReadOnlySpan<float> noise, int t, ReadOnlySpan<double> elementScales, Span<float> xt)
    {
        if (noise.Length != x0.Length || elementScales.Length != x0.Length || xt.Length != x0.Length)
            throw new ArgumentException("x0, noise, element scales and destination must have the same length", nameof(xt));
        double sa = Math.Sqrt(Base.AlphasCumprod[t]), so = Math.Sqrt(1.0 - Base.AlphasCumprod[t]);
        for (int k = 0; k < x0.Length; k++) xt[k] = (float)((sa * x0[k]) + (so * elementScales[k] * noise[k]));
    }

    /// <inheritdoc />
    public bool Equals(VolatilityAdaptiveSchedule? other) =>
        other is not null && Base.Kind == other.Base.Kind && Base.Betas.SequenceEqual(other.Base.Betas) && IsAdaptive == other.IsAdaptive && _noiseScale.AsSpan().SequenceEqual(other._noiseScale);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Base.Kind, Base.Steps, IsAdaptive, _noiseScale.Length);
}
