using Crucible.Evaluation.Privacy;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// The kd-tree against the brute-force searches it replaces on tall data, kept as oracles: the same bits for every
/// distance (BitConverter.DoubleToInt64Bits) and the same nearest index (ties: the lowest), on Gaussian, heavy-tailed,
/// clustered, duplicated and lattice (tie-heavy) rows, with and without the query's own row left out, on 1 and 2
/// threads. Pruning one node too many (a bound taken as larger than it is, or ≥ for &gt;) turns them red.
/// </summary>
public class KdTreeTests
{
    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double[] GaussianRows(Random rng, int rows, int d) =>
        Enumerable.Range(0, rows * d).Select(_ => Gaussian(rng)).ToArray();

    // Student-t(3): Z / √(χ²₃/3), tails as in returns
    private static double[] StudentRows(Random rng, int rows, int d) =>
        Enumerable.Range(0, rows * d).Select(_ =>
        {
            double chi2 = 0;
            for (var i = 0; i < 3; i++) chi2 += Math.Pow(Gaussian(rng), 2);
            return Gaussian(rng) / Math.Sqrt(chi2 / 3);
        }).ToArray();

    // 5 tight clusters far apart
    private static double[] ClusteredRows(Random rng, int rows, int d)
    {
        var centres = GaussianRows(rng, 5, d).Select(v => v * 100).ToArray();
        var x = new double[rows * d];
        for (var r = 0; r < rows; r++)
        {
            var c = rng.Next(5);
            for (var j = 0; j < d; j++) x[(r * d) + j] = centres[(c * d) + j] + (1e-3 * Gaussian(rng));
        }
        return x;
    }

    // each row a copy of one of 20 distinct rows: every distance ties with many others
    private static double[] DuplicatedRows(Random rng, int rows, int d)
    {
        var distinct = GaussianRows(rng, 20, d);
        var x = new double[rows * d];
        for (var r = 0; r < rows; r++) Array.Copy(distinct, rng.Next(20) * d, x, r * d, d);
        return x;
    }

    // values on {−2, …, 2}: many equal distances to distinct rows
    private static double[] LatticeRows(Random rng, int rows, int d) =>
        Enumerable.Range(0, rows * d).Select(_ => (double)(rng.Next(5) - 2)).ToArray();

    private static double[] Rows(string kind, Random rng, int rows, int d) => kind switch
    {
        "gaussian" => GaussianRows(rng, rows, d),
        "student" => StudentRows(rng, rows, d),
        "clustered" => ClusteredRows(rng, rows, d),
        "duplicated" => DuplicatedRows(rng, rows, d),
        "lattice" => LatticeRows(rng, rows, d),
        _ => throw new ArgumentException(kind),
    };

