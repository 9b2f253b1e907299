namespace Crucible.Evaluation.Statistics;

/// <summary>The Cholesky factorisation A = L·Lᵀ of a symmetric positive definite matrix, in double.</summary>
internal static class Cholesky
{
    /// <summary>
    /// Lower-triangular L with L·Lᵀ = A, or null when a pivot is not above <paramref name="relativeTolerance"/> times the
    /// largest diagonal entry of A (with 0, when A is not positive definite).
    /// </summary>
    public static double[,]? Decompose(double[,] a, double relativeTolerance = 0)
    {
        var p = a.GetLength(0);
        var l = new double[p, p];
        double maxDiag = 0;
        for (var i = 0; i < p; i++) maxDiag = Math.Max(maxDiag, a[i, i]);
        var floor = relativeTolerance * maxDiag;
        for (var j = 0; j < p; j++)
        {
            var s = a[j, j];
            for (var k = 0; k < j; k++) s -= l[j, k] * l[j, k];
            if (!(s > floor)) return null;
            var djj = Math.Sqrt(s);
            l[j, j] = djj;
            for (var i = j + 1; i < p; i++)
            {
                var t = a[i, j];
                for (var k = 0; k < j; k++) t -= l[i, k] * l[j, k];
                l[i, j] = t / djj;
            }
        }
        return l;
    }
}
