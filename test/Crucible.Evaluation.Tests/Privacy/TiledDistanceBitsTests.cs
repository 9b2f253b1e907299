using Crucible.Evaluation.Privacy;

namespace Crucible.Evaluation.Tests.Privacy;

/// <summary>
/// The vectorised distance searches (k nearest by the screening and by the double tiles, NNDR, range-normalised DCR, the
/// KDE's exponents) against the loops they replaced, kept as oracles:
/// the same bits for every output, on random inputs of awkward sizes (tails of the 4 × 16 and 32-row tiles) and on
/// tie-heavy ones (values from a three-point grid, duplicated rows), where only the same sums scanned in the same order
/// give the same neighbour indices.
/// </summary>
public class TiledDistanceBitsTests
{
    private static double[] RandomRows(Random rng, int rows, int d, double scale = 1, double offset = 0) =>
        Enumerable.Range(0, rows * d).Select(_ => ((rng.NextDouble() * 2) - 1) * scale + offset).ToArray();

    // every value on {−1, 0, 1}, and every third row a copy of an earlier one: many exactly equal distances
    private static double[] TieRows(Random rng, int rows, int d)
    {
        var x = Enumerable.Range(0, rows * d).Select(_ => (double)(rng.Next(3) - 1)).ToArray();
        for (var r = 3; r < rows; r += 3) Array.Copy(x, rng.Next(r) * d, x, r * d, d);
        return x;
    }

    private static void AssertSameBits(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(actual[i]),
                $"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Theory]
    [InlineData(1, 1, 1, 1, false)]
    [InlineData(5, 17, 3, 2, false)]
    [InlineData(37, 300, 25, 1, false)]
    [InlineData(37, 300, 25, 1, true)]
    [InlineData(70, 1500, 26, 10, false)]
    [InlineData(33, 33, 7, 3, true)]
    public void KNearest_RandomInputs_SameBitsAsTheLoop(int m, int n, int d, int k, bool self)
    {
        var rng = new Random(9100 + m + n + d);
        // large offsets with small spreads: an FMA or another summation order changes the last bits here
        var refs = RandomRows(rng, n, d, scale: 0.37, offset: 3.1);
        var queries = self ? refs : RandomRows(rng, m, d, scale: 0.41, offset: 3.05);
        if (self) m = n;
        int[]? skip = self ? [.. Enumerable.Range(0, m)] : null;
        var expected = AttackRows.KNearestReference(queries, refs, d, k, skip);
        var actual = AttackRows.KNearest(queries, refs, d, k, skip);
        AssertSameBits(expected.Distances, actual.Distances);
        Assert.Equal(expected.Nearest, actual.Nearest);
        Assert.Equal(expected.Nearest, AttackRows.KNearest(queries, refs, d, k, skip, maxDegreeOfParallelism: 1).Nearest);
    }

    [Theory]
    [InlineData(50, 200, 4, 1)]
    [InlineData(61, 130, 25, 5)]
    [InlineData(40, 40, 3, 1)]
    public void KNearest_TieHeavyInputs_SameNeighboursAsTheLoop(int m, int n, int d, int k)
    {
        var rng = new Random(77 + n);
        var refs = TieRows(rng, n, d);
        var queries = TieRows(rng, m, d);
        var expected = AttackRows.KNearestReference(queries, refs, d, k);
        var actual = AttackRows.KNearest(queries, refs, d, k);
        AssertSameBits(expected.Distances, actual.Distances);
        Assert.Equal(expected.Nearest, actual.Nearest);
        // the lowest index among equally near references wins, as in the loop
        Assert.Contains(actual.Nearest, i => i > 0);
        var skip = Enumerable.Range(0, m).Select(i => i % n).ToArray();
        var e2 = AttackRows.KNearestReference(queries, refs, d, k, skip);
        var a2 = AttackRows.KNearest(queries, refs, d, k, skip);
        AssertSameBits(e2.Distances, a2.Distances);
        Assert.Equal(e2.Nearest, a2.Nearest);
    }

    [Theory]
    [InlineData(37, 300, 25, 1, false)]
    [InlineData(33, 33, 7, 3, true)]
    [InlineData(61, 130, 25, 5, false)]
    public void KNearestTiledSquared_SameBitsAsTheLoop(int m, int n, int d, int k, bool ties)
    {
        // the double tiles, the k nearest's path for coordinates beyond single precision, called directly
        var rng = new Random(606 + m + n);
        var refs = ties ? TieRows(rng, n, d) : RandomRows(rng, n, d, scale: 0.37, offset: 3.1);
        var queries = ties ? TieRows(rng, m, d) : RandomRows(rng, m, d, scale: 0.41, offset: 3.05);
        foreach (var skip in new int[]?[] { null, [.. Enumerable.Range(0, m).Select(i => i % n)] })
        {
            var expected = AttackRows.KNearestReference(queries, refs, d, k, skip);
            var (squared, nearest) = AttackRows.KNearestTiledSquared(queries, refs, d, k, skip);
            AssertSameBits(expected.Distances, [.. squared.Select(Math.Sqrt)]);
            Assert.Equal(expected.Nearest, nearest);
        }
    }

    [Theory]
    [InlineData(1, 2, 1, false)]
    [InlineData(13, 45, 26, false)]
    [InlineData(300, 1380, 26, false)]
    [InlineData(67, 250, 5, true)]
    [InlineData(64, 96, 26, true)]
    public void NndrRatios_SameBitsAsTheVectorPasses(int m, int n, int d, bool ties)
    {
        var rng = new Random(4242 + m + n);
        var refs = ties ? TieRows(rng, n, d) : RandomRows(rng, n, d, scale: 0.5, offset: 2.2);
        var queries = ties ? TieRows(rng, m, d) : RandomRows(rng, m, d, scale: 0.6, offset: 2.1);
        AssertSameBits(NearestNeighborRatio.RatiosReference(queries, refs, d), NearestNeighborRatio.Ratios(queries, refs, d));
        AssertSameBits(NearestNeighborRatio.RatiosReference(queries, refs, d, 1), NearestNeighborRatio.Ratios(queries, refs, d, 1));
    }

    private static double[][] Columns(double[] rows, int d) =>
        [.. Enumerable.Range(0, d).Select(j => Enumerable.Range(0, rows.Length / d).Select(r => rows[(r * d) + j]).ToArray())];

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(9, 31, 4)]
    [InlineData(40, 33, 26)]
    [InlineData(200, 1380, 26)]
    public void RangeNormalisedDcr_NumericalColumns_SameBitsAsTheVectorPasses(int ns, int nr, int d)
    {
        var rng = new Random(515 + ns + nr);
        var syn = Columns(RandomRows(rng, ns, d, scale: 0.03, offset: 0.001), d);
        var reference = Columns(RandomRows(rng, nr, d, scale: 0.02), d);
        var kinds = Enumerable.Repeat(DcrColumnKind.Numerical, d).ToArray();
        AssertSameBits(RangeNormalisedDcr.ComputeReference(syn, reference, kinds), RangeNormalisedDcr.Compute(syn, reference, kinds));
    }

