using Crucible.Data.Transforms;

namespace Crucible.Data.Tests;

/// <summary>A <see cref="TimeSeriesFrame.Head"/> frame reads its rows in the longer frame's array, and only them.</summary>
public class TimeSeriesFrameHeadTests
{
    private static TimeSeriesFrame Frame(int rows)
    {
        var dates = Enumerable.Range(0, rows).Select(i => new DateOnly(2020, 1, 1).AddDays(i)).ToArray();
        var values = Enumerable.Range(0, rows * 3).Select(i => (i * 0.37) - 5).ToArray();
        return new TimeSeriesFrame(dates, ["A", "B", "C"], values);
    }

    [Fact]
    public void Head_SharesTheRows_AndReadsAsTheSliceOfThem()
    {
        var all = Frame(10);
        var head = all.Head(6);
        var slice = all.Slice(0, 6);

        Assert.True(head.ValueSpan.Overlaps(all.ValueSpan)); // the rows are not copied
        Assert.Equal(slice.RowCount, head.RowCount);
        Assert.Equal(slice.Dates, head.Dates);
        Assert.Equal(slice.ValueSpan.ToArray(), head.ValueSpan.ToArray());
        for (int r = 0; r < 6; r++)
        {
            Assert.Equal(slice.Row(r).ToArray(), head.Row(r).ToArray());
            for (int c = 0; c < 3; c++) Assert.Equal(slice[r, c], head[r, c]);
        }

        for (int c = 0; c < 3; c++) Assert.Equal(slice.Column(c), head.Column(c));
        Assert.Equal(slice.SelectColumns(["C", "A"]).Values, head.SelectColumns(["C", "A"]).Values);
        Assert.Equal(5, head.IndexAtOrBefore(new DateOnly(2020, 1, 9)));
    }

    [Fact]
    public void Head_ReadsNoRowPastItsLast()
    {
        var head = Frame(10).Head(6);
        Assert.Throws<IndexOutOfRangeException>(() => head[6, 0]);
        Assert.Throws<IndexOutOfRangeException>(() => head.Row(6).ToArray());
        Assert.Equal(18, head.ValueSpan.Length);

        // Values is the rows' own array (copied out once), RowCount × ColumnCount long as for any frame
        var values = head.Values;
        Assert.Equal(18, values.Length);
        Assert.Same(values, head.Values);
        Assert.Equal(Frame(10).Slice(0, 6).Values, values);
    }

    [Fact]
    public void TransformsFittedOnAHead_AreThoseFittedOnACopy_AndReadTheRowsInPlace()
    {
        // the tabular fit's transforms see the train split, a Head of the whole file's frame: the same state and model
        // rows as from a copy of its rows, and no Values read (which would copy the rows out)
        var all = Frame(40);
        var copy = all.Slice(0, 30);
        var head = all.Head(30);
        foreach (var steps in new Func<ISeriesTransform[]>[] { () => [new StandardScaler()], () => [new QuantileNormalTransform(8)], () => [] })
        {
            var onCopy = new TransformPipeline(steps());
            var onHead = new TransformPipeline(steps());
            var modelOfCopy = onCopy.Fit(copy);
            var modelOfHead = onHead.Fit(head);
            Assert.Equal(onCopy.ToJson(), onHead.ToJson());
            Assert.Equal(modelOfCopy.ValueSpan.ToArray(), modelOfHead.ValueSpan.ToArray());
            Assert.Equal(onCopy.Forward(copy).ValueSpan.ToArray(), onHead.Forward(head).ValueSpan.ToArray());
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        _ = head.Values; // the first read copies the rows out: no transform has read them so
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before >= 30 * 3 * sizeof(double));
    }

    [Fact]
    public void AWholeFrame_IsItsOwnValues()
    {
        var all = Frame(4);
        Assert.Same(all.Values, all.Head(4).Values);
        Assert.Equal(0, all.Head(0).ValueSpan.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => all.Head(5));
    }

    /// <summary>Log returns of a head are those of its rows, computed where the rows lie: the head's <see cref="TimeSeriesFrame.Values"/> is never read.</summary>
    [Theory]
    [InlineData(InputKind.Prices)]
    [InlineData(InputKind.SimpleReturns)]
    [InlineData(InputKind.PercentReturns)]
    public void ToLogReturns_OfAHead_IsThatOfItsRows_ReadInPlace(InputKind kind)
    {
        var all = new TimeSeriesFrame(Frame(2000).Dates, ["A", "B", "C"], [.. Enumerable.Range(0, 6000).Select(i => 50 + (i % 7))]);
        var head = all.Head(1500);
        var copy = all.Slice(0, 1500);
        Assert.Equal(copy.ToLogReturns(kind).Values, head.ToLogReturns(kind).Values);
        Assert.Equal(copy.ToLogReturns(kind).Dates, head.ToLogReturns(kind).Dates);

        long before = GC.GetAllocatedBytesForCurrentThread();
        _ = head.Values; // the first read copies the rows out: ToLogReturns had not read them so
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before >= 1500 * 3 * sizeof(double));
    }
}
