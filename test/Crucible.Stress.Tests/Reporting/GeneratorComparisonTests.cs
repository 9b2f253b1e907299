using System.Text.Json;
using Crucible.Data;
using Crucible.Evaluation;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reporting;
using Crucible.Stress.Tests.Generators;

namespace Crucible.Stress.Tests.Reporting;

public sealed class GeneratorComparisonTests
{
    private static readonly Portfolio SixtyForty = new("60/40", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);

    [Fact]
    public void ToHtmlPage_AHostilePortfolioName_ComesBackAsText_NoElementCreated()
    {
        // session 24, the application-security review: the portfolio's name comes from an untrusted portfolio JSON file
        var data = GeneratorTests.Panel(400, 31);
        var hostile = new Portfolio("<img src=x onerror=alert(1)>\"; '</p><script>alert(2)</script>", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);
        var table = GeneratorComparison.Build([new StationaryBootstrap(10)], data.Slice(0, 300), data.Slice(300, 400), hostile, 50, 10, 0.95, seed: 4);
        var html = GeneratorComparison.ToHtmlPage(table);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script>alert", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;&quot;; &#39;&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt;", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_HoldoutShorterThanOneWindow_NamesItsRowsAndTheWindow()
    {
        var data = GeneratorTests.Panel(1210, 31);
        var e = Assert.Throws<Crucible.Data.InvalidInputException>(() =>
            GeneratorComparison.Build([new StationaryBootstrap(10)], data.Slice(0, 1200), data.Slice(1200, 1210), SixtyForty, 300, 10, 0.95, seed: 4));
        Assert.Equal("too-few-rows", e.Rule);
        Assert.Contains("the holdout is shorter than one window: it has 10 rows, the comparison's windows of 10 steps need at least 11", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ScoresEveryGenerator_OnTheSameHoldout_WithTheEvaluatorsMetrics()
    {
        var data = GeneratorTests.Panel(1500, 31);
        var train = data.Slice(0, 1200);
        var holdout = data.Slice(1200, 1500);
        IScenarioGenerator[] generators = [new StationaryBootstrap(10), new FilteredHistoricalSimulation()];
        var table = GeneratorComparison.Build(generators, train, holdout, SixtyForty, 300, 10, 0.95, seed: 4);
        Assert.Equal(["stationary-bootstrap", "fhs-garch-t"], table.Rows.Select(r => r.Generator));
        Assert.Equal(291, table.HoldoutWindows);
        // the first row is the Evaluator's report on the holdout's rows (its stride-1 windows for the temporal and risk
        // metrics) and the same synthetic windows
        var real = SeriesSet.FromFrame(holdout);
        var seeds = new Crucible.Tensors.Random.Philox(4, stream: 0xC0);
        var (fitSeed, sampleSeed) = (seeds.NextUInt64(), seeds.NextUInt64());
        var synthetic = generators[0].Fit(train, fitSeed).Sample(300, 10, sampleSeed).ToSeriesSet();
        var report = Evaluator.Evaluate(new EvaluationInput(real, synthetic),
            new EvaluationOptions { Alpha = 0.95, Lags = 9, PortfolioWeights = [0.6, 0.4], Utility = false, MembershipInference = false, Seed = 4 });
        var row = table.Rows[0];
        Assert.Equal(report.KsMean, row.KsMean);
        Assert.Equal(report.CorrDistance, row.CorrDistance);
        Assert.Equal(report.Portfolio.Es, row.Es);
        var acfAbs = report.PerSeries.Average(s => s.AcfAbs.Real.Zip(s.AcfAbs.Synthetic, (a, b) => Math.Abs(a - b)).Average());
        Assert.Equal(acfAbs, row.AcfAbsError, 12);
        Assert.Equal(Math.Abs(report.Portfolio.Es.Synthetic - report.Portfolio.Es.Real) / report.Portfolio.Es.Real, row.EsRelativeError, 12);
        // a generator with a third of the volatility is far off on risk and on fidelity
        var scaled = GeneratorComparison.Build([new Backtesting.ScaledGenerator(new StationaryBootstrap(10), 0.3)], train, holdout, SixtyForty, 300, 10, 0.95, 4);
        Assert.True(scaled.Rows[0].EsRelativeError > 0.5, $"scaled ES error {scaled.Rows[0].EsRelativeError}");
        Assert.True(scaled.Rows[0].EsRelativeError > 3 * row.EsRelativeError, $"{scaled.Rows[0].EsRelativeError} vs {row.EsRelativeError}");
        Assert.True(scaled.Rows[0].KsMean > 2 * row.KsMean);

        using var doc = JsonDocument.Parse(GeneratorComparison.ToJson(table));
        var first = doc.RootElement.GetProperty("generators")[0];
        Assert.Equal("stationary-bootstrap", first.GetProperty("name").GetString());
        foreach (var section in new[] { "fidelity", "temporal", "tail", "risk" }) Assert.True(first.TryGetProperty(section, out _), section);
        var html = GeneratorComparison.ToHtmlSection(table);
        Assert.StartsWith("<section id=\"generator-comparison\">", html, StringComparison.Ordinal);
        Assert.Contains("data-chart=\"comparison-acf-abs\"", html, StringComparison.Ordinal);
        Assert.Contains("fhs-garch-t", html, StringComparison.Ordinal);
        // the chart's lines differ by colour only: their figures are also a table, a column per generator (WCAG 1.4.1)
        Assert.Contains("<details class=\"figures\"><summary>Figures: Mean ACF of |r| by lag</summary>", html, StringComparison.Ordinal);
        Assert.Contains("<th scope=\"col\">lag</th><th scope=\"col\">real</th><th scope=\"col\">stationary-bootstrap</th>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_APortfolioWithAZeroWeightOrAGroup_OverItsHeldSeries_IsComparedAsWithoutThem()
    {
        // compare fits the generators on the portfolio's held series only (CompareRun), but the weights were looked up for
        // every holding and group among them: a zero weight, or a group naming another series of the data (which only the
        // stress report uses), failed as "portfolio series 'X' is not in the scenarios"
        var data = GeneratorTests.Panel(400, 31).SelectColumns(["EQ"]);
        var (train, holdout) = (data.Slice(0, 300), data.Slice(300, 400));
        var plain = GeneratorComparison.Build([new StationaryBootstrap(10)], train, holdout, new Portfolio("eq", [new Holding("EQ", 1.0)]), 50, 10, 0.95, seed: 4);
        var zero = new Portfolio("eq", [new Holding("EQ", 1.0), new Holding("BD", 0.0)]);
        var grouped = new Portfolio("eq", [new Holding("EQ", 1.0)], groups: [new FactorGroup("rates", ["BD"])]);
        foreach (var portfolio in new[] { zero, grouped })
        {
            var table = GeneratorComparison.Build([new StationaryBootstrap(10)], train, holdout, portfolio, 50, 10, 0.95, seed: 4);
            Assert.Equal(plain.Rows[0].Es, table.Rows[0].Es);
            Assert.Equal(plain.Rows[0].Var, table.Rows[0].Var);
        }
    }

    [Fact]
    public void Build_AGeneratorThatReplaysEveryHoldoutDayOnce_MatchesItsMarginalsExactly_EdgeDaysIncluded()
    {
        // the holdout's 100 days as 10 non-overlapping 10-day windows: the synthetic rows are the holdout's rows, each
        // once, so every marginal distance is 0. Pooling the 91 overlapping holdout windows as the real set counted a
        // middle day 10 times and the first and last days once, and read a distance between a set and itself
        var data = GeneratorTests.Panel(1300, 31);
        var (train, holdout) = (data.Slice(0, 1200), data.Slice(1200, 1300));
        var table = GeneratorComparison.Build([new Replay(holdout)], train, holdout, SixtyForty, 10, 10, 0.95, seed: 4);
        var row = Assert.Single(table.Rows);
        Assert.Equal(91, table.HoldoutWindows);
        Assert.Equal(0, row.KsMean);
        Assert.Equal(0, row.WassersteinMean, 1e-15);
        Assert.Equal(0, row.KurtosisError, 1e-12);
        Assert.Equal(0, row.CorrDistance, 1e-12);
        Assert.Equal(0, row.TailDependenceError, 1e-12);
    }

    [Fact]
    public void Build_AWindowLongerThanTheTimeVaesOwn_IsRefusedBeforeAnyGeneratorIsFitted()
    {
        // the TimeVAE baseline's dense layers fix its window: asked for more, it refused only when sampling, after every
        // generator before it in the list (the diffusion model among them, by default) and itself had been trained
        var data = GeneratorTests.Panel(400, 31);
        var first = new CountingGenerator(new StationaryBootstrap(10));
        IScenarioGenerator[] generators = [first, new Crucible.Stress.Generators.Neural.TimeVae(new Crucible.Stress.Generators.Neural.TimeVaeOptions { Window = 5, Steps = 1, BatchSize = 2 })];
        var e = Assert.Throws<InvalidInputException>(() =>
            GeneratorComparison.Build(generators, data.Slice(0, 300), data.Slice(300, 400), SixtyForty, 50, 10, 0.95, seed: 4));
        Assert.Equal("window", e.Rule);
        Assert.Contains("windows of 5 steps; it cannot sample 10", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, first.Fits);
    }

    // counts its fits
    private sealed class CountingGenerator(IScenarioGenerator inner) : IScenarioGenerator
    {
        public int Fits { get; private set; }

        public string Name => inner.Name;

        public IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed)
        {
            Fits++;
            return inner.Fit(logReturns, seed);
        }
    }

    // replays the frame's rows as count windows of `window` steps, in order (the same for every seed)
    private sealed class Replay(TimeSeriesFrame frame) : IScenarioGenerator, IFittedScenarioGenerator
    {
        public string Name => "replay";

        public IReadOnlyList<string> Columns => frame.Columns;

        public IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed) => this;

        public ScenarioWindows Sample(int count, int window, ulong seed)
        {
            var d = frame.ColumnCount;
            var values = new double[count * window * d];
            for (var r = 0; r < count * window; r++)
            {
                for (var i = 0; i < d; i++) values[(r * d) + i] = frame[r, i];
            }

            return new ScenarioWindows(frame.Columns, count, window, values);
        }
    }

    [Theory]
    [InlineData(31)] // longer than the 30 rows by far enough to ask for a negative count of windows
    [InlineData(45)]
    [InlineData(0)]
    public void Windows_LongerThanTheFrameOrEmpty_IsAnArgumentError(int window)
    {
        var data = GeneratorTests.Panel(30, 1);
        var e = Assert.ThrowsAny<ArgumentException>(() => GeneratorComparison.Windows(data, window));
        Assert.Equal("window", e.ParamName);
        Assert.Contains("30 rows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Windows_AreStrideOne()
    {
        var data = GeneratorTests.Panel(30, 1);
        var set = GeneratorComparison.Windows(data, 5);
        Assert.Equal(26, set.PathRows().Count);
        Assert.Equal(data[3, 1], set.Columns[1][(2 * 5) + 1]); // window 3 (index 2), step 2 = row 3
    }
}
