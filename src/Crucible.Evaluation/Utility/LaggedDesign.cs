using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Utility;

/// <summary>
/// The next-step forecasting problem of a return set, without copying it into a design matrix. Each series is
/// transformed once (r, or |r| for the volatility target) into F; within each path, the sample at step t (t = L−1 ..
/// n−2) has the features F_i(t − l + 1) for lags l = 1..L and series i, and the targets F_j(t + 1) for every series j.
/// Column c = (l − 1)·D + i of the design is therefore a shifted slice of F_i, and the target column j is the slice
/// at "lag 0"; all sums over the design are sums over such slices, path by path.
/// The slices hold F_i − c_i, with c_i the mean of F_i over all rows of the set (<see cref="Centre"/>): sums of
/// products of nearly centred values lose nothing to cancellation, so plain SIMD sums of products are accurate enough.
/// </summary>
internal sealed class LaggedDesign
{
    private readonly double[][][] _paths; // [path][series] transformed values
    private double[,]? _cross;
    private double[]? _sums;

    private LaggedDesign(double[][][] paths, double[] centre, int series, int lags)
    {
        _paths = paths;
        Centre = centre;
        Series = series;
        Lags = lags;
        Rows = paths.Sum(p => Math.Max(0, p[0].Length - lags));
    }

    /// <summary>D: series, also the number of targets.</summary>
    public int Series { get; }

    /// <summary>L: lags per series.</summary>
    public int Lags { get; }

    /// <summary>p = L·D features.</summary>
    public int Features => Lags * Series;

    /// <summary>Samples over all paths.</summary>
    public int Rows { get; }

    /// <summary>c_i, the constant taken off series i's transformed values.</summary>
    public double[] Centre { get; }

    public static LaggedDesign Build(SeriesSet set, int lags, ForecastTarget target)
    {
        var centre = new double[set.SeriesCount];
        for (var i = 0; i < centre.Length; i++)
            centre[i] = target == ForecastTarget.Volatility ? Descriptive.Mean(set.Columns[i].Select(Math.Abs).ToArray()) : Descriptive.Mean(set.Columns[i]);
        var paths = set.PathRows().Select(rows => Enumerable.Range(0, set.SeriesCount).Select(i =>
        {
            var x = set.Gather(i, rows);
            var f = new double[x.Length];
            for (var t = 0; t < x.Length; t++) f[t] = (target == ForecastTarget.Volatility ? Math.Abs(x[t]) : x[t]) - centre[i];
            return f;
        }).ToArray()).ToArray();
        return new LaggedDesign(paths, centre, set.SeriesCount, lags);
    }

    /// <summary>The series of feature column c (c ≥ 0) or of target c = −1 − j.</summary>
    public int SeriesOf(int column) => column >= 0 ? column % Series : -1 - column;

    /// <summary>Column c's slice in path q, centred (see the class remarks): features c = (l − 1)·D + i for l = 1..L; targets as c = −1 − j (lag 0).</summary>
    public ReadOnlySpan<double> Column(int path, int column)
    {
        var (lag, series) = column >= 0 ? ((column / Series) + 1, column % Series) : (0, -1 - column);
        var f = _paths[path][series];
        var n = f.Length - Lags;
        return n <= 0 ? [] : f.AsSpan(Lags - lag, n);
    }

    public int PathCount => _paths.Length;

    /// <summary>The column of feature c (c ≥ 0) or target j (c = −1 − j) over all paths as one array, in original units.</summary>
    public double[] Gather(int column)
    {
        var result = new double[Rows];
        var centre = Centre[SeriesOf(column)];
        var at = 0;
        for (var q = 0; q < _paths.Length; q++)
        {
            var s = Column(q, column);
            for (var r = 0; r < s.Length; r++) result[at + r] = s[r] + centre;
            at += s.Length;
        }
        return result;
    }

    /// <summary>
    /// Every cross product Σ_samples x_a·x_b of the centred design, features a, b ∈ 0..p−1 and targets as columns p..p+D−1:
    /// an (p + D) × (p + D) symmetric matrix. Column (l, i) is a shifted slice of F_i, so within a path of N steps every
    /// product is P_ij(k) = Σ_{u=L}^{N−1−L} F_i(u)·F_j(u + k) with k = l_a − l_b ∈ [−L, L] over the common interior, plus
    /// at most L terms at its two ends: one pass per series pair i ≤ j with 2L + 1 running sums (a lagged cross-product,
    /// computed once instead of once per lag pair). Paths shorter than 2L + 1 steps are summed directly. Computed once
    /// and cached.
    /// </summary>
    public double[,] CrossProducts(int maxDegreeOfParallelism = -1) => _cross ??= ComputeCrossProducts(maxDegreeOfParallelism);

