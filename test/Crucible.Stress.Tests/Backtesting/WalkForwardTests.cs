using Crucible.Data;
using Crucible.Evaluation.Risk;
using Crucible.Stress.Backtesting;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;
using Crucible.Stress.Tests.Generators;

namespace Crucible.Stress.Tests.Backtesting;

public sealed class WalkForwardTests
{
    /// <summary>Kupiec LR and p-value for x exceptions in 250 observations at 99 %: p from scipy <c>chi2.sf(lr, 1)</c> (scipy 1.x).</summary>
    [Theory]
    [InlineData(0, 5.025167926750726, 0.02498150305344973)]
    [InlineData(1, 1.1764911353210774, 0.2780714900139528)]
    [InlineData(2, 0.10843521623679919, 0.7419327009526281)]
    [InlineData(4, 0.7691383643858458, 0.380483738238954)]
    [InlineData(5, 1.956809788230622, 0.1618549171960387)]
    [InlineData(7, 5.496990447792683, 0.019049230890526535)]
    [InlineData(10, 12.955491062356018, 0.0003189845082133835)]
    [InlineData(15, 29.395002180486188, 5.902967974643695e-08)]
    public void Kupiec_MatchesScipyChi2(int exceptions, double lr, double p)
    {
        var stat = VarBacktest.KupiecStatistic(exceptions, 250, 0.99);
        Assert.Equal(lr, stat, 1e-10);
        var pValue = VarBacktest.ChiSquareOneSurvival(stat);
        Assert.True(Math.Abs(pValue - p) <= 1e-9 * p, $"{pValue:R} vs {p:R}");
    }

    [Theory]
    [InlineData(0, TrafficLight.Green)]
    [InlineData(4, TrafficLight.Green)]
    [InlineData(5, TrafficLight.Yellow)]
    [InlineData(9, TrafficLight.Yellow)]
    [InlineData(10, TrafficLight.Red)]
    [InlineData(30, TrafficLight.Red)]
    public void Zone_IsBasels(int exceptions, TrafficLight zone) => Assert.Equal(zone, VarBacktest.Zone(exceptions, 250, 0.99));

    /// <summary>The GeneratorTests panel with business-day-like dates from 2008 on.</summary>
    internal static TimeSeriesFrame DatedPanel(int n, int seed)
    {
        var panel = GeneratorTests.Panel(n, seed);
        var dates = new DateOnly[n];
        var d = new DateOnly(2008, 1, 2);
        for (var i = 0; i < n; i++)
        {
            while (d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) d = d.AddDays(1);
            dates[i] = d;
            d = d.AddDays(1);
        }

        return new TimeSeriesFrame(dates, panel.Columns, panel.Values);
    }

    private static readonly Portfolio SixtyForty = new("60/40", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);

    [Theory]
    [InlineData(2011, 2013)] // a middle year without data: a year of no test days (crucible backtest crashed writing its VaR)
    [InlineData(2011, 2012)] // the last year without data: it tested 2013's days under the name 2012
    public void Run_AYearTheDataSkips_IsRefusedNamingTheGap(int first, int last)
    {
        // the panel's rows dated 2012 removed: 2011 then 2013
        var full = DatedPanel(1600, 5);
        var keep = Enumerable.Range(0, full.RowCount).Where(i => full.Dates[i].Year != 2012).ToArray();
        var frame = new TimeSeriesFrame(keep.Select(i => full.Dates[i]).ToArray(), full.Columns,
            keep.SelectMany(i => Enumerable.Range(0, full.ColumnCount).Select(c => full[i, c])).ToArray());
        var options = new WalkForwardOptions { FirstYear = first, LastYear = last, Samples = 200, Seed = 1 };
        var e = Assert.Throws<InvalidInputException>(() => WalkForward.Run(new StationaryBootstrap(5), frame, SixtyForty, options));
        Assert.Equal("years", e.Rule);
        Assert.StartsWith("no rows in 2012: the data skips from 2011-12-30 to 2013-01-01", e.Message, StringComparison.Ordinal);
        // the years around it still run
        var around = WalkForward.Run(new StationaryBootstrap(5), frame, SixtyForty, options with { FirstYear = 2013, LastYear = 2013 });
        Assert.Equal(2013, Assert.Single(around.Years).Year);
        Assert.All(around.Years, y => Assert.Equal(2013, frame.Dates[Array.IndexOf(frame.Dates, y.TrainEnd) + 1].Year));
    }

