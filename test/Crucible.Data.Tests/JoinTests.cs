using Crucible.Data.Csv;

namespace Crucible.Data.Tests;

public class JoinTests
{
    private static readonly DateOnly D0 = new(2020, 1, 6); // a Monday

    private static TimeSeriesFrame Frame(string column, int[] dayOffsets, double[] values) =>
        new(dayOffsets.Select(o => D0.AddDays(o)).ToArray(), [column], values);

    [Fact]
    public void Inner_KeepsCommonDatesOnly()
    {
        var a = Frame("A", [0, 1, 2, 3], [1, 2, 3, 4]);
        var b = Frame("B", [1, 2, 4], [20, 30, 50]);
        var j = Join.Inner(a, b);
        Assert.Equal([D0.AddDays(1), D0.AddDays(2)], j.Dates);
        Assert.Equal(["A", "B"], j.Columns);
        Assert.Equal([2.0, 20, 3, 30], j.Values);
    }

    [Fact]
    public void Inner_RefusesClashingColumnsAndDisjointDates()
    {
        Assert.Equal(CsvRules.Join, Assert.Throws<InvalidInputException>(() => Join.Inner(Frame("A", [0], [1]), Frame("A", [0], [2]))).Rule);
        Assert.Equal(CsvRules.Join, Assert.Throws<InvalidInputException>(() => Join.Inner(Frame("A", [0], [1]), Frame("B", [1], [2]))).Rule);
    }

    [Fact]
    public void AsOfLagged_NeverUsesSameDayState()
    {
        var target = Frame("R", [0, 1, 2, 3, 7], [1, 2, 3, 4, 5]);
        var state = Frame("VIX", [0, 1, 2, 3, 4, 7], [10, 11, 12, 13, 14, 17]);
        var j = Join.AsOfLagged(target, state);
        // Day 0 has no earlier state: dropped. Day 7 (a Monday) gets day 4's state (Friday), not day 7's.
        Assert.Equal([D0.AddDays(1), D0.AddDays(2), D0.AddDays(3), D0.AddDays(7)], j.Dates);
        Assert.Equal([10.0, 11, 12, 14], j.Column(1));
        for (var r = 0; r < j.RowCount; r++)
        {
            var used = state.Dates[state.IndexAtOrBefore(j.Dates[r].AddDays(-1))];
            Assert.True(used < j.Dates[r]);
        }
    }

    // a target row dated 0001-01-01 threw ArgumentOutOfRangeException computing the day before it; it has no lagged state
    // row, so it is dropped as the other rows before the state's first are
    [Fact]
    public void AsOfLagged_ATargetRowOnTheFirstRepresentableDay_IsDropped()
    {
        var days = new[] { DateOnly.MinValue, DateOnly.MinValue.AddDays(1), DateOnly.MinValue.AddDays(2) };
        var target = new TimeSeriesFrame(days, ["T"], [1.0, 2, 3]);
        var state = new TimeSeriesFrame(days, ["S"], [10.0, 20, 30]);
        var j = Join.AsOfLagged(target, state);
        Assert.Equal(days[1..], j.Dates);
        Assert.Equal([2.0, 10, 3, 20], j.Values);
    }

    [Fact]
    public void AsOfLagged_RefusesZeroLagAndStaleState()
    {
        var target = Frame("R", [0, 30], [1, 2]);
        var state = Frame("S", [-1], [5]);
        Assert.Throws<InvalidInputException>(() => Join.AsOfLagged(target, state, lagDays: 0));
        var e = Assert.Throws<InvalidInputException>(() => Join.AsOfLagged(target, state, maxStalenessDays: 10));
        Assert.Contains("31 days old", e.Message, StringComparison.Ordinal);
    }

    // the stale-state refusal wrote its date with the current culture's calendar: under th-TH (Thai Buddhist calendar) the
    // target date 2020-02-05 read 2563-02-05
    [Theory]
    [InlineData("th-TH")]
    [InlineData("ar-SA")]
    public void AsOfLagged_StaleStateMessage_WritesTheDateInvariantly(string culture)
    {
        var target = Frame("R", [0, 30], [1, 2]);
        var state = Frame("S", [-1], [5]);
        var original = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo(culture);
            var e = Assert.Throws<InvalidInputException>(() => Join.AsOfLagged(target, state, maxStalenessDays: 10));
            Assert.Contains("before 2020-02-05 is 31 days old", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = original;
        }
    }
}
