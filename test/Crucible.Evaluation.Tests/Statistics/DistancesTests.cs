using Crucible.Evaluation.Statistics;

namespace Crucible.Evaluation.Tests.Statistics;

public class DistancesTests
{
    [Fact]
    public void KolmogorovSmirnov_HandlesTies_WithRightContinuousCdfs()
    {
        // a = {1, 2, 2, 3}, b = {2, 2, 4}: at x = 1: 1/4 − 0; at 2: 3/4 − 2/3; at 3: 1 − 2/3 = 1/3; at 4: 0. sup = 1/3.
        Assert.Equal(1.0 / 3, Distances.KolmogorovSmirnov([1.0, 2, 2, 3], [2.0, 2, 4]), 1e-15);
    }

    [Fact]
    public void KolmogorovSmirnov_IsZeroForIdenticalSamples_AndOneForDisjoint()
    {
        double[] a = [0.3, -1, 2, 2, 5];
        Assert.Equal(0.0, Distances.KolmogorovSmirnov(a, a));
        Assert.Equal(1.0, Distances.KolmogorovSmirnov([1.0, 2], [3.0, 4, 5]));
    }

    [Fact]
    public void Wasserstein1_OfAShift_IsTheShift()
    {
        var a = Enumerable.Range(0, 100).Select(i => Math.Sin(i * 0.37)).ToArray();
        var b = a.Select(x => x + 0.25).ToArray();
        Assert.Equal(0.25, Distances.Wasserstein1(a, b), 1e-13);
        Assert.Equal(0.0, Distances.Wasserstein1(a, a));
    }

    [Fact]
    public void Distances_AreNaN_ForAnEmptySample()
    {
        Assert.True(double.IsNaN(Distances.KolmogorovSmirnov([], [1.0])));
        Assert.True(double.IsNaN(Distances.Wasserstein1([1.0], [])));
    }

    [Fact]
    public void Temporal_ConstantPath_GivesNaN_AndShortPathGivesNaNBeyondItsLength()
    {
        var constant = Enumerable.Repeat(0.01, 30).ToArray();
        Assert.All(Temporal.Autocorrelation(constant, 5), v => Assert.True(double.IsNaN(v)));
        Assert.All(Temporal.PartialAutocorrelation(constant, 5), v => Assert.True(double.IsNaN(v)));
        var acf = Temporal.Autocorrelation([1.0, -1, 2, 0.5], 6);
        Assert.False(double.IsNaN(acf[2]));
        Assert.True(double.IsNaN(acf[3]));
    }

    [Fact]
    public void Temporal_ConstantPath_GivesNaN_EvenWhenItsSumOverNRoundsAway()
    {
        // 306 × 0.01458700657690197 / 306 ≠ 0.01458700657690197 in floating point: the ACF was 1 − k/n, the PACF 1
        var constant = Enumerable.Repeat(0.01458700657690197, 306).ToArray();
        Assert.All(Temporal.Autocorrelation(constant, 5), v => Assert.True(double.IsNaN(v)));
        Assert.All(Temporal.PartialAutocorrelation(constant, 5), v => Assert.True(double.IsNaN(v)));
        Assert.All(Temporal.Leverage(constant, 5), v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void PartialAutocorrelation_AtLagOne_EqualsAdjustedRatio()
    {
        var rng = new Random(7);
        var x = new double[200];
        for (var t = 1; t < x.Length; t++) x[t] = 0.6 * x[t - 1] + rng.NextDouble() - 0.5;
        var mean = x.Average();
        var z = x.Select(v => v - mean).ToArray();
        var r0 = z.Sum(v => v * v) / z.Length;
        var r1 = Enumerable.Range(0, z.Length - 1).Sum(t => z[t] * z[t + 1]) / (z.Length - 1);
        Assert.Equal(r1 / r0, Temporal.PartialAutocorrelation(x, 3)[0], 1e-12);
    }
}
