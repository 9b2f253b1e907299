using Crucible.Data;
using Crucible.Evaluation.Statistics;
using Crucible.Stress.Backtesting;
using Crucible.Stress.Ensembles;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Tests.Backtesting;
using Crucible.Stress.Tests.Generators;

namespace Crucible.Stress.Tests.Ensembles;

public sealed class EnsembleTests
{
    private static readonly Portfolio SixtyForty = new("60/40", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);

    /// <summary>2,500 ordinary days followed by 500 calm ones (volatility × 0.4).</summary>
    private static readonly Lazy<TimeSeriesFrame> Data = new(() =>
    {
        var normal = GeneratorTests.Panel(2500, 21);
        var calm = GeneratorTests.Panel(500, 22, volScale: 0.4);
        return new TimeSeriesFrame([], normal.Columns, [.. normal.Values, .. calm.Values], 3000);
    });

    // fitted generators are immutable: fit once for all tests
    private static readonly Lazy<IFittedScenarioGenerator[]> Fitted = new(() =>
    {
        var data = Data.Value;
        return
        [
            new StationaryBootstrap(5).Fit(data, 1),
            new StationaryBootstrap(20).Fit(data, 2),
            new FilteredHistoricalSimulation(start: VarianceStart.SampleVariance).Fit(data, 3),
            new FilteredHistoricalSimulation(InnovationMarginal.StudentT, VarianceStart.SampleVariance).Fit(data, 4),
        ];
    });

    private static List<IFittedScenarioGenerator> WellSpecified() => [.. Fitted.Value];

    [Fact]
    public void WellSpecifiedEnsemble_IsNotFlagged()
    {
        var result = Ensemble.Run(WellSpecified(), SixtyForty, 3000, 10, 0.975, seed: 7);
        Assert.False(result.Flagged, string.Join("; ", result.Reasons) + $" (spread {result.EsSpread}, W {result.MaxWasserstein})");
        Assert.Equal(4, result.Members.Count);
        Assert.Equal(["stationary-bootstrap", "stationary-bootstrap#2", "fhs-garch-t-longrun", "garch-t-copula-longrun"], result.Members.Select(m => m.Name));
    }

    [Fact]
    public void CalmPeriodBootstrap_TripsTheFlag_AndIsNamed()
    {
        var members = WellSpecified();
        members.Add(new StationaryBootstrap(10).Fit(Data.Value.Slice(2500, 3000), 5)); // a bootstrap of the calm period only
        var result = Ensemble.Run(members, SixtyForty, 3000, 10, 0.975, seed: 7);
        Assert.True(result.Flagged);
        Assert.Contains(result.Reasons, r => r.Contains("stationary-bootstrap#3", StringComparison.Ordinal));
    }

    [Fact]
    public void ScaledDownVolatility_TripsTheFlag()
    {
        var members = WellSpecified();
        members[2] = new ScaledGenerator(new FilteredHistoricalSimulation(start: VarianceStart.SampleVariance), 0.6).Fit(Data.Value, 3);
        var result = Ensemble.Run(members, SixtyForty, 3000, 10, 0.975, seed: 7);
        Assert.True(result.Flagged, $"spread {result.EsSpread}, W {result.MaxWasserstein}");
        Assert.True(result.EsSpread > result.Thresholds.MaxEsSpread);
    }

    [Fact]
    public void Measure_MatchesItsDefinition()
    {
        var result = Ensemble.Run(WellSpecified(), SixtyForty, 500, 5, 0.95, seed: 3);
        var es = result.Members.Select(m => m.Stress.Levels[0].ExpectedShortfall).Order().ToArray();
        var sd = result.Members.Select(m => Math.Sqrt(Variance(m.Stress.HorizonReturns))).Order().ToArray();
        // the ES range over |median ES|, here larger than the P&L scale (median sd), which would take its place otherwise
        Assert.True(0.5 * (es[1] + es[2]) > 0.5 * (sd[1] + sd[2]));
        Assert.Equal((es[^1] - es[0]) / (0.5 * (es[1] + es[2])), result.EsSpread, 12);
        var w01 = Distances.Wasserstein1(result.Members[0].Stress.HorizonReturns, result.Members[1].Stress.HorizonReturns);
        Assert.Equal(w01 / (0.5 * (sd[1] + sd[2])), result.Wasserstein[0][1], 12);
        Assert.Equal(result.Wasserstein[0][1], result.Wasserstein[1][0]);
        Assert.Equal(0, result.Wasserstein[2][2]);
        // deterministic per seed
        Assert.Equal(result.EsSpread, Ensemble.Run(WellSpecified(), SixtyForty, 500, 5, 0.95, seed: 3).EsSpread);
    }

