using Crucible.Data.Csv;
using Crucible.Data.Windows;

namespace Crucible.Data.Tests.Windows;

public class WindowBuilderTests
{
    private static TimeSeriesFrame Ramp(int rows, int cols, DateOnly start) =>
        new(Enumerable.Range(0, rows).Select(i => start.AddDays(i)).ToArray(),
            Enumerable.Range(0, cols).Select(c => $"S{c}").ToArray(),
            Enumerable.Range(0, rows * cols).Select(i => (double)i).ToArray());

    [Fact]
    public void Build_ShapesAndStride()
    {
        var frame = Ramp(10, 2, new DateOnly(2020, 1, 1));
        var w = WindowBuilder.Build(frame, window: 4, stride: 3);
        Assert.Equal(3, w.Count); // starts 0, 3, 6
        Assert.Equal([0, 3, 6], w.StartRows);
        Assert.Equal(3 * 4 * 2, w.Values.Length);
        // [b=1, t=2, d=1] = row 5, column 1 = 5 * 2 + 1
        Assert.Equal(11.0, w.Values[(1 * 4 + 2) * 2 + 1]);
        Assert.Null(w.Conditions);
        Assert.Equal(w.Values.Select(v => (float)v), w.ValuesAsSingle());
    }

    // a stride near int.MaxValue (one window wanted from the start) wrapped the next start to a negative row: Build threw
    // ArgumentException from Array.Copy instead of returning the first window
    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(int.MaxValue - 1)]
    public void Build_AStrideNearIntMaxValue_GivesTheFirstWindowOnly(int stride)
    {
        var frame = Ramp(10, 2, new DateOnly(2020, 1, 1));
        var w = WindowBuilder.Build(frame, window: 4, stride: stride);
        Assert.Equal([0], w.StartRows);
        Assert.Equal(frame.Values[..8], w.Values);
        var state = new TimeSeriesFrame([new DateOnly(2019, 12, 31)], ["X"], [7.0]);
        var conditioned = WindowBuilder.Build(frame, window: 4, stride: stride, state: state);
        Assert.Equal([0], conditioned.StartRows);
        Assert.Equal([7.0], conditioned.Conditions!);
    }

    // a window starting on 0001-01-01 (a date the CSV reader accepts) threw ArgumentOutOfRangeException computing the day
    // before it; no state row can be dated before the first day, so the window is skipped as one without a condition
    [Fact]
    public void Build_AWindowOnTheFirstRepresentableDay_IsSkippedWithoutCondition()
    {
        var frame = Ramp(4, 1, DateOnly.MinValue);
        var state = Ramp(4, 1, DateOnly.MinValue);
        var w = WindowBuilder.Build(frame, window: 2, stride: 1, state: state, lagDays: 1);
        Assert.Equal([1, 2], w.StartRows);
        Assert.Equal(1, w.SkippedWithoutCondition);
        Assert.Equal([0.0, 1.0], w.Conditions!);
    }

    [Fact]
    public void Build_ConditionsAreLaggedStateAtWindowStart()
    {
        var frame = Ramp(10, 1, new DateOnly(2020, 1, 2));
        var state = Ramp(12, 2, new DateOnly(2020, 1, 1)); // state row k is dated 2020-01-01 + k
        var w = WindowBuilder.Build(frame, window: 3, stride: 2, state: state, lagDays: 1);
        Assert.Equal(4, w.Count);
        Assert.Equal(0, w.SkippedWithoutCondition);
        for (var b = 0; b < w.Count; b++)
        {
            var start = w.StartDates[b];
            var k = state.IndexAtOrBefore(start.AddDays(-1));
            Assert.True(state.Dates[k] < start);
            Assert.Equal(state.Row(k).ToArray(), w.Conditions!.AsSpan(b * 2, 2).ToArray());
        }

        Assert.Equal(["S0", "S1"], w.ConditionColumns);
    }

    [Fact]
    public void Build_SkipsWindowsWithoutEarlierState()
    {
        var frame = Ramp(6, 1, new DateOnly(2020, 1, 1));
        var state = Ramp(6, 1, new DateOnly(2020, 1, 2));
        var w = WindowBuilder.Build(frame, 2, 1, state);
        Assert.Equal(2, w.SkippedWithoutCondition); // 01-01 and 01-02 have no state dated before them
        Assert.Equal(3, w.Count);
    }

    [Fact]
    public void Build_RefusesWindowLongerThanData()
    {
        var e = Assert.Throws<InvalidInputException>(() => WindowBuilder.Build(Ramp(3, 1, new DateOnly(2020, 1, 1)), 5));
        Assert.Equal(CsvRules.Window, e.Rule);
    }
}
