using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Exact nearest-neighbour search in Euclidean distance: a <see cref="KdTree"/> for tall sets of few columns, else the
/// screened brute force below (kept as the tree's oracle).
/// </summary>
/// <remarks>
/// <para>Screening: for every query q and reference r, a = ‖q‖² + ‖r‖² − 2 q·r is computed in single precision, in
/// 4-query × 16-reference register tiles of <see cref="Vector512{T}"/> fused multiply-adds. Its rounding error
/// (inputs rounded to float, the norms, the dot product) is bounded by ε(q, r) = κ·(‖q‖² + ‖r‖²) + η with
/// κ = 2(D + 12)·2⁻²⁴, and η = 2⁻¹⁰⁰ for what underflow to float's subnormals loses at rows of tiny norm.</para>
/// <para>Decision: every reference with a ≤ B + ε(q, r), where B is the k-th smallest a + ε among the references
/// re-measured so far for the query, is re-measured exactly in double as Σ (q_d − r_d)², and the k smallest exact values
/// are the answer. A reference r left out had a_r − ε_r &gt; B, so k re-measured references b have e_b ≤ a_b + ε_b ≤ B &lt;
/// e_r: r is not among the k nearest (nor tied with the nearest), so the k smallest values and the lowest row at the
/// smallest are those of a scan over every reference, whatever the screening's rounding.</para>
/// <para>The single-precision screening needs coordinates whose squares neither overflow float nor lose their error bound:
/// finite and within ±2⁵⁰ (<see cref="KdTree.Moderate"/>); other sets take the double tiles
/// (<see cref="AttackRows.KNearestTiledSquared"/>), exact too.</para>
/// <para>Determinism: queries are split into row blocks across threads and each query visits the references in
/// index order, so the result does not depend on the degree of parallelism.</para>
/// </remarks>
public static class NearestNeighbors
{
    private const int QueryTile = 4;
    private const int RefTile = 16;
    private const int RefChunk = 1024;
    private const int QueryBlock = 64;
    private const float Eta = 7.888609e-31f; // 2⁻¹⁰⁰

    /// <summary>
    /// For each of the m rows of <paramref name="queries"/> (row-major, m × <paramref name="dimension"/>), the Euclidean
    /// distance to the nearest of the rows of <paramref name="references"/> (row-major, n × dimension).
    /// Returns +∞ for every query when there are no references. <paramref name="maxDegreeOfParallelism"/> −1 uses all cores.
    /// Non-finite coordinates are not supported (the evaluator rejects them before).
    /// </summary>
    /// <remarks>Tall sets of few columns (<see cref="KdTree.Pays"/>) are searched by a <see cref="KdTree"/>, which returns
    /// the same bits as the brute force (<see cref="NearestDistancesBruteForce"/>) in about n log n instead of m × n.</remarks>
    public static double[] NearestDistances(double[] queries, double[] references, int dimension, int maxDegreeOfParallelism = -1)
    {
        var (m, n) = RowCounts(queries, references, dimension);
        if (n == 0) return Infinite(m);
        var (squared, _) = KNearestSquared(queries, references, dimension, 1, null, maxDegreeOfParallelism);
        for (var i = 0; i < squared.Length; i++) squared[i] = Math.Sqrt(squared[i]);
        return squared;
    }

    /// <summary>
    /// <see cref="NearestDistances"/> by the screened brute force over every reference (the class remarks): its path for
    /// small or wide sets, and the oracle of the kd-tree's bits (tests).
    /// </summary>
    internal static double[] NearestDistancesBruteForce(double[] queries, double[] references, int dimension, int maxDegreeOfParallelism = -1)
    {
        var (m, n) = RowCounts(queries, references, dimension);
        if (n == 0) return Infinite(m);
        var (squared, _) = KNearestSquaredBruteForce(queries, references, dimension, 1, null, maxDegreeOfParallelism);
        for (var i = 0; i < squared.Length; i++) squared[i] = Math.Sqrt(squared[i]);
        return squared;
    }

