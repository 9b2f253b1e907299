using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// <see cref="CsvReadOptions.Validate()"/> names the option at fault and its allowed range (it used to say "a limit in the
/// CSV options is out of range" without naming which), and refuses an empty date format up front (it used to be accepted
/// and then fail every date); a host maps property names to the names its users know.
/// </summary>
public class CsvReadOptionsValidationTests
{
    [Theory]
    [InlineData("DateFormat", "DateFormat is empty: give an exact .NET date format such as yyyy-MM-dd")]
    [InlineData("DateFormatBlank", "DateFormat is empty")]
    [InlineData("ForwardFillLimit", "ForwardFillLimit must be at least 0, got -1")]
    [InlineData("MaxGapBusinessDays", "MaxGapBusinessDays must be at least 1, got 0")]
    [InlineData("MaxFieldLength", "MaxFieldLength must be at least 16, got 15")]
    [InlineData("MaxColumns", "MaxColumns must be at least 1, got 0")]
    [InlineData("MaxRows", "MaxRows must be at least 1, got 0")]
    [InlineData("MaxErrors", "MaxErrors must be at least 1, got 0")]
    [InlineData("MaxWarningsPerRule", "MaxWarningsPerRule must be at least 0, got -1")]
    [InlineData("MaxRecordLength", "MaxRecordLength must be at least MaxFieldLength (100), got 99")]
    public void AnOptionOutOfRange_IsRefused_NamingItAndItsRange(string bad, string message)
    {
        var options = bad switch
        {
            "DateFormat" => new CsvReadOptions { DateFormat = "" },
            "DateFormatBlank" => new CsvReadOptions { DateFormat = " \t" },
            "ForwardFillLimit" => new CsvReadOptions { ForwardFillLimit = -1 },
            "MaxGapBusinessDays" => new CsvReadOptions { MaxGapBusinessDays = 0 },
            "MaxFieldLength" => new CsvReadOptions { MaxFieldLength = 15 },
            "MaxColumns" => new CsvReadOptions { MaxColumns = 0 },
            "MaxRows" => new CsvReadOptions { MaxRows = 0 },
            "MaxErrors" => new CsvReadOptions { MaxErrors = 0 },
            "MaxWarningsPerRule" => new CsvReadOptions { MaxWarningsPerRule = -1 },
            _ => new CsvReadOptions { MaxFieldLength = 100, MaxRecordLength = 99 },
        };
        var e = Assert.Throws<InvalidInputException>(() => options.Validate());
        Assert.Equal("OPT-E", e.Rule);
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHostsNames_ReplaceThePropertyNames()
    {
        var e = Assert.Throws<InvalidInputException>(() => new CsvReadOptions { ForwardFillLimit = -3 }
            .Validate(p => p == nameof(CsvReadOptions.ForwardFillLimit) ? "--ffill-limit" : null));
        Assert.Equal("--ffill-limit must be at least 0, got -3", e.Message);
        CsvReadOptions.Default.Validate(); // the defaults pass
    }

    /// <summary>
    /// A date format with a time field used to be accepted and the time dropped: an intraday file then read its first bar
    /// of each day and called every later bar a conflicting duplicate date (CSV-E-DUPDATE), 100 errors for a sound file.
    /// </summary>
    [Theory]
    [InlineData("yyyy-MM-dd HH:mm", 'H')]
    [InlineData("yyyy-MM-dd'T'HH:mm:ss", 'H')]
    [InlineData("MM/dd/yyyy h:mm tt", 'h')]
    [InlineData("yyyy-MM-dd\\Tmm", 'm')]
    [InlineData("yyyy-MM-ddzzz", 'z')]
    [InlineData("yyyy-MM-ddK", 'K')]
    [InlineData("yyyyMMdd.fff", 'f')]
    public void ADateFormatWithATimeField_IsRefused_NamingTheField(string format, char field)
    {
        var e = Assert.Throws<InvalidInputException>(() => new CsvReadOptions { DateFormat = format }
            .Validate(p => p == nameof(CsvReadOptions.DateFormat) ? "--date-format" : null));
        Assert.Equal("OPT-E", e.Rule);
        Assert.StartsWith($"--date-format '{format}' has the time or timezone field '{field}': rows are days", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A format .NET cannot use threw FormatException from the first date read (an internal error in the CLI and the
    /// service), and one without the year or the day read every row as year 1 or the 1st of its month.
    /// </summary>
    [Theory]
    [InlineData("%")]
    [InlineData("yyyy-MM-dd'")]   // an unclosed quote
    [InlineData("MM-dd")]         // no year
    [InlineData("yyyy-MM")]       // no day
    [InlineData("'date'")]        // nothing but a literal
    public void ADateFormatThatNamesNoDay_IsRefused_NotAnErrorOfEveryRead(string format)
    {
        var e = Assert.Throws<InvalidInputException>(() => new CsvReadOptions { DateFormat = format }
            .Validate(p => p == nameof(CsvReadOptions.DateFormat) ? "--date-format" : null));
        Assert.Equal("OPT-E", e.Rule);
        Assert.StartsWith($"--date-format '{format}' is not an exact .NET date format that names a day", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("yyyy-MM-dd")]
    [InlineData("dd.MM.yyyy")]
    [InlineData("MM/dd/yyyy")]
    [InlineData("d MMM yyyy")]
    [InlineData("yyyyMMdd")]
    [InlineData("yyyy-MM-dd'T'")] // a quoted literal, not a field
    [InlineData("yyyy-MM-dd\\T\\Z")] // escaped letters
    [InlineData("dddd, d MMMM yyyy")]
    [InlineData("dd/MM/yy")]
    [InlineData("yyyy-M-d")]
    public void ADateOnlyFormat_Passes(string format) => new CsvReadOptions { DateFormat = format }.Validate();

    [Fact]
    public void AnIntradayFile_WithATimeFormat_IsRefusedBeforeAnyRow()
    {
        var csv = "Date,A\n2024-01-02T09:31:00,0.001\n2024-01-02T09:32:00,0.002\n";
        var e = Assert.Throws<InvalidInputException>(() => CsvSeriesReader.Read(
            new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), "bars.csv",
            new CsvReadOptions { Input = InputKind.LogReturns, DateFormat = "yyyy-MM-dd'T'HH:mm:ss" }));
        Assert.Equal("OPT-E", e.Rule);
        Assert.Contains("'H'", e.Message, StringComparison.Ordinal);
    }
}