    [Fact]
    public void RangeNormalisedDcr_MixedAndTieHeavyColumns_SameBitsAsTheVectorPasses()
    {
        var rng = new Random(3);
        int ns = 45, nr = 70, d = 6;
        var syn = Columns(TieRows(rng, ns, d), d);
        var reference = Columns(TieRows(rng, nr, d), d);
        // a categorical column, a constant reference column (zero range), missing values on both sides
        var kinds = new[] { DcrColumnKind.Numerical, DcrColumnKind.Categorical, DcrColumnKind.Numerical, DcrColumnKind.Numerical, DcrColumnKind.Numerical, DcrColumnKind.Numerical };
        Array.Fill(reference[2], 0.5);
        reference[3][7] = double.NaN;
        syn[4][2] = double.NaN;
        syn[0][44] = double.NaN;
        AssertSameBits(RangeNormalisedDcr.ComputeReference(syn, reference, kinds), RangeNormalisedDcr.Compute(syn, reference, kinds));
        AssertSameBits(RangeNormalisedDcr.ComputeReference(syn, reference, kinds, 1), RangeNormalisedDcr.Compute(syn, reference, kinds, 1));
    }
    [Theory]
    [InlineData(1037, 9, 26, false)]
    [InlineData(5, 3, 2, false)]
    [InlineData(24, 7, 4, false)]
    [InlineData(690, 13, 26, true)]
    [InlineData(2000, 1, 5, true)]
    public void GaussianKdeLogDensity_SameBitsAsOnePassPerDimension(int n, int m, int d, bool ties)
    {
        var rng = new Random(808 + n + m);
        var data = ties ? TieRows(rng, n, d) : RandomRows(rng, n, d, scale: 0.02, offset: 0.001);
        // points near the data and far from it (large exponents: the max shift and the exp matter)
        var points = ties ? TieRows(rng, m, d) : RandomRows(rng, m, d, scale: 0.2);
        var kde = GaussianKde.Fit(data, d);
        AssertSameBits(kde.LogDensityReference(points), kde.LogDensity(points));
        AssertSameBits(kde.LogDensityReference(points, 1), kde.LogDensity(points, 1));
    }
}
