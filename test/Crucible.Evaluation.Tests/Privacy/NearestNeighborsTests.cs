using Crucible.Evaluation.Privacy;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

public class NearestNeighborsTests
{
    private static double[] Naive(double[] q, double[] r, int d)
    {
        var m = q.Length / d;
        var n = r.Length / d;
        var result = new double[m];
        for (var i = 0; i < m; i++)
        {
            var best = double.PositiveInfinity;
            for (var j = 0; j < n; j++)
            {
                double s = 0;
                for (var k = 0; k < d; k++)
                {
                    var diff = q[i * d + k] - r[j * d + k];
                    s += diff * diff;
                }
                best = Math.Min(best, s);
            }
            result[i] = Math.Sqrt(best);
        }
        return result;
    }

    private static double[] RandomMatrix(Random rng, int rows, int d, double offset = 0) =>
        Enumerable.Range(0, rows * d).Select(_ => rng.NextDouble() * 2 - 1 + offset).ToArray();

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]
    [InlineData(131, 77, 26)]
    [InlineData(300, 530, 9)]
    public void NearestDistances_EqualNaiveSearch_Exactly(int m, int n, int d)
    {
        var rng = new Random(20240607 + m);
        var q = RandomMatrix(rng, m, d);
        var r = RandomMatrix(rng, n, d);
        Assert.Equal(Naive(q, r, d), NearestNeighbors.NearestDistances(q, r, d));
    }

    [Fact]
    public void NearestDistances_AreExact_ForFarFromOriginNearDuplicates()
    {
        // large norms, tiny distances: ‖q‖² + ‖r‖² − 2q·r alone would lose these digits
        var rng = new Random(5);
        const int d = 26;
        var r = RandomMatrix(rng, 400, d, offset: 1e4);
        var q = r.Select((v, i) => v + (i % 3 == 0 ? 1e-9 : 0)).Take(100 * d).ToArray();
        var got = NearestNeighbors.NearestDistances(q, r, d);
        Assert.Equal(Naive(q, r, d), got);
    }

    [Fact]
    public void NearestDistances_AreExact_OnALatticeWithManyTies_AndAFarOutlier()
    {
        // references on the integer lattice {0..5}^3 plus one far outlier; queries on and between lattice points
        var refs = new List<double>();
        for (var x = 0; x < 6; x++)
            for (var y = 0; y < 6; y++)
                for (var z = 0; z < 6; z++) refs.AddRange([x, y, z]);
        refs.AddRange([1e6, -1e6, 1e6]);
        var rng = new Random(17);
        var queries = Enumerable.Range(0, 200 * 3).Select(_ => rng.Next(0, 11) * 0.5 + (rng.Next(4) == 0 ? 1e-7 : 0)).ToArray();
        var r = refs.ToArray();
        Assert.Equal(Naive(queries, r, 3), NearestNeighbors.NearestDistances(queries, r, 3));
    }

    [Fact]
    public void NearestDistances_DoNotDependOnThreadCount()
    {
        var rng = new Random(11);
        var q = RandomMatrix(rng, 1000, 26);
        var r = RandomMatrix(rng, 700, 26);
        Assert.Equal(NearestNeighbors.NearestDistances(q, r, 26, 1), NearestNeighbors.NearestDistances(q, r, 26, 4));
    }

    [Fact]
    public void NearestDistances_WithoutReferences_AreInfinite()
    {
        Assert.All(NearestNeighbors.NearestDistances([1.0, 2.0], [], 2), v => Assert.Equal(double.PositiveInfinity, v));
    }

    [Fact]
    public void DuplicateRow_HasDistanceZero()
    {
        double[] r = [0.5, -0.25, 3, 1, 2, 3];
        Assert.Equal([0.0], NearestNeighbors.NearestDistances([1.0, 2, 3], r, 3));
    }
}

/// <summary>
/// The screened search for the k nearest (the single-precision screening, then the exact re-measure of every reference
/// that can rank) against the scalar loop kept as its oracle (<see cref="AttackRows.KNearestReference"/>): the same bits
/// for every one of the k distances and the same nearest row (ties: the lowest), with and without the query's own row
/// left out, on 1 and 2 threads; on rows whose single-precision squares overflow or underflow, where the search must
/// take the double tiles or widen its error bound.
/// </summary>
public class ScreenedKNearestTests
{
    // values uniform in offset ± scale from Philox(seed)
    private static double[] Uniform(ulong seed, int rows, int d, double scale = 1, double offset = 0)
    {
        var rng = new Philox(seed, 3);
        return [.. Enumerable.Range(0, rows * d).Select(_ => offset + (scale * ((2 * rng.NextDouble()) - 1)))];
    }

