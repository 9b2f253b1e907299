using Crucible.Diffusion.Training;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Training;

/// <summary>
/// <see cref="SmoothedBootstrap"/> against a plain-loop reference: its kernel (μ, L with L·Lᵀ = Σ), each smoothed row
/// for the same z, and the covariance of many smoothed draws of a small dataset, which must be the data's own within the
/// sampling error of that many draws (and is not when the √(1 + h²) shrink or L is left out).
/// </summary>
public sealed class SmoothedBootstrapTests
{
    // 6 rows of 3 correlated series with unequal scales and a non-zero mean, so neither μ = 0 nor Σ = I hides a mistake
    private static readonly float[] Data =
    [
        1.0f, 2.0f, -0.5f,
        2.5f, 3.1f, 0.4f,
        -0.7f, 0.2f, -1.9f,
        0.3f, 1.7f, 0.8f,
        1.9f, 1.0f, 0.1f,
        -1.2f, -0.9f, -2.2f,
    ];

    private const int Rows = 6, D = 3;

    // the reference: mean and covariance (divisor n) by plain loops, in double
    private static (double[] Mean, double[,] Cov) Moments(float[] data, int rows, int d)
    {
        var mean = new double[d];
        for (int j = 0; j < d; j++)
        {
            for (int r = 0; r < rows; r++) mean[j] += data[(r * d) + j];
            mean[j] /= rows;
        }

        var cov = new double[d, d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                for (int r = 0; r < rows; r++) cov[i, j] += (data[(r * d) + i] - mean[i]) * (data[(r * d) + j] - mean[j]);
                cov[i, j] /= rows;
            }
        }

