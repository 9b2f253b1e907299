using Crucible.Data;
using Crucible.Diffusion.Sequence;

namespace Crucible.Diffusion.Tests.Sequence;

public class EconomicStateTests
{
    private static readonly string[] StateColumns = ["VIXCLS", "DFF", "DGS3MO", "DGS10", "BAA10Y", "BAMLH0A0HYM2"];

    private static DateOnly Day(int i) => new DateOnly(2020, 1, 1).AddDays(i);

    /// <summary>State on days 0..29 (value of column c on day i: 100·c + i), returns on days 1..29 (weekdays irrelevant here).</summary>
    private static (TimeSeriesFrame State, TimeSeriesFrame Returns) Frames(int stateDays = 30)
    {
        var sDates = Enumerable.Range(0, stateDays).Select(Day).ToArray();
        var sValues = new double[stateDays * StateColumns.Length];
        for (int i = 0; i < stateDays; i++)
        {
            for (int c = 0; c < StateColumns.Length; c++) sValues[(i * StateColumns.Length) + c] = (100 * c) + i;
        }

        var rng = new Random(3);
        var rDates = Enumerable.Range(1, 29).Select(Day).ToArray();
        var rValues = new double[29 * 3];
        for (int i = 0; i < rValues.Length; i++) rValues[i] = (rng.NextDouble() - 0.5) * 0.04;
        return (new TimeSeriesFrame(sDates, StateColumns, sValues), new TimeSeriesFrame(rDates, ["A", "B", "C"], rValues));
    }

    [Fact]
    public void Build_LagsTheStateOneDay_AndComputesTermAndRv20ByHand()
    {
        var (state, returns) = Frames();
        var f = EconomicState.Build(state, returns);
        Assert.Equal(EconomicState.FeatureNames, f.Columns);
        // RV20 needs 20 earlier return rows: the first feature row is return row 20, dated day 21
        Assert.Equal(returns.RowCount - 20, f.RowCount);
        for (int r = 0; r < f.RowCount; r++)
        {
            var d = f.Dates[r];
            int day = d.DayNumber - Day(0).DayNumber;
            int stateDay = day - 1;                                  // known at the close of the day before
            Assert.Equal(stateDay, f[r, 0]);                         // VIXCLS = 0·100 + day
            Assert.Equal(100 + stateDay, f[r, 1]);                   // DFF
            Assert.Equal((300 + stateDay) - (200 + stateDay), f[r, 2], 12); // TERM = DGS10 − DGS3MO
            Assert.Equal(400 + stateDay, f[r, 3]);
            Assert.Equal(500 + stateDay, f[r, 4]);
            int row = Array.IndexOf(returns.Dates, d);
            double sum = 0;
            for (int q = row - 20; q < row; q++)
            {
                double p = Math.Log((Math.Exp(returns[q, 0]) + Math.Exp(returns[q, 1]) + Math.Exp(returns[q, 2])) / 3);
                sum += p * p;
            }

            Assert.Equal(100 * Math.Sqrt(252.0 / 20 * sum), f[r, 5], 10);
        }
    }

