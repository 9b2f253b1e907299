using Crucible.Evaluation.Privacy;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// The linkability attack: Anonymeter's published fixture rates (its tests' 4-row ori/syn pair and link-counting
/// vectors), the random baseline against the exact probability that two random k-subsets meet, the neighbour search
/// against a sort, and the attack on a memorising generator (positive control) against a fresh population sample.
/// </summary>
// RELIABILITY PRIV-6
public sealed class LinkabilityTests
{
    private static SeriesSet Population(int n, ulong seed) => CorrelatedPopulation.Sample(n, seed, 9, ["a", "b", "c", "d"], 0.7, 0.7);

    // Anonymeter's fixture: ori (0,0) (0,1) (4,9) (0,4); syn (0,0) (1,1) (4,4) (9,9); the attacker's datasets col0 | col1
    private static (SeriesSet Ori, SeriesSet Syn) Fixture() =>
        (new SeriesSet(["col0", "col1"], [[0, 0, 4, 0], [0, 1, 9, 4]]), new SeriesSet(["col0", "col1"], [[0, 1, 4, 9], [0, 1, 4, 9]]));

    [Theory]
    // k, links of 4, and Anonymeter's rate at 95% with its interval (test_linkability_evaluator)
    [InlineData(1, 1, 0.3725, 0.045587, 0.699358)]
    [InlineData(2, 4, 0.7551, 0.5102, 1.0)]
    [InlineData(3, 4, 0.7551, 0.5102, 1.0)]
    [InlineData(4, 4, 0.7551, 0.5102, 1.0)]
    public void AnonymetersFixture_GivesItsPublishedRates(int k, int links, double rate, double low, double high)
    {
        var (ori, syn) = Fixture();
        var r = Linkability.Run(syn, ori, ori, [0], [1], seed: 3, maxTargets: 4, neighbours: k);
        Assert.Equal(4, r.Targets);
        Assert.Equal(SuccessRate.Wilson(4, links), r.Attack);
        Assert.Equal(rate, r.Attack.Value, 1e-4);
        Assert.Equal(low, r.Attack.Lower, 1e-4);
        Assert.Equal(high, r.Attack.Upper, 1e-4);
        Assert.Equal(["col0"], r.FirstColumns);
        Assert.Equal(["col1"], r.SecondColumns);
        // the control on the same rows links as many: no excess
        Assert.Equal(r.Attack, r.Control);
        Assert.Equal(0, r.Risk.Value, 1e-12);
    }

    [Fact]
    public void AnonymetersFixture_MoreNeighboursThanSyntheticRows_IsRefused()
    {
        var (ori, syn) = Fixture();
        Assert.Throws<ArgumentOutOfRangeException>(() => Linkability.Run(syn, ori, ori, [0], [1], maxTargets: 4, neighbours: 5));
    }

    [Theory]
    // Anonymeter's find_links vectors (test_find_links): k, the two tables (one row of k per target), links
    [InlineData(1, new[] { 0, 1, 2, 3 }, new[] { 4, 5, 6, 7 }, 0)]
    [InlineData(1, new[] { 0, 1, 2, 3 }, new[] { 4, 1, 6, 7 }, 1)]
    [InlineData(1, new[] { 0, 1, 6, 3 }, new[] { 4, 1, 6, 7 }, 2)]
    [InlineData(1, new[] { 0, 2 }, new[] { 1, 3 }, 0)] // [[0, 1], [2, 3]] against [[1, 0], [3, 2]] at k = 1
    [InlineData(2, new[] { 0, 1, 2, 3 }, new[] { 1, 0, 3, 2 }, 2)]
    public void CountLinks_ReproducesAnonymetersVectors(int k, int[] first, int[] second, int links) =>
        Assert.Equal(links, Linkability.CountLinks(first, second, k));