    // values on {−1, 0, 1} and every third row a copy of an earlier one: many exactly equal distances
    private static double[] Lattice(ulong seed, int rows, int d)
    {
        var rng = new Philox(seed, 4);
        var x = Enumerable.Range(0, rows * d).Select(_ => (double)(rng.NextInt(3) - 1)).ToArray();
        for (var r = 3; r < rows; r += 3) Array.Copy(x, rng.NextInt(r) * d, x, r * d, d);
        return x;
    }

    private static void AssertSameAsTheLoop(double[] queries, double[] refs, int d, int k, bool self)
    {
        int[]? skip = self ? [.. Enumerable.Range(0, queries.Length / d)] : null;
        var expected = AttackRows.KNearestReference(queries, refs, d, k, skip);
        foreach (var threads in new[] { 1, 2 })
        {
            var (squared, nearest) = NearestNeighbors.KNearestSquaredBruteForce(queries, refs, d, k, skip, threads);
            var distances = squared.Select(Math.Sqrt).ToArray();
            for (var i = 0; i < distances.Length; i++)
                Assert.True(BitConverter.DoubleToInt64Bits(expected.Distances[i]) == BitConverter.DoubleToInt64Bits(distances[i]),
                    $"query {i / k}, neighbour {i % k}: expected {expected.Distances[i]:R}, got {distances[i]:R}");
            Assert.Equal(expected.Nearest, nearest);
        }
    }

    [Theory]
    [InlineData(37, 300, 10, 1, false)]
    [InlineData(37, 300, 10, 2, false)]
    [InlineData(300, 300, 10, 1, true)]
    [InlineData(300, 300, 10, 2, true)]
    [InlineData(70, 1500, 26, 10, false)]
    [InlineData(5, 17, 1, 3, false)]
    [InlineData(130, 2100, 3, 2, false)]
    [InlineData(1, 1, 4, 1, false)]
    public void Random_SameBitsAsTheLoop(int m, int n, int d, int k, bool self)
    {
        // large offsets with small spreads: the single-precision screening alone would order these wrongly
        var refs = Uniform((ulong)(m + n + d), n, d, scale: 0.37, offset: 3.1);
        var queries = self ? refs[..(m * d)] : Uniform((ulong)(m * n * d), m, d, scale: 0.41, offset: 3.05);
        AssertSameAsTheLoop(queries, refs, d, k, self);
    }

    [Theory]
    [InlineData(50, 200, 4, 1, false)]
    [InlineData(61, 130, 25, 5, false)]
    [InlineData(40, 40, 3, 2, true)]
    [InlineData(99, 99, 6, 1, true)]
    public void TieHeavy_SameNeighboursAsTheLoop(int m, int n, int d, int k, bool self)
    {
        var refs = Lattice((ulong)n, n, d);
        var queries = self ? refs[..(m * d)] : Lattice((ulong)(7 * m), m, d);
        AssertSameAsTheLoop(queries, refs, d, k, self);
    }

    [Fact]
    public void NearDuplicatesFarFromTheOrigin_SameBitsAsTheLoop()
    {
        var refs = Uniform(5, 400, 26, offset: 1e4);
        var queries = refs.Take(100 * 26).Select((v, i) => v + (i % 3 == 0 ? 1e-9 : 0)).ToArray();
        AssertSameAsTheLoop(queries, refs, 26, 2, false);
    }

    [Theory]
    [InlineData(1, 1e-20, 1e-22)]
    [InlineData(2, 1e-20, 1e-22)]
    [InlineData(3, 1e-20, 3e-21)]
    [InlineData(1, 3e-22, 1e-22)]
    public void RowsOfTinyNorm_SameBitsAsTheLoop(int d, double offset, double scale)
    {
        // squares of about 1e-40 and below are subnormal in single precision: the screening's relative error bound alone
        // does not cover what they lose, its absolute term must
        var refs = Uniform((ulong)(6 + d), 3000, d, scale, offset);
        var queries = Uniform((ulong)(60 + d), 500, d, scale, offset);
        AssertSameAsTheLoop(queries, refs, d, 1, false);
        AssertSameAsTheLoop(queries, refs, d, 2, false);
    }

    [Fact]
    public void CoordinatesBeyondSinglePrecision_TakeTheDoubleTiles_Exactly()
    {
        // 1e30 squared overflows float: the screening would see no candidate at all and answer +∞
        var refs = Uniform(8, 300, 4, scale: 1e30);
        var queries = Uniform(9, 40, 4, scale: 1e30);
        AssertSameAsTheLoop(queries, refs, 4, 1, false);
        AssertSameAsTheLoop(queries, refs, 4, 2, false);
        var expected = AttackRows.KNearestReference(queries, refs, 4, 1).Distances;
        Assert.All(expected, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(expected, NearestNeighbors.NearestDistances(queries, refs, 4));
    }
}

/// <summary>
/// The pass that answers both directions between two sets at once (<see cref="NearestNeighbors.MutualNearestSquared"/>:
/// the DCR's synthetic→train and the outlier analysis' train→synthetic) and the leave-one-out pass over each unordered
/// pair once (<see cref="NearestNeighbors.SelfNearestSquared"/>: the DCR share's control) against the scalar loop in each
/// direction, kept as their oracle: the same bits on sets of awkward sizes (tails of the 64-query blocks and 16-row
/// tiles), either set the larger, on 1 to 3 workers, on tie-heavy lattices and duplicated rows.
/// </summary>
public class MutualNearestTests
{
    private static double[] Uniform(ulong seed, int rows, int d, double scale = 1, double offset = 0)
    {
        var rng = new Philox(seed, 9);
        return [.. Enumerable.Range(0, rows * d).Select(_ => offset + (scale * ((2 * rng.NextDouble()) - 1)))];
    }

