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

    [Fact]
    public void ConcatenatedExports_ASecondHeaderWithAByteOrderMark_IsARepeatedHeader()
    {
        // two Excel "CSV UTF-8" exports joined with cat: the second header starts with the UTF-8 byte-order mark, and was
        // refused as a bad date and a bad number (CSV-E-DATE, CSV-E-NUM) instead of as the repeated header it is
        var report = CsvSeriesReader.Validate(Utf8("\uFEFFdate,A\n2020-01-02,100\n2020-01-03,101\n\uFEFFdate,A\n2020-01-06,102\n"), "joined.csv");
        var e = Assert.Single(report.Errors);
        Assert.Equal(CsvRules.Header, e.Rule);
        Assert.Equal(4, e.Line);
        Assert.Contains("header is repeated at line 4", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, report.Accepted);
    }
}
