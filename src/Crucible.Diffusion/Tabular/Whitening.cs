using Crucible.Data.Statistics;

namespace Crucible.Diffusion.Tabular;

/// <summary>
/// ZCA whitening fitted on the train rows: y = (x − μ) W with W = C^{−1/2} = U Λ^{−1/2} Uᵀ for the sample covariance
/// C = U Λ Uᵀ (n − 1), and back x = y W⁻¹ + μ with W⁻¹ = U Λ^{1/2} Uᵀ. Of all whitening matrices the symmetric one
/// keeps y_i closest to x_i (Kessy, Lewin and Strimmer 2018), so series keep their identity. Eigenvalues below
/// 1e-9 × the largest are raised to that floor (a singular covariance, e.g. two identical series, stays invertible).
/// Computed in double with the cyclic Jacobi method, which is deterministic and exact to rounding for the small
/// symmetric matrices of a returns panel.
/// </summary>
/// <remarks>
/// Why: in a whitened space every principal component has unit variance, so the diffusion process treats the common
/// market factor and the small idiosyncratic directions alike. A DDIM step shrinks a Gaussian component of standard
/// deviation s by a factor that is worst for small s; after whitening every component is at s = 1.
/// </remarks>
/// <param name="Mean">μ, per series.</param>
/// <param name="Matrix">W, row-major D × D (symmetric).</param>
/// <param name="Inverse">W⁻¹, row-major D × D (symmetric).</param>
public sealed record Whitening(IReadOnlyList<double> Mean, IReadOnlyList<double> Matrix, IReadOnlyList<double> Inverse)
{
    /// <summary>D, the number of series.</summary>
    public int Series => Mean.Count;

    /// <summary>Fits μ and C^{∓1/2} to <paramref name="rows"/> × <paramref name="series"/> row-major values.</summary>
    public static Whitening Fit(ReadOnlySpan<float> x, int rows, int series)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(series, 1);
        if (x.Length != rows * series) throw new ArgumentException($"expected {rows} × {series} values", nameof(x));
        var mean = new double[series];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < series; j++) mean[j] += x[(r * series) + j];
        }

        for (int j = 0; j < series; j++) mean[j] /= rows;
        var c = new double[series * series];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < series; i++)
            {
                double di = x[(r * series) + i] - mean[i];
                for (int j = i; j < series; j++) c[(i * series) + j] += di * (x[(r * series) + j] - mean[j]);
            }
        }

        for (int i = 0; i < series; i++)
        {
            for (int j = i; j < series; j++)
            {
                c[(i * series) + j] /= rows - 1;
                c[(j * series) + i] = c[(i * series) + j];
            }
        }

        var (values, vectors) = SymmetricEigen.Decompose(c, series);
        double floor = 1e-9 * Math.Max(values.Max(), double.Epsilon);
        var w = new double[series * series];
        var inverse = new double[series * series];
        for (int i = 0; i < series; i++)
        {
            for (int j = 0; j < series; j++)
            {
                double a = 0, b = 0;
                for (int k = 0; k < series; k++)
                {
                    double l = Math.Max(values[k], floor), uu = vectors[(i * series) + k] * vectors[(j * series) + k];
                    a += uu / Math.Sqrt(l);
                    b += uu * Math.Sqrt(l);
                }

                w[(i * series) + j] = a;
                inverse[(i * series) + j] = b;
            }
        }

        return new Whitening(mean, w, inverse);
    }

    /// <summary>y = (x − μ) W for each row, in place (rows of <see cref="Series"/> values).</summary>
    public void Apply(Span<float> x) => Map(x, Matrix, subtract: true);

    /// <summary>x = y W⁻¹ + μ for each row, in place.</summary>
    public void Invert(Span<double> y)
    {
        int d = Series;
        var row = new double[d];
        for (int r = 0; r < y.Length / d; r++)
        {
            var v = y.Slice(r * d, d);
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += v[k] * Inverse[(k * d) + j];
                row[j] = s + Mean[j];
            }

            row.CopyTo(v);
        }
    }

    private void Map(Span<float> x, IReadOnlyList<double> m, bool subtract)
    {
        int d = Series;
        var centred = new double[d];
        for (int r = 0; r < x.Length / d; r++)
        {
            var v = x.Slice(r * d, d);
            for (int k = 0; k < d; k++) centred[k] = v[k] - (subtract ? Mean[k] : 0);
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += centred[k] * m[(k * d) + j];
                v[j] = (float)s;
            }
        }
    }
}
