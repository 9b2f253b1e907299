using System.Runtime.CompilerServices;
using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Privacy;

/// <summary>A success rate with its 95% half-width: <c>Value ± Error</c>.</summary>
/// <param name="Value">The rate (for a Wilson interval, its centre).</param>
/// <param name="Error">The half-width of the 95% interval.</param>
public readonly record struct SuccessRate(double Value, double Error)
{
    /// <summary>z = Φ⁻¹(0.975), the 95% two-sided normal quantile.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>The interval's low end, Value − Error, clamped to [0, 1] (a rate's range).</summary>
    public double Lower => Math.Clamp(Value - Error, 0, 1);

    /// <summary>The interval's high end, Value + Error, clamped to [0, 1].</summary>
    public double Upper => Math.Clamp(Value + Error, 0, 1);

    /// <summary>
    /// The Wilson score interval of <paramref name="successes"/> out of <paramref name="total"/> at 95%: centre
    /// (k + z²/2)/(n + z²), half-width z/(n + z²)·√(k(n − k)/n + z²/4) (the form Anonymeter reports).
    /// </summary>
    public static SuccessRate Wilson(int total, int successes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);
        if (successes < 0 || successes > total) throw new ArgumentOutOfRangeException(nameof(successes));
        return WilsonCore(total, successes);
    }

    /// <summary>
    /// The same Wilson interval for an observed proportion <paramref name="proportion"/> of <paramref name="total"/> rather
    /// than a count (k = p·n need not be whole: the interval of a hypothesised rate, as the membership gate's null TPR).
    /// </summary>
    public static SuccessRate WilsonOfProportion(int total, double proportion)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);
        if (!(proportion is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(proportion), proportion, "a proportion is in [0, 1]");
        return WilsonCore(total, proportion * total);
    }

    private static SuccessRate WilsonCore(int total, double successes)
    {
        const double z2 = Z95 * Z95;
        var denominator = total + z2;
        var variance = successes * (total - successes) / total;
        return new SuccessRate((successes + (0.5 * z2)) / denominator, Z95 / denominator * Math.Sqrt(variance + (0.25 * z2)));
    }

    /// <summary>
    /// The residual success of an attack over a control, (a − c)/(1 − c), with the error propagated to first order:
    /// √((e_a/(1 − c))² + (e_c (a − 1)/(1 − c)²)²).
    /// </summary>
    public static SuccessRate Residual(SuccessRate attack, SuccessRate control)
    {
        var value = (attack.Value - control.Value) / (1 - control.Value);
        var dAttack = 1 / (1 - control.Value);
        var dControl = (attack.Value - 1) / ((1 - control.Value) * (1 - control.Value));
        return new SuccessRate(value, Math.Sqrt(Math.Pow(attack.Error * dAttack, 2) + Math.Pow(control.Error * dControl, 2)));
    }
}

/// <summary>
/// Binary logistic regression by Newton's method on Σ log-loss + (λ/2)‖w‖² (the intercept is not penalised): the
/// minimiser scikit-learn's <c>LogisticRegression(C = 1/λ)</c> finds with its lbfgs or newton-cg solver.
/// </summary>
public sealed class LogisticRegression
{
    private LogisticRegression(double intercept, double[] weights)
    {
        Intercept = intercept;
        Weights = weights;
    }

    /// <summary>b.</summary>
    public double Intercept { get; }

    /// <summary>w, one per feature.</summary>
    public IReadOnlyList<double> Weights { get; }

