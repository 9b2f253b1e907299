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
    /// <remarks>With finite values and tolerance, each query measures only the reference rows that can match in one column:
    /// for a fixed q the rounded difference fl(r − q) never decreases as r grows (rounding is monotone), so the rows whose
    /// |r_j − q_j| ≤ tolerance·|q_j| form one run of the rows sorted by column j, found by two binary searches with that
    /// same comparison. The query takes the column with the shortest run, and tests every column of those rows as
    /// <see cref="MatchesBruteForce"/> tests every row: the same answer.</remarks>
    public static bool[] Matches(double[] queries, double[] references, int dimension, double tolerance = NumericTolerance,
        int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tolerance);
        var (m, n) = NearestNeighbors.RowCounts(queries, references, dimension);
        if (!double.IsFinite(tolerance) || !AllFinite(queries) || !AllFinite(references))
            return MatchesBruteForce(queries, references, dimension, tolerance, maxDegreeOfParallelism);
        // per column, the reference rows in the order of their value there (keys[j·n + p] is row order[j·n + p]'s value)
        var keys = new double[dimension * n];
        var order = new int[dimension * n];
        Parallel.For(0, dimension, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, j =>
        {
            for (var r = 0; r < n; r++)
            {
                keys[(j * n) + r] = references[(r * dimension) + j];
                order[(j * n) + r] = r;
            }
            keys.AsSpan(j * n, n).Sort(order.AsSpan(j * n, n));
        });
        var hit = new bool[m];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, i =>
        {
            var q = queries.AsSpan(i * dimension, dimension);
            // the column whose run of possible matches is shortest
            int column = 0, from = 0, to = n;
            for (var j = 0; j < dimension && to > from; j++)
            {
                var t = tolerance * Math.Abs(q[j]);
                var sorted = keys.AsSpan(j * n, n);
                var lo = FirstAtLeast(sorted, q[j], -t);
                var hi = FirstAbove(sorted, q[j], t);
                if (j == 0 || hi - lo < to - from) (column, from, to) = (j, lo, hi);
            }
            for (var p = from; p < to && !hit[i]; p++)
            {
                var r = references.AsSpan(order[(column * n) + p] * dimension, dimension);
                var match = true;
                for (var d = 0; d < dimension && match; d++) match = Math.Abs(r[d] - q[d]) <= tolerance * Math.Abs(q[d]);
                hit[i] = match;
            }
        });
        return hit;
    }

    // the first position p of ascending keys with fl(keys[p] − q) ≥ bound (keys.Length when none): fl(x − q) never
    // decreases as x grows, so the positions that satisfy it are a suffix
    private static int FirstAtLeast(ReadOnlySpan<double> keys, double q, double bound)
    {
        int lo = 0, hi = keys.Length;
        while (lo < hi)
        {
            var mid = (int)(((uint)lo + (uint)hi) >> 1);
            if (keys[mid] - q >= bound) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    // the first position p of ascending keys with fl(keys[p] − q) > bound (keys.Length when none)
    private static int FirstAbove(ReadOnlySpan<double> keys, double q, double bound)
    {
        int lo = 0, hi = keys.Length;
        while (lo < hi)
        {
            var mid = (int)(((uint)lo + (uint)hi) >> 1);
            if (keys[mid] - q > bound) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    private static bool AllFinite(double[] values)
    {
        foreach (var v in values)
        {
            if (!double.IsFinite(v)) return false;
        }
        return true;
    }

    /// <summary><see cref="Matches"/> by testing every reference row for every query: the oracle of its answers (tests), and
    /// its path for non-finite values.</summary>
    internal static bool[] MatchesBruteForce(double[] queries, double[] references, int dimension, double tolerance = NumericTolerance,
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
    /// <remarks>The two smallest squared distances are those of <see cref="RatiosReference"/> (summed over the dimensions
    /// in order, in double, no fused multiply-add), found by <see cref="NearestNeighbors.KNearestSquared"/> (a kd-tree or the
    /// screened search, which re-measures exactly every reference that can rank): bit-identical to it.</remarks>
    public static double[] Ratios(double[] queries, double[] references, int dimension, int maxDegreeOfParallelism = -1)
    {
        var (_, n) = NearestNeighbors.RowCounts(queries, references, dimension);
        if (n < 2) throw new ArgumentException("the ratio needs at least two reference rows", nameof(references));
        return FromSquared(NearestNeighbors.KNearestSquared(queries, references, dimension, 2, null, maxDegreeOfParallelism).Squared);
    }

    /// <summary>d₁/d₂ from each query's two smallest squared distances (row-major m × 2, ascending); 0 when d₂ = 0.</summary>
    internal static double[] FromSquared(double[] twoSmallest)
    {
        var ratios = new double[twoSmallest.Length / 2];
        for (var i = 0; i < ratios.Length; i++)
        {
            double first = twoSmallest[2 * i], second = twoSmallest[(2 * i) + 1];
            ratios[i] = second == 0 ? 0 : Math.Sqrt(first) / Math.Sqrt(second);
        }
        return ratios;
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