    private static double[] Infinite(int m)
    {
        var result = new double[m];
        Array.Fill(result, double.PositiveInfinity);
        return result;
    }

    /// <summary>
    /// For each query, the <paramref name="k"/> smallest squared distances Σ_d (q_d − r_d)² to the references (row-major
    /// m × k, ascending; +∞ beyond the references there are), and the row of the nearest (ties: the lowest row; 0 when
    /// none). <paramref name="skip"/>[q], when given, is a reference row left out for query q. The same bits as
    /// <see cref="AttackRows.KNearestReference"/>'s squares: by a <see cref="KdTree"/> where it pays
    /// (<see cref="KdTree.Pays"/>), else by the screened brute force.
    /// </summary>
    internal static (double[] Squared, int[] Nearest) KNearestSquared(double[] queries, double[] references, int dimension, int k,
        int[]? skip = null, int maxDegreeOfParallelism = -1)
    {
        RowCounts(queries, references, dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (KdTree.Pays(queries, references, dimension, KdTree.BruteForce.Screened)) return KdTree.Build(references, dimension).Query(queries, k, skip, maxDegreeOfParallelism);
        return KNearestSquaredBruteForce(queries, references, dimension, k, skip, maxDegreeOfParallelism);
    }

    /// <summary><see cref="KNearestSquared"/> over every reference: the single-precision screening then the exact re-measure
    /// (the class remarks) for moderate coordinates, else the double tiles. The oracle of the tree's bits (tests).</summary>
    internal static (double[] Squared, int[] Nearest) KNearestSquaredBruteForce(double[] queries, double[] references, int dimension, int k,
        int[]? skip = null, int maxDegreeOfParallelism = -1)
    {
        var (m, n) = RowCounts(queries, references, dimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var squared = new double[m * k];
        var nearest = new int[m];
        Array.Fill(squared, double.PositiveInfinity);
        if (m == 0 || n == 0) return (squared, nearest);
        if (!KdTree.Moderate(queries) || !KdTree.Moderate(references))
            return AttackRows.KNearestTiledSquared(queries, references, dimension, k, skip, maxDegreeOfParallelism);
        var (rt, rNorm, nPad) = Pack(references, dimension);
        var kappa = Kappa(dimension);
        var blocks = (m + QueryBlock - 1) / QueryBlock;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, blocks, options, b =>
        {
            var start = b * QueryBlock;
            var end = Math.Min(m, start + QueryBlock);
            SearchBlock(queries, references, dimension, n, nPad, rt, rNorm, kappa, k, skip, start, end, squared, nearest);
        });
        return (squared, nearest);
    }

    // the references transposed in single precision, rt[d·nPad + j], and their squared norms; padding up to a whole
    // tile has norm +∞ (never a candidate)
    private static (float[] Rt, float[] Norm, int NPad) Pack(double[] references, int dimension)
    {
        var n = references.Length / dimension;
        var nPad = (n + RefTile - 1) / RefTile * RefTile;
        var rt = new float[dimension * nPad];
        var rNorm = new float[nPad];
        for (var j = 0; j < n; j++)
        {
            double s = 0;
            for (var d = 0; d < dimension; d++)
            {
                var v = (float)references[j * dimension + d];
                rt[d * nPad + j] = v;
                s += (double)v * v;
            }
            rNorm[j] = (float)s;
        }
        for (var j = n; j < nPad; j++) rNorm[j] = float.PositiveInfinity;
        return (rt, rNorm, nPad);
    }

    // κ = 2(D + 12)·2⁻²⁴ of the screening's error bound (the class remarks)
    private static float Kappa(int dimension) => (float)(2.0 * (dimension + 12) * Math.Pow(2, -24));

    /// <summary>
    /// Each row's nearest squared distance in both directions between <paramref name="a"/> (m rows) and
    /// <paramref name="b"/> (n rows), row-major with <paramref name="dimension"/> columns: a→b (m values) and b→a
    /// (n values), each the smallest Σ_d (x_d − y_d)² over the other set (+∞ when it is empty), the same bits as
    /// <see cref="KNearestSquared"/> in each direction, from one pass over the pairs when both directions would take the
    /// screened brute force (each pair's a and exact value serve both: (x − y)² = (y − x)² exactly).
    /// </summary>
    /// <remarks>The a rows are the queries, in blocks across threads; each thread keeps, per b row, the screening bound
    /// and smallest exact value of the pairs it has seen, and the b→a answer is the smallest over the threads: a minimum,
    /// whatever the order the threads finish in. Each side's screening is the class remarks' (a pair is re-measured when
    /// it passes either side's test), so every pair that can be either row's nearest is measured.</remarks>
    internal static (double[] AToB, double[] BToA) MutualNearestSquared(double[] a, double[] b, int dimension, int maxDegreeOfParallelism = -1)
    {
        var (m, n) = RowCounts(a, b, dimension);
        if (m == 0 || n == 0 || KdTree.Pays(a, b, dimension, KdTree.BruteForce.Screened) || KdTree.Pays(b, a, dimension, KdTree.BruteForce.Screened)
            || !KdTree.Moderate(a) || !KdTree.Moderate(b))
        {
            return (KNearestSquared(a, b, dimension, 1, null, maxDegreeOfParallelism).Squared,
                KNearestSquared(b, a, dimension, 1, null, maxDegreeOfParallelism).Squared);
        }
        // the smaller set is the references: each worker keeps a bound and a best value per reference row
        if (n > m)
        {
            var (bToA, aToB) = Mutual(b, a, dimension, self: false, maxDegreeOfParallelism);
            return (aToB, bToA);
        }
        return Mutual(a, b, dimension, self: false, maxDegreeOfParallelism);
    }

    /// <summary>
    /// Each row's nearest squared distance to the other rows of <paramref name="rows"/> (leave-one-out; +∞ for a single
    /// row): the same bits as <see cref="KNearestSquared"/> with each row's own row left out, from one pass over each
    /// unordered pair (half the pairs) when the screened brute force would search it.
    /// </summary>
    internal static double[] SelfNearestSquared(double[] rows, int dimension, int maxDegreeOfParallelism = -1)
    {
        var (n, _) = RowCounts(rows, rows, dimension);
        if (n < 2 || KdTree.Pays(rows, rows, dimension, KdTree.BruteForce.Screened) || !KdTree.Moderate(rows))
        {
            var skip = new int[n];
            for (var i = 0; i < n; i++) skip[i] = i;
            return KNearestSquared(rows, rows, dimension, 1, skip, maxDegreeOfParallelism).Squared;
        }
        return Mutual(rows, rows, dimension, self: true, maxDegreeOfParallelism).AToB;
    }

    // MutualNearestSquared's pass; self: a and b are the same rows, each query block measures only the b rows from its own
    // first row on (skipping each row itself), and a row's answer is the smaller of its two sides
    private static (double[] AToB, double[] BToA) Mutual(double[] a, double[] b, int dimension, bool self, int maxDegreeOfParallelism)
    {
        int m = a.Length / dimension, n = b.Length / dimension;
        var (rt, rNorm, nPad) = Pack(b, dimension);
        var kappa = Kappa(dimension);
        var aToB = new double[m];
        var bToA = new double[n];
        Array.Fill(bToA, double.PositiveInfinity);
        var blocks = (m + QueryBlock - 1) / QueryBlock;
        // a fixed number of workers, each with its own reference-side state, take every workers-th query block (interleaved,
        // as the leave-one-out blocks shrink): a worker that has seen many queries has tight bounds for the references (a
        // task per block would start cold every time)
        var workers = Math.Min(blocks, maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount);
        var columns = new (float[] Bound, double[] Best)[workers];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            var column = (Bound: NewFilled(nPad, float.PositiveInfinity), Best: NewFilled(n, double.PositiveInfinity));
            for (var block = w; block < blocks; block += workers)
            {
                var start = block * QueryBlock;
                var end = Math.Min(m, start + QueryBlock);
                MutualBlock(a, b, dimension, n, nPad, rt, rNorm, kappa, self, start, end, aToB, column.Bound, column.Best);
            }
            columns[w] = column;
        });
        // each reference's answer: the smallest over the workers (a minimum, whichever worker saw which queries)
        foreach (var column in columns)
        {
            for (var j = 0; j < n; j++) bToA[j] = Math.Min(bToA[j], column.Best[j]);
        }
        if (self)
        {
            for (var i = 0; i < m; i++) aToB[i] = Math.Min(aToB[i], bToA[i]);
        }
        return (aToB, bToA);
    }

    private static T[] NewFilled<T>(int length, T value)
    {
        var array = new T[length];
        Array.Fill(array, value);
        return array;
    }

    // a block's queries [start, end) in single precision, padded to q's rows by repeating the last query, and their
    // squared norms (summed in double, rounded once)
    private static void PackQueries(double[] queries, int dim, int start, int end, float[] q, float[] qNorm)
    {
        for (var i = 0; i < qNorm.Length; i++)
        {
            var src = Math.Min(start + i, end - 1);
            double s = 0;
            for (var d = 0; d < dim; d++)
            {
                var v = (float)queries[src * dim + d];
                q[i * dim + d] = v;
                s += (double)v * v;
            }

            qNorm[i] = (float)s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MutualBlock(double[] queries, double[] references, int dim, int n, int nPad, float[] rt, float[] rNorm, float kappa,
        bool self, int start, int end, double[] rowResult, float[] colBound, double[] colBest)
    {
        var count = end - start;
        var padded = (count + QueryTile - 1) / QueryTile * QueryTile;
        var q = new float[padded * dim];
        var qNorm = new float[padded];
        var bound = new float[padded];
        var best = new double[padded];
        PackQueries(queries, dim, start, end, q, qNorm);
        Array.Fill(bound, float.PositiveInfinity);
        Array.Fill(best, double.PositiveInfinity);

        Span<float> screened = stackalloc float[QueryTile * RefTile];
        var first = self ? start / RefTile * RefTile : 0;
        for (var c0 = first; c0 < nPad; c0 += RefChunk)
        {
            var c1 = Math.Min(nPad, c0 + RefChunk);
            for (var qi = 0; qi < padded; qi += QueryTile)
            {
                for (var j0 = c0; j0 < c1; j0 += RefTile)
                {
                    var mask = TileMutual(q, qi, dim, rt, rNorm, nPad, j0, qNorm, bound, colBound, kappa, screened);
                    while (mask != 0)
                    {
                        var bit = BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        int row = qi + bit / RefTile, j = j0 + bit % RefTile;
                        var query = start + row;
                        // padded rows repeat the last query: not measured for the columns
                        if (j >= n || query >= end || (self && j == query)) continue;
                        var a = screened[bit];
                        var eps = kappa * (qNorm[row] + rNorm[j]) + Eta;
                        if (!(a <= bound[row] + eps) && !(a <= colBound[j] + eps)) continue;
                        var exact = Exact(queries, query * dim, references, j * dim, dim);
                        // either side may keep any measured pair: its value is exact and its a + ε bounds it
                        if (exact < best[row]) best[row] = exact;
                        if (a + eps < bound[row]) bound[row] = a + eps;
                        if (exact < colBest[j]) colBest[j] = exact;
                        if (a + eps < colBound[j]) colBound[j] = a + eps;
                    }
                }
            }
        }
        for (var i = 0; i < count; i++) rowResult[start + i] = best[i];
    }

    /// <summary><see cref="Tile"/> with a second test per entry against the reference's own bound (the b→a side).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong TileMutual(float[] q, int qi, int dim, float[] rt, float[] rNorm, int nPad, int j0, float[] qNorm,
        float[] bound, float[] colBound, float kappa, Span<float> screened)
    {
        TileDots(q, qi, dim, rt, nPad, j0, out var a0, out var a1, out var a2, out var a3);
        var rn = Vector512.LoadUnsafe(ref rNorm[0], (nuint)j0);
        var cb = Vector512.LoadUnsafe(ref colBound[0], (nuint)j0) + Vector512.Create(Eta);
        var k = Vector512.Create(kappa);
        return ScreenMutual(a0, rn, cb, k, qi, 0, qNorm, bound, screened)
            | ScreenMutual(a1, rn, cb, k, qi, 1, qNorm, bound, screened)
            | ScreenMutual(a2, rn, cb, k, qi, 2, qNorm, bound, screened)
            | ScreenMutual(a3, rn, cb, k, qi, 3, qNorm, bound, screened);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ScreenMutual(Vector512<float> dot, Vector512<float> rn, Vector512<float> colBound, Vector512<float> kappa, int qi, int row,
        float[] qNorm, float[] bound, Span<float> screened)
    {
        var sum = Vector512.Create(qNorm[qi + row]) + rn;
        var a = Vector512.FusedMultiplyAdd(Vector512.Create(-2f), dot, sum);
        var rowLimit = Vector512.FusedMultiplyAdd(kappa, sum, Vector512.Create(bound[qi + row] + Eta));
        var colLimit = Vector512.FusedMultiplyAdd(kappa, sum, colBound);
        var bits = (Vector512.LessThanOrEqual(a, rowLimit) | Vector512.LessThanOrEqual(a, colLimit)).ExtractMostSignificantBits();
        if (bits == 0) return 0;
        a.CopyTo(screened[(row * RefTile)..]);
        return bits << (row * RefTile);
    }

    /// <summary>
    /// The row counts (m, n) of row-major <paramref name="queries"/> and <paramref name="references"/> of
    /// <paramref name="dimension"/> columns, checking that both are whole rows: the argument checks of this folder's
    /// query-against-reference metrics.
    /// </summary>
    internal static (int Queries, int References) RowCounts(double[] queries, double[] references, int dimension)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (queries.Length % dimension != 0) throw new ArgumentException("length is not a multiple of dimension", nameof(queries));
        if (references.Length % dimension != 0) throw new ArgumentException("length is not a multiple of dimension", nameof(references));
        return (queries.Length / dimension, references.Length / dimension);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SearchBlock(double[] queries, double[] references, int dim, int n, int nPad, float[] rt, float[] rNorm,
        float kappa, int k, int[]? skip, int start, int end, double[] squared, int[] nearest)
    {
        var count = end - start;
        var padded = (count + QueryTile - 1) / QueryTile * QueryTile;
        // the block's queries in single precision, padded by repeating the last query
        var q = new float[padded * dim];
        var qNorm = new float[padded];
        var bound = new float[padded];          // B: the k-th smallest a + ε re-measured so far
        var screens = new float[padded * k];    // the k smallest a + ε re-measured so far, ascending
        var best = new double[padded * k];      // the k smallest exact values, ascending
        var near = new int[padded];
        PackQueries(queries, dim, start, end, q, qNorm);
        Array.Fill(bound, float.PositiveInfinity);
        Array.Fill(screens, float.PositiveInfinity);
        Array.Fill(best, double.PositiveInfinity);

        Span<float> screened = stackalloc float[QueryTile * RefTile];
        for (var c0 = 0; c0 < nPad; c0 += RefChunk)
        {
            var c1 = Math.Min(nPad, c0 + RefChunk);
            for (var qi = 0; qi < padded; qi += QueryTile)
            {
                for (var j0 = c0; j0 < c1; j0 += RefTile)
                {
                    var mask = Tile(q, qi, dim, rt, rNorm, nPad, j0, qNorm, bound, kappa, screened);
                    while (mask != 0)
                    {
                        var bit = BitOperations.TrailingZeroCount(mask);
                        mask &= mask - 1;
                        int row = qi + bit / RefTile, j = j0 + bit % RefTile;
                        if (j >= n) continue;
                        var query = Math.Min(start + row, end - 1);
                        if (skip is not null && skip[query] == j) continue;
                        var a = screened[bit];
                        var eps = kappa * (qNorm[row] + rNorm[j]) + Eta;
                        if (!(a <= bound[row] + eps)) continue;
                        var exact = Exact(queries, query * dim, references, j * dim, dim);
                        // references come in index order: a strictly smaller value keeps the lowest row at the smallest
                        if (exact < best[row * k]) near[row] = j;
                        Insert(best.AsSpan(row * k, k), exact);
                        var screen = screens.AsSpan(row * k, k);
                        Insert(screen, a + eps);
                        bound[row] = screen[k - 1];
                    }
                }
            }
        }
        for (var i = 0; i < count; i++)
        {
            best.AsSpan(i * k, k).CopyTo(squared.AsSpan((start + i) * k, k));
            nearest[start + i] = near[i];
        }
    }

    // puts value among the sorted k smallest (ascending), dropping the largest; equal values keep their order
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Insert<T>(Span<T> sorted, T value) where T : INumber<T>
    {
        var k = sorted.Length;
        if (value >= sorted[k - 1]) return;
        var pos = k - 1;
        while (pos > 0 && sorted[pos - 1] > value)
        {
            sorted[pos] = sorted[pos - 1];
            pos--;
        }
        sorted[pos] = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Exact(double[] a, int offsetA, double[] b, int offsetB, int dim)
    {
        double s = 0;
        for (var d = 0; d < dim; d++)
        {
            var diff = a[offsetA + d] - b[offsetB + d];
            s += diff * diff;
        }
        return s;
    }

    /// <summary>
    /// Screens a 4 × 16 tile: screened[k·16 + l] = ‖q‖² + ‖r‖² − 2 q[qi + k]·r[j0 + l] in single precision; returns a bit
    /// mask (bit k·16 + l) of the entries with a ≤ B + ε(q, r).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong Tile(float[] q, int qi, int dim, float[] rt, float[] rNorm, int nPad, int j0, float[] qNorm,
        float[] bound, float kappa, Span<float> screened)
    {
        TileDots(q, qi, dim, rt, nPad, j0, out var a0, out var a1, out var a2, out var a3);
        var rn = Vector512.LoadUnsafe(ref rNorm[0], (nuint)j0);
        var k = Vector512.Create(kappa);
        return Screen(a0, rn, k, qi, 0, qNorm, bound, screened)
            | Screen(a1, rn, k, qi, 1, qNorm, bound, screened)
            | Screen(a2, rn, k, qi, 2, qNorm, bound, screened)
            | Screen(a3, rn, k, qi, 3, qNorm, bound, screened);
    }

    // the dot products of the 4 queries qi..qi+3 with the 16 references j0..j0+15 (references stored by column, nPad
    // apart), fused multiply-adds over d ascending: the one accumulation of Tile and TileMutual
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileDots(float[] q, int qi, int dim, float[] rt, int nPad, int j0,
        out Vector512<float> a0, out Vector512<float> a1, out Vector512<float> a2, out Vector512<float> a3)
    {
        a0 = a1 = a2 = a3 = Vector512<float>.Zero;
        ref var qRef = ref q[qi * dim];
        ref var rRef = ref rt[0];
        for (var d = 0; d < dim; d++)
        {
            var r = Vector512.LoadUnsafe(ref rRef, (nuint)(d * nPad + j0));
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref qRef, d)), r, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref qRef, dim + d)), r, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref qRef, 2 * dim + d)), r, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref qRef, 3 * dim + d)), r, a3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Screen(Vector512<float> dot, Vector512<float> rn, Vector512<float> kappa, int qi, int row,
        float[] qNorm, float[] bound, Span<float> screened)
    {
        var sum = Vector512.Create(qNorm[qi + row]) + rn;
        var a = Vector512.FusedMultiplyAdd(Vector512.Create(-2f), dot, sum);
        var limit = Vector512.FusedMultiplyAdd(kappa, sum, Vector512.Create(bound[qi + row] + Eta));
        var bits = Vector512.LessThanOrEqual(a, limit).ExtractMostSignificantBits();
        if (bits == 0) return 0;
        a.CopyTo(screened[(row * RefTile)..]);
        return bits << (row * RefTile);
    }
}
