using Crucible.Data.Statistics;
using Crucible.Diffusion.Tabular;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Tabular;

public class WhiteningTests
{
    [Fact]
    public void SymmetricEigen_ReconstructsTheMatrix_WithOrthonormalVectors()
    {
        // a random symmetric 6 × 6 matrix: A = V diag(λ) Vᵀ and Vᵀ V = I to rounding
        var rng = new Philox(2);
        const int n = 6;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++) a[(i * n) + j] = a[(j * n) + i] = rng.NextNormal();
        }

        var (values, v) = SymmetricEigen.Decompose(a, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double rebuilt = 0, gram = 0;
                for (int k = 0; k < n; k++)
                {
                    rebuilt += v[(i * n) + k] * values[k] * v[(j * n) + k];
                    gram += v[(k * n) + i] * v[(k * n) + j];
                }

                Assert.Equal(a[(i * n) + j], rebuilt, 12);
                Assert.Equal(i == j ? 1.0 : 0.0, gram, 12);
            }
        }

        // trace and the closed form of a 2 × 2 case: [[2, 1], [1, 2]] has eigenvalues 1 and 3
        var (two, _) = SymmetricEigen.Decompose([2, 1, 1, 2], 2);
        Assert.Equal([1.0, 3.0], two.Order().Select(x => Math.Round(x, 12)));
    }

    [Fact]
    public void Fit_MakesTheCovarianceTheIdentity_AndInvertUndoesApply()
    {
        // three correlated series with different scales and means
        var rng = new Philox(3);
        const int rows = 5000, d = 3;
        var x = new float[rows * d];
        for (int r = 0; r < rows; r++)
        {
            double f = rng.NextNormal(), e1 = rng.NextNormal(), e2 = rng.NextNormal();
            x[r * d] = (float)(1 + (2 * f));
            x[(r * d) + 1] = (float)(-0.5 + (0.9 * f) + (0.1 * e1));
            x[(r * d) + 2] = (float)((0.01 * f) + (0.02 * e2));
        }

        var w = Whitening.Fit(x, rows, d);
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++) Assert.Equal(w.Matrix[(i * d) + j], w.Matrix[(j * d) + i], 12); // ZCA: symmetric
        }

        var y = (float[])x.Clone();
        w.Apply(y);
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double c = 0;
                for (int r = 0; r < rows; r++) c += (double)y[(r * d) + i] * y[(r * d) + j];
                Assert.Equal(i == j ? 1.0 : 0.0, c / (rows - 1), 3);
            }
        }

        var back = y.Select(v => (double)v).ToArray();
        w.Invert(back);
        for (int k = 0; k < x.Length; k++) Assert.Equal(x[k], back[k], 1e-5);
    }
}
