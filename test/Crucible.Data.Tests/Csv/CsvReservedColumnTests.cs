using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// <see cref="CsvReadOptions.ReservedColumns"/>: a value column read with a name the caller reserves is refused at its
/// header cell (<see cref="CsvRules.ReservedColumn"/>), as the reader locates every header error.
/// </summary>
public class CsvReservedColumnTests
{
    private static readonly Dictionary<string, string> Reserved = new(StringComparer.Ordinal) { ["step"] = "a column of mine" };

    private static DataQualityReport Read(string text, CsvReadOptions options) =>
        CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "f.csv", options with { ReservedColumns = Reserved }).Report;

    [Theory]
    [InlineData("Date,SPY,step\n2020-01-02,1,2\n", 1, 3)]
    [InlineData("\n\nDate,\" step \",SPY\n2020-01-02,1,2\n", 3, 2)]
    [InlineData("SPY,step,Date\n1,2,2020-01-02\n", 1, 2)]
    public void AReservedName_IsRefusedAtItsHeaderCell(string text, long line, int column)
    {
        var error = Assert.Single(Read(text, new CsvReadOptions()).Errors);
        Assert.Equal((CsvRules.ReservedColumn, line, column, "step"), (error.Rule, error.Line, error.Column, error.ColumnName));
        Assert.Equal("series 'step' has the name of a column of mine; rename the series", error.Message);
        Assert.Equal(new InputLocation("f.csv", line, column, "step"), error.ToException().Location);
    }

    [Theory]
    [InlineData("Date,SPY,Step\n2020-01-02,1,2\n", null)]     // compared exactly
    [InlineData("Date,SPY,step\n2020-01-02,1,2\n", "SPY")]    // a column not read
    [InlineData("step,SPY\n2020-01-02,1\n", null)]            // the date column
    public void OtherNamesAndColumnsNotRead_AreNotRefused(string text, string? columns)
    {
        var options = new CsvReadOptions { Columns = columns is null ? null : [columns] };
        if (text.StartsWith("step", StringComparison.Ordinal)) options = options with { DateColumnName = "step" };
        Assert.True(Read(text, options).Usable);
    }
}
