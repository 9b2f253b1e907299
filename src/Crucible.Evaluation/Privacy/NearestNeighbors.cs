using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Exact brute-force nearest-neighbour search in Euclidean distance.
/// </summary>
/// <remarks>
/// Candidates are screened with ‖q‖² + ‖r‖² − 2 q·r, computed in double in 4-query × 16-reference register tiles
/// with <see cref="Vector512{T}"/> fused multiply-adds; every reference whose screened value comes within twice
/// the rounding bound of the best so far is re-measured exactly as Σ (q_d − r_d)², and the exact value decides.
/// The result is therefore the exact nearest distance (as a kd-tree would compute it), and it does not depend on
/// the degree of parallelism: queries are split into row blocks across threads, and each query always visits the
/// references in the same order.
/// </remarks>
public static class NearestNeighbors
{
    private const int QueryTile = 4;
    private const int RefTile = 16;
    private const int RefChunk = 512;
    private const int QueryBlock = 64;

    /// <summary>
    /// For each of the m rows of <paramref name="queries"/> (row-major, m × <paramref name="dimension"/>), the Euclidean
    /// distance to the nearest of the rows of <paramref name="references"/> (row-major, n × dimension).
    /// Returns +∞ for every query when there are no references. <paramref name="maxDegreeOfParallelism"/> −1 uses all cores.
    /// </summary>
    public static double[] NearestDistances(double[] queries, double[] references, int dimension, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (queries.Length % dimension != 0) throw new ArgumentException("length is not a multiple of dimension", nameof(queries));
        if (references.Length % dimension != 0) throw new ArgumentException("length is not a multiple of dimension", nameof(references));
        var m = queries.Length / dimension;
        var n = references.Length / dimension;
        var result = new double[m];
        if (n == 0)
        {
            Array.Fill(result, double.PositiveInfinity);
            return result;
        }
        var nPad = (n + RefTile - 1) / RefTile * RefTile;
        // references transposed: rt[d * nPad + j]; padded references have norm +∞ so they never become candidates
        var rt = new double[dimension * nPad];
        var rNorm = new double[nPad];
        var maxRefNorm = 0.0;
        for (var j = 0; j < n; j++)
        {
            double s = 0;
            for (var d = 0; d < dimension; d++)
            {
                var v = references[j * dimension + d];
                rt[d * nPad + j] = v;
                s += v * v;
            }
            rNorm[j] = s;
            maxRefNorm = Math.Max(maxRefNorm, s);
        }
        for (var j = n; j < nPad; j++) rNorm[j] = double.PositiveInfinity;

        var blocks = (m + QueryBlock - 1) / QueryBlock;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, blocks, options, b =>
        {
            var start = b * QueryBlock;
            var end = Math.Min(m, start + QueryBlock);
            SearchBlock(queries, references, dimension, n, nPad, rt, rNorm, maxRefNorm, start, end, result);
        });
        return result;
    }

    private static void SearchBlock(double[] queries, double[] references, int dim, int n, int nPad, double[] rt, double[] rNorm,
        double maxRefNorm, int start, int end, double[] result)
    {
        var count = end - start;
        var padded = (count + QueryTile - 1) / QueryTile * QueryTile;
        // local copy of the block's queries, padded by repeating the last query
        var q = new double[padded * dim];
        var qNorm = new double[padded];
        var margin = new double[padded];
        var bestApprox = new double[padded];
        var bestExact = new double[padded];
        // rounding bound of the screened value: a few (dim + 4) ulps of ‖q‖² + ‖r‖², doubled for the comparison
        var ulps = 4.0 * (dim + 4) * 1.1102230246251565e-16;
        for (var i = 0; i < padded; i++)
        {
            var src = Math.Min(start + i, end - 1);
            double s = 0;
            for (var d = 0; d < dim; d++)
            {
                var v = queries[src * dim + d];
                q[i * dim + d] = v;
                s += v * v;
            }
            qNorm[i] = s;
            margin[i] = ulps * (s + maxRefNorm) + double.Epsilon;
            bestApprox[i] = double.MaxValue;
            bestExact[i] = double.PositiveInfinity;
        }

        Span<double> approxTile = stackalloc double[QueryTile * RefTile];
        for (var c0 = 0; c0 < nPad; c0 += RefChunk)
        {
            var c1 = Math.Min(nPad, c0 + RefChunk);
            for (var qi = 0; qi < padded; qi += QueryTile)
            {
                for (var j0 = c0; j0 < c1; j0 += RefTile)
                {
                    var mask = Tile(q, qi, dim, rt, rNorm, nPad, j0, qNorm, bestApprox, margin, approxTile);
                    while (mask != 0)
                    {
                        var bit = System.Numerics.BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        int row = qi + bit / RefTile, j = j0 + bit % RefTile;
                        var approx = approxTile[bit];
                        if (j >= n || !(approx <= bestApprox[row] + margin[row])) continue;
                        var exact = Exact(q.AsSpan(row * dim, dim), references.AsSpan(j * dim, dim));
                        if (exact < bestExact[row]) bestExact[row] = exact;
                        if (approx < bestApprox[row]) bestApprox[row] = approx;
                    }
                }
            }
        }
        for (var i = 0; i < count; i++) result[start + i] = Math.Sqrt(bestExact[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Exact(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s = 0;
        for (var d = 0; d < a.Length; d++)
        {
            var diff = a[d] - b[d];
            s += diff * diff;
        }
        return s;
    }

    /// <summary>
    /// Screens a 4 × 16 tile: approx[a·16 + l] = ‖q‖² + ‖r‖² − 2 q[qi + a]·r[j0 + l]; returns a bit mask (bit a·16 + l)
    /// of the entries within the margin of the query's best screened value so far.
    /// </summary>
    private static ulong Tile(double[] q, int qi, int dim, double[] rt, double[] rNorm, int nPad, int j0, double[] qNorm,
        double[] bestApprox, double[] margin, Span<double> approx)
    {
        Vector512<double> a00 = Vector512<double>.Zero, a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        ref var qRef = ref q[qi * dim];
        ref var rRef = ref rt[0];
        for (var d = 0; d < dim; d++)
        {
            var offset = (nuint)(d * nPad + j0);
            var r0 = Vector512.LoadUnsafe(ref rRef, offset);
            var r1 = Vector512.LoadUnsafe(ref rRef, offset + 8);
            var q0 = Vector512.Create(Unsafe.Add(ref qRef, d));
            var q1 = Vector512.Create(Unsafe.Add(ref qRef, dim + d));
            var q2 = Vector512.Create(Unsafe.Add(ref qRef, 2 * dim + d));
            var q3 = Vector512.Create(Unsafe.Add(ref qRef, 3 * dim + d));
            a00 = Vector512.FusedMultiplyAdd(q0, r0, a00);
            a01 = Vector512.FusedMultiplyAdd(q0, r1, a01);
            a10 = Vector512.FusedMultiplyAdd(q1, r0, a10);
            a11 = Vector512.FusedMultiplyAdd(q1, r1, a11);
            a20 = Vector512.FusedMultiplyAdd(q2, r0, a20);
            a21 = Vector512.FusedMultiplyAdd(q2, r1, a21);
            a30 = Vector512.FusedMultiplyAdd(q3, r0, a30);
            a31 = Vector512.FusedMultiplyAdd(q3, r1, a31);
        }
        var rn0 = Vector512.LoadUnsafe(ref rNorm[0], (nuint)j0);
        var rn1 = Vector512.LoadUnsafe(ref rNorm[0], (nuint)j0 + 8);
        ulong mask = 0;
        mask |= Screen(a00, a01, rn0, rn1, qi, 0, qNorm, bestApprox, margin, approx);
        mask |= Screen(a10, a11, rn0, rn1, qi, 1, qNorm, bestApprox, margin, approx);
        mask |= Screen(a20, a21, rn0, rn1, qi, 2, qNorm, bestApprox, margin, approx);
        mask |= Screen(a30, a31, rn0, rn1, qi, 3, qNorm, bestApprox, margin, approx);
        return mask;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Screen(Vector512<double> dot0, Vector512<double> dot1, Vector512<double> rn0, Vector512<double> rn1, int qi, int a,
        double[] qNorm, double[] bestApprox, double[] margin, Span<double> approx)
    {
        var qn = Vector512.Create(qNorm[qi + a]);
        var limit = Vector512.Create(bestApprox[qi + a] + margin[qi + a]);
        var minusTwo = Vector512.Create(-2.0);
        var v0 = Vector512.FusedMultiplyAdd(minusTwo, dot0, qn + rn0);
        var v1 = Vector512.FusedMultiplyAdd(minusTwo, dot1, qn + rn1);
        var bits = Vector512.LessThanOrEqual(v0, limit).ExtractMostSignificantBits()
            | (Vector512.LessThanOrEqual(v1, limit).ExtractMostSignificantBits() << 8);
        if (bits == 0) return 0;
        v0.CopyTo(approx[(a * RefTile)..]);
        v1.CopyTo(approx[(a * RefTile + 8)..]);
        return (ulong)bits << (a * RefTile);
    }
}
