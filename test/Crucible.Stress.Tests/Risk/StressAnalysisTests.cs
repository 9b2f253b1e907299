using System.Text.Json;
using Crucible.Data;
using Crucible.Evaluation;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Tests.Risk;

public sealed class StressAnalysisTests
{
    private static readonly double[] Alphas = [0.9, 0.95, 0.975, 0.99];

    /// <summary>A random scenario set: <paramref name="count"/> scenarios of <paramref name="steps"/> steps, heavy-tailed.</summary>
    private static SeriesSet RandomSet(int count, int steps, int series, int seed, double scale = 0.01)
    {
        var rng = new System.Random(seed);
        var columns = new double[series][];
        for (var i = 0; i < series; i++) columns[i] = new double[count * steps];
        var ids = new int[count * steps];
        for (var row = 0; row < ids.Length; row++)
        {
            ids[row] = (row / steps) + 1;
            var common = rng.NextDouble() < 0.05 ? -3 * scale : 0;
            for (var i = 0; i < series; i++) columns[i][row] = common + (scale * (rng.NextDouble() - 0.5) * 2);
        }

        return new SeriesSet(Enumerable.Range(0, series).Select(i => "S" + i).ToArray(), columns, ids);
    }

    private static Portfolio Weights(params (string Series, double Weight)[] w) =>
        new("test", w.Select(x => new Holding(x.Series, x.Weight)).ToArray(), leverage: w.Sum(x => x.Weight));

    /// <summary>k = ⌈n(1 − α)⌉ in exact decimal arithmetic.</summary>
    private static int K(int n, double alpha) => Math.Max(1, (int)Math.Ceiling(n * (1 - (decimal)alpha)));

    /// <summary>METRICS.md straight: per step log Σ w e^r, horizon = Σ steps, VaR/ES/CDaR by sorting, in plain loops.</summary>
    private static (double Var, double Es, double Cdar) Naive(SeriesSet set, double[] w, double alpha)
    {
        var byScenario = new SortedDictionary<int, List<int>>();
        for (var row = 0; row < set.RowCount; row++)
        {
            if (!byScenario.TryGetValue(set.ScenarioIds![row], out var list)) byScenario[set.ScenarioIds[row]] = list = [];
            list.Add(row);
        }

        var losses = new List<double>();
        var mdds = new List<double>();
        foreach (var rows in byScenario.Values)
        {
            double cum = 0, peak = 1, mdd = 0;
            foreach (var row in rows)
            {
                double s = 0;
                for (var i = 0; i < w.Length; i++) s += w[i] * Math.Exp(set.Columns[i][row]);
                cum += Math.Log(s);
                peak = Math.Max(peak, Math.Exp(cum));
                mdd = Math.Max(mdd, 1 - (Math.Exp(cum) / peak));
            }

            losses.Add(-cum);
            mdds.Add(mdd);
        }

        var k = K(losses.Count, alpha);
        var sortedLosses = losses.OrderByDescending(x => x).ToArray();
        var sortedMdd = mdds.OrderByDescending(x => x).ToArray();
        return (sortedLosses[k - 1], sortedLosses.Take(k).Average(), sortedMdd.Take(k).Average());
    }

    [Theory]
    [InlineData(500, 10, 3, 1)]
    [InlineData(250, 1, 4, 2)]
    [InlineData(37, 20, 2, 3)]
    public void Run_MatchesANaiveComputationOfTheMetricsFormulas(int count, int steps, int series, int seed)
    {
        var set = RandomSet(count, steps, series, seed);
        var w = Enumerable.Range(0, series).Select(i => 1.0 / series).ToArray();
        var portfolio = Weights(set.Names.Select((n, i) => (n, w[i])).ToArray());
        var result = StressAnalysis.Run(set, portfolio, Alphas);
        Assert.Equal(count, result.Scenarios);
        foreach (var level in result.Levels)
        {
            var (var, es, cdar) = Naive(set, w, level.Alpha);
            Assert.Equal(K(count, level.Alpha), level.TailCount);
            Assert.Equal(var, level.ValueAtRisk, 1e-12);
            Assert.Equal(es, level.ExpectedShortfall, 1e-12);
            Assert.Equal(cdar, level.ConditionalDrawdown, 1e-12);
        }
    }

