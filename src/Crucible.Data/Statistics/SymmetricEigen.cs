namespace Crucible.Data.Statistics;

/// <summary>The eigen-decomposition A = V·diag(λ)·Vᵀ of a symmetric matrix, in double, by cyclic Jacobi rotations.</summary>
/// <remarks>
/// Golub and Van Loan, Algorithm 8.5.3 (the cyclic Jacobi method): deterministic, and accurate to rounding in every
/// eigenvalue, small ones included, which the trace of a matrix square root needs. Serves the tabular generator's
/// whitening (Crucible.Diffusion) and the Fréchet distance of Context-FID (Crucible.Evaluation).
/// </remarks>
public static class SymmetricEigen
{
    /// <summary>
    /// The eigenvalues of the symmetric n × n row-major <paramref name="matrix"/> (not modified) and, as the columns of a
    /// row-major n × n matrix, its orthonormal eigenvectors, in the order the sweeps leave them (not sorted). Sweeps until
    /// the off-diagonal mass Σ_{i≠j} a_ij² is at most 1e-30 of the total Σ a_ij², at most 100 sweeps. Only the upper
    /// triangle's symmetry is assumed, not checked.
    /// </summary>
    public static (double[] Values, double[] Vectors) Decompose(ReadOnlySpan<double> matrix, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (matrix.Length != n * n) throw new ArgumentException($"{matrix.Length} values for a {n} × {n} matrix", nameof(matrix));
        var a = matrix.ToArray();
        var v = new double[n * n];
        for (int i = 0; i < n; i++) v[(i * n) + i] = 1;
        double total = 0;
        foreach (double e in a) total += e * e;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++) off += 2 * a[(p * n) + q] * a[(p * n) + q];
            }

            if (off <= 1e-30 * total) break;
            for (int p = 0; p < n - 1; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[(p * n) + q];
                    if (apq == 0) continue;
                    // the rotation J(p, q, θ) that zeroes a_pq: t = tan θ, the smaller root of t² + 2t·cot 2θ − 1 = 0
                    double theta = (a[(q * n) + q] - a[(p * n) + p]) / (2 * apq);
                    double t = theta == 0 ? 1 : Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    double c = 1 / Math.Sqrt((t * t) + 1), s = t * c;
                    // A ← Jᵀ A J: columns p and q, then rows p and q; V ← V J
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[(k * n) + p], akq = a[(k * n) + q];
                        a[(k * n) + p] = (c * akp) - (s * akq);
                        a[(k * n) + q] = (s * akp) + (c * akq);
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[(p * n) + k], aqk = a[(q * n) + k];
                        a[(p * n) + k] = (c * apk) - (s * aqk);
                        a[(q * n) + k] = (s * apk) + (c * aqk);
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[(k * n) + p], vkq = v[(k * n) + q];
                        v[(k * n) + p] = (c * vkp) - (s * vkq);
                        v[(k * n) + q] = (s * vkp) + (c * vkq);
                    }
                }
            }
        }

        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[(i * n) + i];
        return (values, v);
    }
}
