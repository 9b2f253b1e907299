using Crucible.Data.Csv;

namespace Crucible.Data.Tests;

/// <summary>
/// <see cref="TimeSeriesFrame.ToLogReturns"/> of values that have no log return (a zero or negative price, a simple return
/// of −100% or less: read with a declared domain such as <c>--domain A=any</c>) gave −∞ or NaN without a word, which
/// evaluate's metrics took in and train refused only as "NaN or infinite values" somewhere; they are refused at their
/// column and date now. A missing value kept as NaN stays NaN.
/// </summary>
public class TimeSeriesFrameLogReturnTests
{
    private static readonly DateOnly[] Days = [new(2020, 1, 2), new(2020, 1, 3), new(2020, 1, 6)];

    private static TimeSeriesFrame Frame(params double[] b) => new(Days, ["A", "B"], [1.0, b[0], 2.0, b[1], 4.0, b[2]]);

    [Theory]
    [InlineData(InputKind.Prices, 5.0, 0.0, 5.0, "2020-01-03")]
    [InlineData(InputKind.Prices, 5.0, 6.0, -1.0, "2020-01-06")]
    [InlineData(InputKind.Prices, -5.0, -6.0, -7.0, "2020-01-02")]
    [InlineData(InputKind.SimpleReturns, 0.1, -1.0, 0.1, "2020-01-03")]
    [InlineData(InputKind.SimpleReturns, -1.5, 0.1, 0.1, "2020-01-02")]
    [InlineData(InputKind.PercentReturns, 1.0, 2.0, -100.0, "2020-01-06")]
    public void ValuesWithoutALogReturn_AreRefusedAtTheirColumnAndDate(InputKind kind, double b0, double b1, double b2, string date)
    {
        var e = Assert.Throws<InvalidInputException>(() => Frame(b0, b1, b2).ToLogReturns(kind));
        Assert.Equal(CsvRules.Transform, e.Rule);
        Assert.Contains($"column 'B' on {date}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUndatedFrame_NamesTheRow()
    {
        var e = Assert.Throws<InvalidInputException>(() => new TimeSeriesFrame([], ["A"], [1.0, 2.0, 0.0], 3).ToLogReturns(InputKind.Prices));
        Assert.Contains("column 'A' on row 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeptMissingValue_StaysNaN_AndValidValuesAreAsBefore()
    {
        var r = Frame(5.0, double.NaN, 10.0).ToLogReturns(InputKind.Prices);
        Assert.Equal([Math.Log(2.0), double.NaN, Math.Log(2.0), double.NaN], r.Values);
        var s = Frame(0.5, double.NaN, -0.5).ToLogReturns(InputKind.SimpleReturns);
        Assert.Equal([Numeric.Log1P(1.0), Numeric.Log1P(0.5), Numeric.Log1P(2.0), double.NaN, Numeric.Log1P(4.0), Numeric.Log1P(-0.5)], s.Values);
    }
}