    /// <summary>Fits on <paramref name="x"/> (n × p, row-major) and labels <paramref name="y"/> (0 or 1).</summary>
    /// <exception cref="InvalidOperationException">Newton's method did not converge in 100 iterations.</exception>
    public static LogisticRegression Fit(double[] x, int features, IReadOnlyList<int> y, double lambda = 1.0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (!(lambda > 0)) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be > 0 (separable data has no unpenalised optimum)");
        var n = y.Count;
        if (x.Length != n * features) throw new ArgumentException("x must hold n × features values", nameof(x));
        var k = features + 1; // θ = (b, w)
        var theta = new double[k];
        for (var iteration = 0; iteration < 100; iteration++)
        {
            var gradient = new double[k];
            var hessian = new double[k, k];
            for (var i = 0; i < n; i++)
            {
                var row = x.AsSpan(i * features, features);
                var z = theta[0];
                for (var j = 0; j < features; j++) z += theta[j + 1] * row[j];
                var p = 1 / (1 + Math.Exp(-z));
                var r = p - y[i];
                var w = p * (1 - p);
                for (var a = 0; a < k; a++)
                {
                    var xa = a == 0 ? 1 : row[a - 1];
                    gradient[a] += r * xa;
                    for (var b = 0; b <= a; b++) hessian[a, b] += w * xa * (b == 0 ? 1 : row[b - 1]);
                }
            }

            for (var a = 1; a < k; a++)
            {
                gradient[a] += lambda * theta[a];
                hessian[a, a] += lambda;
            }

            for (var a = 0; a < k; a++)
            {
                for (var b = a + 1; b < k; b++) hessian[a, b] = hessian[b, a];
            }

            var step = Solve(hessian, gradient);
            var size = 0.0;
            for (var a = 0; a < k; a++)
            {
                theta[a] -= step[a];
                size = Math.Max(size, Math.Abs(step[a]));
            }

            if (size < 1e-10) return new LogisticRegression(theta[0], theta[1..]);
        }

        throw new InvalidOperationException("logistic regression: Newton's method did not converge in 100 iterations");
    }

    /// <summary>The linear score b + w·x of each row (monotone in the predicted probability).</summary>
    public double[] Score(double[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var p = Weights.Count;
        var scores = new double[x.Length / p];
        for (var i = 0; i < scores.Length; i++)
        {
            var z = Intercept;
            for (var j = 0; j < p; j++) z += Weights[j] * x[(i * p) + j];
            scores[i] = z;
        }

        return scores;
    }

    // H Δ = g by Cholesky (H is symmetric positive definite: λ > 0 on w, and Σ p(1 − p) > 0 on b)
    private static double[] Solve(double[,] h, double[] g)
    {
        var l = Cholesky.Decompose(h) ?? throw new InvalidOperationException("logistic regression: the Hessian is not positive definite");
        var k = g.Length;
        var y = new double[k];
        for (var i = 0; i < k; i++)
        {
            var s = g[i];
            for (var j = 0; j < i; j++) s -= l[i, j] * y[j];
            y[i] = s / l[i, i];
        }

        var x = new double[k];
        for (var i = k - 1; i >= 0; i--)
        {
            var s = y[i];
            for (var j = i + 1; j < k; j++) s -= l[j, i] * x[j];
            x[i] = s / l[i, i];
        }

        return x;
    }
}

/// <summary>Row helpers of the attacks: standardisation and brute-force k nearest neighbours.</summary>
internal static class AttackRows
{
    /// <summary>Per-column mean and sample standard deviation of row-major <paramref name="rows"/> (a zero or undefined deviation becomes 1).</summary>
    public static (double[] Mean, double[] Sd) Scale(double[] rows, int d)
    {
        var n = rows.Length / d;
        var mean = new double[d];
        var sd = new double[d];
        var column = new double[n];
        for (var j = 0; j < d; j++)
        {
            for (var i = 0; i < n; i++) column[i] = rows[(i * d) + j];
            mean[j] = Descriptive.Mean(column);
            sd[j] = n > 1 ? Descriptive.StandardDeviation(column) : 1;
            if (!(sd[j] > 0)) sd[j] = 1;
        }

        return (mean, sd);
    }

    /// <summary>Standardised copy of the columns <paramref name="keep"/> of row-major <paramref name="rows"/> (d columns).</summary>
    public static double[] Standardise(double[] rows, int d, double[] mean, double[] sd, int[]? keep = null)
    {
        keep ??= [.. Enumerable.Range(0, d)];
        var n = rows.Length / d;
        var z = new double[n * keep.Length];
        for (var i = 0; i < n; i++)
        {
            for (var c = 0; c < keep.Length; c++)
            {
                var j = keep[c];
                z[(i * keep.Length) + c] = (rows[(i * d) + j] - mean[j]) / sd[j];
            }
        }

        return z;
    }