    [Fact]
    public void Run_ADayThatWipesALeveredBookOut_IsAnException()
    {
        // a book 10 times its capital in EQ: training days are small enough to sample, but three test days of −12% make
        // the gross return 1 + 10·(e^r − 1) negative, the portfolio log return NaN; NaN compared false and those days,
        // the largest losses of the year, were not counted as exceptions
        var frame = DatedPanel(1000, 6);
        var values = (double[])frame.Values.Clone();
        var testStart = Array.FindIndex(frame.Dates, d => d.Year >= 2011);
        foreach (var t in new[] { 10, 50, 90 }) values[(testStart + t) * 2] = Math.Log(0.88);
        var crashed = new TimeSeriesFrame(frame.Dates, frame.Columns, values);
        var levered = new Portfolio("10x", [new Holding("EQ", 10)], leverage: 10);
        var options = new WalkForwardOptions { FirstYear = 2011, LastYear = 2011, Samples = 500, Seed = 3, UpdateDaily = false };
        var year = Assert.Single(WalkForward.Run(new StationaryBootstrap(5), crashed, levered, options).Years);
        var expected = 0;
        for (var t = testStart; t < Math.Min(crashed.RowCount, testStart + 250); t++)
        {
            var gross = 1 + (10 * (Math.Exp(crashed[t, 0]) - 1));
            if (gross <= 0 || -Math.Log(gross) > year.ValueAtRisk[0]) expected++;
        }

        Assert.Equal(expected, year.Result.Exceptions);
        Assert.True(year.Christoffersen!.Transitions.N01 >= 3);
        // the evaluator's backtest counts the same way
        Assert.Equal(2, VarBacktest.Run([double.NaN, -0.5, 0.01], 0.1, 0.99).Exceptions);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Run_NoTestDays_IsAnArgumentError_NotAnInternalCrash(int testDays)
    {
        var options = new WalkForwardOptions { FirstYear = 2011, LastYear = 2011, Samples = 200, Seed = 1, TestDays = testDays };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => WalkForward.Run(new StationaryBootstrap(5), DatedPanel(300, 5), SixtyForty, options));
        Assert.Contains("TestDays", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)] // 31 December of year 0: DateOnly's ArgumentOutOfRangeException, not an input error
    [InlineData(0)]
    [InlineData(-5)]
    public void Run_AFirstYearBeforeTheCalendar_IsRefusedAsNoTrainingRows(int first)
    {
        var options = new WalkForwardOptions { FirstYear = first, LastYear = 2011, Samples = 200, Seed = 1 };
        var e = Assert.Throws<InvalidInputException>(() => WalkForward.Run(new StationaryBootstrap(5), DatedPanel(300, 5), SixtyForty, options));
        Assert.Equal("years", e.Rule);
    }

    [Fact]
    public void Run_AFitRefusedOnAYearsTrainingRows_SaysWhichRows()
    {
        // BD is listed in 2010 (0 before, a filled-forward price): the 2010 refit's training rows hold it constant, and
        // the refusal said "series 'BD' does not vary", of a series that varies in the file; it now names the rows
        var frame = DatedPanel(1100, 6);
        var values = (double[])frame.Values.Clone();
        var listed = Array.FindIndex(frame.Dates, d => d.Year >= 2010);
        for (var t = 0; t < listed; t++) values[(2 * t) + 1] = 0;
        var options = new WalkForwardOptions { FirstYear = 2010, LastYear = 2010, Samples = 300, Seed = 4 };
        var e = Assert.Throws<InvalidInputException>(() => WalkForward.Run(new FilteredHistoricalSimulation(), frame.WithValues(values), SixtyForty, options));
        Assert.Equal("constant-series", e.Rule);
        Assert.Equal(
            $"fhs-garch-t fitted on the {listed} rows before 2010 (2008-01-02 to 2009-12-31) for the 2010 test: series 'BD' does not vary: a GARCH(1,1) cannot be fitted to it",
            e.Message);
    }