    [Fact]
    public void Run_AgreesWithThePythonReference()
    {
        var set = SeriesSetCsv.Read(TestPaths.Data("scenarios.csv"));
        var portfolio = Portfolio.Load(TestPaths.Data("portfolio.json"));
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Data("stress_ref.json")));
        var alphas = doc.RootElement.EnumerateObject().Select(p => double.Parse(p.Name, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var result = StressAnalysis.Run(set, portfolio, alphas);
        foreach (var level in result.Levels)
        {
            var want = doc.RootElement.GetProperty(Crucible.Stress.Reporting.StressJson.AlphaKey(level.Alpha));
            Assert.Equal(want.GetProperty("k").GetInt32(), level.TailCount);
            AssertRelative(want.GetProperty("var").GetDouble(), level.ValueAtRisk, 1e-9);
            AssertRelative(want.GetProperty("es").GetDouble(), level.ExpectedShortfall, 1e-9);
            AssertRelative(want.GetProperty("cdar").GetDouble(), level.ConditionalDrawdown, 1e-9);
        }
    }

    [Fact]
    public void ScenarioFile_WithQuotedSeriesNamesOrATrailingDelimiter_ReadsTheNamesAsWritten()
    {
        // session 15 QA: ScenarioCsv quotes a series name holding a comma or a quote ("x,y", "a""b"), and the reader of
        // stress, ensemble and evaluate split the header on every comma: a portfolio naming the series was refused; and a
        // trailing delimiter, which data check and train accept, was "a column has no name"
        var path = Path.Combine(Path.GetTempPath(), "crucible-quoted-" + Guid.NewGuid().ToString("N") + ".csv");
        try
        {
            File.WriteAllText(path, "scenario,step,\"x,y\",\"a\"\"b\",C\n1,1,0.01,-0.02,0.03\n2,1,-0.01,0.02,0.01\n3,1,0.02,0.01,-0.04\n");
            var set = SeriesSetCsv.Read(path);
            Assert.Equal(["x,y", "a\"b", "C"], set.Names);
            Assert.Equal([0.01, -0.01, 0.02], set.Columns[0]);
            var portfolio = Portfolio.Parse("""{"weights": {"x,y": 0.5, "a\"b": 0.5}}"""u8);
            Assert.True(double.IsFinite(Assert.Single(StressAnalysis.Run(set, portfolio, [0.5]).Levels).ExpectedShortfall)); // the names match

            // a trailing delimiter on every line, a byte-order mark and CRLF (as data check and train accept them)
            File.WriteAllText(path, "\uFEFFscenario,step,A,B,\r\n1,1,0.01,0.02,\r\n2,1,0.03,-0.01,\r\n", new System.Text.UTF8Encoding(false));
            var trailing = SeriesSetCsv.Read(path);
            Assert.Equal(["A", "B"], trailing.Names);
            Assert.Equal([0.02, -0.01], trailing.Columns[1]);

            File.WriteAllText(path, "scenario,step,\"x,y,C\n1,1,0.01,0.02\n");
            var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(path));
            Assert.Equal("unclosed-quote", e.Rule);
            Assert.Equal(1, e.Location!.Line);
            Assert.Equal(3, e.Location.Column);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertRelative(double expected, double actual, double rtol) =>
        Assert.True(Math.Abs(expected - actual) <= rtol * Math.Abs(expected), $"expected {expected:R}, got {actual:R}");

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.5)]
    [InlineData(-0.5)]
    public void EulerContributions_SumToEs(double leverage)
    {
        var set = RandomSet(300, 15, 4, 7, scale: 0.02);
        var portfolio = Weights(("S0", 0.7 * leverage), ("S1", -0.2 * leverage), ("S3", 0.5 * leverage));
        var result = StressAnalysis.Run(set, portfolio, Alphas);
        foreach (var level in result.Levels)
        {
            Assert.Equal(0.0, level.SeriesContributions[2]); // not held
            Assert.Equal(level.ExpectedShortfall, level.SeriesContributions.Sum(), 1e-13);
        }
    }

    [Fact]
    public void EulerContributions_ApproachTheGradientForm_ForSmallReturns()
    {
        // with small returns ln(1 + u) ≈ u, so contribution_i ≈ w_i ∂ES/∂w_i (the tail set held fixed); checked by central differences
        var set = RandomSet(400, 5, 3, 11, scale: 1e-4);
        double[] w = [0.5, 0.3, 0.2];
        var result = StressAnalysis.Run(set, Weights(("S0", w[0]), ("S1", w[1]), ("S2", w[2])), [0.95]);
        var es = result.Levels[0];
        for (var i = 0; i < 3; i++)
        {
            var h = 1e-6;
            double Es(double delta)
            {
                var wi = (double[])w.Clone();
                wi[i] += delta;
                var p = new Portfolio("x", wi.Select((v, j) => new Holding("S" + j, v)).ToArray(), wi.Sum());
                return StressAnalysis.Run(set, p, [0.95]).Levels[0].ExpectedShortfall;
            }

            var gradient = (Es(h) - Es(-h)) / (2 * h);
            // the two differ by the factor (1/(1 + u)) / φ(u) ≈ 1 − u/2 per step: relative O(1e-4) at these return sizes
            Assert.Equal(w[i] * gradient, es.SeriesContributions[i], 5e-4 * Math.Abs(es.SeriesContributions[i]));
        }
    }

    [Fact]
    public void Groups_SumTheirSeriesContributions()
    {
        var set = RandomSet(200, 5, 3, 5);
        var p = new Portfolio("g", [new Holding("S0", 0.4), new Holding("S1", 0.4), new Holding("S2", 0.2)],
            groups: [new FactorGroup("equity", ["S0", "S1"]), new FactorGroup("rates", ["S2"])]);
        var level = StressAnalysis.Run(set, p, [0.99]).Levels[0];
        Assert.Equal(level.SeriesContributions[0] + level.SeriesContributions[1], level.GroupContributions["equity"], 15);
        Assert.Equal(level.SeriesContributions[2], level.GroupContributions["rates"], 15);
    }

    [Fact]
    public void Run_ADuplicateConfidenceLevel_IsRefusedNamingIt()
    {
        // two levels of 0.99 wrote the key "0.99" twice in report.json
        var set = RandomSet(50, 3, 3, 1);
        var p = Weights(("S0", 0.4), ("S1", 0.4), ("S2", 0.2));
        var e = Assert.Throws<ArgumentException>(() => StressAnalysis.Run(set, p, [0.95, 0.99, 0.99]));
        Assert.Contains("0.99", e.Message, StringComparison.Ordinal);
        Assert.Equal("alphas", e.ParamName);
    }

    [Fact]
    public void PlainReturns_AreOneStepScenarios_HistoricalSimulation()
    {
        var set = RandomSet(1, 250, 2, 9);
        var plain = set with { ScenarioIds = null };
        var result = StressAnalysis.Run(plain, Weights(("S0", 0.6), ("S1", 0.4)), [0.99]);
        Assert.Equal(250, result.Scenarios);
        var returns = Crucible.Evaluation.Risk.RiskMeasures.PortfolioLogReturns(set.Columns, [0.6, 0.4]);
        Assert.Equal(Crucible.Evaluation.Risk.RiskMeasures.ValueAtRisk(returns, 0.99), result.Levels[0].ValueAtRisk, 1e-15);
    }

    [Fact]
    public void Capital_GivesMoneyAmounts()
    {
        var set = RandomSet(100, 3, 2, 4);
        var p = new Portfolio("c", [new Holding("S0", 0.5), new Holding("S1", 0.5)], capital: 1e6);
        var level = StressAnalysis.Run(set, p, [0.95]).Levels[0];
        Assert.Equal(1e6 * (1 - Math.Exp(-level.ValueAtRisk)), level.ValueAtRiskAmount!.Value, 1e-6);
        Assert.True(level.ExpectedShortfallAmount >= level.ValueAtRiskAmount);
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    public void Alpha_OutOfRange_IsNamedInvariantly_WhateverTheCulture(string culture)
    {
        // the message formatted α in the current culture: "got 1,5" under de-DE (the CLI runs under CRUCIBLE_CULTURE)
        var set = new SeriesSet(["A"], [[0.01, -0.02]], [1, 2]);
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo(culture);
            var e = Assert.Throws<InvalidInputException>(() => StressAnalysis.Run(set, Weights(("A", 1.0)), [0.95, 1.5]));
            Assert.Equal("alpha", e.Rule);
            Assert.EndsWith("got 1.5", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void WipedOut_IsBadInput()
    {
        var set = new SeriesSet(["A", "B"], [[-0.5, 0.0], [0.0, 0.0]], [1, 1]);
        var e = Assert.Throws<InvalidInputException>(() => StressAnalysis.Run(set, Weights(("A", 3.0)), [0.9]));
        Assert.Equal("wiped-out", e.Rule);
    }

    [Fact]
    public void StepLogReturn_IsMetricsFormula_WhenWeightsSumToOne()
    {
        double[] r = [0.01, -0.02, 0.003];
        double[] w = [0.2, 0.5, 0.3];
        var metrics = Math.Log((0.2 * Math.Exp(0.01)) + (0.5 * Math.Exp(-0.02)) + (0.3 * Math.Exp(0.003)));
        Assert.Equal(metrics, PortfolioPnl.StepLogReturn(r, w), 1e-15);
    }
}