    [Theory]
    [InlineData(7)]    // weekly rows
    [InlineData(30)]   // monthly rows
    public void Build_RefusesRv20OnReturnsThatAreNotDaily_ButBuildsTheStateFeatures(int step)
    {
        // RV20 annualises 20 rows with √252: on month-end returns of the multi-asset panel it read 75% on average, a
        // "20-day" VIX-like figure no user would give as a condition; weekly and monthly rows are refused for it
        var state = new TimeSeriesFrame(Enumerable.Range(0, 40 * step).Select(Day).ToArray(), StateColumns,
            [.. Enumerable.Range(0, 40 * step * StateColumns.Length).Select(i => (double)(i % 97))]);
        var dates = Enumerable.Range(1, 39).Select(i => Day(i * step)).ToArray();
        var returns = new TimeSeriesFrame(dates, ["A"], [.. Enumerable.Range(0, 39).Select(i => 0.01 * Math.Sin(i))]);
        var e = Assert.Throws<SequenceOptionException>(() => EconomicState.Build(state, returns));
        Assert.Equal(EconomicState.RowFrequencyRule, e.Rule);
        Assert.Contains($"these returns' dates are {step} calendar days apart (the median)", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("; name the condition features without RV20 (e.g. VIXCLS, DFF, TERM, BAA10Y, BAMLH0A0HYM2)", e.Message, StringComparison.Ordinal);
        // session 28: each shell names its option for the features (crucible train --state-columns, a job's state_columns)
        var worded = e.Worded(MarkedOptionNames.Instance);
        Assert.Equal((e.Rule, e.Location), (worded.Rule, worded.Location));
        Assert.EndsWith("; name the condition features without RV20 (<StateColumns=VIXCLS|DFF|TERM|BAA10Y|BAMLH0A0HYM2>)", worded.Message, StringComparison.Ordinal);
        var f = EconomicState.Build(state, returns, ["VIXCLS", "DFF", "TERM"]);
        Assert.Equal(39, f.RowCount);
    }

    /// <summary>
    /// Session 33: a return dated 0001-01-01 (a date the CSV reader accepts) has no state row the day before it; looking one
    /// up threw DateOnly's ArgumentOutOfRangeException (the defect hunt mended it in the data layer's join and windows, not
    /// here). The date is now left out, as a date before the state's first row is.
    /// </summary>
    [Fact]
    public void Build_AReturnOnTheFirstRepresentableDay_HasNoStateAndIsLeftOut()
    {
        var first = DateOnly.MinValue;
        var state = new TimeSeriesFrame([first, first.AddDays(1), first.AddDays(2)], ["VIXCLS"], [20, 21, 22]);
        var returns = new TimeSeriesFrame([first, first.AddDays(1), first.AddDays(2)], ["A"], [0.01, -0.01, 0.02]);
        var f = EconomicState.Build(state, returns, ["VIXCLS"]);
        Assert.Equal([first.AddDays(1), first.AddDays(2)], f.Dates);
        Assert.Equal([20.0, 21.0], f.Values);
    }

    [Fact]
    public void MedianGapDays_IsOneForTradingDays()
    {
        Assert.Equal(1, EconomicState.MedianGapDays(TestDates.Weekdays(new DateOnly(2020, 1, 6), 60)));
        Assert.Equal(0, EconomicState.MedianGapDays([new DateOnly(2020, 1, 6)]));
        Assert.Equal(7, EconomicState.MedianGapDays([.. Enumerable.Range(0, 10).Select(i => new DateOnly(2020, 1, 6).AddDays(7 * i))]));
    }

    [Fact]
    public void Build_DropsDatesWhoseStateIsStale_AndCarriesOtherColumns()
    {
        var (state, returns) = Frames(stateDays: 10);             // state ends on day 9
        var f = EconomicState.Build(state, returns, ["VIXCLS", "DGS3MO"], maxStalenessDays: 3);
        // day d uses the state of day min(d − 1, 9); staleness d − 9 ≤ 3 keeps days 1..12
        Assert.Equal(Enumerable.Range(1, 12).Select(Day), f.Dates);
        Assert.Equal(9, f[11, 0]);
        Assert.Equal(209, f[11, 1]);
    }

    [Fact]
    public void Build_Rv20OnTooFewReturns_SaysSo_NotThatTheFilesDoNotOverlap()
    {
        // returns of one month (20 rows) and a state over every day: RV20 needs the 20 returns before a date, so no date
        // has it; the refusal asked whether the state and return files overlapped in time, which they did
        var (state, returns) = Frames();
        var month = returns.Slice(0, 20);
        var e = Assert.Throws<InvalidInputException>(() => EconomicState.Build(state, month, ["VIXCLS", "RV20"]));
        Assert.Equal(Crucible.Data.Csv.CsvRules.Join, e.Rule);
        Assert.Equal("no return date has condition feature RV20: it is the realised volatility of the 20 returns before each date, and these returns have "
            + "20 rows, so none has 20 before it; give at least 21 rows of returns, or name the condition features without RV20", e.Message);
        Assert.Equal(1, EconomicState.Build(state, returns.Slice(0, 21), ["VIXCLS", "RV20"]).RowCount);

        // without RV20, or with files that do not overlap, the overlap is still what is asked
        var late = new TimeSeriesFrame([.. month.Dates.Select(d => d.AddYears(1))], month.Columns, [.. month.Values]);
        e = Assert.Throws<InvalidInputException>(() => EconomicState.Build(state, late, ["VIXCLS"]));
        Assert.Contains("do the state and return files overlap in time?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NamesTheMissingStateColumn()
    {
        var (state, returns) = Frames();
        var e = Assert.Throws<InvalidInputException>(() => EconomicState.Build(state.SelectColumns(["VIXCLS", "DGS10"]), returns, ["TERM"]));
        Assert.Contains("DGS3MO", e.Message, StringComparison.Ordinal);
    }
}
