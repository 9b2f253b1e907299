using Crucible.Evaluation.Privacy;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// IMS's search of the sorted columns (each query measures only the reference rows in its run of possible matches)
/// against the test of every pair, kept as its oracle (<see cref="IdenticalMatch.MatchesBruteForce"/>): the same answer
/// for every query on near-copies of both signs, on values exactly at the tolerance and one double beyond it, at zero
/// (where only ±0 matches), on columns of repeated values, and with tolerances 0 and 2.
/// </summary>
public class IdenticalMatchTests
{
    private static void AssertSameAsEveryPair(double[] queries, double[] refs, int d, double tolerance = IdenticalMatch.NumericTolerance)
    {
        var expected = IdenticalMatch.MatchesBruteForce(queries, refs, d, tolerance);
        Assert.Equal(expected, IdenticalMatch.Matches(queries, refs, d, tolerance, 1));
        Assert.Equal(expected, IdenticalMatch.Matches(queries, refs, d, tolerance, 2));
    }

    // n reference rows of d returns (both signs, some exact zeros), and m queries: copies scaled by 1 ± up to 2% per value
    // (about half inside the 1% tolerance per value), and fresh rows
    private static (double[] Queries, double[] Refs) NearCopies(ulong seed, int m, int n, int d)
    {
        var rng = new Philox(seed, 5);
        var refs = Enumerable.Range(0, n * d).Select(_ => rng.NextInt(10) == 0 ? 0.0 : 0.01 * rng.NextNormal()).ToArray();
        var queries = new double[m * d];
        for (var i = 0; i < m; i++)
        {
            var copy = rng.NextInt(3);
            var source = rng.NextInt(n);
            for (var j = 0; j < d; j++)
            {
                queries[(i * d) + j] = copy switch
                {
                    0 => 0.01 * rng.NextNormal(),
                    1 => refs[(source * d) + j],
                    _ => refs[(source * d) + j] * (1 + (0.02 * ((2 * rng.NextDouble()) - 1)) * (j == 0 ? 0.2 : 1)),
                };
            }
        }
        return (queries, refs);
    }

    [Theory]
    [InlineData(1, 500, 2000, 3)]
    [InlineData(2, 400, 3000, 10)]
    [InlineData(3, 300, 1000, 26)]
    [InlineData(4, 50, 1, 1)]
    [InlineData(5, 7, 40, 2)]
    public void NearCopies_SameAsEveryPair(ulong seed, int m, int n, int d)
    {
        var (queries, refs) = NearCopies(seed, m, n, d);
        var expected = IdenticalMatch.MatchesBruteForce(queries, refs, d);
        Assert.Contains(true, expected);
        Assert.Contains(false, expected);
        AssertSameAsEveryPair(queries, refs, d);
    }

    [Fact]
    public void ValuesAtTheToleranceAndOneDoubleBeyond_SameAsEveryPair()
    {
        // per query value q, references at q ± t with t = 0.01·|q| and one double either side of those: the runs'
        // binary searches must keep exactly the values the pairwise test keeps. Half the queries are whole multiples of
        // 100, whose tolerance is a whole number, so that |r − q| = t holds exactly at the edges
        var rng = new Philox(9, 5);
        const int d = 2;
        var queries = new List<double>();
        var refs = new List<double>();
        for (var i = 0; i < 300; i++)
        {
            var q0 = i % 4 < 2 ? (rng.NextDouble() - 0.5) * Math.Pow(10, rng.NextInt(6) - 3) : 100.0 * (rng.NextInt(2001) - 1000);
            var q1 = rng.NextNormal();
            queries.AddRange([q0, q1]);
            var t = 0.01 * Math.Abs(q0);
            // of the six, only reference i mod 6 matches in the other column: the answer is whether its edge value is kept
            var k = 0;
            foreach (var edge in new[] { q0 + t, q0 - t })
            {
                foreach (var r0 in new[] { Math.BitDecrement(edge), edge, Math.BitIncrement(edge) })
                    refs.AddRange([r0, k++ == i % 6 ? q1 : 1.5 * q1]);
            }
        }
        var (qa, ra) = (queries.ToArray(), refs.ToArray());
        // the exact edges are there: a reference at |r − q| = t for some query
        Assert.Contains(Enumerable.Range(0, 300), i => i % 6 == 1 && Math.Abs(ra[((i * 6) + 1) * d] - qa[i * d]) == 0.01 * Math.Abs(qa[i * d]));
        Assert.Contains(Enumerable.Range(0, 300), i => i % 6 == 4 && Math.Abs(ra[((i * 6) + 4) * d] - qa[i * d]) == 0.01 * Math.Abs(qa[i * d]));
        var expected = IdenticalMatch.MatchesBruteForce(qa, ra, d);
        Assert.Contains(true, expected);
        Assert.Contains(false, expected);
        AssertSameAsEveryPair(qa, ra, d);
        // one query at a time against only its own six references: the boundary rows decide every answer
        for (var i = 0; i < 300; i++)
            AssertSameAsEveryPair(qa[(i * d)..((i + 1) * d)], ra[(i * 6 * d)..((i + 1) * 6 * d)], d);
    }

    [Fact]
    public void Zeros_RepeatedValues_AndOtherTolerances_SameAsEveryPair()
    {
        // columns on a small grid with zeros of both signs: long runs of equal keys, and q = 0 matching only ±0
        var rng = new Philox(11, 5);
        const int d = 4;
        double Grid() => rng.NextInt(7) switch { 0 => 0.0, 1 => -0.0, var k => (k - 4) * 0.5 };
        var refs = Enumerable.Range(0, 1500 * d).Select(_ => Grid()).ToArray();
        var queries = Enumerable.Range(0, 400 * d).Select(_ => Grid() * (rng.NextInt(3) == 0 ? 1.004 : 1)).ToArray();
        foreach (var tolerance in new[] { 0.0, IdenticalMatch.NumericTolerance, 2.0 })
            AssertSameAsEveryPair(queries, refs, d, tolerance);
    }

    [Fact]
    public void NonFiniteValues_TakeTheTestOfEveryPair()
    {
        double[] refs = [1.0, double.NaN, 2.0, 3.0, double.PositiveInfinity, 1.0];
        double[] queries = [1.005, 5.0, 2.0, 3.0, double.PositiveInfinity, 1.0, double.NaN, 0.0];
        AssertSameAsEveryPair(queries, refs, 2);
        Assert.Equal([false, true, false, false], IdenticalMatch.Matches(queries, refs, 2));
    }
}