    [Theory]
    [InlineData(1)] // measured as agreeing with itself: spread 0, distance 0, never flagged
    [InlineData(0)] // crashed on the maximum of no ES
    public void Measure_FewerThanTwoMembers_IsRefused(int count)
    {
        var result = Ensemble.Run(WellSpecified(), SixtyForty, 200, 5, 0.95, seed: 3);
        var e = Assert.Throws<InvalidInputException>(() => Ensemble.Measure([.. result.Members.Take(count)], 0.95, new EnsembleThresholds()));
        Assert.Equal("ensemble-members", e.Rule);
    }

    [Fact]
    public void AMemberOfOneScenario_IsRefused_NotMeasuredAsNaN()
    {
        // one scenario has no P&L standard deviation: the distances' scale was NaN, every distance NaN, and a member far
        // from the others was "within the declared thresholds"
        var e = Assert.Throws<InvalidInputException>(() => Ensemble.Run(WellSpecified(), SixtyForty, 1, 5, 0.95, seed: 3));
        Assert.Equal("ensemble-members", e.Rule);
        Assert.Contains("has 1 scenario(s); each member needs at least 2", e.Message, StringComparison.Ordinal);

        var result = Ensemble.Run(WellSpecified(), SixtyForty, 200, 5, 0.95, seed: 3);
        var members = result.Members.ToList();
        members[1] = members[1] with { Stress = members[1].Stress with { HorizonReturns = [-0.5] } };
        Assert.Equal("ensemble-members", Assert.Throws<InvalidInputException>(() => Ensemble.Measure(members, 0.95, new EnsembleThresholds())).Rule);
        Assert.False(double.IsNaN(Ensemble.Measure(result.Members, 0.95, new EnsembleThresholds()).MaxWasserstein));
    }

    [Theory]
    [InlineData(0.0)] // a flat P&L: its standard deviation exactly 0
    [InlineData(0.01)] // its mean rounded: a standard deviation of about 1e-18 unless a constant is recognised
    public void ACollapsedMajority_IsMeasuredAgainstTheLargestSpread_AndFlagged_NotNaN(double value)
    {
        // three of four members with a constant P&L (collapsed): the median standard deviation is 0, the distance
        // between two constants was 0/0 = NaN, the largest distance NaN, and the ensemble was not flagged
        var result = Ensemble.Run(WellSpecified(), SixtyForty, 200, 5, 0.95, seed: 3);
        var members = result.Members.ToList();
        Assert.Equal(4, members.Count);
        var constant = Enumerable.Repeat(value, 200).ToArray();
        for (var i = 0; i < 3; i++) members[i] = members[i] with { Stress = members[i].Stress with { HorizonReturns = (double[])constant.Clone() } };
        var measured = Ensemble.Measure(members, 0.95, new EnsembleThresholds());
        Assert.Equal(0, measured.Wasserstein[0][1]);
        var healthy = members[3].Stress.HorizonReturns;
        var expected = Distances.Wasserstein1(constant, healthy) / Math.Sqrt(Variance(healthy));
        Assert.Equal(expected, measured.Wasserstein[0][3], 12);
        Assert.Equal(expected, measured.MaxWasserstein, 12);
        Assert.True(measured.Flagged);
        Assert.Contains(measured.Reasons, r => r.StartsWith("P&L Wasserstein", StringComparison.Ordinal));

        // every member constant: nothing to scale by; the same value agrees (0), another value is +∞ and flagged
        var allSame = members.Select(m => m with { Stress = m.Stress with { HorizonReturns = constant } }).ToList();
        var same = Ensemble.Measure(allSame, 0.95, new EnsembleThresholds { MaxEsSpread = double.MaxValue });
        Assert.Equal(0, same.MaxWasserstein);
        Assert.False(same.Flagged);
        allSame[3] = allSame[3] with { Stress = allSame[3].Stress with { HorizonReturns = Enumerable.Repeat(-0.02, 200).ToArray() } };
        var apart = Ensemble.Measure(allSame, 0.95, new EnsembleThresholds { MaxEsSpread = double.MaxValue });
        Assert.Equal(double.PositiveInfinity, apart.MaxWasserstein);
        Assert.Equal(0, apart.Wasserstein[0][1]);
        Assert.True(apart.Flagged);
    }

    [Fact]
    public void EqualExpectedShortfalls_AreNoSpread_EvenAtAMedianOfZero()
    {
        var result = Ensemble.Run(WellSpecified(), SixtyForty, 200, 5, 0.95, seed: 3);
        var zeroEs = result.Members.Select(m => m with
        {
            Stress = m.Stress with { Levels = [.. m.Stress.Levels.Select(l => l with { ExpectedShortfall = 0 })] },
        }).ToList();
        Assert.Equal(0, Ensemble.Measure(zeroEs, 0.95, new EnsembleThresholds()).EsSpread);
    }

