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
    [InlineData("gaussian", 10)]
    [InlineData("student", 10)]
    [InlineData("lattice", 10)]
    [InlineData("student", 2)]
    public void NearestDistances_OnTheTreePath_SameBitsAsTheBruteForce(string kind, int d)
    {
        var rng = new Random(11 + d);
        var refs = Rows(kind, rng, 5000, d);
        var queries = Rows(kind, rng, 700, d);
        Assert.True(KdTree.Pays(queries, refs, d));
        var expected = NearestNeighbors.NearestDistancesBruteForce(queries, refs, d);
        AssertSameBits(expected, NearestNeighbors.NearestDistances(queries, refs, d, 1));
        AssertSameBits(expected, NearestNeighbors.NearestDistances(queries, refs, d, 2));
    }

    [Theory]
    [InlineData("student", 10)]
    [InlineData("duplicated", 10)]
    [InlineData("lattice", 3)]
    public void KNearestAndRatios_OnTheTreePath_SameBitsAsTheirOracles(string kind, int d)
    {
        var rng = new Random(13 + d);
        var refs = Rows(kind, rng, 2500, d);
        var queries = Rows(kind, rng, 400, d);
        var self = Enumerable.Range(0, 2500).ToArray();
        var expected = AttackRows.KNearestReference(refs, refs, d, 1, self);
        var actual = AttackRows.KNearest(refs, refs, d, 1, self, 2);
        AssertSameBits(expected.Distances, actual.Distances);
        Assert.Equal(expected.Nearest, actual.Nearest);
        AssertSameBits(NearestNeighborRatio.RatiosReference(queries, refs, d), NearestNeighborRatio.Ratios(queries, refs, d, 1));
        AssertSameBits(NearestNeighborRatio.RatiosReference(queries, refs, d), NearestNeighborRatio.Ratios(queries, refs, d, 2));
    }

    [Fact]
    public void Pays_OnlyForTallNarrowFiniteSets()
    {
        var rng = new Random(1);
        var refs = GaussianRows(rng, KdTree.MinReferences, 4);
        var queries = GaussianRows(rng, 10, 4);
        Assert.True(KdTree.Pays(queries, refs, 4));
        Assert.False(KdTree.Pays(queries, refs[..((KdTree.MinReferences - 1) * 4)], 4));
        Assert.False(KdTree.Pays(GaussianRows(rng, 10, 17), GaussianRows(rng, 2000, 17), 17));
        var nan = (double[])queries.Clone();
        nan[3] = double.NaN;
        Assert.False(KdTree.Pays(nan, refs, 4));
        var huge = (double[])refs.Clone();
        huge[5] = 1e300;
        Assert.False(KdTree.Pays(queries, huge, 4));
    }
}