    [Theory]
    // two independent uniform k-subsets of 4 rows meet with probability 1 − C(4 − k, k)/C(4, k): 1/4, 5/6, 1, 1
    [InlineData(1, 0.25)]
    [InlineData(2, 5.0 / 6)]
    [InlineData(3, 1.0)]
    [InlineData(4, 1.0)]
    public void Baseline_IsTheChanceThatTwoRandomSetsOfKRowsMeet(int k, double expected)
    {
        var syn = new SeriesSet(["c0", "c1"], [[0, 1, 0, 0], [0, 1, 0, 0]]);
        var real = Population(2000, 5);
        var ori = new SeriesSet(["c0", "c1"], [real.Columns[0], real.Columns[1]]);
        var r = Linkability.Run(syn, ori, ori, [0], [1], seed: 11, maxTargets: 2000, neighbours: k);
        Assert.Equal(2000, r.Targets);
        // the Wilson centre of 2000 draws: within 4 standard errors of the probability (≤ 0.039 at 1/4)
        Assert.InRange(r.Baseline.Value, expected - 0.04, expected + 0.04);
    }

    [Fact]
    public void NearestRows_AreTheSortsFirstK_TiesToTheLowerRow()
    {
        var rng = new Philox(21);
        const int d = 3, n = 200, m = 40, k = 5;
        var refs = new double[n * d];
        // values on a coarse grid: many exact ties
        for (var i = 0; i < refs.Length; i++) refs[i] = rng.NextInt(4);
        var queries = new double[m * d];
        for (var i = 0; i < queries.Length; i++) queries[i] = rng.NextInt(4);
        var rows = Linkability.NearestRows(queries, refs, d, k, maxDegreeOfParallelism: 2);
        for (var q = 0; q < m; q++)
        {
            var expected = Enumerable.Range(0, n).OrderBy(r => Enumerable.Range(0, d).Sum(j => Math.Pow(queries[(q * d) + j] - refs[(r * d) + j], 2))).ThenBy(r => r).Take(k);
            Assert.Equal(expected, rows.AsSpan(q * k, k).ToArray());
        }
        Assert.Equal(rows, Linkability.NearestRows(queries, refs, d, k, maxDegreeOfParallelism: 1));
    }

    [Theory]
    [InlineData(2, 3000, false)] // a k-d tree pays
    [InlineData(13, 2000, false)] // the screened brute force
    [InlineData(3, 300, true)] // values on a coarse grid: many exact ties
    public void NearestRows_OfOne_IsThePlainLoopsRow(int d, int n, bool coarse)
    {
        var rng = new Philox((ulong)(d * n));
        double Value() => coarse ? rng.NextInt(4) : rng.NextNormal();
        var refs = new double[n * d];
        for (var i = 0; i < refs.Length; i++) refs[i] = Value();
        var queries = new double[500 * d];
        for (var i = 0; i < queries.Length; i++) queries[i] = Value();
        Assert.Equal(Linkability.NearestRowsReference(queries, refs, d, 1), Linkability.NearestRows(queries, refs, d, 1));
    }

    [Fact]
    public void MemorisingGenerator_IsLinked_FreshSampleIsNot()
    {
        var train = Population(1000, 1);
        var holdout = Population(1000, 2);
        // each train row released once with a little noise: both halves of a train row find its copy first. (A generator
        // that copies some rows twice links fewer at k = 1: the halves may each pick another copy.)
        var rng = new Philox(3);
        var copies = new SeriesSet(train.Names, [.. train.Columns.Select(c => c.Select(v => v + (0.01 * rng.NextNormal())).ToArray())]);
        var leak = Linkability.Run(copies, train, holdout, [0, 1], [2, 3], seed: 4);
        Assert.Equal(500, leak.Targets);
        Assert.True(leak.Attack.Value > 0.8, $"attack {leak.Attack.Value}");
        Assert.True(leak.Risk.Lower > 0.5, $"risk {leak.Risk.Value} ± {leak.Risk.Error}");
        Assert.True(leak.Trusted);
        foreach (var seed in new ulong[] { 6, 7, 8 })
        {
            var fresh = Population(2000, seed);
            var clean = Linkability.Run(fresh, train, holdout, [0, 1], [2, 3], seed: seed);
            // train and holdout are exchangeable for a sample that never saw train: the excess is noise around 0
            Assert.True(Math.Abs(clean.Risk.Value) < 0.05, $"seed {seed}: risk {clean.Risk.Value} ± {clean.Risk.Error}");
            Assert.True(clean.Attack.Value < 0.1, $"seed {seed}: attack {clean.Attack.Value}");
        }
    }

