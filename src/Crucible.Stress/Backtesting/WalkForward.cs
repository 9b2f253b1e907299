using System.Globalization;
using Crucible.Data;
using Crucible.Evaluation.Risk;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Risk;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Backtesting;

/// <summary>Settings of a walk-forward VaR backtest.</summary>
public sealed record WalkForwardOptions
{
    /// <summary>The first test year: the first fit uses every row dated before 1 January of it.</summary>
    public int FirstYear { get; init; } = 2012;

    /// <summary>The last test year (inclusive).</summary>
    public int LastYear { get; init; } = 2019;

    /// <summary>Days tested after each refit (Basel: 250); fewer when the next refit comes sooner, so no day is tested twice.</summary>
    public int TestDays { get; init; } = 250;

    /// <summary>One-step scenarios sampled per refit to estimate the one-day VaR.</summary>
    public int Samples { get; init; } = 5000;

    /// <summary>The VaR confidence (Basel: 0.99).</summary>
    public double Alpha { get; init; } = 0.99;

    /// <summary>Seed of the fits and samples (each year gets its own Philox-derived seeds).</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Re-estimate the VaR every test day for generators that follow the data (<see cref="IFilteringScenarioGenerator"/>:
    /// the state moves on with each realised day, the parameters stay those of the yearly fit). Other generators, and
    /// all generators when false, keep the VaR of the refit for the whole year.
    /// </summary>
    public bool UpdateDaily { get; init; } = true;
}

/// <summary>One refit of a walk-forward backtest.</summary>
/// <param name="Year">The test year.</param>
/// <param name="TrainStart">The first training date.</param>
/// <param name="TrainEnd">The last training date (the last row before the test year).</param>
/// <param name="TrainRows">Training rows (the window expands every year).</param>
/// <param name="ValueAtRisk">The one-day portfolio VaR_α (a log-return loss) from the generator's scenarios for each test day:
/// constant over the year unless the generator is re-estimated daily.</param>
/// <param name="Result">Exceptions among the next <see cref="WalkForwardOptions.TestDays"/> realised days (up to the next refit), Kupiec test and
/// Basel zone (for that many observations at <see cref="WalkForwardOptions.Alpha"/>, <see cref="VarBacktest.Bounds"/>).</param>
/// <param name="Christoffersen">Christoffersen's independence and conditional-coverage tests of the year's exception
/// days in time order (<see cref="VarBacktest.Christoffersen(ReadOnlySpan{bool}, double)"/>); null only for a result built without them.</param>
public sealed record BacktestYear(int Year, DateOnly TrainStart, DateOnly TrainEnd, int TrainRows, double[] ValueAtRisk, VarBacktestResult Result,
    ChristoffersenResult? Christoffersen = null);

/// <summary>A generator's walk-forward backtest.</summary>
/// <param name="Generator">The generator's name.</param>
/// <param name="DailyUpdate">Whether the VaR was re-estimated every day (the generator follows the data and it was asked).</param>
/// <param name="Years">One entry per refit.</param>
/// <param name="Pooled">All test days together: exceptions and Kupiec's test over the pooled days (the Basel zone is a
/// supervisory yearly judgement, so it is reported per year).</param>
public sealed record WalkForwardResult(string Generator, bool DailyUpdate, IReadOnlyList<BacktestYear> Years, PooledBacktest Pooled);

/// <summary>Exceptions, Kupiec's POF test and Christoffersen's tests over all test days of a walk-forward backtest.</summary>
/// <param name="Observations">Test days, all years.</param>
/// <param name="Exceptions">Days whose realised loss exceeded the VaR.</param>
/// <param name="KupiecStatistic">Kupiec's LR_pof.</param>
/// <param name="KupiecPValue">P(χ²₁ &gt; LR_pof).</param>
/// <param name="Christoffersen">Christoffersen's independence and conditional-coverage tests of the exception days in time
/// order across the years (the test years follow each other, so the last day of a year and the first of the next are a
/// transition); null only for a result built without them.</param>
public sealed record PooledBacktest(int Observations, int Exceptions, double KupiecStatistic, double KupiecPValue, ChristoffersenResult? Christoffersen = null);