    private static void AssertSameBits(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(actual[i]),
                $"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    // the tree's k nearest (as distances) and nearest rows against the scalar loop over every reference in index order
    private static void AssertTreeMatchesLoop(double[] queries, double[] refs, int d, int k, int[]? skip)
    {
        var expected = AttackRows.KNearestReference(queries, refs, d, k, skip);
        var tree = KdTree.Build(refs, d);
        foreach (var threads in new[] { 1, 2 })
        {
            var (squared, nearest) = tree.Query(queries, k, skip, threads);
            AssertSameBits(expected.Distances, squared.Select(Math.Sqrt).ToArray());
            Assert.Equal(expected.Nearest, nearest);
        }
    }

    [Theory]
    [InlineData("gaussian", 400, 3000, 10, 1)]
    [InlineData("gaussian", 200, 2000, 16, 1)]
    [InlineData("student", 400, 3000, 10, 1)]
    [InlineData("student", 300, 2500, 10, 3)]
    [InlineData("clustered", 300, 2000, 10, 1)]
    [InlineData("duplicated", 300, 2000, 10, 2)]
    [InlineData("lattice", 400, 3000, 4, 1)]
    [InlineData("lattice", 300, 2000, 10, 2)]
    [InlineData("gaussian", 500, 3000, 1, 1)]
    [InlineData("student", 500, 3000, 2, 2)]
    [InlineData("lattice", 200, 1500, 1, 3)]
    [InlineData("gaussian", 50, 7, 3, 1)]
    [InlineData("student", 50, 1, 5, 1)]
    public void Query_SameBitsAndIndexAsTheLoop(string kind, int m, int n, int d, int k)
    {
        var rng = new Random(20261123 + m + n + d + k);
        var refs = Rows(kind, rng, n, d);
        var queries = Rows(kind, rng, m, d);
        AssertTreeMatchesLoop(queries, refs, d, k, null);
    }

    [Theory]
    [InlineData("gaussian", 2000, 10, 1)]
    [InlineData("student", 3000, 10, 1)]
    [InlineData("duplicated", 1500, 10, 1)]
    [InlineData("duplicated", 1500, 10, 2)]
    [InlineData("lattice", 2000, 3, 1)]
    [InlineData("clustered", 1200, 16, 3)]
    [InlineData("gaussian", 2, 4, 1)]
    [InlineData("student", 10, 1, 1)]
    public void Query_SelfExcluded_LeavesOutOnlyTheQuerysOwnRow(string kind, int n, int d, int k)
    {
        // the nearest OTHER row: a duplicate of the query still counts (distance 0), the query's own row does not
        var rng = new Random(7 + n + d + k);
        var rows = Rows(kind, rng, n, d);
        AssertTreeMatchesLoop(rows, rows, d, k, [.. Enumerable.Range(0, n)]);
    }

    [Fact]
    public void Query_QueriesEqualToReferences_AreAtZero()
    {
        var rng = new Random(3);
        var refs = StudentRows(rng, 2000, 10);
        var queries = refs[..(300 * 10)];
        AssertTreeMatchesLoop(queries, refs, 10, 1, null);
        var (squared, nearest) = KdTree.Build(refs, 10).Query(queries, 1);
        Assert.All(squared, s => Assert.Equal(0.0, s));
        Assert.Equal(Enumerable.Range(0, 300), nearest);
    }

    [Fact]
    public void Query_OneReference_AndNone()
    {
        var rng = new Random(4);
        var queries = GaussianRows(rng, 30, 5);
        AssertTreeMatchesLoop(queries, GaussianRows(rng, 1, 5), 5, 1, null);
        var (squared, _) = KdTree.Build([], 5).Query(queries, 1);
        Assert.All(squared, s => Assert.Equal(double.PositiveInfinity, s));
        // the brute force says +∞ too
        Assert.All(NearestNeighbors.NearestDistancesBruteForce(queries, [], 5), s => Assert.Equal(double.PositiveInfinity, s));
    }

    [Fact]
    public void Query_NearDuplicatesFarFromTheOrigin_AreExact()
    {
        // large coordinates, differences of 1e-9: the bound and the distance round at the same places
        var rng = new Random(5);
        var refs = GaussianRows(rng, 3000, 6).Select(v => v + 1e4).ToArray();
        var queries = refs.Take(400 * 6).Select((v, i) => v + (i % 3 == 0 ? 1e-9 : 0)).ToArray();
        AssertTreeMatchesLoop(queries, refs, 6, 2, null);
    }

    [Theory]
    [InlineData("gaussian", 3)]
    [InlineData("student", 6)]
    [InlineData("lattice", 4)]
    [InlineData("student", 1)]
    public void NearestDistances_OnTheTreePath_SameBitsAsTheBruteForce(string kind, int d)
    {
        var rng = new Random(11 + d);
        var refs = Rows(kind, rng, 65536, d);
        var queries = Rows(kind, rng, 500, d);
        Assert.True(KdTree.Pays(queries, refs, d, KdTree.BruteForce.Screened));
        var expected = NearestNeighbors.NearestDistancesBruteForce(queries, refs, d);
        AssertSameBits(expected, NearestNeighbors.NearestDistances(queries, refs, d, 1));
        AssertSameBits(expected, NearestNeighbors.NearestDistances(queries, refs, d, 2));
    }

    [Theory]
    [InlineData("student", 6)]
    [InlineData("duplicated", 5)]
    [InlineData("lattice", 3)]
    public void KNearestAndRatios_OnTheTreePath_SameBitsAsTheirOracles(string kind, int d)
    {
        var rng = new Random(13 + d);
        var refs = Rows(kind, rng, 65536, d);
        var queries = Rows(kind, rng, 300, d);
        Assert.True(KdTree.Pays(queries, refs, d, KdTree.BruteForce.Screened));
        // the first 300 rows against all of them, each leaving out its own row
        var own = refs[..(300 * d)];
        var self = Enumerable.Range(0, 300).ToArray();
        var expected = AttackRows.KNearestReference(own, refs, d, 1, self);
        var actual = AttackRows.KNearest(own, refs, d, 1, self, 2);
        AssertSameBits(expected.Distances, actual.Distances);
        Assert.Equal(expected.Nearest, actual.Nearest);
        var expectedK = AttackRows.KNearestReference(queries, refs, d, 3);
        var actualK = AttackRows.KNearest(queries, refs, d, 3, null, 1);
        AssertSameBits(expectedK.Distances, actualK.Distances);
        Assert.Equal(expectedK.Nearest, actualK.Nearest);
        AssertSameBits(NearestNeighborRatio.RatiosReference(queries, refs, d), NearestNeighborRatio.Ratios(queries, refs, d, 1));
        AssertSameBits(NearestNeighborRatio.RatiosReference(queries, refs, d), NearestNeighborRatio.Ratios(queries, refs, d, 2));
    }

    [Theory]
    [InlineData("gaussian", 3000, 10, 30)]
    [InlineData("student", 4000, 10, 40)]
    [InlineData("student", 2000, 2, 1)]
    [InlineData("clustered", 2000, 10, 20)]
    [InlineData("duplicated", 1500, 10, 15)]
    [InlineData("lattice", 2000, 3, 25)]
    [InlineData("lattice", 1200, 1, 12)]
    [InlineData("gaussian", 40, 4, 40)]
    [InlineData("student", 2, 3, 1)]
    public void MostIsolated_SameRowsAndBitsAsRankingEveryRow(string kind, int n, int d, int count)
    {
        // the outlier analysis' top rows by distance to the nearest other row, ties by row: the cut-off search must pick
        // the same rows in the same order with the same distances as measuring all of them
        var rng = new Random(17 + n + d + count);
        var rows = Rows(kind, rng, n, d);
        var expected = AttackRows.MostIsolatedBruteForce(rows, d, count);
        var tree = KdTree.Build(rows, d);
        foreach (var threads in new[] { 1, 2 })
        {
            var (top, isolation) = tree.MostIsolated(rows, count, threads);
            Assert.Equal(expected.Rows, top);
            AssertSameBits(expected.Isolation, isolation);
        }
        var viaDispatch = AttackRows.MostIsolated(rows, d, count, 2);
        Assert.Equal(expected.Rows, viaDispatch.Rows);
        AssertSameBits(expected.Isolation, viaDispatch.Isolation);
    }

    [Fact]
    public void Pays_OnlyWhereMeasuredFaster_AndForModerateFiniteValues()
    {
        var rng = new Random(1);
        var queries = GaussianRows(rng, 10, 4);
        var tall = GaussianRows(rng, 65536, 4);
        Assert.True(KdTree.Pays(queries, tall, 4, KdTree.BruteForce.Screened));
        Assert.False(KdTree.Pays(queries, tall[..(65535 * 4)], 4, KdTree.BruteForce.Screened));
        Assert.True(KdTree.Pays(queries, tall[..(1024 * 4)], 4, KdTree.BruteForce.Isolation));
        Assert.False(KdTree.Pays(queries, tall[..(1023 * 4)], 4, KdTree.BruteForce.Isolation));
        // d = 10 (the tall data): the screening stays for the k nearest; the isolation ranking takes the tree at any width
        Assert.False(KdTree.Pays(GaussianRows(rng, 10, 10), GaussianRows(rng, 70000, 10), 10, KdTree.BruteForce.Screened));
        Assert.False(KdTree.Pays(GaussianRows(rng, 10, 7), GaussianRows(rng, 70000, 7), 7, KdTree.BruteForce.Screened));
        Assert.True(KdTree.Pays(GaussianRows(rng, 10, 26), GaussianRows(rng, 2000, 26), 26, KdTree.BruteForce.Isolation));
        var nan = (double[])queries.Clone();
        nan[3] = double.NaN;
        Assert.False(KdTree.Pays(nan, tall, 4, KdTree.BruteForce.Screened));
        var huge = (double[])tall.Clone();
        huge[5] = 1e300;
        Assert.False(KdTree.Pays(queries, huge, 4, KdTree.BruteForce.Screened));
    }
}