    [Fact]
    public void Run_IsDeterministic_AndDoesNotDependOnThreads()
    {
        var train = Population(300, 1);
        var holdout = Population(300, 2);
        var syn = CorrelatedPopulation.Copies(train, 600, 3, jitter: 0.3);
        var a = Linkability.Run(syn, train, holdout, [0, 2], [1, 3], seed: 9, maxTargets: 200, neighbours: 3, maxDegreeOfParallelism: 1);
        var b = Linkability.Run(syn, train, holdout, [0, 2], [1, 3], seed: 9, maxTargets: 200, neighbours: 3, maxDegreeOfParallelism: -1);
        Assert.Equal((a.Attack, a.Control, a.Baseline, a.Risk, a.Targets), (b.Attack, b.Control, b.Baseline, b.Risk, b.Targets));
        Assert.Equal(["a", "c"], a.FirstColumns);
        Assert.Equal(["b", "d"], a.SecondColumns);
        var other = Linkability.Run(syn, train, holdout, [0, 2], [1, 3], seed: 10, maxTargets: 200, neighbours: 3);
        Assert.NotEqual((a.Attack, a.Control, a.Baseline), (other.Attack, other.Control, other.Baseline));
    }

    [Fact]
    public void DefaultSplit_IsTheFirstHalfAndTheRest()
    {
        Assert.Equal(([0], [1]), (Linkability.DefaultSplit(2).First, Linkability.DefaultSplit(2).Second), new SplitComparer());
        var (first, second) = Linkability.DefaultSplit(5);
        Assert.Equal([0, 1, 2], first);
        Assert.Equal([3, 4], second);
        Assert.Throws<ArgumentOutOfRangeException>(() => Linkability.DefaultSplit(1));
    }

    [Fact]
    public void Datasets_AreCheckedByName_AndIndicesByRange()
    {
        string[] names = ["a", "b", "c", "d"];
        Assert.Equal(([3, 0], [1]), new LinkabilityDatasets(["d", "a"], ["b"]).Indices(names), new SplitComparer());
        var unknown = Assert.Throws<ArgumentException>(() => new LinkabilityDatasets(["a", "z"], ["b"]).Indices(names));
        Assert.Contains("'z' is not a series of the data (a, b, c, d)", unknown.Message, StringComparison.Ordinal);
        var twice = Assert.Throws<ArgumentException>(() => new LinkabilityDatasets(["a", "b"], ["b"]).Indices(names));
        Assert.Contains("series 'b' is named twice", twice.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new LinkabilityDatasets([], ["b"]).Indices(names));
        var set = Population(20, 1);
        Assert.Throws<ArgumentException>(() => Linkability.Run(set, set, set, [0, 1], [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Linkability.Run(set, set, set, [0], [4]));
        Assert.Throws<ArgumentException>(() => Linkability.Run(set, set, set, [0], []));
    }

    private sealed class SplitComparer : IEqualityComparer<(int[] First, int[] Second)>
    {
        public bool Equals((int[] First, int[] Second) x, (int[] First, int[] Second) y) => x.First.SequenceEqual(y.First) && x.Second.SequenceEqual(y.Second);

        public int GetHashCode((int[] First, int[] Second) obj) => obj.First.Length;
    }
}