/// <summary>
/// Walk-forward VaR backtesting on expanding windows with yearly refits (issue #8): for each test year, fit the
/// generator on every row before it, sample one-step scenarios, take the portfolio's one-day VaR_α from them
/// (<see cref="StressAnalysis"/>), and count the exceptions (realised loss strictly above VaR) among the next 250 rows
/// (fewer when the year has fewer rows: a year's test stops at the next refit, so each row is tested once)
/// (re-estimating the VaR each day for generators that follow the data, see <see cref="WalkForwardOptions.UpdateDaily"/>);
/// Kupiec's POF test, Christoffersen's independence and conditional-coverage tests and the Basel traffic light come from
/// <see cref="VarBacktest"/>.
/// </summary>
public static class WalkForward
{
    /// <summary>Runs the backtest of <paramref name="generator"/> on <paramref name="logReturns"/> (dated) for <paramref name="portfolio"/>.</summary>
    public static WalkForwardResult Run(IScenarioGenerator generator, TimeSeriesFrame logReturns, Portfolio portfolio, WalkForwardOptions options)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(logReturns);
        ArgumentNullException.ThrowIfNull(portfolio);
        ArgumentNullException.ThrowIfNull(options);
        if (!logReturns.HasDates || logReturns.RowCount == 0) throw new InvalidInputException("no-dates", "a walk-forward backtest needs dated rows");
        if (options.TestDays <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.TestDays, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"TestDays must be at least 1 (days tested after each refit), got {options.TestDays}"));
        }

        if (options.LastYear < options.FirstYear) throw new InvalidInputException("years", "the last test year precedes the first");
        // no row is dated before year 1 (and year 0 has no 31 December to look up)
        if (options.FirstYear <= DateOnly.MinValue.Year)
        {
            throw new InvalidInputException("years", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"no training rows before {options.FirstYear} (the data starts {Iso(logReturns.Dates[0])})"));
        }

        // the generator sees only the series the portfolio holds, with their weights (a zero-weight holding or a group's
        // series need not be among them: only the stress report uses groups)
        // a held series the data lacks is named at its holding in the portfolio file (unknown-series), as crucible stress names it
        portfolio.HeldWeightsFor(logReturns.Columns);
        var held = portfolio.Holdings.Where(h => h.Weight != 0).ToArray();
        var frame = logReturns.SelectColumns([.. held.Select(h => h.Series)]);
        var weights = held.Select(h => h.Weight).ToArray();
        var seeds = new Philox(options.Seed, stream: 0x5742);
        var years = new List<BacktestYear>();
        var allRealised = new List<double>();
        var allHits = new List<bool>();
        var allExceptions = 0;
        var daily = false;
        for (var year = options.FirstYear; year <= options.LastYear; year++)
        {
            var (fitSeed, sampleSeed) = (seeds.NextUInt64(), seeds.NextUInt64());
            var testStart = frame.IndexAtOrBefore(new DateOnly(year - 1, 12, 31)) + 1;
            if (testStart <= 0) throw new InvalidInputException("years", string.Create(CultureInfo.InvariantCulture, $"no training rows before {year} (the data starts {Iso(frame.Dates[0])})"));
            if (testStart >= frame.RowCount) throw new InvalidInputException("years", string.Create(CultureInfo.InvariantCulture, $"no rows in or after {year} (the data ends {Iso(frame.Dates[^1])})"));
            // a year the data skips would test no day (an empty year) or, as the last year, the next year's days under its name
            if (frame.Dates[testStart].Year != year)
            {
                throw new InvalidInputException("years",
                    string.Create(CultureInfo.InvariantCulture, $"no rows in {year}: the data skips from {Iso(frame.Dates[testStart - 1])} to {Iso(frame.Dates[testStart])}; test only years the data covers"));
            }
            var train = frame.Slice(0, testStart);
            // each day is tested once, by the latest refit: a year's test stops where the next refit's begins (it only
            // matters when a year has fewer rows than TestDays, e.g. weekly data, where the windows would overlap)
            var testEnd = Math.Min(frame.RowCount, testStart + options.TestDays);
            if (year < options.LastYear) testEnd = Math.Min(testEnd, frame.IndexAtOrBefore(new DateOnly(year, 12, 31)) + 1);
            var test = frame.Slice(testStart, testEnd);
            IFittedScenarioGenerator fitted;
            try
            {
                fitted = generator.Fit(train, fitSeed);
            }
            catch (InvalidInputException e) when (e.Location is null)
            {
                // a refusal of the year's training rows ("series 'X' does not vary", "at least 50 rows, got 30") read as one
                // of the whole file, whose series may vary and whose rows may be many: say which rows were fitted
                throw new InvalidInputException(e.Rule, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{generator.Name} fitted on the {train.RowCount} rows before {year} ({Iso(train.Dates[0])} to {Iso(train.Dates[^1])}) for the {year} test: {e.Message}"));
            }

            daily = options.UpdateDaily && fitted is IFilteringScenarioGenerator;
            var realised = new double[test.RowCount];
            var var = new double[test.RowCount];
            var exceptions = 0;
            var hits = new bool[test.RowCount];
            var sampleSeeds = new Philox(sampleSeed);
            for (var t = 0; t < realised.Length; t++)
            {
                if (t == 0 || daily)
                {
                    try
                    {
                        var[t] = OneDayValueAtRisk(fitted.Sample(options.Samples, 1, sampleSeeds.NextUInt64()), weights, options.Alpha);
                    }
                    catch (InvalidInputException e) when (e.Rule == "wiped-out" && e.Location is null)
                    {
                        // which generator (of several) and which refit drew it
                        throw new InvalidInputException(e.Rule, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"{generator.Name} fitted on the {train.RowCount} rows before {year} ({Iso(train.Dates[0])} to {Iso(train.Dates[^1])}), the VaR of {Iso(test.Dates[t])}: {e.Message}"));
                    }
                }
                else
                {
                    var[t] = var[t - 1];
                }

                realised[t] = PortfolioPnl.StepLogReturn(test.Row(t), weights);
                hits[t] = VarBacktest.IsException(realised[t], var[t]); // a day that wipes the book out counts
                if (hits[t]) exceptions++;
                if (daily) fitted = ((IFilteringScenarioGenerator)fitted).Observe(test.Row(t));
            }

            var lrYear = VarBacktest.KupiecStatistic(exceptions, realised.Length, options.Alpha);
            var result = new VarBacktestResult(realised.Length, exceptions, lrYear, VarBacktest.ChiSquareOneSurvival(lrYear),
                VarBacktest.Zone(exceptions, realised.Length, options.Alpha));
            years.Add(new BacktestYear(year, train.Dates[0], train.Dates[^1], train.RowCount, var, result, VarBacktest.Christoffersen(hits, options.Alpha)));
            allRealised.AddRange(realised);
            allHits.AddRange(hits);
            allExceptions += result.Exceptions;
        }

        var lr = VarBacktest.KupiecStatistic(allExceptions, allRealised.Count, options.Alpha);
        var pooled = new PooledBacktest(allRealised.Count, allExceptions, lr, VarBacktest.ChiSquareOneSurvival(lr),
            VarBacktest.Christoffersen(allHits.ToArray(), options.Alpha));
        return new WalkForwardResult(generator.Name, daily, years, pooled);
    }

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>VaR_α of one-step scenarios: METRICS.md's VaR over each scenario's portfolio log return (what
    /// <see cref="StressAnalysis"/> computes for one-step scenarios, without building a scenario set per day).</summary>
    internal static double OneDayValueAtRisk(ScenarioWindows windows, double[] weights, double alpha)
    {
        var d = windows.SeriesCount;
        var returns = new double[windows.Count];
        for (var c = 0; c < returns.Length; c++)
        {
            returns[c] = PortfolioPnl.StepLogReturn(windows.Values.AsSpan(c * d, d), weights);
            if (double.IsNaN(returns[c])) throw new InvalidInputException("wiped-out", "a one-day scenario wipes the portfolio out: leverage too high");
        }

        return RiskMeasures.ValueAtRisk(returns, alpha);
    }
}