        return (mean, cov);
    }

    // x' of the formula for a given z, with the kernel factor k (L, or a wrong one) and the shrink on or off
    private static double[] Reference(ReadOnlySpan<float> x, double[] z, double[] mean, double[,] k, double h, bool shrink)
    {
        int d = mean.Length;
        var y = new double[d];
        for (int i = 0; i < d; i++)
        {
            double kz = 0;
            for (int j = 0; j < d; j++) kz += k[i, j] * z[j];
            y[i] = mean[i] + ((x[i] - mean[i] + (h * kz)) / (shrink ? Math.Sqrt(1 + (h * h)) : 1.0));
        }

        return y;
    }

    private static double[,] Square(double[] rowMajor, int d)
    {
        var m = new double[d, d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++) m[i, j] = rowMajor[(i * d) + j];
        }

        return m;
    }

    [Fact]
    public void Kernel_IsTheDataMean_AndALowerCholeskyFactorOfItsCovariance()
    {
        var kernel = SmoothedBootstrap.Fit(Data, Rows, D, 0.3);
        var (mean, cov) = Moments(Data, Rows, D);
        var l = Square(kernel.Cholesky, D);
        for (int i = 0; i < D; i++)
        {
            Assert.Equal(mean[i], kernel.Mean[i], 12);
            for (int j = 0; j < D; j++)
            {
                if (j > i) Assert.Equal(0.0, l[i, j]);
                double llt = 0;
                for (int k = 0; k < D; k++) llt += l[i, k] * l[j, k];
                Assert.Equal(cov[i, j], llt, 12);
            }
        }
    }

    [Fact]
    public void Smooth_IsTheFormula_ForTheNextDNormalsOfTheGenerator()
    {
        var kernel = SmoothedBootstrap.Fit(Data, Rows, D, 0.4);
        var (mean, _) = Moments(Data, Rows, D);
        var l = Square(kernel.Cholesky, D);
        var rng = new Philox(7, stream: 6);
        var twin = new Philox(7, stream: 6);
        var y = new float[D];
        for (int r = 0; r < Rows; r++)
        {
            var x = Data.AsSpan(r * D, D);
            kernel.Smooth(x, rng, y);
            var z = new double[D];
            for (int j = 0; j < D; j++) z[j] = twin.NextNormal();
            var expected = Reference(x, z, mean, l, 0.4, shrink: true);
            for (int j = 0; j < D; j++) Assert.Equal(expected[j], y[j], 5);
        }
    }

    [Fact]
    public void ManyDraws_HaveTheDataMeanAndCovariance_WithinTheirSamplingError_AndWouldNotWithoutShrinkOrL()
    {
        const double h = 0.5;
        const int rounds = 20_000; // each round smooths every row once: N = 120,000 draws of the exact empirical x
        var kernel = SmoothedBootstrap.Fit(Data, Rows, D, h);
        var (mean, cov) = Moments(Data, Rows, D);
        var l = Square(kernel.Cholesky, D);
        var identity = new double[D, D];
        for (int i = 0; i < D; i++) identity[i, i] = 1;

        // the library's draws, and from the same z the reference without the shrink and with L replaced by I
        var rng = new Philox(11, stream: 6);
        var twin = new Philox(11, stream: 6);
        int n = rounds * Rows;
        var drawn = new double[n, D];
        var noShrink = new double[n, D];
        var noL = new double[n, D];
        var y = new float[D];
        var z = new double[D];
        for (int s = 0; s < n; s++)
        {
            var x = Data.AsSpan(s % Rows * D, D);
            kernel.Smooth(x, rng, y);
            for (int j = 0; j < D; j++) z[j] = twin.NextNormal();
            var a = Reference(x, z, mean, l, h, shrink: false);
            var b = Reference(x, z, mean, identity, h, shrink: true);
            for (int j = 0; j < D; j++)
            {
                drawn[s, j] = y[j];
                noShrink[s, j] = a[j];
                noL[s, j] = b[j];
            }
        }

        // sample covariance about the known mean, and the standard error of each entry from the draws' own fourth
        // moments: se_ij = sd((x_i − μ_i)(x_j − μ_j)) / √N. Tolerance 5 se per entry (9 entries: a false alarm < 10⁻⁵).
        static (double[,] Cov, double[,] Se, double[] Mean) Sample(double[,] v, double[] mu, int n, int d)
        {
            var c = new double[d, d];
            var c2 = new double[d, d];
            var m = new double[d];
            for (int s = 0; s < n; s++)
            {
                for (int i = 0; i < d; i++)
                {
                    m[i] += v[s, i] / n;
                    for (int j = 0; j < d; j++)
                    {
                        double p = (v[s, i] - mu[i]) * (v[s, j] - mu[j]);
                        c[i, j] += p / n;
                        c2[i, j] += p * p / n;
                    }
                }
            }

            var se = new double[d, d];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++) se[i, j] = Math.Sqrt((c2[i, j] - (c[i, j] * c[i, j])) / n);
            }

            return (c, se, m);
        }

        var (got, se, gotMean) = Sample(drawn, mean, n, D);
        for (int i = 0; i < D; i++)
        {
            Assert.True(Math.Abs(gotMean[i] - mean[i]) < 5 * Math.Sqrt(cov[i, i] / n), $"mean {i}: {gotMean[i]} vs {mean[i]}");
            for (int j = 0; j < D; j++)
                Assert.True(Math.Abs(got[i, j] - cov[i, j]) < 5 * se[i, j], $"cov[{i},{j}] {got[i, j]} vs {cov[i, j]} (se {se[i, j]})");
        }

        // the test can fail: without the shrink Cov = (1 + h²)Σ, with I for L Cov = (Σ + h²I)/(1 + h²); both far outside
        Assert.True(Worst(Sample(noShrink, mean, n, D)) > 5, "dropping the shrink must be detectable");
        Assert.True(Worst(Sample(noL, mean, n, D)) > 5, "dropping L must be detectable");

        double Worst((double[,] Cov, double[,] Se, double[] Mean) s)
        {
            double worst = 0;
            for (int i = 0; i < D; i++)
            {
                for (int j = 0; j < D; j++) worst = Math.Max(worst, Math.Abs(s.Cov[i, j] - cov[i, j]) / s.Se[i, j]);
            }

            return worst;
        }
    }

    [Fact]
    public void ASingularCovariance_OrABadBandwidth_IsRefused()
    {
        // the third series is the sum of the first two
        float[] collinear = [1, 2, 3, 2, 0, 2, -1, 4, 3, 0.5f, 0.5f, 1];
        Assert.Contains("positive definite", Assert.Throws<ArgumentException>(() => SmoothedBootstrap.Fit(collinear, 4, 3, 0.2)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => SmoothedBootstrap.Fit(Data, Rows, D, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SmoothedBootstrap.Fit(Data, Rows, D, double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => SmoothedBootstrap.Fit(Data, Rows, D, double.PositiveInfinity));
    }
}
