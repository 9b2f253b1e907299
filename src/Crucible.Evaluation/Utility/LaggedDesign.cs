using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Utility;

/// <summary>
/// The next-step forecasting problem of a return set, without copying it into a design matrix. Each series is
/// transformed once (r, or |r| for the volatility target) into F; within each path, the sample at step t (t = L−1 ..
/// n−2) has the features F_i(t − l + 1) for lags l = 1..L and series i, and the targets F_j(t + 1) for every series j.
/// Column c = (l − 1)·D + i of the design is therefore a shifted slice of F_i, and the target column j is the slice
/// at "lag 0"; all sums over the design are sums over such slices, path by path.
/// </summary>
internal sealed class LaggedDesign
{
    private readonly double[][][] _paths; // [path][series] transformed values

    private LaggedDesign(double[][][] paths, int series, int lags)
    {
        _paths = paths;
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

    public static LaggedDesign Build(SeriesSet set, int lags, ForecastTarget target)
    {
        var paths = set.PathRows().Select(rows => Enumerable.Range(0, set.SeriesCount).Select(i =>
        {
            var x = set.Gather(i, rows); // never modified
            return target == ForecastTarget.Volatility ? x.Select(Math.Abs).ToArray() : x;
        }).ToArray()).ToArray();
        return new LaggedDesign(paths, set.SeriesCount, lags);
    }

    /// <summary>Column c's slice in path q: features c = (l − 1)·D + i for l = 1..L; targets as c = −1 − j (lag 0).</summary>
    public ReadOnlySpan<double> Column(int path, int column)
    {
        var (lag, series) = column >= 0 ? ((column / Series) + 1, column % Series) : (0, -1 - column);
        var f = _paths[path][series];
        var n = f.Length - Lags;
        return n <= 0 ? [] : f.AsSpan(Lags - lag, n);
    }

    public int PathCount => _paths.Length;

    /// <summary>The column of feature c (c ≥ 0) or target j (c = −1 − j), over all paths, as one array.</summary>
    public double[] Gather(int column)
    {
        var result = new double[Rows];
        var at = 0;
        for (var q = 0; q < _paths.Length; q++)
        {
            var s = Column(q, column);
            s.CopyTo(result.AsSpan(at));
            at += s.Length;
        }
        return result;
    }

    /// <summary>Σ over samples of column a times column b (targets as −1 − j), compensated.</summary>
    public double Dot(int a, int b)
    {
        double sum = 0, c = 0;
        for (var q = 0; q < _paths.Length; q++)
        {
            var v = Summation.Dot(Column(q, a), Column(q, b));
            var t = sum + v;
            c += Math.Abs(sum) >= Math.Abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }
        return sum + c;
    }

    /// <summary>Σ over samples of column a, compensated.</summary>
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
