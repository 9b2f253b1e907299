using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Exact k-nearest-neighbour search in Euclidean distance by a kd-tree (Friedman, Bentley &amp; Finkel 1977, "An
/// algorithm for finding best matches in logarithmic expected time", ACM TOMS 3(3)): each node splits its points at the
/// median of the dimension where they spread widest, leaves hold up to <see cref="DefaultLeafSize"/> points, and a query
/// visits the nearer child first and skips a node whose bounding box lies farther than the k-th best distance so far.
/// </summary>
/// <remarks>
/// <para>Bits: the squared distance of a query q to a reference r is Σ_d (q_d − r_d)², summed in double over d = 0, 1, …
/// by a multiply then an add (no fused multiply-add), the formula of every brute-force search of this folder
/// (<see cref="NearestNeighbors"/>' exact re-measure, <see cref="SquaredDistanceTiles"/>, the scalar oracles). The k
/// smallest of those values form a multiset that does not depend on the order the references are visited in, so the
/// tree returns the same bits as the brute force; the nearest reference's index is the lowest among those at the
/// smallest value, as a scan in index order keeps it.</para>
/// <para>Pruning is exact, not approximate: a node's bound is Σ_d g_d² over the same dimension order, with
/// g_d = q_d − lo_d below its tight box, q_d − hi_d above it, 0 inside, computed by the same floating-point operations.
/// Rounding is monotone, so for every point r of the box |fl(q_d − r_d)| ≥ |fl(g_d)|, each rounded square and each
/// rounded partial sum is at least the bound's: the computed bound never exceeds the computed distance of any point in
/// the box. A node is skipped only when its bound is strictly greater than the k-th best distance, so no reference
/// that the brute force would count (a smaller value, or an equal one with a lower index) is ever left out.</para>
/// <para>Finite coordinates only: the callers check them (<see cref="Pays"/>) and keep the brute force otherwise.</para>
/// </remarks>
internal sealed class KdTree
{
    /// <summary>The brute-force search a tree search would replace (<see cref="Pays"/>).</summary>
    public enum BruteForce
    {
        /// <summary><see cref="NearestNeighbors"/>' single-precision screening of 4 queries × 16 references, then the exact
        /// re-measure (the k nearest, the nearest-neighbour ratios).</summary>
        Screened,

        /// <summary>Every row's nearest other row by the screened search, then a sort (<see cref="AttackRows.MostIsolatedBruteForce"/>).</summary>
        Isolation,
    }

    /// <summary>The most points in a leaf by default (a leaf is scanned by brute force, 8 points to a vector).</summary>
    public const int DefaultLeafSize = 32;

    // coordinates beyond ±2⁵⁰ go to the brute force: their squares cannot overflow anywhere here nor in the float screening
    private const double CoordinateLimit = 1125899906842624.0;

    private readonly int _dim;
    private readonly int[] _row;        // (n): each tree-order point's row in the references
    private readonly double[] _lo;      // (nodes, D): the tight bounding box of each node's points
    private readonly double[] _hi;
    private readonly int[] _start;      // (nodes): node i holds the points [start, end) in tree order
    private readonly int[] _end;
    private readonly int[] _right;      // (nodes): the right child (the left one is i + 1), −1 for a leaf
    private readonly int[] _packedAt;   // (nodes): a leaf's offset in _packed
    private readonly double[] _packed;  // each leaf's points by dimension: packed[at + j·L + l] = x_{start + l, j}, L its count rounded up to 8
    private readonly int _depth;
    private readonly int _maxLeaf;

    // points: (n, D), the references in tree order
    private KdTree(int dim, double[] points, int[] row, double[] lo, double[] hi, int[] start, int[] end, int[] right, int depth)
    {
        // leaves by dimension, so that one vector holds a coordinate of 8 points (zeros beyond the last)
        var nodes = start.Length;
        _packedAt = new int[nodes];
        var total = 0;
        for (var i = 0; i < nodes; i++)
        {
            if (right[i] >= 0) continue;
            _packedAt[i] = total;
            total += Lanes(end[i] - start[i]) * dim;
        }
        _packed = new double[total];
        for (var i = 0; i < nodes; i++)
        {
            if (right[i] < 0) _maxLeaf = Math.Max(_maxLeaf, end[i] - start[i]);
        }
        for (var i = 0; i < nodes; i++)
        {
            if (right[i] >= 0) continue;
            var lanes = Lanes(end[i] - start[i]);
            for (var l = 0; l < end[i] - start[i]; l++)
            {
                for (var j = 0; j < dim; j++) _packed[_packedAt[i] + (j * lanes) + l] = points[((start[i] + l) * dim) + j];
            }
        }
        _dim = dim;
        _row = row;
        _lo = lo;
        _hi = hi;
        _start = start;
        _end = end;
        _right = right;
        _depth = depth;
    }

    /// <summary>The number of reference rows.</summary>
    public int Count => _row.Length;

    /// <summary>
    /// Whether the tree is used instead of <paramref name="rival"/> for <paramref name="references"/> rows of
    /// <paramref name="dimension"/> columns: where it was measured faster (README Performance, Tall data; 5,000 queries on
    /// correlated Student-t rows, 2 shared cores), and only when every coordinate of both sets is finite and within ±2⁵⁰.
    /// The nearest-neighbour radius grows with the dimension until no box is far enough to skip: at d = 8 and 10 the
    /// single-precision screening stays ahead of the tree up to 160,000 references, for the nearest 1 and 2 alike.
    /// </summary>
    public static bool Pays(double[] queries, double[] references, int dimension, BruteForce rival)
    {
        var n = references.Length / dimension;
        var faster = rival switch
        {
            // the k nearest (k = 1, 2, or 1 leaving out the query's own row): at d = 6 the tree took 0.7–0.9 of the
            // screening's time at 65,536 and 160,000 references (1.0–1.4 at 16,384); at d = 8 1.5–2.3×, at d = 10 2.4–3.6× as long
            BruteForce.Screened => dimension <= 6 && n >= 65536,
            // the cut-off search measures few rows: 0.2–0.7 of the screened brute force's time from 3,204 rows at every
            // dimension measured (10 to 500), 0.5–0.9 at 1,024 from 16 columns on
            BruteForce.Isolation => n >= 1024,
            _ => throw new ArgumentOutOfRangeException(nameof(rival)),
        };
        return faster && Moderate(queries) && Moderate(references);
    }

    /// <summary>Whether every value is finite and within ±2⁵⁰ (the tree's and the single-precision screening's domain).</summary>
    internal static bool Moderate(double[] values)
    {
        foreach (var v in values)
        {
            if (!(Math.Abs(v) <= CoordinateLimit)) return false; // NaN fails too
        }
        return true;
    }

    private static int Lanes(int count) => (count + 7) / 8 * 8;

    /// <summary>Builds the tree of the rows of <paramref name="references"/> (row-major, n × <paramref name="dimension"/>)
    /// with leaves of at most <paramref name="leafSize"/> points.</summary>
    public static KdTree Build(double[] references, int dimension, int leafSize = DefaultLeafSize)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        ArgumentOutOfRangeException.ThrowIfLessThan(leafSize, 2);
        var n = references.Length / dimension;
        var perm = new int[n];
        for (var i = 0; i < n; i++) perm[i] = i;
        // a binary tree with leaves of at least leafSize/2 points has fewer than 4n/leafSize + 1 nodes
        var capacity = (4 * n / (leafSize / 2 * 2)) + 2;
        var b = new Builder(references, dimension, perm, capacity, leafSize);
        if (n > 0) b.Split(0, n, 0);
        var points = new double[n * dimension];
        for (var p = 0; p < n; p++) Array.Copy(references, perm[p] * dimension, points, p * dimension, dimension);
        var nodes = b.Nodes;
        return new KdTree(dimension, points, perm, b.Lo[..(nodes * dimension)], b.Hi[..(nodes * dimension)], b.Start[..nodes],
            b.End[..nodes], b.Right[..nodes], b.Depth);
    }

    private sealed class Builder(double[] x, int d, int[] perm, int capacity, int leafSize)
    {
        public double[] Lo = new double[capacity * d];
        public double[] Hi = new double[capacity * d];
        public int[] Start = new int[capacity];
        public int[] End = new int[capacity];
        public int[] Right = new int[capacity];
        public int Nodes;
        public int Depth;

        // node for perm[start..end); returns its number (preorder: the left child is the next one)
        public int Split(int start, int end, int depth)
        {
            var node = Nodes++;
            Depth = Math.Max(Depth, depth + 1);
            Start[node] = start;
            End[node] = end;
            Right[node] = -1;
            var lo = Lo.AsSpan(node * d, d);
            var hi = Hi.AsSpan(node * d, d);
            lo.Fill(double.PositiveInfinity);
            hi.Fill(double.NegativeInfinity);
            for (var p = start; p < end; p++)
            {
                var row = x.AsSpan(perm[p] * d, d);
                for (var j = 0; j < d; j++)
                {
                    if (row[j] < lo[j]) lo[j] = row[j];
                    if (row[j] > hi[j]) hi[j] = row[j];
                }
            }
            if (end - start <= leafSize) return node;
            // the widest-spread dimension (the first of equals)
            int axis = 0;
            var spread = hi[0] - lo[0];
            for (var j = 1; j < d; j++)
            {
                if (hi[j] - lo[j] > spread)
                {
                    spread = hi[j] - lo[j];
                    axis = j;
                }
            }
            // all points equal: split by position all the same, so that no leaf holds more than leafSize
            var mid = start + ((end - start) / 2);
            if (spread > 0) Select(start, end - 1, mid, axis);
            Split(start, mid, depth + 1);
            Right[node] = Split(mid, end, depth + 1);
            return node;
        }

        // Hoare's FIND (Wirth's form): reorders perm[lo..hi] so that perm[k] holds the k-th smallest key, keys of perm[lo..k)
        // at most it and of perm(k..hi] at least it; deterministic (the middle element is the pivot)
        private void Select(int lo, int hi, int k, int axis)
        {
            while (lo < hi)
            {
                var pivot = x[(perm[k] * d) + axis];
                int i = lo, j = hi;
                do
                {
                    while (x[(perm[i] * d) + axis] < pivot) i++;
                    while (pivot < x[(perm[j] * d) + axis]) j--;
                    if (i <= j)
                    {
                        (perm[i], perm[j]) = (perm[j], perm[i]);
                        i++;
                        j--;
                    }
                } while (i <= j);
                if (j < k) lo = i;
                if (k < i) hi = j;
            }
        }
    }

    /// <summary>
    /// The k = best.Length smallest squared distances from <paramref name="query"/> (<c>D</c> values) to the
    /// references, ascending, into <paramref name="best"/> (+∞ where there are fewer than k), leaving out the reference
    /// row <paramref name="skip"/> (−1: none; only that row, not rows equal to it). Returns the row of the nearest
    /// reference, the lowest row at the smallest value (0 when none is finite). <paramref name="stackNode"/> and
    /// <paramref name="stackBound"/> need <see cref="StackLength"/> entries. With <paramref name="stopBelow"/>, the search
    /// stops and returns −1 as soon as √best[k − 1] &lt; stopBelow (<paramref name="best"/> then holds values found so
    /// far, not the answer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Search(ReadOnlySpan<double> query, int skip, Span<double> best, Span<int> stackNode, Span<double> stackBound,
        double stopBelow = double.NegativeInfinity)
    {
        var k = best.Length;
        Span<double> sums = stackalloc double[Lanes(_maxLeaf)];
        best.Fill(double.PositiveInfinity);
        var nearest = 0;
        if (_row.Length == 0) return nearest;
        var top = 0;
        stackNode[0] = 0;
        stackBound[0] = Bound(query, 0);
        top = 1;
        while (top > 0)
        {
            top--;
            var node = stackNode[top];
            if (stackBound[top] > best[k - 1]) continue;
            var right = _right[node];
            if (right < 0)
            {
                var start = _start[node];
                var count = _end[node] - start;
                LeafSums(query, node, count, sums);
                for (var l = 0; l < count; l++)
                {
                    var row = _row[start + l];
                    if (row == skip) continue;
                    var s = sums[l];
                    if (s < best[0] || (s == best[0] && row < nearest)) nearest = row;
                    if (s >= best[k - 1]) continue;
                    var pos = k - 1;
                    while (pos > 0 && best[pos - 1] > s)
                    {
                        best[pos] = best[pos - 1];
                        pos--;
                    }
                    best[pos] = s;
                }
                if (Math.Sqrt(best[k - 1]) < stopBelow) return -1;
                continue;
            }
            var left = node + 1;
            var boundLeft = Bound(query, left);
            var boundRight = Bound(query, right);
            // the nearer child on top of the stack, visited first
            if (boundLeft <= boundRight)
            {
                if (!(boundRight > best[k - 1])) { stackNode[top] = right; stackBound[top++] = boundRight; }
                if (!(boundLeft > best[k - 1])) { stackNode[top] = left; stackBound[top++] = boundLeft; }
            }
            else
            {
                if (!(boundLeft > best[k - 1])) { stackNode[top] = left; stackBound[top++] = boundLeft; }
                if (!(boundRight > best[k - 1])) { stackNode[top] = right; stackBound[top++] = boundRight; }
            }
        }
        return nearest;
    }

    // sums[l] = Σ_j (q_j − x_{start + l, j})² for the leaf's points, 8 at a time: per lane the scalar loop's multiply and add in
    // order j = 0, 1, … (no fused multiply-add), so each sum has the scalar loop's bits (as SquaredDistanceTiles)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LeafSums(ReadOnlySpan<double> query, int node, int count, Span<double> sums)
    {
        var d = _dim;
        var lanes = Lanes(count);
        ref var p = ref _packed[_packedAt[node]];
        var v = 0;
        for (; v + 16 <= lanes; v += 16)
        {
            Vector512<double> a0 = Vector512<double>.Zero, a1 = a0;
            for (var j = 0; j < d; j++)
            {
                var q = Vector512.Create(query[j]);
                var x0 = q - Vector512.LoadUnsafe(ref p, (nuint)((j * lanes) + v));
                var x1 = q - Vector512.LoadUnsafe(ref p, (nuint)((j * lanes) + v + 8));
                a0 += x0 * x0;
                a1 += x1 * x1;
            }
            a0.CopyTo(sums[v..]);
            a1.CopyTo(sums[(v + 8)..]);
        }
        if (v < lanes)
        {
            var a0 = Vector512<double>.Zero;
            for (var j = 0; j < d; j++)
            {
                var x0 = Vector512.Create(query[j]) - Vector512.LoadUnsafe(ref p, (nuint)((j * lanes) + v));
                a0 += x0 * x0;
            }
            a0.CopyTo(sums[v..]);
        }
    }

    /// <summary>The stack entries <see cref="Search"/> needs: each level leaves at most one sibling behind, plus two.</summary>
    public int StackLength => _depth + 2;

    // Σ_d g_d² with g_d the query's offset from node's box along d (0 inside): never above the computed distance of a point in the box
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private double Bound(ReadOnlySpan<double> query, int node)
    {
        var d = _dim;
        var lo = _lo.AsSpan(node * d, d);
        var hi = _hi.AsSpan(node * d, d);
        double s = 0;
        for (var j = 0; j < d; j++)
        {
            var q = query[j];
            double g = 0;
            if (q < lo[j]) g = q - lo[j];
            else if (q > hi[j]) g = q - hi[j];
            s += g * g;
        }
        return s;
    }

    /// <summary>
    /// For each of the m rows of <paramref name="queries"/> (row-major, m × D), the <paramref name="k"/> smallest squared
    /// distances to the tree's references, ascending (row-major m × k), and the row of the nearest (ties: the lowest
    /// row). <paramref name="skip"/>[q], when given, is a reference row to leave out for query q. Queries are split
    /// into blocks across threads and each is answered alone, so the result does not depend on the thread count.
    /// </summary>
    public (double[] Squared, int[] Nearest) Query(double[] queries, int k, int[]? skip = null, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var d = _dim;
        var m = queries.Length / d;
        var squared = new double[m * k];
        var nearest = new int[m];
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        // queries in the order of the leaf they fall in, so that a block's queries visit much the same leaves (the cache's
        // sake only: each query's answer is its own)
        var leaf = new int[m];
        Parallel.For(0, m, options, i => leaf[i] = LeafOf(queries.AsSpan(i * d, d)));
        var order = new int[m];
        for (var i = 0; i < m; i++) order[i] = i;
        Array.Sort(leaf, order);
        const int block = 64;
        Parallel.For(0, (m + block - 1) / block, options, b =>
        {
            var stackNode = new int[StackLength];
            var stackBound = new double[StackLength];
            var end = Math.Min(m, (b + 1) * block);
            for (var o = b * block; o < end; o++)
            {
                var i = order[o];
                nearest[i] = Search(queries.AsSpan(i * d, d), skip is null ? -1 : skip[i], squared.AsSpan(i * k, k), stackNode, stackBound);
            }
        });
        return (squared, nearest);
    }

    // the leaf reached by always stepping into the child whose box is nearer
    private int LeafOf(ReadOnlySpan<double> query)
    {
        if (_right.Length == 0) return 0;
        var node = 0;
        while (_right[node] >= 0) node = Bound(query, node + 1) <= Bound(query, _right[node]) ? node + 1 : _right[node];
        return node;
    }

    /// <summary>
    /// The <paramref name="count"/> rows of <paramref name="rows"/> (the tree's own references, row-major n × D) farthest
    /// from their nearest other row, most isolated first (ties: the lower row first), with that distance: the same rows
    /// and bits as sorting every row's <see cref="Query"/> distance (k = 1, its own row left out) by
    /// <c>OrderByDescending(distance).ThenBy(row)</c> and taking <paramref name="count"/>, without searching every row.
    /// </summary>
    /// <remarks>
    /// <para>Each row's distance e_i is at most u_i, the distance to the nearest other point of the leaf its query
    /// reaches (a subset of the references, the same formula). Search exactly the <paramref name="count"/> rows of largest
    /// u and let τ be the smallest of their e: at least <paramref name="count"/> rows have e ≥ τ, so the count-th
    /// largest e is ≥ τ, and a row with u &lt; τ has e ≤ u &lt; τ and ranks strictly below it, ties included. So only
    /// the rows with u ≥ τ are searched, and each only until a neighbour closer than τ shows it cannot rank (a search
    /// that is not stopped is complete, so its value is exact); the top rows are sorted among those left (the cut-off
    /// of Ramaswamy, Rastogi &amp; Shim 2000 and Bay &amp; Schwabacher 2003 for distance-based outliers, with the leaf as
    /// the first bound). τ is taken as the count-th largest e among the 2·count rows of largest u, which only raises it.
    /// All in √ space, as the ranking is.</para>
    /// </remarks>
    public (int[] Rows, double[] Isolation) MostIsolated(double[] rows, int count, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var d = _dim;
        var n = rows.Length / d;
        if (n != Count) throw new ArgumentException("the rows must be the tree's references", nameof(rows));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        count = Math.Min(count, n);
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        // u_i = √(min over the reached leaf's other points of Σ_d (x_i − x_j)²) ≥ e_i
        var upper = new double[n];
        Parallel.For(0, n, options, () => new double[Lanes(_maxLeaf)], (i, _, sums) =>
        {
            var query = rows.AsSpan(i * d, d);
            var leaf = LeafOf(query);
            var start = _start[leaf];
            var leafCount = _end[leaf] - start;
            LeafSums(query, leaf, leafCount, sums);
            var best = double.PositiveInfinity;
            for (var l = 0; l < leafCount; l++)
            {
                if (_row[start + l] != i && sums[l] < best) best = sums[l];
            }
            upper[i] = Math.Sqrt(best);
            return sums;
        }, _ => { });
        var byUpper = Enumerable.Range(0, n).OrderByDescending(i => upper[i]).ThenBy(i => i).ToArray();
        // τ: the count-th largest exact distance among the 2·count rows of largest bound, a lower bound of the overall one
        var exact = new double[n];
        Array.Fill(exact, double.NaN);
        var first = Math.Min(n, 2 * count);
        SearchRows(rows, byUpper[..first], exact, options, double.NegativeInfinity);
        var tau = byUpper[..first].Select(i => exact[i]).OrderDescending().ElementAt(count - 1);
        // the other rows whose bound reaches τ, each searched until a neighbour closer than τ rules it out (NaN then)
        var rest = byUpper[first..].TakeWhile(i => upper[i] >= tau).ToArray();
        SearchRows(rows, rest, exact, options, tau);
        var top = byUpper[..first].Concat(rest.Where(i => !double.IsNaN(exact[i])))
            .OrderByDescending(i => exact[i]).ThenBy(i => i).Take(count).ToArray();
        return (top, [.. top.Select(i => exact[i])]);
    }

    // exact[i] = √(the smallest Σ_d (x_i − x_j)² over j ≠ i) for the listed rows; NaN for a row found closer than stopBelow
    private void SearchRows(double[] rows, int[] which, double[] exact, ParallelOptions options, double stopBelow)
    {
        var d = _dim;
        const int block = 64;
        Parallel.For(0, (which.Length + block - 1) / block, options, b =>
        {
            var stackNode = new int[StackLength];
            var stackBound = new double[StackLength];
            Span<double> best = stackalloc double[1];
            var end = Math.Min(which.Length, (b + 1) * block);
            for (var o = b * block; o < end; o++)
            {
                var i = which[o];
                var stopped = Search(rows.AsSpan(i * d, d), i, best, stackNode, stackBound, stopBelow) < 0;
                exact[i] = stopped ? double.NaN : Math.Sqrt(best[0]);
            }
        });
    }
}