    // values on {−1, 0, 1}, every third row a copy of an earlier one
    private static double[] Lattice(ulong seed, int rows, int d)
    {
        var rng = new Philox(seed, 10);
        var x = Enumerable.Range(0, rows * d).Select(_ => (double)(rng.NextInt(3) - 1)).ToArray();
        for (var r = 3; r < rows; r += 3) Array.Copy(x, rng.NextInt(r) * d, x, r * d, d);
        return x;
    }

    private static void AssertSameBits(double[] expectedDistances, double[] actualSquared, string what)
    {
        Assert.Equal(expectedDistances.Length, actualSquared.Length);
        for (var i = 0; i < expectedDistances.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expectedDistances[i]) == BitConverter.DoubleToInt64Bits(Math.Sqrt(actualSquared[i])),
                $"{what} {i}: expected {expectedDistances[i]:R}, got {Math.Sqrt(actualSquared[i]):R}");
    }

    private static void AssertMutual(double[] a, double[] b, int d)
    {
        var aToB = AttackRows.KNearestReference(a, b, d, 1).Distances;
        var bToA = AttackRows.KNearestReference(b, a, d, 1).Distances;
        foreach (var threads in new[] { 1, 2, 3 })
        {
            var (ab, ba) = NearestNeighbors.MutualNearestSquared(a, b, d, threads);
            AssertSameBits(aToB, ab, "a row");
            AssertSameBits(bToA, ba, "b row");
        }
    }

    private static void AssertSelf(double[] rows, int d)
    {
        var n = rows.Length / d;
        var expected = AttackRows.KNearestReference(rows, rows, d, 1, [.. Enumerable.Range(0, n)]).Distances;
        foreach (var threads in new[] { 1, 2, 3 })
            AssertSameBits(expected, NearestNeighbors.SelfNearestSquared(rows, d, threads), "row");
    }

    [Theory]
    [InlineData(1000, 300, 10)]
    [InlineData(301, 1000, 10)]
    [InlineData(777, 131, 26)]
    [InlineData(65, 17, 3)]
    [InlineData(1, 1, 2)]
    [InlineData(5, 2000, 1)]
    public void Random_BothDirections_SameBitsAsTheLoop(int m, int n, int d)
    {
        AssertMutual(Uniform((ulong)(m + d), m, d, 0.41, 3.05), Uniform((ulong)(n * d), n, d, 0.37, 3.1), d);
    }

    [Theory]
    [InlineData(700, 200, 4)]
    [InlineData(150, 900, 6)]
    public void TieHeavy_BothDirections_SameBitsAsTheLoop(int m, int n, int d)
    {
        AssertMutual(Lattice((ulong)m, m, d), Lattice((ulong)(3 * n), n, d), d);
    }

    [Fact]
    public void RowsOfTinyNorm_AndBeyondSinglePrecision_BothDirections_SameBitsAsTheLoop()
    {
        AssertMutual(Uniform(21, 400, 2, 1e-22, 1e-20), Uniform(22, 150, 2, 1e-22, 1e-20), 2);
        AssertMutual(Uniform(23, 90, 3, 1e30), Uniform(24, 70, 3, 1e30), 3);
    }

    [Theory]
    [InlineData(1000, 10)]
    [InlineData(643, 26)]
    [InlineData(130, 3)]
    [InlineData(65, 1)]
    [InlineData(3, 4)]
    [InlineData(2, 5)]
    public void LeaveOneOut_SameBitsAsTheLoop(int n, int d)
    {
        AssertSelf(Uniform((ulong)(n + d), n, d, 0.5, 2), d);
    }

    [Fact]
    public void LeaveOneOut_OfOneRow_IsInfinite()
    {
        Assert.Equal([double.PositiveInfinity], NearestNeighbors.SelfNearestSquared([1.0, 2.0, 3.0], 3));
    }

    [Theory]
    [InlineData(500, 4)]
    [InlineData(199, 7)]
    public void LeaveOneOut_TieHeavyAndDuplicated_SameBitsAsTheLoop(int n, int d)
    {
        // a copy of the row elsewhere is at distance 0; the row itself is not
        AssertSelf(Lattice((ulong)n, n, d), d);
    }
}
