using Crucible.Tensors;

namespace Crucible.Diffusion.Regularisation;

/// <summary>Which sample autocovariance the PACF's Durbin–Levinson recursion starts from.</summary>
public enum AutocovarianceEstimator
{
    /// <summary>
    /// γ_k = (1/n) Σ_{t&lt;n−k} c_t c_{t+k} (c = x − x̄): statsmodels <c>pacf(method="ldb")</c> (and "ywm", the same
    /// numbers). Its Toeplitz matrix is positive semi-definite, so every |φ_kk| ≤ 1: the stable choice for short windows.
    /// </summary>
    Biased,

    /// <summary>
    /// γ_k = (1/(n − k)) Σ_{t&lt;n−k} c_t c_{t+k}: statsmodels <c>pacf(method="yw")</c> = "ywadjusted" (METRICS.md's PACF).
    /// </summary>
    Adjusted,
}

/// <summary>
/// The partial autocorrelation function φ_kk, k = 1..K, of a series by the Durbin–Levinson recursion on its sample
/// autocorrelation ρ_k = γ_k / γ_0:
/// <code>
/// φ_11 = ρ_1
/// φ_kk = (ρ_k − Σ_{j&lt;k} φ_{k−1,j} ρ_{k−j}) / (1 − Σ_{j&lt;k} φ_{k−1,j} ρ_j)
/// φ_kj = φ_{k−1,j} − φ_kk φ_{k−1,k−j}     (j &lt; k)
/// </code>
/// Two forms: <see cref="Compute(ReadOnlySpan{double}, int, AutocovarianceEstimator)"/> in double (the reference), and
/// <see cref="Compute(Tensor, int, AutocovarianceEstimator, float)"/> over a batch of windows built from engine ops, so
/// autograd carries the gradient back to the windows (the PACF regulariser of the trainer).
/// </summary>
public static class Pacf
{
    /// <summary>φ_11 … φ_KK of <paramref name="series"/> (K = <paramref name="lags"/> &lt; n), in double.</summary>
    /// <exception cref="ArgumentException">The series is constant (γ_0 = 0) or shorter than lags + 1.</exception>
    public static double[] Compute(ReadOnlySpan<double> series, int lags, AutocovarianceEstimator estimator = AutocovarianceEstimator.Biased)
    {
        int n = series.Length;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lags);
        if (lags >= n) throw new ArgumentException($"{lags} lags need at least {lags + 1} values, got {n}", nameof(series));
        double mean = 0;
        foreach (double v in series) mean += v;
        mean /= n;
        var gamma = new double[lags + 1];
        for (int k = 0; k <= lags; k++)
        {
            double s = 0;
            for (int t = 0; t + k < n; t++) s += (series[t] - mean) * (series[t + k] - mean);
            gamma[k] = s / (estimator == AutocovarianceEstimator.Biased || k == 0 ? n : n - k);
        }

        if (!(gamma[0] > 0)) throw new ArgumentException("the series is constant: its PACF is undefined", nameof(series));
        var rho = new double[lags + 1];
        for (int k = 0; k <= lags; k++) rho[k] = gamma[k] / gamma[0];
        var result = new double[lags];
        var phi = new double[lags + 1];
        var next = new double[lags + 1];
        for (int k = 1; k <= lags; k++)
        {
            double num = rho[k], den = 1;
            for (int j = 1; j < k; j++)
            {
                num -= phi[j] * rho[k - j];
                den -= phi[j] * rho[j];
            }

            double pkk = num / den;
            for (int j = 1; j < k; j++) next[j] = phi[j] - (pkk * phi[k - j]);
            next[k] = pkk;
            Array.Copy(next, phi, k + 1);
            result[k - 1] = pkk;
        }

