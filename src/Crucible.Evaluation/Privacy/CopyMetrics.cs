using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Identical match share (IMS, RELIABILITY.md PRIV-4; mostlyai-qa's IMS with SDMetrics NewRowSynthesis's numeric rule): the
/// share of query rows that match at least one reference row, where query q matches reference r when every column j has
/// |r_j − q_j| ≤ tolerance·|q_j| (the tolerance is relative to the queried, i.e. synthetic, value; 1% by default, so a
/// value of exactly 0 matches only 0). Computed on the raw values, not standardised ones.
/// </summary>
public static class IdenticalMatch
{
    /// <summary>The numeric match tolerance of SDMetrics NewRowSynthesis (1% of the queried value).</summary>
    public const double NumericTolerance = 0.01;

    /// <summary>z = Φ⁻¹(0.95), the one-sided 95% normal quantile of the margin.</summary>
    public const double Z95OneSided = 1.6448536269514722;

    /// <summary>
    /// Whether each of the m query rows (row-major, m × <paramref name="dimension"/>) matches some reference row.
    /// Non-finite values are not supported (the evaluator rejects them before).
    /// </summary>
    public static bool[] Matches(double[] queries, double[] references, int dimension, double tolerance = NumericTolerance,
        int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tolerance);
        var (m, n) = NearestNeighbors.RowCounts(queries, references, dimension);
        var hit = new bool[m];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, i =>
        {
            var q = queries.AsSpan(i * dimension, dimension);
            for (var j = 0; j < n && !hit[i]; j++)
            {
                var r = references.AsSpan(j * dimension, dimension);
                var match = true;
                for (var d = 0; d < dimension && match; d++) match = Math.Abs(r[d] - q[d]) <= tolerance * Math.Abs(q[d]);
                hit[i] = match;
            }
        });
        return hit;
    }

    /// <summary>The number of query rows that match some reference row (<see cref="Matches"/>).</summary>
    public static int Count(double[] queries, double[] references, int dimension, double tolerance = NumericTolerance,
        int maxDegreeOfParallelism = -1) =>
        Matches(queries, references, dimension, tolerance, maxDegreeOfParallelism).Count(h => h);

    /// <summary>
    /// The binomial margin of the PRIV-4 check IMS(synthetic→training) ≤ IMS(synthetic→holdout) + margin: the one-sided
    /// 95% two-proportion bound z·√(2·p̄(1 − p̄)/n) with the pooled share p̄ = (k_train + k_holdout)/(2n), for n synthetic
    /// rows matched against equal-size train and holdout references. 0 when neither reference has a match.
    /// </summary>
    public static double Margin(int matchesTrain, int matchesHoldout, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        var pooled = (matchesTrain + matchesHoldout) / (2.0 * n);
        return Z95OneSided * Math.Sqrt(2 * pooled * (1 - pooled) / n);
    }
}

/// <summary>
/// Nearest-neighbour distance ratio (NNDR, RELIABILITY.md PRIV-5, mostlyai-qa): for each query row, d₁/d₂, the Euclidean
/// distances to its nearest and second-nearest reference rows (two distinct rows; ties allowed, so d₁ = d₂ gives 1).
/// A ratio near 0 means the query sits on one reference row far from every other: the signature of a copied record.
/// When d₂ = 0 (two references coincide with the query) the ratio is defined as 0.
/// </summary>
public static class NearestNeighborRatio
{
    /// <summary>The reported order statistic: the 10th-smallest ratio (mostlyai-qa).</summary>
    public const int Rank = 10;

    /// <summary>
    /// d₁/d₂ for each of the m query rows (row-major, m × <paramref name="dimension"/>) against the references (at least
    /// two rows). Exact: the squared distances are summed in double over every reference.
    /// </summary>
    /// <remarks>The squared distances are those of <see cref="RatiosReference"/> (summed over the dimensions in order, in
    /// double, no fused multiply-add), computed 4 queries × 16 references at a time (<see cref="SquaredDistanceTiles"/>)
    /// and scanned in reference order with the same comparisons: bit-identical to it.</remarks>
    public static double[] Ratios(double[] queries, double[] references, int dimension, int maxDegreeOfParallelism = -1)
    {
        var (m, n) = NearestNeighbors.RowCounts(queries, references, dimension);
        if (n < 2) throw new ArgumentException("the ratio needs at least two reference rows", nameof(references));
        if (!KdTree.Pays(queries, references, dimension, KdTree.BruteForce.Tiled)) return RatiosTiled(queries, references, dimension, maxDegreeOfParallelism);
        // the kd-tree's two smallest values of the same sums: the same bits
        var (squared, _) = KdTree.Build(references, dimension).Query(queries, 2, maxDegreeOfParallelism: maxDegreeOfParallelism);
        var ratios = new double[m];
        for (var i = 0; i < m; i++)
        {
            double first = squared[2 * i], second = squared[(2 * i) + 1];
            ratios[i] = second == 0 ? 0 : Math.Sqrt(first) / Math.Sqrt(second);
        }
        return ratios;
    }

