namespace Crucible.Evaluation.Statistics;

/// <summary>Cross-sectional dependence between series given as columns of equal length.</summary>
public static class Dependence
{
    /// <summary>
    /// Pearson correlation matrix of the columns (numpy <c>corrcoef(X.T)</c>): sample covariances normalised by
    /// the standard deviations and clipped to [−1, 1]. A constant column gives NaN in its row and column.
    /// </summary>
    public static double[][] CorrelationMatrix(IReadOnlyList<double[]> columns)
    {
        var d = columns.Count;
        var centred = new double[d][];
        for (var i = 0; i < d; i++)
        {
            var col = columns[i];
            var mean = Descriptive.Mean(col);
            var z = new double[col.Length];
            for (var t = 0; t < col.Length; t++) z[t] = col[t] - mean;
            centred[i] = z;
        }
        var cov = new double[d][];
        for (var i = 0; i < d; i++) cov[i] = new double[d];
        Parallel.For(0, d, i =>
        {
            for (var j = i; j < d; j++) cov[i][j] = Summation.Dot(centred[i], centred[j]);
        });
        var result = new double[d][];
        for (var i = 0; i < d; i++)
        {
            result[i] = new double[d];
            for (var j = 0; j < d; j++)
            {
                var c = i <= j ? cov[i][j] : cov[j][i];
                var r = c / Math.Sqrt(cov[i][i]) / Math.Sqrt(cov[j][j]);
                result[i][j] = double.IsNaN(r) ? r : Math.Clamp(r, -1.0, 1.0);
            }
        }
        return result;
    }

    /// <summary>
    /// Relative Frobenius distance ‖C_real − C_synth‖_F / ‖C_real‖_F between two correlation matrices of the same size.
    /// </summary>
    public static double CorrelationDistance(double[][] real, double[][] synthetic)
    {
        if (real.Length != synthetic.Length) throw new ArgumentException("matrices differ in size", nameof(synthetic));
        double num = 0, den = 0;
        for (var i = 0; i < real.Length; i++)
        {
            for (var j = 0; j < real.Length; j++)
            {
                var diff = real[i][j] - synthetic[i][j];
                num += diff * diff;
                den += real[i][j] * real[i][j];
            }
        }
        return Math.Sqrt(num) / Math.Sqrt(den);
    }

    /// <summary>
    /// Empirical lower-tail dependence matrix: entry [i][j] is λ_L(u) = P(U_i ≤ u | U_j ≤ u), with pseudo-observations
    /// U = rank/(n + 1) (average ranks for ties, scipy <c>rankdata</c>). The diagonal is 1. An entry is NaN when no
    /// observation of series j has U_j ≤ u (fewer than about 1/u − 1 rows). The matrix is not symmetric in general
    /// only through ties; without ties both conditioning sets have the same size.
    /// </summary>
    public static double[][] LowerTailDependenceMatrix(IReadOnlyList<double[]> columns, double u = 0.05)
    {
        var d = columns.Count;
        var inTail = new bool[d][];
        Parallel.For(0, d, i =>
        {
            var sorted = (double[])columns[i].Clone();
            Array.Sort(sorted);
            inTail[i] = TailIndicators(columns[i], sorted, u);
        });
        return LowerTailDependenceFromIndicators(inTail);
    }

    /// <summary>
    /// Which rows have pseudo-observation rank/(n + 1) ≤ u, given the column and a sorted copy. The average rank is
    /// monotone in the value, so the tail is every value up to the last tie group whose average rank qualifies.
    /// </summary>
    internal static bool[] TailIndicators(double[] column, double[] sorted, double u)
    {
        var n = sorted.Length;
        var n1 = n + 1.0;
        var cutoff = double.NegativeInfinity;
        var any = false;
        var start = 0;
        while (start < n)
        {
            var end = start;
            while (end + 1 < n && sorted[end + 1].Equals(sorted[start])) end++;
            var rank = (start + 1 + end + 1) / 2.0;
            if (!(rank / n1 <= u)) break;
            cutoff = sorted[start];
            any = true;
            start = end + 1;
        }
        var tail = new bool[n];
        if (!any) return tail;
        for (var t = 0; t < n; t++) tail[t] = column[t] <= cutoff;
        return tail;
    }

    internal static double[][] LowerTailDependenceFromIndicators(bool[][] inTail)
    {
        var d = inTail.Length;
        var result = new double[d][];
        for (var i = 0; i < d; i++) result[i] = new double[d];
        Parallel.For(0, d, i =>
        {
            for (var j = 0; j < d; j++)
            {
                int both = 0, cond = 0;
                var ti = inTail[i];
                var tj = inTail[j];
                for (var t = 0; t < tj.Length; t++)
                {
                    if (!tj[t]) continue;
                    cond++;
                    if (ti[t]) both++;
                }
                result[i][j] = cond == 0 ? double.NaN : (double)both / cond;
            }
        });
        return result;
    }
}
