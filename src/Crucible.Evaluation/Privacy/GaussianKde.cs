using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Gaussian kernel density estimate with the data's own covariance, scipy's <c>gaussian_kde</c> with Scott's rule:
/// bandwidth factor f = n^(−1/(d+4)), kernel covariance Σ·f² with Σ the unbiased sample covariance (numpy
/// <c>cov</c>), and log p(x) = logsumexp_i(−½‖L⁻¹(x − x_i)‖²) − log n − (d/2)·log 2π − Σ log L_kk for Σf² = LLᵀ.
/// </summary>
public sealed class GaussianKde
{
    private readonly double[] _whitenedT; // whitened data transposed: [k·n + i]
    private readonly double[,] _cholesky;
    private readonly double _logNormaliser;

    private GaussianKde(double[] whitenedT, double[,] cholesky, double logNormaliser, int count, int dimension)
    {
        _whitenedT = whitenedT;
        _cholesky = cholesky;
        _logNormaliser = logNormaliser;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>n, the number of data points.</summary>
    public int Count { get; }

    /// <summary>d, the dimension.</summary>
    public int Dimension { get; }

    /// <summary>
    /// Fits the estimate to <paramref name="data"/> (row-major, n × <paramref name="dimension"/>, n ≥ 2). A singular
    /// covariance (a constant or collinear column, where scipy raises) gets a ridge of 1e-12 times its mean diagonal.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dimension"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not a whole number of at least two points, holds a
    /// value that is not finite, has no spread (every column constant: the kernel covariance is zero, and no ridge
    /// relative to it exists), or has a variance that overflows or underflows the range of a double (|x − x̄| of about
    /// 1e154 and more, or 1e-154 and less), so the kernel covariance cannot be factored; <see cref="WhyNot"/> says which
    /// without throwing.</exception>
    public static GaussianKde Fit(double[] data, int dimension)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        var (l, refusal) = KernelCholesky(data, dimension);
        if (l is null) throw new ArgumentException(Describe(refusal), nameof(data));
        var n = data.Length / dimension;
        var whitenedT = new double[dimension * n];
        var z = new double[dimension];
        for (var i = 0; i < n; i++)
        {
            Whiten(l, data.AsSpan(i * dimension, dimension), z);
            for (var k = 0; k < dimension; k++) whitenedT[(k * n) + i] = z[k];
        }
        double logDet = 0;
        for (var k = 0; k < dimension; k++) logDet += Math.Log(l[k, k]);
        var logNormaliser = Math.Log(n) + (0.5 * dimension * Math.Log(2 * Math.PI)) + logDet;
        return new GaussianKde(whitenedT, l, logNormaliser, n, dimension);
    }