    /// <summary>
    /// For each query, the distances to its <paramref name="k"/> nearest references in ascending order and the index of the
    /// nearest (ties: the lowest index). <paramref name="skip"/>[q], when given, is a reference index to leave out for query q.
    /// </summary>
    /// <remarks>The squared distances are those of the scalar loop in <see cref="KNearestReference"/> (summed over the
    /// dimensions in order, in double, no fused multiply-add): a <see cref="KdTree"/> where it pays, else the screened
    /// search of <see cref="NearestNeighbors"/>, which re-measures exactly every reference that can rank, so the result
    /// is bit-identical to that loop's, ties included.</remarks>
    public static (double[] Distances, int[] Nearest) KNearest(double[] queries, double[] references, int d, int k, int[]? skip = null,
        int maxDegreeOfParallelism = -1)
    {
        var n = references.Length / d;
        if (n - (skip is null ? 0 : 1) < k) throw new ArgumentException($"{n} references cannot give {k} neighbours");
        var (distances, nearest) = NearestNeighbors.KNearestSquared(queries, references, d, k, skip, maxDegreeOfParallelism);
        for (var i = 0; i < distances.Length; i++) distances[i] = Math.Sqrt(distances[i]);
        return (distances, nearest);
    }

    /// <summary>
    /// The <paramref name="count"/> rows of row-major <paramref name="rows"/> farthest from their nearest other row (the
    /// isolated records of <see cref="OutlierRisk"/>), most isolated first, ties by the lower row, with that distance.
    /// Tall sets of few columns use <see cref="KdTree.MostIsolated"/>, which searches only the rows that can rank and
    /// returns the same rows and bits as <see cref="MostIsolatedBruteForce"/>.
    /// </summary>
    public static (int[] Rows, double[] Isolation) MostIsolated(double[] rows, int d, int count, int maxDegreeOfParallelism = -1)
    {
        if (rows.Length / d < 2) throw new ArgumentException("isolation needs at least 2 rows", nameof(rows));
        if (!KdTree.Pays(rows, rows, d, KdTree.BruteForce.Isolation)) return MostIsolatedBruteForce(rows, d, count, maxDegreeOfParallelism);
        return KdTree.Build(rows, d).MostIsolated(rows, count, maxDegreeOfParallelism);
    }

    /// <summary><see cref="MostIsolated"/> by every row's nearest other row (the brute force of <see cref="NearestNeighbors"/>)
    /// and a sort: its path for small or wide sets, and the oracle of the tree's (tests).</summary>
    internal static (int[] Rows, double[] Isolation) MostIsolatedBruteForce(double[] rows, int d, int count, int maxDegreeOfParallelism = -1)
    {
        var n = rows.Length / d;
        var (isolation, _) = NearestNeighbors.KNearestSquaredBruteForce(rows, rows, d, 1, [.. Enumerable.Range(0, n)], maxDegreeOfParallelism);
        for (var i = 0; i < n; i++) isolation[i] = Math.Sqrt(isolation[i]);
        var top = Enumerable.Range(0, n).OrderByDescending(i => isolation[i]).ThenBy(i => i).Take(count).ToArray();
        return (top, [.. top.Select(i => isolation[i])]);
    }

    /// <summary>
    /// The k smallest squared distances and the nearest row of <see cref="NearestNeighbors.KNearestSquared"/> by double
    /// 4 × 16 tiles (<see cref="SquaredDistanceTiles"/>) over every reference: its path for coordinates the single-precision
    /// screening cannot take (<see cref="KdTree.Moderate"/>).
    /// </summary>
    internal static (double[] Squared, int[] Nearest) KNearestTiledSquared(double[] queries, double[] references, int d, int k, int[]? skip = null,
        int maxDegreeOfParallelism = -1)
    {
        var m = queries.Length / d;
        var n = references.Length / d;
        var distances = new double[m * k];
        var nearest = new int[m];
        if (m == 0) return (distances, nearest);
        var q = SquaredDistanceTiles.PadQueries(queries, d);
        var packed = SquaredDistanceTiles.PackReferences(references, d);
        var tiles = SquaredDistanceTiles.Tiles(n);
        // a chunk of reference tiles stays in the L2 cache while a block of queries measures it
        var chunk = Math.Max(1, (256 * 1024) / (d * SquaredDistanceTiles.RefTile * sizeof(double)));
        var blocks = (m + KnnQueryBlock - 1) / KnnQueryBlock;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            b => KNearestBlock(b, q, packed, m, n, d, k, tiles, chunk, skip, distances, nearest));
        return (distances, nearest);
    }

    private const int KnnQueryBlock = 16;

