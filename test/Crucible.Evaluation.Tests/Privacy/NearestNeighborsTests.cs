using Crucible.Evaluation.Privacy;

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
