namespace Crucible.Evaluation.Statistics;

/// <summary>
/// Serial dependence of one path. All methods return lags 1..<c>lags</c> (index 0 is lag 1);
/// a lag that the path is too short for is NaN.
/// </summary>
public static class Temporal
{
    /// <summary>
    /// Sample autocorrelation ρ_k = c_k / c_0 with c_k = Σ_{t&lt;n−k} (x_t − x̄)(x_{t+k} − x̄) / n (biased, mean-centred;
    /// statsmodels <c>acf(x, nlags, fft=False)[1:]</c>). A constant path gives NaN; lags ≥ n give NaN.
    /// </summary>
    public static double[] Autocorrelation(ReadOnlySpan<double> x, int lags)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lags);
        var z = Centred(x);
        var n = z.Length;
        var c0 = Summation.Dot(z, z) / n;
        var result = new double[lags];
        for (var k = 1; k <= lags; k++)
            result[k - 1] = k >= n ? double.NaN : Summation.Dot(z.AsSpan(0, n - k), z.AsSpan(k)) / n / c0;
        return result;
    }

    /// <summary>
    /// Partial autocorrelation by Yule–Walker with adjusted autocovariances r_k = Σ (x_t − x̄)(x_{t+k} − x̄)/(n − k),
    /// r_0 = Σ (x_t − x̄)²/n, the order-k system solved by Levinson–Durbin; φ_kk is the lag-k value (statsmodels
    /// <c>pacf(x, nlags, method="ywadjusted")[1:]</c>). Lags ≥ n, a constant path, or a singular system give NaN.
    /// </summary>
    public static double[] PartialAutocorrelation(ReadOnlySpan<double> x, int lags)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lags);
        var z = Centred(x);
        var n = z.Length;
        var r = new double[lags + 1];
        r[0] = Summation.Dot(z, z) / n;
        var maxLag = Math.Min(lags, n - 1);
        for (var k = 1; k <= maxLag; k++) r[k] = Summation.Dot(z.AsSpan(0, n - k), z.AsSpan(k)) / (n - k);
        var result = new double[lags];
        Array.Fill(result, double.NaN);
        var phi = new double[lags + 1];
        var next = new double[lags + 1];
        var v = r[0];
        for (var k = 1; k <= maxLag; k++)
        {
            var acc = r[k];
            for (var j = 1; j < k; j++) acc -= phi[j] * r[k - j];
            var kappa = acc / v;
            next[k] = kappa;
            for (var j = 1; j < k; j++) next[j] = phi[j] - kappa * phi[k - j];
            (phi, next) = (next, phi);
            v *= 1 - kappa * kappa;
            result[k - 1] = kappa;
        }
        return result;
    }

    /// <summary>
    /// Leverage correlation corr(x_t, x²_{t+k}) for k = 1..lags: the Pearson correlation of x[0..n−k) with the squares of
    /// x[k..n) (numpy <c>corrcoef</c>). Negative for equities. NaN when fewer than two pairs remain or either side is constant.
    /// </summary>
    public static double[] Leverage(ReadOnlySpan<double> x, int lags)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lags);
        var n = x.Length;
        var sq = new double[n];
        for (var t = 0; t < n; t++) sq[t] = x[t] * x[t];
        var result = new double[lags];
        var dx = new double[n];
        var dy = new double[n];
        for (var k = 1; k <= lags; k++)
            result[k - 1] = n - k < 2 ? double.NaN : Descriptive.Correlation(x[..(n - k)], sq.AsSpan(k), dx, dy);
        return result;
    }

    private static double[] Centred(ReadOnlySpan<double> x)
    {
        var mean = Descriptive.Mean(x);
        var z = new double[x.Length];
        for (var t = 0; t < x.Length; t++) z[t] = x[t] - mean;
        return z;
    }
}
