using Crucible.Data;
using Crucible.Stress.Generators;

namespace Crucible.Stress.Tests.Generators;

/// <summary>Shapes, determinism and basic statistical behaviour of the baselines behind IScenarioGenerator.</summary>
public sealed class GeneratorTests
{
    /// <summary>A 2-series GARCH-t panel with correlated innovations (System.Random: test data only).</summary>
    internal static TimeSeriesFrame Panel(int n, int seed, double volScale = 1.0)
    {
        var rng = new System.Random(seed);
        var values = new double[n * 2];
        double s2a = 1e-4, s2b = 4e-5;
        for (var t = 0; t < n; t++)
        {
            var (z1, z2) = (Normal(rng), Normal(rng));
            var shock = rng.NextDouble() < 0.02 ? 4.0 : 1.0;
            var ea = Math.Sqrt(s2a) * z1 * shock;
            var eb = Math.Sqrt(s2b) * ((0.5 * z1) + (0.866 * z2));
            values[2 * t] = volScale * ea;
            values[(2 * t) + 1] = volScale * eb;
            s2a = 5e-6 + (0.1 * ea * ea) + (0.85 * s2a);
            s2b = 2e-6 + (0.05 * eb * eb) + (0.9 * s2b);
        }

        return new TimeSeriesFrame([], ["EQ", "BD"], values, n);
    }

    private static double Normal(System.Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static TheoryData<string> Names => ["bootstrap", "fhs", "copula"];

    internal static IScenarioGenerator Create(string name) => name switch
    {
        "bootstrap" => new StationaryBootstrap(5),
        "fhs" => new FilteredHistoricalSimulation(),
        "copula" => new FilteredHistoricalSimulation(InnovationMarginal.StudentT, VarianceStart.SampleVariance),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Sample_HasShape_AndIsDeterministicPerSeed(string name)
    {
        var fitted = Create(name).Fit(Panel(600, 1), 3);
        var a = fitted.Sample(17, 9, 42);
        var b = fitted.Sample(17, 9, 42);
        var c = fitted.Sample(17, 9, 43);
        Assert.Equal((17, 9, 2), (a.Count, a.Window, a.SeriesCount));
        Assert.Equal(17 * 9 * 2, a.Values.Length);
        Assert.Equal(a.Values, b.Values);
        Assert.NotEqual(a.Values, c.Values);
        Assert.All(a.Values, v => Assert.True(double.IsFinite(v)));
        var set = a.ToSeriesSet();
        Assert.Equal(17, set.PathRows().Count);
        Assert.Equal(a[3, 4, 1], set.Columns[1][(3 * 9) + 4]);
    }

    [Fact]
    public void StationaryBootstrap_RowsComeFromTheData_InRunsOfMeanLengthB()
    {
        var panel = Panel(400, 2);
        var rows = new Dictionary<(double, double), int>();
        for (var t = 0; t < panel.RowCount; t++) rows[(panel[t, 0], panel[t, 1])] = t;
        var w = new StationaryBootstrap(8).Fit(panel, 0).Sample(200, 50, 5);
        int continued = 0, steps = 0;
        for (var c = 0; c < w.Count; c++)
        {
            var prev = -1;
            for (var t = 0; t < w.Window; t++)
            {
                Assert.True(rows.TryGetValue((w[c, t, 0], w[c, t, 1]), out var row), "a sampled row is not a data row");
                if (t > 0)
                {
                    steps++;
                    if (row == (prev + 1) % panel.RowCount) continued++;
                }

                prev = row;
            }
        }

        // P(continue) = 1 − 1/b = 0.875 (plus the 1/n chance that a fresh draw lands on the next row)
        Assert.InRange((double)continued / steps, 0.86, 0.89);
    }

    [Fact]
    public void Fhs_SimulatedVolatility_MatchesTheData_AndClustersAsTheDataDoes()
    {
        var panel = Panel(3000, 4);
        var w = new FilteredHistoricalSimulation(start: VarianceStart.SampleVariance).Fit(panel, 0).Sample(400, 50, 9);
        var set = w.ToSeriesSet();
        for (var i = 0; i < 2; i++)
        {
            var real = Math.Sqrt(Garch11StudentT.SampleVariance(panel.Column(i)));
            var synthetic = Math.Sqrt(Garch11StudentT.SampleVariance(set.Columns[i]));
            Assert.InRange(synthetic / real, 0.8, 1.25);
        }

        var corrReal = Correlation(panel.Column(0), panel.Column(1));
        var corrSynth = Correlation(set.Columns[0], set.Columns[1]);
        Assert.InRange(corrSynth, corrReal - 0.1, corrReal + 0.1);
    }

    private static double Correlation(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }

        return sxy / Math.Sqrt(sxx * syy);
    }

    [Fact]
    public void Fit_TooFewRows_IsBadInput()
    {
        Assert.Throws<InvalidInputException>(() => new FilteredHistoricalSimulation().Fit(Panel(20, 1), 0));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)] // a constant accrual: the mean of 0.01 × 200 is not 0.01 to the bit, and the variance was ~5e-35, not 0
    [InlineData(-0.002)]
    public void Fhs_AConstantSeries_IsBadInput_WhateverItsValue(double value)
    {
        var panel = Panel(200, 3);
        var values = (double[])panel.Values.Clone();
        for (var t = 0; t < panel.RowCount; t++) values[(2 * t) + 1] = value;
        var frame = new TimeSeriesFrame([], panel.Columns, values, panel.RowCount);
        var e = Assert.Throws<InvalidInputException>(() => new FilteredHistoricalSimulation().Fit(frame, 0));
        Assert.Equal("constant-series", e.Rule);
        Assert.Contains("'BD'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Garch11StudentT.Fit(frame.Column(1)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    public void Fhs_ANearlyConstantSeries_IsBadInput_NotExplosiveScenarios(int moves)
    {
        // a series that is 0 but on a few days (a peg, a stale price): the likelihood grows without bound as ω → 0, the fit
        // lands at ω ≈ 1e-250, the moves' standardised residuals are ≈ 1e120, and the simulation returned log returns of 1e125
        var panel = Panel(300, 3);
        var values = (double[])panel.Values.Clone();
        for (var t = 0; t < panel.RowCount; t++) values[(2 * t) + 1] = t % (300 / moves) == 17 ? 0.01 : 0.0;
        var frame = new TimeSeriesFrame([], panel.Columns, values, panel.RowCount);
        var e = Assert.Throws<InvalidInputException>(() => new FilteredHistoricalSimulation().Fit(frame, 0));
        Assert.Equal("constant-series", e.Rule);
        Assert.Contains("'BD'", e.Message, StringComparison.Ordinal);
    }
}