    [Fact]
    public void Run_AOneDayScenarioThatWipesTheBookOut_NamesTheGeneratorAndTheDay()
    {
        // "a one-day scenario wipes the portfolio out: leverage too high" named neither the generator (of several) nor
        // the refit whose scenarios did it
        var levered = new Portfolio("levered", [new Holding("EQ", 60), new Holding("BD", 40)], leverage: 100);
        var options = new WalkForwardOptions { FirstYear = 2011, LastYear = 2011, Samples = 300, Seed = 4 };
        var e = Assert.Throws<InvalidInputException>(() => WalkForward.Run(new StationaryBootstrap(5), DatedPanel(1100, 6), levered, options));
        Assert.Equal("wiped-out", e.Rule);
        Assert.StartsWith("stationary-bootstrap fitted on the 783 rows before 2011 (2008-01-02 to 2010-12-31), the VaR of 2011-01-03: a one-day scenario wipes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_APortfolioHoldingASeriesTheDataLacks_IsRefusedAtTheHolding()
    {
        // the held series were selected from the data by name: a series it lacks was COLUMN-E "no column named 'XYZ'",
        // naming no file, line or column, where crucible stress names the holding in the portfolio file (unknown-series)
        var portfolio = Portfolio.Parse("{\n  \"weights\": {\"EQ\": 0.5, \"XYZ\": 0.5}\n}\n"u8, "p.json");
        var options = new WalkForwardOptions { FirstYear = 2011, LastYear = 2011, Samples = 300, Seed = 4 };
        var e = Assert.Throws<InvalidInputException>(() => WalkForward.Run(new StationaryBootstrap(5), DatedPanel(1100, 6), portfolio, options));
        Assert.Equal("unknown-series", e.Rule);
        Assert.Equal(new InputLocation("p.json", 2, 26), e.Location);
        Assert.Contains("'XYZ' is not in the data (series: EQ, BD)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_APortfolioWithAZeroWeightOrAGroup_IsBacktestedAsWithoutThem()
    {
        // the generator sees only the held series, but the weights were looked up for every holding and group among
        // them: a zero weight (or a group, which only the stress report uses) failed as a series "not in the scenarios"
        var frame = DatedPanel(1100, 6);
        var options = new WalkForwardOptions { FirstYear = 2011, LastYear = 2011, Samples = 300, Seed = 4, UpdateDaily = false };
        var plain = WalkForward.Run(new StationaryBootstrap(5), frame, new Portfolio("eq", [new Holding("EQ", 1.0)]), options);
        var zero = new Portfolio("eq", [new Holding("EQ", 1.0), new Holding("BD", 0.0)]);
        var grouped = new Portfolio("eq", [new Holding("EQ", 1.0)], groups: [new FactorGroup("rates", ["BD"])]);
        foreach (var portfolio in new[] { zero, grouped })
        {
            var result = WalkForward.Run(new StationaryBootstrap(5), frame, portfolio, options);
            Assert.Equal(plain.Years[0].ValueAtRisk, result.Years[0].ValueAtRisk);
            Assert.Equal(plain.Pooled, result.Pooled);
        }
    }

    [Fact]
    public void Run_OnWeeklyData_TestsEachDayOnce_ByTheLatestRefit()
    {
        // 52 rows a year: 250 test days after the 2011 refit would run into 2015 and overlap the later years' tests,
        // counting days twice in the pooled Kupiec test; a year's test stops at the next refit
        var panel = GeneratorTests.Panel(400, 4);
        var dates = Enumerable.Range(0, 400).Select(i => new DateOnly(2008, 1, 7).AddDays(7 * i)).ToArray();
        var frame = new TimeSeriesFrame(dates, panel.Columns, panel.Values);
        var options = new WalkForwardOptions { FirstYear = 2011, LastYear = 2013, Samples = 500, Seed = 2, UpdateDaily = false };
        var result = WalkForward.Run(new StationaryBootstrap(5), frame, SixtyForty, options);
        var starts = new[] { 2011, 2012, 2013 }.Select(y => Array.FindIndex(dates, d => d.Year >= y)).ToArray();
        var last = Math.Min(250, 400 - starts[2]); // the last year runs its full 250 days when there are that many
        Assert.Equal([starts[1] - starts[0], starts[2] - starts[1], last], result.Years.Select(y => y.Result.Observations));
        Assert.Equal(400 - starts[0], result.Pooled.Observations); // every day from 2011 on, once
        Assert.Equal(result.Years.Sum(y => y.Result.Exceptions), result.Pooled.Exceptions);
    }

    [Fact]
    public void Run_RefitsYearly_OnExpandingWindows_AndCountsExceptionsAsANaiveLoopDoes()
    {
        var frame = DatedPanel(2200, 3);
        var options = new WalkForwardOptions { FirstYear = 2011, LastYear = 2015, Samples = 2000, Seed = 1 };
        var result = WalkForward.Run(new StationaryBootstrap(5), frame, SixtyForty, options);
        Assert.Equal([2011, 2012, 2013, 2014, 2015], result.Years.Select(y => y.Year));
        for (var i = 0; i < result.Years.Count; i++)
        {
            var y = result.Years[i];
            Assert.Equal(new DateOnly(2008, 1, 2), y.TrainStart);
            Assert.True(y.TrainEnd < new DateOnly(y.Year, 1, 1));
            var testStart = Array.FindIndex(frame.Dates, d => d.Year >= y.Year);
            Assert.Equal(testStart, y.TrainRows);
            if (i > 0) Assert.True(y.TrainRows > result.Years[i - 1].TrainRows);
            var exceptions = 0;
            for (var t = testStart; t < Math.Min(frame.RowCount, testStart + 250); t++)
            {
                var loss = -Math.Log((0.6 * Math.Exp(frame[t, 0])) + (0.4 * Math.Exp(frame[t, 1])));
                if (loss > y.ValueAtRisk[t - testStart]) exceptions++;
            }

            Assert.Equal(exceptions, y.Result.Exceptions);
            Assert.Equal(VarBacktest.Zone(exceptions, y.Result.Observations, 0.99), y.Result.Zone);
            Assert.All(y.ValueAtRisk, v => Assert.Equal(y.ValueAtRisk[0], v)); // the bootstrap does not follow the data
        }

        Assert.Equal(result.Years.Sum(y => y.Result.Exceptions), result.Pooled.Exceptions);
        Assert.Equal(result.Years.Sum(y => y.Result.Observations), result.Pooled.Observations);
        // deterministic per seed
        var again = WalkForward.Run(new StationaryBootstrap(5), frame, SixtyForty, options);
        Assert.Equal(result.Years.SelectMany(y => y.ValueAtRisk), again.Years.SelectMany(y => y.ValueAtRisk));
        Assert.False(result.DailyUpdate);
    }

    [Fact]
    public void Run_Fhs_ReestimatesVarDaily_FromTheFilteredVariance()
    {
        var frame = DatedPanel(1300, 8);
        var options = new WalkForwardOptions { FirstYear = 2012, LastYear = 2012, Samples = 1000, Seed = 2 };
        var result = WalkForward.Run(new FilteredHistoricalSimulation(), frame, SixtyForty, options);
        Assert.True(result.DailyUpdate);
        var year = result.Years[0];
        Assert.True(year.ValueAtRisk.Distinct().Count() > 200, "the VaR should move with the filtered volatility");
        // the first day's VaR uses the state after the training data: check it against a direct sample
        var train = frame.Slice(0, year.TrainRows);
        var fixedVar = WalkForward.Run(new FilteredHistoricalSimulation(), frame, SixtyForty, options with { UpdateDaily = false });
        Assert.False(fixedVar.DailyUpdate);
        Assert.Equal(year.ValueAtRisk[0], fixedVar.Years[0].ValueAtRisk[0]);
        Assert.All(fixedVar.Years[0].ValueAtRisk, v => Assert.Equal(year.ValueAtRisk[0], v));
        Assert.True(train.RowCount > 0);
    }

    [Fact]
    public void OneDayValueAtRisk_IsStressAnalysisOnOneStepScenarios()
    {
        var windows = new StationaryBootstrap(3).Fit(DatedPanel(400, 4), 0).Sample(1000, 1, 8);
        var direct = StressAnalysis.Run(windows.ToSeriesSet(), SixtyForty, [0.99]).Levels[0].ValueAtRisk;
        Assert.Equal(direct, WalkForward.OneDayValueAtRisk(windows, [0.6, 0.4], 0.99), 1e-15);
    }

    [Fact]
    public void Fhs_Observe_MovesTheGarchState()
    {
        var frame = DatedPanel(800, 9);
        var fitted = (FilteredHistoricalSimulation.Fitted)new FilteredHistoricalSimulation().Fit(frame, 0);
        double[] day = [-0.05, 0.01];
        var next = (FilteredHistoricalSimulation.Fitted)fitted.Observe(day);
        for (var i = 0; i < 2; i++)
        {
            var m = fitted.Models[i];
            var e = day[i] - m.Mu;
            Assert.Equal(m.Omega + (m.AlphaArch * e * e) + (m.Beta * fitted.StartVariance[i]), next.StartVariance[i], 1e-18);
        }

        Assert.NotEqual(fitted.Sample(10, 1, 3).Values, next.Sample(10, 1, 3).Values);
    }

    [Fact]
    public void Run_UnderstatedVolatility_GoesRed()
    {
        var frame = DatedPanel(1600, 5);
        var options = new WalkForwardOptions { FirstYear = 2011, LastYear = 2013, Samples = 1000 };
        var honest = WalkForward.Run(new FilteredHistoricalSimulation(), frame, SixtyForty, options);
        var understated = WalkForward.Run(new ScaledGenerator(new StationaryBootstrap(5), 0.3), frame, SixtyForty, options);
        Assert.True(understated.Pooled.Exceptions > 3 * Math.Max(1, honest.Pooled.Exceptions),
            $"understated {understated.Pooled.Exceptions} vs honest {honest.Pooled.Exceptions}");
        Assert.All(understated.Years, y => Assert.Equal(TrafficLight.Red, y.Result.Zone));
        Assert.True(understated.Pooled.KupiecPValue < 1e-6);
    }
}

/// <summary>A deliberately mis-specified generator: another generator's scenarios with their returns scaled by a factor.</summary>
internal sealed class ScaledGenerator(IScenarioGenerator inner, double scale) : IScenarioGenerator
{
    public string Name => $"{inner.Name}×{scale}";

    public IFittedScenarioGenerator Fit(TimeSeriesFrame logReturns, ulong seed) => new Fitted(Name, inner.Fit(logReturns, seed), scale);

    private sealed class Fitted(string name, IFittedScenarioGenerator inner, double scale) : IFittedScenarioGenerator
    {
        public string Name => name;

        public IReadOnlyList<string> Columns => inner.Columns;

        public ScenarioWindows Sample(int count, int window, ulong seed)
        {
            var w = inner.Sample(count, window, seed);
            return w with { Values = w.Values.Select(v => v * scale).ToArray() };
        }
    }
}