    /// <summary>Why <see cref="Fit"/> refuses <paramref name="data"/> (<see cref="KdeRefusal.None"/> when it fits it): the
    /// same test, so the two always agree.</summary>
    internal static KdeRefusal WhyNot(double[] data, int dimension)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        return KernelCholesky(data, dimension).Refusal;
    }

    /// <summary>Whether <see cref="Fit"/> fits <paramref name="data"/>: <see cref="WhyNot"/> is <see cref="KdeRefusal.None"/>.</summary>
    internal static bool CanFit(double[] data, int dimension) => WhyNot(data, dimension) == KdeRefusal.None;

    /// <summary>The words of <see cref="Fit"/>'s refusal.</summary>
    internal static string Describe(KdeRefusal refusal) => refusal switch
    {
        KdeRefusal.TooFewPoints => "at least two points of the given dimension are needed",
        KdeRefusal.NotFinite => "the data holds a value that is not finite (NaN or an infinity)",
        KdeRefusal.NoSpread => "the data has no spread: every column is constant, so the kernel covariance is zero",
        KdeRefusal.VarianceOverflows => "the data's variance overflows the range of a double (deviations of about 1e154 and more), so the kernel covariance cannot be factored",
        KdeRefusal.VarianceUnderflows => "the data's variance underflows the range of a double (deviations of about 1e-154 and less), so the kernel covariance is zero",
        _ => throw new ArgumentOutOfRangeException(nameof(refusal)),
    };

    // the Cholesky factor of the kernel covariance Σ·f² (with the ridge of a singular one), or null and why not
    private static (double[,]? L, KdeRefusal Refusal) KernelCholesky(double[] data, int dimension)
    {
        var n = data.Length / dimension;
        if (n < 2 || data.Length % dimension != 0) return (null, KdeRefusal.TooFewPoints);
        foreach (var x in data)
        {
            if (!double.IsFinite(x)) return (null, KdeRefusal.NotFinite);
        }
        // every column constant: a mean an ulp off the value would leave a covariance of rounding noise, not a spread
        var constant = true;
        for (var k = 0; k < dimension && constant; k++)
        {
            for (var i = 1; i < n && constant; i++) constant = data[(i * dimension) + k] == data[k];
        }
        if (constant) return (null, KdeRefusal.NoSpread);
        var mean = new double[dimension];
        for (var k = 0; k < dimension; k++)
        {
            double s = 0;
            for (var i = 0; i < n; i++) s += data[(i * dimension) + k];
            mean[k] = s / n;
        }
        var factor = Math.Pow(n, -1.0 / (dimension + 4));
        var cov = new double[dimension, dimension];
        var finite = true;
        for (var a = 0; a < dimension; a++)
        {
            for (var b = a; b < dimension; b++)
            {
                double s = 0;
                for (var i = 0; i < n; i++) s += (data[(i * dimension) + a] - mean[a]) * (data[(i * dimension) + b] - mean[b]);
                cov[a, b] = cov[b, a] = s / (n - 1) * factor * factor;
                finite &= double.IsFinite(cov[a, b]);
            }
        }
        var l = Cholesky.Decompose(cov);
        if (l is null)
        {
            double trace = 0;
            for (var a = 0; a < dimension; a++) trace += cov[a, a];
            for (var a = 0; a < dimension; a++) cov[a, a] += 1e-12 * Math.Max(trace / dimension, double.Epsilon);
            l = Cholesky.Decompose(cov);
        }
        return l is not null ? (l, KdeRefusal.None) : (null, finite ? KdeRefusal.VarianceUnderflows : KdeRefusal.VarianceOverflows);
    }

    /// <summary>log p at each row of <paramref name="points"/> (row-major, m × d). Deterministic for any parallelism.</summary>
    /// <remarks>The exponents e_i are those of <see cref="LogDensityReference"/> (per data point, the dimensions in order,
    /// the same fused multiply-adds in the vector part and the same scalar expression in the last n mod 8 points), built
    /// for 4 points × 16 data points at a time in registers instead of one pass over all n per dimension; the max, exp
    /// and sum are the same calls on the same arrays: bit-identical to it.</remarks>
    public double[] LogDensity(double[] points, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(points);
        int d = Dimension, n = Count;
        var m = points.Length / d;
        var result = new double[m];
        Parallel.For(0, (m + QueryTile - 1) / QueryTile, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            () => (E: new double[QueryTile * n], Z: new double[QueryTile * d]),
            (b, _, local) =>
            {
                var first = b * QueryTile;
                var rows = Math.Min(QueryTile, m - first);
                // rows past the last point repeat it (computed, not used)
                for (var r = 0; r < QueryTile; r++) Whiten(_cholesky, points.AsSpan((first + Math.Min(r, rows - 1)) * d, d), local.Z.AsSpan(r * d, d));
                Exponents(_whitenedT, n, d, local.Z, local.E);
                for (var r = 0; r < rows; r++)
                {
                    var e = local.E.AsSpan(r * n, n);
                    var max = TensorPrimitives.Max<double>(e);
                    TensorPrimitives.Subtract(e, max, e);
                    TensorPrimitives.Exp(e, e);
                    result[first + r] = max + Math.Log(TensorPrimitives.Sum<double>(e)) - _logNormaliser;
                }
                return local;
            },
            _ => { });
        return result;
    }

    private const int QueryTile = 4;

    /// <summary>
    /// e[r·n + i] = −½ Σ_k (x_ik − z_rk)² for the 4 whitened points z (z[r·d + k]), with the arithmetic of
    /// <see cref="AccumulateSquare"/> applied dimension after dimension to a zeroed e: a fused multiply-add per step in
    /// the first ⌊n/8⌋·8 data points, <c>e −= 0.5 * diff * diff</c> in the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Exponents(double[] xT, int n, int d, double[] z, double[] e)
    {
        var n8 = n / 8 * 8;
        var half = Vector512.Create(-0.5);
        ref var rx = ref MemoryMarshal.GetArrayDataReference(xT);
        ref var re = ref MemoryMarshal.GetArrayDataReference(e);
        var i = 0;
        for (; i + 16 <= n8; i += 16)
        {
            Vector512<double> a00 = Vector512<double>.Zero, a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
            for (var k = 0; k < d; k++)
            {
                var x0 = Vector512.LoadUnsafe(ref rx, (nuint)((k * n) + i));
                var x1 = Vector512.LoadUnsafe(ref rx, (nuint)((k * n) + i + 8));
                Vector512<double> zv, diff;
                zv = Vector512.Create(z[k]);
                diff = x0 - zv; a00 = Vector512.FusedMultiplyAdd(diff * diff, half, a00);
                diff = x1 - zv; a01 = Vector512.FusedMultiplyAdd(diff * diff, half, a01);
                zv = Vector512.Create(z[d + k]);
                diff = x0 - zv; a10 = Vector512.FusedMultiplyAdd(diff * diff, half, a10);
                diff = x1 - zv; a11 = Vector512.FusedMultiplyAdd(diff * diff, half, a11);
                zv = Vector512.Create(z[(2 * d) + k]);
                diff = x0 - zv; a20 = Vector512.FusedMultiplyAdd(diff * diff, half, a20);
                diff = x1 - zv; a21 = Vector512.FusedMultiplyAdd(diff * diff, half, a21);
                zv = Vector512.Create(z[(3 * d) + k]);
                diff = x0 - zv; a30 = Vector512.FusedMultiplyAdd(diff * diff, half, a30);
                diff = x1 - zv; a31 = Vector512.FusedMultiplyAdd(diff * diff, half, a31);
            }
            a00.StoreUnsafe(ref re, (nuint)i);
            a01.StoreUnsafe(ref re, (nuint)(i + 8));
            a10.StoreUnsafe(ref re, (nuint)(n + i));
            a11.StoreUnsafe(ref re, (nuint)(n + i + 8));
            a20.StoreUnsafe(ref re, (nuint)((2 * n) + i));
            a21.StoreUnsafe(ref re, (nuint)((2 * n) + i + 8));
            a30.StoreUnsafe(ref re, (nuint)((3 * n) + i));
            a31.StoreUnsafe(ref re, (nuint)((3 * n) + i + 8));
        }
        for (; i < n8; i += 8)
        {
            for (var r = 0; r < QueryTile; r++)
            {
                var a = Vector512<double>.Zero;
                for (var k = 0; k < d; k++)
                {
                    var diff = Vector512.LoadUnsafe(ref rx, (nuint)((k * n) + i)) - Vector512.Create(z[(r * d) + k]);
                    a = Vector512.FusedMultiplyAdd(diff * diff, half, a);
                }
                a.StoreUnsafe(ref re, (nuint)((r * n) + i));
            }
        }
        for (; i < n; i++)
        {
            for (var r = 0; r < QueryTile; r++)
            {
                double s = 0;
                for (var k = 0; k < d; k++)
                {
                    var diff = xT[(k * n) + i] - z[(r * d) + k];
                    s -= 0.5 * diff * diff;
                }
                e[(r * n) + i] = s;
            }
        }
    }

    /// <summary><see cref="LogDensity"/> by one pass over the data per dimension and query: the oracle of its bits (tests).</summary>
    internal double[] LogDensityReference(double[] points, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(points);
        int d = Dimension, n = Count;
        var m = points.Length / d;
        var result = new double[m];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            () => (Buffer: new double[n], Z: new double[d]),
            (q, _, local) =>
            {
                Whiten(_cholesky, points.AsSpan(q * d, d), local.Z);
                var e = local.Buffer;
                Array.Clear(e);
                // e_i = −½ Σ_k (z_k − x_ik)², vectorised over the data points i
                for (var k = 0; k < d; k++) AccumulateSquare(_whitenedT.AsSpan(k * n, n), local.Z[k], e);
                var max = TensorPrimitives.Max(e);
                TensorPrimitives.Subtract(e, max, e);
                TensorPrimitives.Exp(e, e);
                result[q] = max + Math.Log(TensorPrimitives.Sum<double>(e)) - _logNormaliser;
                return local;
            },
            _ => { });
        return result;
    }

    /// <summary>e_i −= ½ (x_i − z)².</summary>
    private static void AccumulateSquare(ReadOnlySpan<double> x, double z, Span<double> e)
    {
        ref var rx = ref MemoryMarshal.GetReference(x);
        ref var re = ref MemoryMarshal.GetReference(e);
        var vz = Vector512.Create(z);
        var half = Vector512.Create(-0.5);
        var i = 0;
        for (; i <= x.Length - 8; i += 8)
        {
            var diff = Vector512.LoadUnsafe(ref rx, (nuint)i) - vz;
            Vector512.FusedMultiplyAdd(diff * diff, half, Vector512.LoadUnsafe(ref re, (nuint)i)).StoreUnsafe(ref re, (nuint)i);
        }
        for (; i < x.Length; i++)
        {
            var diff = x[i] - z;
            e[i] -= 0.5 * diff * diff;
        }
    }

    /// <summary>z = L⁻¹x by forward substitution.</summary>
    private static void Whiten(double[,] l, ReadOnlySpan<double> x, Span<double> z)
    {
        for (var k = 0; k < x.Length; k++)
        {
            var s = x[k];
            for (var j = 0; j < k; j++) s -= l[k, j] * z[j];
            z[k] = s / l[k, k];
        }
    }

}

/// <summary>Why <see cref="GaussianKde.Fit"/> refuses its data (<see cref="GaussianKde.Describe"/> words it).</summary>
internal enum KdeRefusal
{
    /// <summary>It fits it.</summary>
    None,

    /// <summary>Fewer than two points, or a length that is not a whole number of points.</summary>
    TooFewPoints,

    /// <summary>A value is NaN or infinite.</summary>
    NotFinite,

    /// <summary>Every column is constant: the kernel covariance is zero.</summary>
    NoSpread,

    /// <summary>A variance is beyond the range of a double: the covariance is not finite.</summary>
    VarianceOverflows,

    /// <summary>The variances are below the range of a double: the covariance is zero, and so is the ridge relative to it.</summary>
    VarianceUnderflows,
}