    /// <summary><see cref="Ratios"/> by the tiled brute force over every reference: its path for small or wide sets.</summary>
    internal static double[] RatiosTiled(double[] queries, double[] references, int dimension, int maxDegreeOfParallelism = -1)
    {
        var (m, n) = NearestNeighbors.RowCounts(queries, references, dimension);
        if (n < 2) throw new ArgumentException("the ratio needs at least two reference rows", nameof(references));
        var ratios = new double[m];
        if (m == 0) return ratios;
        var q = SquaredDistanceTiles.PadQueries(queries, dimension);
        var packed = SquaredDistanceTiles.PackReferences(references, dimension);
        var tiles = SquaredDistanceTiles.Tiles(n);
        var chunk = Math.Max(1, (256 * 1024) / (dimension * SquaredDistanceTiles.RefTile * sizeof(double)));
        Parallel.For(0, (m + RatioBlock - 1) / RatioBlock, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            b => RatioBlockOf(b, q, packed, m, n, dimension, tiles, chunk, ratios));
        return ratios;
    }

    private const int RatioBlock = 16;

    // one block of RatioBlock queries of Ratios; optimised at once (a tier-0 first call ran the whole search slowly)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RatioBlockOf(int b, double[] q, double[] packed, int m, int n, int dimension, int tiles, int chunk, double[] ratios)
    {
        var start = b * RatioBlock;
        var count = Math.Min(RatioBlock, m - start);
        Span<double> first = stackalloc double[RatioBlock];
        Span<double> second = stackalloc double[RatioBlock];
        first.Fill(double.PositiveInfinity);
        second.Fill(double.PositiveInfinity);
        Span<double> sums = stackalloc double[SquaredDistanceTiles.QueryTile * SquaredDistanceTiles.RefTile];
        for (var c0 = 0; c0 < tiles; c0 += chunk)
        {
            var c1 = Math.Min(tiles, c0 + chunk);
            for (var qi = 0; qi < count; qi += SquaredDistanceTiles.QueryTile)
            {
                var rows = Math.Min(SquaredDistanceTiles.QueryTile, count - qi);
                for (var t = c0; t < c1; t++)
                {
                    SquaredDistanceTiles.Tile(q, start + qi, packed, t, dimension, sums);
                    var lanes = Math.Min(SquaredDistanceTiles.RefTile, n - (t * SquaredDistanceTiles.RefTile));
                    for (var row = 0; row < rows; row++)
                    {
                        double f = first[qi + row], g = second[qi + row];
                        foreach (var s in sums.Slice(row * SquaredDistanceTiles.RefTile, lanes))
                        {
                            if (s < f)
                            {
                                g = f;
                                f = s;
                            }
                            else if (s < g)
                            {
                                g = s;
                            }
                        }
                        first[qi + row] = f;
                        second[qi + row] = g;
                    }
                }
            }
        }
        for (var i = 0; i < count; i++) ratios[start + i] = second[i] == 0 ? 0 : Math.Sqrt(first[i]) / Math.Sqrt(second[i]);
    }

    /// <summary><see cref="Ratios"/> by vector passes over all references per query: the oracle of its bits (tests).</summary>
    internal static double[] RatiosReference(double[] queries, double[] references, int dimension, int maxDegreeOfParallelism = -1)
    {
        var (m, n) = NearestNeighbors.RowCounts(queries, references, dimension);
        if (n < 2) throw new ArgumentException("the ratio needs at least two reference rows", nameof(references));
        var ratios = new double[m];
        // references transposed (one array per dimension), so each query measures all of them with vector operations;
        // the squared distance sums the dimensions in order, as a plain loop over them does
        var columns = new double[dimension][];
        for (var d = 0; d < dimension; d++)
        {
            columns[d] = new double[n];
            for (var j = 0; j < n; j++) columns[d][j] = references[(j * dimension) + d];
        }

        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            () => (Sum: new double[n], Diff: new double[n]),
            (i, _, buffers) =>
            {
                var (sum, diff) = buffers;
                Array.Clear(sum);
                for (var d = 0; d < dimension; d++)
                {
                    TensorPrimitives.Subtract(columns[d], queries[(i * dimension) + d], diff);
                    TensorPrimitives.MultiplyAdd(diff, diff, sum, sum);
                }

                double first = double.PositiveInfinity, second = double.PositiveInfinity;
                foreach (var s in sum)
                {
                    if (s < first)
                    {
                        second = first;
                        first = s;
                    }
                    else if (s < second)
                    {
                        second = s;
                    }
                }

                ratios[i] = second == 0 ? 0 : Math.Sqrt(first) / Math.Sqrt(second);
                return buffers;
            },
            _ => { });
        return ratios;
    }

    /// <summary>The <paramref name="k"/>-th smallest value (1-based), or NaN when there are fewer than k values.</summary>
    public static double KthSmallest(double[] values, int k = Rank)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (values.Length < k) return double.NaN;
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[k - 1];
    }
}
