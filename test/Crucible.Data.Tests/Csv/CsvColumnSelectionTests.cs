using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// <see cref="CsvReadOptions.Columns"/>: a bank export holds an ISIN, a rating or an all-zero column beside the prices;
/// a model that reads only the prices reads only those columns. Before, every column was parsed and the file was
/// refused (<c>CSV-E-NUM</c> at the ISIN's every cell) whatever <c>train --columns</c> named.
/// </summary>
public class CsvColumnSelectionTests
{
    private const string Export =
        "Date,ISIN,SPY,Rating,Zero,TLT\n" +
        "2020-01-02,US78462F1030,300.5,AA+,0,140.25\n" +
        "2020-01-03,US78462F1030,301.0,AA+,0,141.00\n" +
        "2020-01-06,US78462F1030,299.75,,0,140.50\n" +
        "2020-01-07,US78462F1030,302.0,AA,0,139.75\n";

    private static (TimeSeriesFrame Frame, DataQualityReport Report) Read(CsvReadOptions options) =>
        CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(Export)), "export.csv", options);

    [Fact]
    public void SelectedColumns_AreTheOnlyOnesParsed_InTheOrderGiven()
    {
        var (frame, report) = Read(new CsvReadOptions { Columns = ["TLT", "SPY"] });
        Assert.True(report.Usable, report.ToJson());
        Assert.Equal(["TLT", "SPY"], frame.Columns);
        Assert.Equal(4, frame.RowCount);
        Assert.Equal([140.25, 300.5, 141.00, 301.0, 140.50, 299.75, 139.75, 302.0], frame.Values);
        Assert.Equal(["TLT", "SPY"], report.Columns);
        Assert.Empty(report.Errors);
    }

    [Fact]
    public void WithoutASelection_TheOtherColumnsAreStillErrors()
    {
        var (_, report) = Read(new CsvReadOptions());
        Assert.False(report.Usable);
        Assert.Contains(report.Errors, e => e.Rule == CsvRules.Number && e.Column == 2 && e.ColumnName == "ISIN");
        Assert.Contains(report.Errors, e => e.Rule == CsvRules.Domain && e.ColumnName == "Zero");
    }

    // a text cell that merely contained "nan" or "inf" (an Indian fund's ISIN INF209K01YN0, a sector "Financials",
    // "Infrastructure") was classed a NaN or infinity literal (CSV-E-NONFINITE) instead of text (CSV-E-NUM); the literals
    // themselves, whole and signed or in their C runtime forms, still are
    [Theory]
    [InlineData("INF209K01YN0", CsvRules.Number)]
    [InlineData("Financials", CsvRules.Number)]
    [InlineData("Infrastructure", CsvRules.Number)]
    [InlineData("Banana", CsvRules.Number)]
    [InlineData("nan", CsvRules.NonFinite)]
    [InlineData("-NaN", CsvRules.NonFinite)]
    [InlineData("+inf", CsvRules.NonFinite)]
    [InlineData("-Infinity", CsvRules.NonFinite)]
    [InlineData("1.#INF", CsvRules.NonFinite)]
    [InlineData("-1.#IND00", CsvRules.NonFinite)]
    [InlineData("1.#QNAN0", CsvRules.NonFinite)]
    [InlineData("-nan(ind)", CsvRules.NonFinite)]
    [InlineData("#IND", CsvRules.NonFinite)]
    [InlineData("-∞", CsvRules.NonFinite)]
    public void TextContainingNanOrInf_IsText_NotANonFiniteLiteral(string cell, string rule)
    {
        var csv = $"Date,A\n2020-01-02,{cell}\n";
        var report = CsvSeriesReader.Validate(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "t.csv", new CsvReadOptions { Input = InputKind.LogReturns });
        Assert.Equal(rule, Assert.Single(report.Errors).Rule);
    }

    // a quoted text cell with a comma ("AA, stable", "Smith, John") was refused as a decimal-comma or thousands-separator
    // number (CSV-E-DECIMAL, CSV-E-THOUSANDS) instead of as text (CSV-E-NUM); numbers with a comma still are
    [Theory]
    [InlineData("\"AA, stable\"", CsvRules.Number)]
    [InlineData("\"Smith, John 2\"", CsvRules.Number)]
    [InlineData("\"1,5\"", CsvRules.Decimal)]
    [InlineData("\"-1,234\"", CsvRules.Thousands)]
    [InlineData("\"1,234.5\"", CsvRules.Thousands)]
    public void TextWithAComma_IsText_NotAMisreadNumber(string cell, string rule)
    {
        var csv = $"Date,A\n2020-01-02,{cell}\n";
        var report = CsvSeriesReader.Validate(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "t.csv", new CsvReadOptions { Input = InputKind.LogReturns });
        Assert.Equal(rule, Assert.Single(report.Errors).Rule);
    }

    // with a declared decimal comma or thousands separator, a text cell was checked as a number's digit grouping and refused
    // as mixed decimal conventions (CSV-E-DECIMAL: "'.' in a number", "not a valid thousands separator") instead of as text
    [Theory]
    [InlineData("\"Mr. Smith\"", CsvRules.Number)]
    [InlineData("\"AA, stable\"", CsvRules.Number)]
    [InlineData("US78462F1030", CsvRules.Number)]
    [InlineData("1.#INF", CsvRules.NonFinite)]
    [InlineData("Infinity", CsvRules.NonFinite)]
    [InlineData("1.5", CsvRules.Decimal)]
    [InlineData("1.5,5", CsvRules.Decimal)]
    public void TextUnderEuropeanConventions_IsText_NotMixedConventions(string cell, string rule)
    {
        var csv = $"Date;A\n2020-01-02;{cell}\n";
        var options = new CsvReadOptions { Input = InputKind.LogReturns, Delimiter = ';', DecimalSeparator = ',', ThousandsSeparator = '.' };
        var report = CsvSeriesReader.Validate(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "t.csv", options);
        Assert.Equal(rule, Assert.Single(report.Errors).Rule);

        var thousands = CsvSeriesReader.Validate(new MemoryStream(Encoding.UTF8.GetBytes($"Date,A\n2020-01-02,\"Mr. Smith, Jr\"\n")), "t.csv",
            new CsvReadOptions { Input = InputKind.LogReturns, ThousandsSeparator = ',' });
        Assert.Equal(CsvRules.Number, Assert.Single(thousands.Errors).Rule);
    }

    [Fact]
    public void ASelectedColumnTheHeaderLacks_IsAHeaderErrorNamingTheFilesColumns()
    {
        var (_, report) = Read(new CsvReadOptions { Columns = ["SPY", "GLD"] });
        var e = Assert.Single(report.Errors);
        Assert.Equal(CsvRules.Header, e.Rule);
        Assert.Equal(1, e.Line);
        Assert.Contains("column 'GLD' is selected but the header does not have it (value columns: ISIN, SPY, Rating, Zero, TLT)", e.Message, StringComparison.Ordinal);

        var (_, twice) = Read(new CsvReadOptions { Columns = ["SPY", "SPY"] });
        Assert.Contains("column 'SPY' is selected twice", Assert.Single(twice.Errors).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidInputException>(() => Read(new CsvReadOptions { Columns = [] }));
    }

    [Fact]
    public void ErrorsInASelectedColumn_NameItsFieldInTheFile()
    {
        const string csv = "Date,ISIN,SPY,TLT\n2020-01-02,X,300.5,140\n2020-01-03,X,abc,141\n";
        var (_, report) = CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "e.csv", new CsvReadOptions { Columns = ["TLT", "SPY"] });
        var e = Assert.Single(report.Errors);
        Assert.Equal((CsvRules.Number, 3L, 3, "SPY"), (e.Rule, e.Line, e.Column, e.ColumnName));
    }
}