    /// <summary>Σ over samples of every centred column, features 0..p−1 then targets (cached).</summary>
    public double[] Sums() => _sums ??= Enumerable.Range(0, Features + Series).Select(k => Sum(k < Features ? k : -1 - (k - Features))).ToArray();

    private double[,] ComputeCrossProducts(int maxDegreeOfParallelism)
    {
        int d = Series, lags = Lags, p = Features, m = p + d;
        var result = new double[m, m];
        var pairs = new List<(int I, int J)>();
        for (var i = 0; i < d; i++)
        {
            for (var j = i; j < d; j++) pairs.Add((i, j));
        }
        // column k of the result: features (l, i) for k < p, targets (lag 0, series k − p) after
        (int Lag, int Series) Of(int k) => k < p ? ((k / d) + 1, k % d) : (0, k - p);
        var byPair = new List<(int A, int B)>[d, d];
        for (var a = 0; a < m; a++)
        {
            for (var b = a; b < m; b++)
            {
                var (ia, ib) = (Of(a).Series, Of(b).Series);
                var (x, y) = ia <= ib ? (a, b) : (b, a);
                (byPair[Math.Min(ia, ib), Math.Max(ia, ib)] ??= []).Add((x, y));
            }
        }
        // each pair of series owns its entries of the result: pairs run in parallel, paths one after another
        Parallel.ForEach(pairs, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, pair =>
        {
            foreach (var path in _paths)
            {
                var n = path[0].Length;
                if (n - lags <= 0) continue;
                var (fi, fj) = (path[pair.I], path[pair.J]);
                var interior = n >= (2 * lags) + 1 ? LaggedSums(fi, fj, lags, lags, n - 1 - lags) : null;
                foreach (var (a, b) in byPair[pair.I, pair.J])
                {
                    var (la, lb) = (Of(a).Lag, Of(b).Lag);
                    var k = la - lb;
                    int first = lags - la, last = n - 1 - la; // the slice of column a: u = first..last, paired with u + k
                    double sum;
                    if (interior is null)
                    {
                        sum = 0;
                        for (var u = first; u <= last; u++) sum += fi[u] * fj[u + k];
                    }
                    else
                    {
                        sum = interior[k + lags];
                        for (var u = first; u < lags; u++) sum += fi[u] * fj[u + k];
                        for (var u = n - lags; u <= last; u++) sum += fi[u] * fj[u + k];
                    }
                    result[Math.Min(a, b), Math.Max(a, b)] += sum; // the upper triangle; mirrored below
                }
            }
        });
        for (var a = 0; a < m; a++)
        {
            for (var b = 0; b < a; b++) result[a, b] = result[b, a];
        }
        return result;
    }

    /// <summary>P(k) = Σ_{u=from}^{to} x(u)·y(u + k) for k = −L..L (index k + L), SIMD over u.</summary>
    private static double[] LaggedSums(double[] x, double[] y, int lags, int from, int to)
    {
        var width = (2 * lags) + 1;
        var acc = new Vector512<double>[width];
        ref var rx = ref MemoryMarshal.GetArrayDataReference(x);
        ref var ry = ref MemoryMarshal.GetArrayDataReference(y);
        var u = from;
        for (; u + 8 <= to + 1; u += 8)
        {
            var vx = Vector512.LoadUnsafe(ref rx, (nuint)u);
            for (var k = 0; k < width; k++)
                acc[k] = Vector512.FusedMultiplyAdd(vx, Vector512.LoadUnsafe(ref ry, (nuint)(u + k - lags)), acc[k]);
        }
        var sums = new double[width];
        for (var k = 0; k < width; k++)
        {
            var s = Vector512.Sum(acc[k]);
            for (var v = u; v <= to; v++) s = Math.FusedMultiplyAdd(x[v], y[v + k - lags], s);
            sums[k] = s;
        }
        return sums;
    }

    /// <summary>Σ over samples of centred column a, compensated.</summary>
    public double Sum(int a)
    {
        double sum = 0, c = 0;
        for (var q = 0; q < _paths.Length; q++)
        {
            var v = Summation.Sum(Column(q, a));
            var t = sum + v;
            c += Math.Abs(sum) >= Math.Abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }
        return sum + c;
    }
}