    // one block of KnnQueryBlock queries of KNearest; optimised at once (a tier-0 first call ran the whole search slowly)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KNearestBlock(int b, double[] q, double[] packed, int m, int n, int d, int k, int tiles, int chunk, int[]? skip,
        double[] distances, int[] nearest)
    {
        var start = b * KnnQueryBlock;
        var count = Math.Min(KnnQueryBlock, m - start);
        var best = new double[KnnQueryBlock * k];
        var bestIndex = new int[KnnQueryBlock * k];
        Array.Fill(best, double.PositiveInfinity);
        Span<double> sums = stackalloc double[SquaredDistanceTiles.QueryTile * SquaredDistanceTiles.RefTile];
        for (var c0 = 0; c0 < tiles; c0 += chunk)
        {
            var c1 = Math.Min(tiles, c0 + chunk);
            for (var qi = 0; qi < count; qi += SquaredDistanceTiles.QueryTile)
            {
                var rows = Math.Min(SquaredDistanceTiles.QueryTile, count - qi);
                for (var t = c0; t < c1; t++)
                {
                    SquaredDistanceTiles.Tile(q, start + qi, packed, t, d, sums);
                    var r0 = t * SquaredDistanceTiles.RefTile;
                    var lanes = Math.Min(SquaredDistanceTiles.RefTile, n - r0);
                    for (var row = 0; row < rows; row++)
                    {
                        var query = start + qi + row;
                        var bq = best.AsSpan((qi + row) * k, k);
                        var iq = bestIndex.AsSpan((qi + row) * k, k);
                        for (var l = 0; l < lanes; l++)
                        {
                            var r = r0 + l;
                            if (skip is not null && skip[query] == r) continue;
                            var s = sums[(row * SquaredDistanceTiles.RefTile) + l];
                            if (s >= bq[k - 1]) continue;
                            var pos = k - 1;
                            while (pos > 0 && bq[pos - 1] > s)
                            {
                                bq[pos] = bq[pos - 1];
                                iq[pos] = iq[pos - 1];
                                pos--;
                            }

                            bq[pos] = s;
                            iq[pos] = r;
                        }
                    }
                }
            }
        }
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < k; j++) distances[((start + i) * k) + j] = best[(i * k) + j];
            nearest[start + i] = bestIndex[i * k];
        }
    }

    /// <summary>
    /// <see cref="KNearest"/> by the plain loop, one query and one reference at a time: the oracle of its bits (tests).
    /// </summary>
    internal static (double[] Distances, int[] Nearest) KNearestReference(double[] queries, double[] references, int d, int k, int[]? skip = null,
        int maxDegreeOfParallelism = -1)
    {
        var n = references.Length / d;
        if (n - (skip is null ? 0 : 1) < k) throw new ArgumentException($"{n} references cannot give {k} neighbours");
        var (squared, rows) = KNearestReferenceRows(queries, references, d, k, skip, maxDegreeOfParallelism);
        var nearest = new int[squared.Length / k];
        for (var q = 0; q < nearest.Length; q++) nearest[q] = rows[q * k];
        for (var i = 0; i < squared.Length; i++) squared[i] = Math.Sqrt(squared[i]);
        return (squared, nearest);
    }

    /// <summary>
    /// The plain loop of <see cref="KNearestReference"/>: for each query the k smallest squared distances and their
    /// reference rows (m × k each, nearest first, ties to the lower row; +∞ and row 0 beyond the references there are).
    /// </summary>
    internal static (double[] Squared, int[] Rows) KNearestReferenceRows(double[] queries, double[] references, int d, int k, int[]? skip = null,
        int maxDegreeOfParallelism = -1)
    {
        var m = queries.Length / d;
        var n = references.Length / d;
        var squared = new double[m * k];
        var rows = new int[m * k];
        Array.Fill(squared, double.PositiveInfinity);
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, q =>
        {
            var best = squared.AsSpan(q * k, k);
            var bestIndex = rows.AsSpan(q * k, k);
            var query = queries.AsSpan(q * d, d);
            for (var r = 0; r < n; r++)
            {
                if (skip is not null && skip[q] == r) continue;
                var reference = references.AsSpan(r * d, d);
                double s = 0;
                for (var j = 0; j < d; j++)
                {
                    var diff = query[j] - reference[j];
                    s += diff * diff;
                }

                if (s >= best[k - 1]) continue;
                var pos = k - 1;
                while (pos > 0 && best[pos - 1] > s)
                {
                    best[pos] = best[pos - 1];
                    bestIndex[pos] = bestIndex[pos - 1];
                    pos--;
                }

                best[pos] = s;
                bestIndex[pos] = r;
            }
        });
        return (squared, rows);
    }
}