    [Fact]
    public void ExpectedShortfallsNearZero_AreScaledByThePnlSpread_NotFlaggedAsDisagreeing()
    {
        // members whose ES straddle 0 (small, of mixed sign) agree to a fraction of their P&L spread; divided by their
        // median ES, 0 here, the spread was +∞ and flagged
        var result = Ensemble.Run(WellSpecified(), SixtyForty, 200, 5, 0.95, seed: 3);
        double[] nearZero = [0.001, -0.0005, 0.0005, -0.001];
        var members = result.Members.Select((m, i) => m with
        {
            Stress = m.Stress with { Levels = [.. m.Stress.Levels.Select(l => l with { ExpectedShortfall = nearZero[i] })] },
        }).ToList();
        var measured = Ensemble.Measure(members, 0.95, new EnsembleThresholds());
        var sd = members.Select(m => Math.Sqrt(Variance(m.Stress.HorizonReturns))).Order().ToArray();
        double scale = 0.5 * (sd[1] + sd[2]);
        Assert.True(scale > 0.002 / 0.35, $"the P&L spread {scale} should dwarf the ES range");
        Assert.Equal(0.002 / scale, measured.EsSpread, 12);
        Assert.False(measured.Flagged, string.Join("; ", measured.Reasons));

        // an ES range as large as the P&L spread itself is still flagged
        double[] apart = [scale, -0.5 * scale, 0.01 * scale, -0.01 * scale];
        var wide = Ensemble.Measure([.. members.Select((m, i) => m with
        {
            Stress = m.Stress with { Levels = [.. m.Stress.Levels.Select(l => l with { ExpectedShortfall = apart[i] })] },
        })], 0.95, new EnsembleThresholds());
        Assert.Equal(1.5, wide.EsSpread, 12);
        Assert.True(wide.Flagged);
    }

    private static double Variance(double[] x)
    {
        var m = x.Average();
        return x.Sum(v => (v - m) * (v - m)) / (x.Length - 1);
    }

    [Fact]
    public void RunFiles_AMemberThatWipesTheBookOut_IsNamed()
    {
        // "loses all its capital in scenario 2, step 1" named no file: which member did it was anyone's guess
        var dir = Directory.CreateTempSubdirectory("crucible-ensemble-wiped-");
        try
        {
            var calm = Path.Combine(dir.FullName, "calm.csv");
            var crash = Path.Combine(dir.FullName, "crash.csv");
            var portfolio = Path.Combine(dir.FullName, "p.json");
            File.WriteAllText(calm, "scenario,step,EQ,BD\n1,1,0.01,0.0\n2,1,-0.01,0.0\n3,1,0.0,0.01\n");
            File.WriteAllText(crash, "scenario,step,EQ,BD\n1,1,0.01,0.0\n2,1,-0.5,0.0\n3,1,0.0,0.01\n");
            File.WriteAllText(portfolio, """{"weights": {"EQ": 3}, "leverage": 3}""");
            var e = Assert.Throws<InvalidInputException>(() => Ensemble.RunFiles([calm, crash], portfolio, 0.9));
            Assert.Equal("wiped-out", e.Rule);
            Assert.Equal(crash, e.Location?.File);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void RunFiles_AMemberLackingAPortfolioSeries_IsNamed()
    {
        // "portfolio series 'BD' is not in the scenarios (series: EQ, CM)" named the portfolio file only: which of the
        // members lacked it was anyone's guess
        var dir = Directory.CreateTempSubdirectory("crucible-ensemble-series-");
        try
        {
            var a = Path.Combine(dir.FullName, "a.csv");
            var b = Path.Combine(dir.FullName, "b.csv");
            var c = Path.Combine(dir.FullName, "c.csv");
            var portfolio = Path.Combine(dir.FullName, "p.json");
            File.WriteAllText(a, "scenario,step,EQ,BD\n1,1,0.01,0.0\n2,1,-0.01,0.0\n3,1,0.0,0.01\n");
            File.WriteAllText(b, "scenario,step,EQ,BD\n1,1,0.02,0.0\n2,1,-0.01,0.01\n3,1,0.0,0.01\n");
            File.WriteAllText(c, "scenario,step,EQ,CM\n1,1,0.01,0.0\n2,1,-0.01,0.0\n3,1,0.0,0.01\n");
            File.WriteAllText(portfolio, """{"weights": {"EQ": 0.6, "BD": 0.4}}""");
            var e = Assert.Throws<InvalidInputException>(() => Ensemble.RunFiles([a, b, c], portfolio, 0.9));
            Assert.Equal("unknown-series", e.Rule);
            Assert.Equal(portfolio, e.Location?.File); // still located at the holding
            Assert.Contains($"portfolio series 'BD' is not in the scenarios (series: EQ, CM); scenario file: {c}", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
