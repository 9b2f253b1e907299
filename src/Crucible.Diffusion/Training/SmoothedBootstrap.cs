using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Training;

/// <summary>
/// The shrunk smoothed bootstrap with a covariance-matched kernel (Silverman 1986, "Density Estimation for Statistics
/// and Data Analysis", §6.4): a training row x is replaced by x' = μ + (x − μ + h·L·z) / √(1 + h²), z ~ N(0, I) fresh
/// per row, L the lower Cholesky factor of the rows' covariance Σ (divisor n: the covariance of the empirical
/// distribution) and μ their mean. Over the empirical distribution of x and the draw of z, E[x'] = μ and
/// Cov[x'] = (Σ + h²·L·Lᵀ) / (1 + h²) = Σ exactly, so means, covariances and correlations stay what the data's are while
/// no training row is ever seen twice: a network that memorises rows learns a Gaussian blur of width h around each one
/// instead. Higher moments do change (the mixture with a Gaussian kernel pulls the copula's tails and kurtosis towards
/// the Gaussian's). μ, Σ and L are computed once, in double.
/// </summary>
public sealed class SmoothedBootstrap
{
    private readonly double[] _mean;       // μ (D)
    private readonly double[] _cholesky;   // L (D, D) row-major, lower triangular
    private readonly double[] _z;          // z for one row (D), reused
    private readonly double _shrink;       // 1 / √(1 + h²)

    private SmoothedBootstrap(double h, double[] mean, double[] cholesky)
    {
        Bandwidth = h;
        _mean = mean;
        _cholesky = cholesky;
        _z = new double[mean.Length];
        _shrink = 1.0 / Math.Sqrt(1.0 + (h * h));
    }

    /// <summary>h, the kernel's scale relative to the data's covariance.</summary>
    public double Bandwidth { get; }

    /// <summary>D, the values per row.</summary>
    public int Features => _mean.Length;

    /// <summary>μ, the rows' mean (a copy).</summary>
    public double[] Mean => (double[])_mean.Clone();

    /// <summary>L, the lower Cholesky factor of the rows' covariance (D, D) row-major (a copy).</summary>
    public double[] Cholesky => (double[])_cholesky.Clone();

    /// <summary>
    /// Computes μ, Σ (divisor n) and L from <paramref name="rows"/> rows of <paramref name="features"/> values
    /// (row-major), in double.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">h is negative or not finite, or there are fewer than 2 rows.</exception>
    /// <exception cref="ArgumentException">The covariance is not positive definite (a constant or collinear series).</exception>
    public static SmoothedBootstrap Fit(ReadOnlySpan<float> data, int rows, int features, double h)
    {
        if (!(h >= 0) || !double.IsFinite(h)) throw new ArgumentOutOfRangeException(nameof(h), $"the smoothing bandwidth {h} is not a finite value ≥ 0");
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 2);
        if (data.Length != (long)rows * features) throw new ArgumentException($"data must hold {rows} × {features} values", nameof(data));
        int d = features;
        var mean = new double[d];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++) mean[j] += data[(r * d) + j];
        }

        for (int j = 0; j < d; j++) mean[j] /= rows;
        var cov = new double[d * d]; // Σ (D, D), lower triangle filled
        var centred = new double[d];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++) centred[j] = data[(r * d) + j] - mean[j];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j <= i; j++) cov[(i * d) + j] += centred[i] * centred[j];
            }
        }

        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++) cov[(i * d) + j] /= rows;
        }

        return new SmoothedBootstrap(h, mean, CholeskyLower(cov, d));
    }

    // Cholesky–Banachiewicz: L_ij = (Σ_ij − Σ_{k<j} L_ik L_jk) / L_jj, L_ii = √(Σ_ii − Σ_{k<i} L_ik²); reads Σ's lower triangle
    private static double[] CholeskyLower(double[] cov, int d)
    {
        var l = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = cov[(i * d) + j];
                for (int k = 0; k < j; k++) s -= l[(i * d) + k] * l[(j * d) + k];
                if (i == j)
                {
                    // a pivot at rounding level of the diagonal is a collinear (or constant) series
                    if (!(s > 1e-12 * Math.Max(cov[(i * d) + i], double.Epsilon)))
                        throw new ArgumentException($"the rows' covariance is not positive definite (component {i} is constant or a linear combination of the others): smoothing needs a full-rank covariance");
                    l[(i * d) + i] = Math.Sqrt(s);
                }
                else
                {
                    l[(i * d) + j] = s / l[(j * d) + j];
                }
            }
        }

        return l;
    }

    /// <summary>
    /// Writes x' = μ + (x − μ + h·L·z) / √(1 + h²) for one row <paramref name="x"/> into <paramref name="destination"/>,
    /// z the next D normals of <paramref name="rng"/> (<see cref="Philox.NextNormal"/>, in order). With h = 0 it still
    /// draws z and writes x (up to float rounding of the centring). Not thread-safe (one z buffer per instance).
    /// </summary>
    public void Smooth(ReadOnlySpan<float> x, Philox rng, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(rng);
        int d = _mean.Length;
        if (x.Length != d || destination.Length != d) throw new ArgumentException($"a row has {d} values");
        for (int j = 0; j < d; j++) _z[j] = rng.NextNormal();
        double h = Bandwidth;
        for (int i = 0; i < d; i++)
        {
            double lz = 0;
            for (int k = 0; k <= i; k++) lz += _cholesky[(i * d) + k] * _z[k];
            destination[i] = (float)(_mean[i] + ((x[i] - _mean[i] + (h * lz)) * _shrink));
        }
    }
}
