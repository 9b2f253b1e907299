using Crucible.Diffusion.Steering;

namespace Crucible.Diffusion.Tests.Steering;

public class LinearConstraintSetTests
{
    private static readonly string[] Names = ["SPY", "HYG", "TLT"];

    private static double[] RandomWindow(int size, int seed, double sd)
    {
        var rng = new System.Random(seed);
        return [.. Enumerable.Range(0, size).Select(_ => sd * ((rng.NextDouble() * 2) - 1))];
    }

    private static LinearConstraintSet Mixed() => new LinearConstraintSet(Names, 4)
        .WithSeriesBounds(0, lower: -0.01, upper: 0.01)
        .WithCrossSectionalBounds([1 / 3.0, 1 / 3.0, 1 / 3.0], lower: -0.005, upper: null)
        .WithCumulativeBounds(1, lower: null, upper: Math.Log(0.98))
        .WithPortfolioCumulativeBounds([0.5, 0, 0.5], lower: -0.02, upper: 0.02)
        .With(new LinearInequality([2, 7], [1.0, -2.0], 0.001, "SPY[2] − 2 HYG[3] ≤ 0.001"));

    [Fact]
    public void Builders_WriteTheDocumentedInequalities()
    {
        var set = Mixed();
        Assert.Equal(8 + 4 + 1 + 2 + 1, set.Count);
        var r = RandomWindow(12, 1, 0.03);

        // naive sums of the documented meaning of each builder, row by row
        double[] expected =
        [
            .. Enumerable.Range(0, 4).SelectMany(t => new[] { r[t] - 0.01, -r[t] - 0.01 }),
            .. Enumerable.Range(0, 4).Select(t => -((r[t] + r[4 + t] + r[8 + t]) / 3) - 0.005),
            r[4] + r[5] + r[6] + r[7] - Math.Log(0.98),
            (0.5 * (r[0] + r[1] + r[2] + r[3] + r[8] + r[9] + r[10] + r[11])) - 0.02,
            -(0.5 * (r[0] + r[1] + r[2] + r[3] + r[8] + r[9] + r[10] + r[11])) - 0.02,
            r[2] - (2 * r[7]) - 0.001,
        ];
        for (int k = 0; k < set.Count; k++) Assert.Equal(expected[k], set.Excess(k, r), 12);
        Assert.Equal(expected.Sum(e => e > 0 ? e * e : 0), set.Penalty(r), 12);
        Assert.Equal("HYG cumulative ≤ -0.020203", set.Inequalities[12].Label);
        Assert.Equal("SPY[0] ≤ 0.01", set.Inequalities[0].Label);
    }

    [Fact]
    public void PenaltyGradient_MatchesCentralDifferences()
    {
        var set = Mixed();
        for (int seed = 0; seed < 5; seed++)
        {
            var r = RandomWindow(12, 10 + seed, 0.03);
            var gradient = new double[12];
            double p = set.Penalty(r, gradient);
            Assert.Equal(set.Penalty(r), p, 15);
            Assert.True(p > 0);
            const double h = 1e-6;
            for (int j = 0; j < 12; j++)
            {
                var up = (double[])r.Clone();
                var down = (double[])r.Clone();
                up[j] += h;
                down[j] -= h;
                double numeric = (set.Penalty(up) - set.Penalty(down)) / (2 * h);
                Assert.True(Math.Abs(numeric - gradient[j]) <= 1e-7 + (1e-6 * Math.Abs(numeric)), $"seed {seed} element {j}: numeric {numeric}, analytic {gradient[j]}");
            }
        }
    }

    [Fact]
    public void FeasibleWindow_HasZeroPenaltyAndGradient()
    {
        var set = new LinearConstraintSet(Names, 2).WithSeriesBounds(2, -0.1, 0.1).WithCumulativeBounds(0, null, 0.05);
        double[] r = [0.01, 0.02, 0.5, -0.4, 0.05, -0.05];
        var g = new double[6];
        Assert.Equal(0, set.Penalty(r, g));
        Assert.All(g, v => Assert.Equal(0, v));
        Assert.True(set.IsSatisfied(r));
    }

    [Fact]
    public void ViolationRate_CountsWindowsThatBreakAnyInequality()
    {
        var set = new LinearConstraintSet(["A"], 2).WithCumulativeBounds(0, null, Math.Log(0.8)).WithSeriesBounds(0, -0.2, null);
        float[] windows =
        [
            -0.15f, -0.10f,   // sum −0.25 ≤ ln 0.8 = −0.223, every day ≥ −0.2: feasible
            -0.05f, -0.05f,   // not down 20%
            -0.25f, 0.00f,    // down 22.1% but a −25% day
            -0.12f, -0.1031f, // sum −0.2231: violates by 0.00004, inside a 1e-4 tolerance
        ];
        Assert.Equal(0.75, set.ViolationRate(windows, 4), 12);
        Assert.Equal(0.5, set.ViolationRate(windows, 4, tolerance: 1e-4), 12);
        var rates = set.ViolationRates(windows, 4);
        Assert.Equal([0.5, 0.25, 0], rates);
        Assert.Equal(0, set.ViolationRate([], 0));
    }

    [Fact]
    public void With_RejectsBadInequalities()
    {
        var set = new LinearConstraintSet(Names, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.With(new LinearInequality([12], [1.0], 0, "out")));
        Assert.Throws<ArgumentException>(() => set.With(new LinearInequality([1, 1], [1.0, 2.0], 0, "twice")));
        Assert.Throws<ArgumentException>(() => set.With(new LinearInequality([1], [1.0, 2.0], 0, "lengths")));
        Assert.Throws<ArgumentException>(() => set.With(new LinearInequality([1], [double.NaN], 0, "nan")));
        Assert.Throws<ArgumentException>(() => set.WithCrossSectionalBounds([1, 1], null, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.WithCumulativeBounds(3, null, 0));
        Assert.Equal(0, set.Count);
        Assert.Equal(1, set.SeriesIndex("hyg"));
        Assert.Equal(-1, set.SeriesIndex("GLD"));
    }
}
