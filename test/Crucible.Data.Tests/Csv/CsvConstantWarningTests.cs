using System.Globalization;
using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// A file with a constant column (a cash line at 100, an all-zero return column) was called usable by data check, then
/// train refused it (TRANSFORM-E: the quantile transform needs two distinct values) naming no file. The reader now warns
/// such a column at its header cell (<see cref="CsvRules.ConstantWarning"/>).
/// </summary>
public class CsvConstantWarningTests
{
    // n rows of log returns: SPY varies, CASH is 100 throughout (a price read as a return), Z is 0 throughout but for a
    // missing cell in row 3
    private static string File(int n)
    {
        var sb = new StringBuilder("Date,SPY,CASH,Z\n");
        var date = new DateOnly(2020, 1, 6);
        for (var i = 0; i < n; i++)
            sb.Append(CultureInfo.InvariantCulture, $"{date.AddDays(i):yyyy-MM-dd},{0.01 * Math.Sin(i):F6},100,{(i == 3 ? "" : "0")}\n");
        return sb.ToString();
    }

    private static DataQualityReport Check(string csv, InputKind input, string? columns = null) =>
        CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "f.csv", new CsvReadOptions
        {
            Input = input, WarnOnWeekend = false, Missing = MissingValuePolicy.Keep,
            Columns = columns?.Split(','),
        }).Report;

    [Fact]
    public void ConstantColumns_AreWarnedAtTheirHeaderCell_AndStayUsable()
    {
        var report = Check(File(30), InputKind.LogReturns);
        Assert.True(report.Usable);
        var warned = report.Warnings.Where(w => w.Rule == CsvRules.ConstantWarning).ToArray();
        Assert.Equal(["CASH", "Z"], warned.Select(w => w.ColumnName));
        var cash = warned[0];
        Assert.Equal((1L, 0L, 3), (cash.Line, cash.Record, cash.Column));
        Assert.Equal("f.csv:1:3: warning [CSV-W-CONSTANT]: column 'CASH': all its 30 values are 100: a constant column has nothing to learn and train refuses it (TRANSFORM-E); leave it out (--columns)", cash.ToString());
        Assert.Contains("all its 29 values are 0:", warned[1].Message, StringComparison.Ordinal); // the missing cell is not counted
        Assert.Equal(2, report.IssueCounts[CsvRules.ConstantWarning]);
    }

    [Fact]
    public void VaryingColumns_ASingleRow_AndColumnsLeftOut_AreNotWarned()
    {
        Assert.DoesNotContain(Check(File(1), InputKind.LogReturns).Warnings, w => w.Rule == CsvRules.ConstantWarning);
        Assert.DoesNotContain(Check(File(30), InputKind.LogReturns, "SPY").Warnings, w => w.Rule == CsvRules.ConstantWarning);
        var selected = Check(File(30), InputKind.LogReturns, "SPY,Z");
        Assert.Equal(["Z"], selected.Warnings.Where(w => w.Rule == CsvRules.ConstantWarning).Select(w => w.ColumnName));
    }
}
