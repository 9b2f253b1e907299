using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Exact squared Euclidean distances Σ_j (q_j − r_j)² for a register tile of 4 queries × 16 references, with the bits of
/// the scalar loop <c>s = 0; for j: { diff = q_j − r_j; s += diff * diff; }</c>: each lane sums the dimensions in order
/// j = 0, 1, …, in double, by a multiply then an add (no fused multiply-add), so every lane is that loop's value for its
/// pair. (q − r)² = (r − q)² exactly, so the subtraction's order does not matter either. The search that uses it
/// (<see cref="AttackRows.KNearestTiledSquared"/>, the k nearest for coordinates the single-precision screening cannot
/// take) reads the sums reference by reference in index order, as the scalar loop does, so its results are
/// bit-identical to that loop's.
/// </summary>
internal static class SquaredDistanceTiles
{
    /// <summary>Queries per tile.</summary>
    public const int QueryTile = 4;

    /// <summary>References per tile (two <see cref="Vector512{T}"/> of doubles).</summary>
    public const int RefTile = 16;

    /// <summary>
    /// The references (row-major, n × <paramref name="d"/>) packed tile after tile for <see cref="Tile"/>:
    /// packed[(t·d + j)·16 + l] = references[(t·16 + l)·d + j], zeros beyond the last row.
    /// </summary>
    public static double[] PackReferences(double[] references, int d)
    {
        var n = references.Length / d;
        var packed = new double[Tiles(n) * d * RefTile];
        for (var r = 0; r < n; r++)
        {
            int t = r / RefTile, l = r % RefTile;
            for (var j = 0; j < d; j++) packed[(((t * d) + j) * RefTile) + l] = references[(r * d) + j];
        }
        return packed;
    }

    /// <summary>The number of reference tiles for <paramref name="n"/> references.</summary>
    public static int Tiles(int n) => (n + RefTile - 1) / RefTile;

    /// <summary>The queries (row-major, m × <paramref name="d"/>) with rows appended, copies of the last, up to a multiple of 4.</summary>
    public static double[] PadQueries(double[] queries, int d)
    {
        var m = queries.Length / d;
        var padded = (m + QueryTile - 1) / QueryTile * QueryTile;
        if (padded == m || m == 0) return queries;
        var q = new double[padded * d];
        queries.AsSpan().CopyTo(q);
        for (var i = m; i < padded; i++) queries.AsSpan((m - 1) * d, d).CopyTo(q.AsSpan(i * d, d));
        return q;
    }

    /// <summary>
    /// sums[k·16 + l] = Σ_j (q_{q0+k, j} − r_{16t+l, j})² for k &lt; 4 and l &lt; 16 (<paramref name="queries"/> padded by
    /// <see cref="PadQueries"/>, <paramref name="packed"/> by <see cref="PackReferences"/>; lanes beyond the last
    /// reference hold the distance to a zero row and must be skipped by the caller).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Tile(double[] queries, int q0, double[] packed, int t, int d, Span<double> sums)
    {
        ref var q = ref queries[q0 * d];
        ref var p = ref packed[t * d * RefTile];
        Vector512<double> a00 = Vector512<double>.Zero, a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (var j = 0; j < d; j++)
        {
            var r0 = Vector512.LoadUnsafe(ref p, (nuint)(j * RefTile));
            var r1 = Vector512.LoadUnsafe(ref p, (nuint)((j * RefTile) + 8));
            var q0v = Vector512.Create(Unsafe.Add(ref q, j));
            var q1v = Vector512.Create(Unsafe.Add(ref q, d + j));
            var q2v = Vector512.Create(Unsafe.Add(ref q, (2 * d) + j));
            var q3v = Vector512.Create(Unsafe.Add(ref q, (3 * d) + j));
            Vector512<double> x;
            x = q0v - r0; a00 += x * x;
            x = q0v - r1; a01 += x * x;
            x = q1v - r0; a10 += x * x;
            x = q1v - r1; a11 += x * x;
            x = q2v - r0; a20 += x * x;
            x = q2v - r1; a21 += x * x;
            x = q3v - r0; a30 += x * x;
            x = q3v - r1; a31 += x * x;
        }
        a00.CopyTo(sums);
        a01.CopyTo(sums[8..]);
        a10.CopyTo(sums[16..]);
        a11.CopyTo(sums[24..]);
        a20.CopyTo(sums[32..]);
        a21.CopyTo(sums[40..]);
        a30.CopyTo(sums[48..]);
        a31.CopyTo(sums[56..]);
    }
}
