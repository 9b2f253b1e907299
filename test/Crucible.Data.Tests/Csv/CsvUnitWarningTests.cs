using System.Globalization;
using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// A file in percent (Kenneth French's ff5: Mkt-RF's median |value| 0.47) read as log or simple returns was accepted
/// without a word, and a model trained on it drew "log returns" 100 times too large. The reader now warns per column
/// (<see cref="CsvRules.PercentWarning"/>) when more than half the values have a magnitude of 0.1 or more.
/// </summary>
public class CsvUnitWarningTests
{
    // n rows: column P in percent (1.2·sin(1.7 i), median |value| ≈ 0.85), column R a fraction (the same / 100), column F
    // a small percent rate that cannot be told from a fraction
    private static string File(int n)
    {
        var sb = new StringBuilder("Date,P,R,F\n");
        var date = new DateOnly(2020, 1, 1);
        for (var i = 0; i < n; i++)
        {
            var p = 1.2 * Math.Sin(1.7 * i);
            sb.Append(CultureInfo.InvariantCulture, $"{date.AddDays(i):yyyy-MM-dd},{p:F2},{p / 100:F6},0.012\n");
        }
        return sb.ToString();
    }

    private static DataQualityReport Check(string csv, InputKind input) =>
        CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "f.csv", new CsvReadOptions { Input = input, WarnOnWeekend = false }).Report;

    [Fact]
    public void PercentValuesReadAsLogReturns_AreWarnedAtTheirHeaderCell()
    {
        var report = Check(File(200), InputKind.LogReturns);
        Assert.True(report.Usable);
        var w = Assert.Single(report.Warnings, w => w.Rule == CsvRules.PercentWarning);
        Assert.Equal((1L, 0L, 2, "P"), (w.Line, w.Record, w.Column, w.ColumnName));
        Assert.Contains("read as log returns, a typical row moves 10% or more; if the values are in percent, declare the input as percent returns (--input percent)", w.Message, StringComparison.Ordinal);
        Assert.StartsWith("f.csv:1:2: warning [CSV-W-PERCENT]: column 'P': ", w.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void PercentValuesReadAsSimpleReturns_AreWarned_ButNotAsPercentOrPrices()
    {
        // simple returns: the values ≤ −1 are domain errors naming percent; the rest are warned
        var report = Check(File(200), InputKind.SimpleReturns);
        Assert.Contains(report.Errors, e => e.Rule == CsvRules.Domain && e.Message.Contains("--input percent", StringComparison.Ordinal));
        Assert.Contains(report.Warnings, w => w.Rule == CsvRules.PercentWarning && w.ColumnName == "P");
        Assert.DoesNotContain(Check(File(200), InputKind.PercentReturns).Warnings, w => w.Rule == CsvRules.PercentWarning);
    }

    // session 28: a caller that takes the input kind otherwise (a training job's "input": "percent") names its own option in
    // both pieces of advice; the default, crucible's flag, is what data check's report records
    [Fact]
    public void PercentInputAdvice_IsTheCallersOption_InTheDomainErrorAndTheWarning()
    {
        const string Member = "\"input\": \"percent\"";
        var report = CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(File(200))), "f.csv",
            new CsvReadOptions { Input = InputKind.SimpleReturns, WarnOnWeekend = false, PercentInputAdvice = Member }).Report;
        var domain = report.Errors.First(e => e.Rule == CsvRules.Domain);
        Assert.Equal("simple return must be > -1 (if the values are in percent, declare the input as percent returns: \"input\": \"percent\")", domain.Message);
        var warning = Assert.Single(report.Warnings, w => w.Rule == CsvRules.PercentWarning && w.ColumnName == "P");
        Assert.EndsWith("if the values are in percent, declare the input as percent returns (\"input\": \"percent\")", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--input", domain.Message + warning.Message, StringComparison.Ordinal);

        // the default, byte for byte as before
        var plain = Check(File(200), InputKind.SimpleReturns);
        Assert.Equal("simple return must be > -1 (if the values are in percent, declare the input as percent returns: --input percent)",
            plain.Errors.First(e => e.Rule == CsvRules.Domain).Message);
        Assert.EndsWith("declare the input as percent returns (--input percent)", plain.Warnings.Single(w => w.Rule == CsvRules.PercentWarning && w.ColumnName == "P").Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void FractionsAndShortColumns_AreNotWarned()
    {
        Assert.DoesNotContain(Check(File(19), InputKind.LogReturns).Warnings, w => w.Rule == CsvRules.PercentWarning);
        var report = Check(File(200), InputKind.LogReturns);
        Assert.DoesNotContain(report.Warnings, w => w.Rule == CsvRules.PercentWarning && w.ColumnName is "R" or "F");
    }
}