        return result;
    }

    /// <summary>
    /// The mean PACF over windows, per series: <paramref name="windows"/> holds <paramref name="count"/> windows of
    /// <paramref name="series"/> × <paramref name="length"/> values (row i = series i, as TcnDenoiser); returns
    /// (series, lags) row-major, entry [i, k−1] the mean over windows of φ_kk of series i. Constant windows are skipped.
    /// </summary>
    public static double[] MeanOverWindows(ReadOnlySpan<float> windows, int count, int series, int length, int lags, AutocovarianceEstimator estimator = AutocovarianceEstimator.Biased)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(series);
        if (windows.Length != (long)count * series * length) throw new ArgumentException($"expected {count} × {series} × {length} values, got {windows.Length}", nameof(windows));
        var mean = new WindowMean(series, length, lags, estimator);
        for (int w = 0; w < count; w++) mean.Add(windows.Slice(w * series * length, series * length));
        return mean.Result();
    }

    /// <summary>
    /// <see cref="MeanOverWindows(ReadOnlySpan{float}, int, int, int, int, AutocovarianceEstimator)"/> over the rows of
    /// <paramref name="windows"/> (each of <paramref name="series"/> × <paramref name="length"/> values), read one at a time.
    /// </summary>
    public static double[] MeanOverWindows(Training.TrainingData windows, int series, int length, int lags, AutocovarianceEstimator estimator = AutocovarianceEstimator.Biased)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(series);
        if (windows.RowSize != (long)series * length) throw new ArgumentException($"expected windows of {series} × {length} values, got {windows.RowSize}", nameof(windows));
        var mean = new WindowMean(series, length, lags, estimator);
        var row = new float[windows.RowSize];
        for (int w = 0; w < windows.Rows; w++)
        {
            windows.CopyRow(w, row);
            mean.Add(row);
        }

        return mean.Result();
    }

    // the running sums of MeanOverWindows: windows added in order, each series' φ_kk summed over its non-constant windows
    private sealed class WindowMean(int series, int length, int lags, AutocovarianceEstimator estimator)
    {
        private readonly double[] _sum = new double[series * lags];
        private readonly int[] _used = new int[series];
        private readonly double[] _buffer = new double[length];

        public void Add(ReadOnlySpan<float> window)
        {
            for (int i = 0; i < series; i++)
            {
                var row = window.Slice(i * length, length);
                bool constant = true;
                for (int t = 0; t < length; t++)
                {
                    _buffer[t] = row[t];
                    constant &= row[t] == row[0];
                }

                if (constant) continue;
                var p = Compute(_buffer, lags, estimator);
                for (int k = 0; k < lags; k++) _sum[(i * lags) + k] += p[k];
                _used[i]++;
            }
        }

        // the mean of each series' sums (0 for a series whose windows were all constant); the sums become the result
        public double[] Result()
        {
            for (int i = 0; i < series; i++)
            {
                for (int k = 0; k < lags; k++) _sum[(i * lags) + k] = _used[i] == 0 ? 0 : _sum[(i * lags) + k] / _used[i];
            }

            return _sum;
        }
    }

    /// <summary>
    /// φ_11 … φ_KK of every row of <paramref name="windows"/> (N, D, W) along its last axis, as a differentiable
    /// tensor (N, D, K) built from engine ops (mean, products of shifted slices, sums, the recursion's multiplies and
    /// divides), so <see cref="Tensor.Backward()"/> gives ∂/∂windows. ρ_k = γ_k / (γ_0 + <paramref name="epsilon"/>):
    /// a small ε keeps near-constant windows (as early, blurry x̂_0 estimates can be) from dividing by zero.
    /// </summary>
    // windows: (N, D, W) -> (N, D, K)
    public static Tensor Compute(Tensor windows, int lags, AutocovarianceEstimator estimator = AutocovarianceEstimator.Biased, float epsilon = 0f)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (windows.Rank != 3) throw new ArgumentException($"expected windows (N, D, W), got {Tensor.FormatShape(windows.Shape)}", nameof(windows));
        int n = windows.Shape[0], d = windows.Shape[1], w = windows.Shape[2];
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lags);
        if (lags >= w) throw new ArgumentException($"{lags} lags need windows of at least {lags + 1} steps, got {w}", nameof(windows));
        var x = windows.Reshape(n * d, w);                                  // (M, W)
        var c = x - x.Mean(1, keepDim: true);                               // (M, W)
        var gamma0 = (c * c).Sum(1) * (1f / w);                             // (M)
        var denominator = epsilon > 0 ? gamma0 + epsilon : gamma0;
        var rho = new Tensor[lags + 1];
        for (int k = 1; k <= lags; k++)
        {
            var gk = (c.Slice(1, 0, w - k) * c.Slice(1, k, w - k)).Sum(1) * (1f / (estimator == AutocovarianceEstimator.Biased ? w : w - k));
            rho[k] = gk / denominator;                                      // (M)
        }

        var phi = new Tensor[lags + 1];                                     // φ_{k−1, j}, j = 1..k−1
        var diagonal = new Tensor[lags];
        for (int k = 1; k <= lags; k++)
        {
            var num = rho[k];
            Tensor? den = null;
            for (int j = 1; j < k; j++)
            {
                num -= phi[j] * rho[k - j];
                den = den is null ? phi[j] * rho[j] : den + (phi[j] * rho[j]);
            }

            var pkk = den is null ? num : num / (1f - den);
            var next = new Tensor[lags + 1];
            for (int j = 1; j < k; j++) next[j] = phi[j] - (pkk * phi[k - j]);
            next[k] = pkk;
            phi = next;
            diagonal[k - 1] = pkk;
        }

        return Tensor.Stack(diagonal, 1).Reshape(n, d, lags);
    }
}
