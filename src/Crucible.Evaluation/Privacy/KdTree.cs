using System.Runtime.CompilerServices;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Exact k-nearest-neighbour search in Euclidean distance by a kd-tree (Friedman, Bentley &amp; Finkel 1977, "An
/// algorithm for finding best matches in logarithmic expected time", ACM TOMS 3(3)): each node splits its points at the
/// median of the dimension where they spread widest, leaves hold up to <see cref="LeafSize"/> points, and a query
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
    /// <summary>The most points in a leaf (a leaf is scanned by brute force).</summary>
    public const int LeafSize = 16;

    /// <summary>Above this dimension the tree is not used: its bounds prune too little (<see cref="Pays"/>).</summary>
    public const int MaxDimension = 16;

    /// <summary>Below this many references the brute force is used (<see cref="Pays"/>).</summary>
    public const int MinReferences = 1024;

    // coordinates beyond ±2⁵⁰ go to the brute force: their squares cannot overflow anywhere here nor in the float screening
    private const double CoordinateLimit = 1125899906842624.0;

    private readonly int _dim;
    private readonly double[] _points;  // (n, D): the references in tree order
    private readonly int[] _row;        // (n): each tree-order point's row in the references
    private readonly double[] _lo;      // (nodes, D): the tight bounding box of each node's points
    private readonly double[] _hi;
    private readonly int[] _start;      // (nodes): node i holds the points [start, end) in tree order
    private readonly int[] _end;
    private readonly int[] _right;      // (nodes): the right child (the left one is i + 1), −1 for a leaf
    private readonly int _depth;

    private KdTree(int dim, double[] points, int[] row, double[] lo, double[] hi, int[] start, int[] end, int[] right, int depth)
    {
        _dim = dim;
        _points = points;
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
    /// Whether the tree is used for <paramref name="references"/> rows of <paramref name="dimension"/> columns: at most
    /// <see cref="MaxDimension"/> columns, at least <see cref="MinReferences"/> rows (the crossover measured on the tall
    /// data, README Performance), and every coordinate of both sets finite and within ±2⁵⁰.
    /// </summary>
    public static bool Pays(double[] queries, double[] references, int dimension)
    {
        if (dimension > MaxDimension || references.Length / dimension < MinReferences) return false;
        return Moderate(queries) && Moderate(references);
    }

    private static bool Moderate(double[] values)
    {
        foreach (var v in values)
        {
            if (!(Math.Abs(v) <= CoordinateLimit)) return false; // NaN fails too
        }
        return true;
    }

    /// <summary>Builds the tree of the rows of <paramref name="references"/> (row-major, n × <paramref name="dimension"/>).</summary>
    public static KdTree Build(double[] references, int dimension)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        var n = references.Length / dimension;
        var perm = new int[n];
        for (var i = 0; i < n; i++) perm[i] = i;
        // a binary tree with leaves of at least LeafSize/2 points has fewer than 4n/LeafSize + 1 nodes
        var capacity = (4 * n / LeafSize) + 2;
        var b = new Builder(references, dimension, perm, capacity);
        if (n > 0) b.Split(0, n, 0);
        var points = new double[n * dimension];
        for (var p = 0; p < n; p++) Array.Copy(references, perm[p] * dimension, points, p * dimension, dimension);
        var nodes = b.Nodes;
        return new KdTree(dimension, points, perm, b.Lo[..(nodes * dimension)], b.Hi[..(nodes * dimension)], b.Start[..nodes],
            b.End[..nodes], b.Right[..nodes], b.Depth);
    }

    private sealed class Builder(double[] x, int d, int[] perm, int capacity)
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
            if (end - start <= LeafSize) return node;
            // the widest-spread dimension (the first of equals); all points equal: a leaf, however many
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
            if (!(spread > 0)) return node;
            var mid = start + ((end - start) / 2);
            Select(start, end - 1, mid, axis);
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
    /// <paramref name="stackBound"/> need <see cref="StackLength"/> entries.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Search(ReadOnlySpan<double> query, int skip, Span<double> best, Span<int> stackNode, Span<double> stackBound)
    {
        var k = best.Length;
        var d = _dim;
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
                for (var p = _start[node]; p < _end[node]; p++)
                {
                    var row = _row[p];
                    if (row == skip) continue;
                    // Σ_d (q_d − r_d)², the brute force's formula and order
                    var r = _points.AsSpan(p * d, d);
                    double s = 0;
                    for (var j = 0; j < d; j++)
                    {
                        var diff = query[j] - r[j];
                        s += diff * diff;
                    }
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
        const int block = 256;
        Parallel.For(0, (m + block - 1) / block, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, b =>
        {
            var stackNode = new int[StackLength];
            var stackBound = new double[StackLength];
            var end = Math.Min(m, (b + 1) * block);
            for (var i = b * block; i < end; i++)
                nearest[i] = Search(queries.AsSpan(i * d, d), skip is null ? -1 : skip[i], squared.AsSpan(i * k, k), stackNode, stackBound);
        });
        return (squared, nearest);
    }
}
