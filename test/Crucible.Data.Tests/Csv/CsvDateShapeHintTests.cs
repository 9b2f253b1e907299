using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// Dates in a bank export's shapes (<c>20070411</c>, <c>11.04.2007</c>) read with the default format were "not a valid
/// date" on every row, without the value (cells are confidential by default): the message now names the shape and the
/// format to declare.
/// </summary>
public class CsvDateShapeHintTests
{
    [Theory]
    [InlineData("20070411", "eight digits without separators (yyyyMMdd? declare that date format); expected a date in the format yyyy-MM-dd")]
    [InlineData("11.04.2007", "a dotted date (dd.MM.yyyy? declare that date format); expected a date in the format yyyy-MM-dd")]
    [InlineData("2007.04.11", "not a valid date; expected a date in the format yyyy-MM-dd")]
    [InlineData("2007041", "not a valid date; expected a date in the format yyyy-MM-dd")]
    public void ABadDate_NamesItsShape(string date, string message)
    {
        var (_, report) = CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes($"Date,A\n{date},1.5\n")), "d.csv", new CsvReadOptions());
        var e = Assert.Single(report.Errors);
        Assert.Equal((CsvRules.Date, 2L, 1), (e.Rule, e.Line, e.Column));
        Assert.Equal(message, e.Message);
        Assert.DoesNotContain(date, e.Message, StringComparison.Ordinal);
    }

    // a date that does not exist (29 February of a common year) in the declared format was told to declare the format
    // it was read with ("yyyyMMdd? declare that date format"), or that it had a time suffix (the format's own space or
    // 'T'); the hints are for another shape than the declared one
    [Theory]
    [InlineData("yyyyMMdd", "20210229")]
    [InlineData("dd.MM.yyyy", "29.02.2021")]
    [InlineData("MM/dd/yyyy", "02/29/2021")]
    [InlineData("dd MMM yyyy", "30 Feb 2021")]
    [InlineData("yyyy-MM-dd'T'", "2021-02-29T")]
    public void AnInvalidDateInTheDeclaredFormat_IsNotToldToDeclareIt(string format, string date)
    {
        var (_, report) = CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes($"Date,A\n{date},1.5\n")), "d.csv", new CsvReadOptions { DateFormat = format });
        var e = Assert.Single(report.Errors);
        Assert.Equal((CsvRules.Date, 2L, 1), (e.Rule, e.Line, e.Column));
        Assert.Equal($"not a valid date; expected a date in the format {format}", e.Message);
    }

    [Fact]
    public void TheDeclaredFormat_ReadsThem()
    {
        var (frame, report) = CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes("Date,A\n20070411,1.5\n20070412,1.6\n")), "d.csv", new CsvReadOptions { DateFormat = "yyyyMMdd" });
        Assert.True(report.Usable);
        Assert.Equal(new DateOnly(2007, 4, 12), frame.Dates[1]);
    }
}
