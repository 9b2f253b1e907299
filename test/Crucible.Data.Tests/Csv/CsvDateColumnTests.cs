using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// <see cref="CsvReadOptions.DateColumnName"/>: the date column is found by its name wherever it stands (a bank export
/// may put an ISIN or the series first, or call the column <c>Datum</c> or <c>timestamp</c>). Before, the date had to be
/// the first column and be called <c>Date</c>: any other file was refused at its header (<c>CSV-E-HEADER</c>).
/// </summary>
public class CsvDateColumnTests
{
    private const string DateFirst =
        "Date,SPY,TLT\n" +
        "2020-01-02,300.5,140.25\n" +
        "2020-01-03,301.0,141.00\n" +
        "2020-01-06,299.75,140.50\n";

    private static (TimeSeriesFrame Frame, DataQualityReport Report) Read(string text, CsvReadOptions? options = null) =>
        CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "d.csv", options ?? new CsvReadOptions());

    [Theory]
    [InlineData("SPY,Date,TLT\n300.5,2020-01-02,140.25\n301.0,2020-01-03,141.00\n299.75,2020-01-06,140.50\n", "Date")]
    [InlineData("SPY,TLT,Datum\n300.5,140.25,2020-01-02\n301.0,141.00,2020-01-03\n299.75,140.50,2020-01-06\n", "Datum")]
    [InlineData("timestamp,SPY,TLT\n2020-01-02,300.5,140.25\n2020-01-03,301.0,141.00\n2020-01-06,299.75,140.50\n", "TIMESTAMP")]
    public void TheDateColumnIsFoundByName_WhereverItStands_AndTheFrameIsTheSame(string text, string name)
    {
        var (expected, expectedReport) = Read(DateFirst);
        var (frame, report) = Read(text, new CsvReadOptions { DateColumnName = name });
        Assert.True(report.Usable, report.ToJson());
        Assert.Equal(expected.Columns, frame.Columns);
        Assert.Equal(expected.Dates, frame.Dates);
        Assert.Equal(expected.Values, frame.Values);
        Assert.Equal(expectedReport.Columns, report.Columns);
        Assert.Equal(expectedReport.Accepted, report.Accepted);
        Assert.Empty(report.Errors);
    }

    [Fact]
    public void ASelectionOfColumns_SkipsTheDateColumnWhereverItStands()
    {
        var (frame, report) = Read("ISIN,TLT,Date,SPY\nUS1,140.25,2020-01-02,300.5\nUS1,141.00,2020-01-03,301.0\n",
            new CsvReadOptions { Columns = ["SPY", "TLT"] });
        Assert.True(report.Usable, report.ToJson());
        Assert.Equal(["SPY", "TLT"], frame.Columns);
        Assert.Equal([300.5, 140.25, 301.0, 141.00], frame.Values);
        Assert.Equal([new DateOnly(2020, 1, 2), new DateOnly(2020, 1, 3)], frame.Dates);

        // the date column is not a value column: selecting it names the value columns
        var (_, asValue) = Read("ISIN,TLT,Date,SPY\nUS1,140.25,2020-01-02,300.5\n", new CsvReadOptions { Columns = ["Date"] });
        Assert.Equal(CsvRules.Header, asValue.Errors[0].Rule);
        Assert.Contains("(value columns: ISIN, TLT, SPY)", asValue.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDateChecks_NameTheDateColumnsCell()
    {
        // a bad date, a row out of order, a duplicate date and a long gap, with the date in the file's third column
        const string text =
            "A,B,When\n" +
            "1,2,2020-01-02\n" +
            "1,2,2020-13-02\n" +
            "1,2,2020-01-01\n" +
            "1.5,2,2020-01-02\n" +
            "1,2,2020-03-02\n";
        var (_, report) = Read(text, new CsvReadOptions { DateColumnName = "when" });
        var issues = report.Errors.Concat(report.Warnings).ToArray();
        foreach (var rule in new[] { CsvRules.Date, CsvRules.Unsorted, CsvRules.DuplicateDate, CsvRules.GapWarning })
        {
            var issue = Assert.Single(issues, i => i.Rule == rule);
            Assert.Equal((3, "When"), (issue.Column, issue.ColumnName));
        }
        Assert.Equal(3L, Assert.Single(report.Errors, e => e.Rule == CsvRules.Date).Line);
    }

    [Fact]
    public void AHeaderWithoutTheDateColumn_IsAHeaderError_NamingTheColumnSought()
    {
        var (_, report) = Read("Time,A\n2020-01-02,1\n");
        var e = Assert.Single(report.Errors);
        Assert.Equal((CsvRules.Header, 1L, 1), (e.Rule, e.Line, e.Column));
        Assert.Contains("no column is named 'Date', expected as the date column (the first column is 'Time')", e.Message, StringComparison.Ordinal);

        var (_, named) = Read("Time,A\n2020-01-02,1\n", new CsvReadOptions { DateColumnName = "Datum" });
        Assert.Contains("no column is named 'Datum'", Assert.Single(named.Errors).Message, StringComparison.Ordinal);

        // session 28: typed (session 29: its cause, DataIssueCause.DateColumnMissing), so that a caller with a date-column
        // option of its own (a state file's) names it without matching this message; not in the report's JSON, whose
        // bytes are as before
        Assert.Equal(DataIssueCause.DateColumnMissing, e.Cause);
        Assert.Equal(DataIssueCause.DateColumnMissing, Assert.Single(named.Errors).Cause);
        Assert.DoesNotContain("\"cause\"", report.ToJson(), StringComparison.Ordinal);
        Assert.Equal(DataIssueCause.None, Assert.Single(DataQualityReport.FromJson(report.ToJson()).Errors).Cause);
        // other header errors are not it, though their header lacks the date column too (the reader stops at the first)
        var (_, duplicate) = Read("Time,A,A\n2020-01-02,1,2\n");
        Assert.Contains("duplicate column name 'A'", Assert.Single(duplicate.Errors).Message, StringComparison.Ordinal);
        Assert.Equal(DataIssueCause.None, duplicate.Errors[0].Cause);
        var (_, alone) = Read("Date\n2020-01-02\n");
        Assert.Equal(DataIssueCause.None, Assert.Single(alone.Errors).Cause);
    }

    [Fact]
    public void TwoColumnsNamedTheDateColumn_UpToCase_AreDuplicates()
    {
        // the date column is found without regard to case, so "Date,date" named it twice: the first was taken silently and
        // the second read as a series
        var (_, report) = Read("Date,date,A\n2020-01-02,2020-01-02,1\n");
        var e = Assert.Single(report.Errors);
        Assert.Equal((CsvRules.Header, 1L, 2), (e.Rule, e.Line, e.Column));
        Assert.Contains("duplicate column name 'date' (columns 1 and 2", e.Message, StringComparison.Ordinal);
        // value columns are matched exactly: "A,a" are two series, as before
        var (frame, plain) = Read("Date,A,a\n2020-01-02,1,2\n2020-01-03,1,2\n");
        Assert.True(plain.Usable);
        Assert.Equal(["A", "a"], frame.Columns);
    }

    [Fact]
    public void ADateColumnAlone_HasNoValueColumns()
    {
        var (_, alone) = Read("Date\n2020-01-02\n");
        var e = Assert.Single(alone.Errors);
        Assert.Equal(CsvRules.Header, e.Rule);
        Assert.Contains("no value columns beside the date column", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void AnEmptyDateColumnName_IsRefused(string name)
    {
        var e = Assert.Throws<InvalidInputException>(() => new CsvReadOptions { DateColumnName = name }.Validate());
        Assert.Contains("DateColumnName is empty", e.Message, StringComparison.Ordinal);
        // without a date column the name is not read
        new CsvReadOptions { DateColumnName = name, HasDateColumn = false }.Validate();
    }
}
