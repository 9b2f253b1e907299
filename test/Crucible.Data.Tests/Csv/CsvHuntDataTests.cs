using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>Plausible exports that the reader crashed on or read wrongly (defect hunt, session 37).</summary>
public class CsvHuntDataTests
{
    private static MemoryStream Utf8(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void OneColumnFileWithoutDates_ARowStartingWithTheHeaderName_IsAHeaderErrorNotACrash()
    {
        // a one-column file without dates (--no-date), with a second export's two-column header appended: the repeated
        // header check read the header's second name, which a one-column header does not have (IndexOutOfRangeException)
        var report = CsvSeriesReader.Validate(Utf8("A\n100\n101\nA,B\n102\n"), "one.csv", new CsvReadOptions { HasDateColumn = false });
        var e = Assert.Single(report.Errors);
        Assert.Equal(CsvRules.Header, e.Rule);
        Assert.Equal(4, e.Line);
        Assert.Equal(3, report.Accepted);
    }

    [Fact]
    public void OneColumnFileWithoutDates_ARepeatedHeader_IsAHeaderError()
    {
        var report = CsvSeriesReader.Validate(Utf8("A\n100\n101\nA\n102\n"), "one.csv", new CsvReadOptions { HasDateColumn = false });
        var e = Assert.Single(report.Errors);
        Assert.Equal(CsvRules.Header, e.Rule);
        Assert.Contains("header is repeated at line 4", e.Message, StringComparison.Ordinal);
    }
}
