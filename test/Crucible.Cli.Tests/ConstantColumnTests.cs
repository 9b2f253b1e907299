using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>
/// QA round 8: <c>data check</c> called a file with a constant column (a cash line at 100) usable, then <c>train</c>
/// failed with <c>TRANSFORM-E</c> (tabular) or <c>constant-series</c> (sequence) naming no file. data check now warns
/// at the column's header cell (<c>CSV-W-CONSTANT</c>) and train's refusal is located there (exit 2). A text column
/// (an ISIN) gave data check one error per row: it now takes train's <c>--columns</c>.
/// </summary>
public sealed class ConstantColumnTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-constant-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    // 60 weekday rows: SPY a walk, CASH 100 throughout, ISIN a text column
    private string File60()
    {
        var sb = new StringBuilder("Date,SPY,CASH,ISIN\n");
        var date = new DateOnly(2021, 1, 4);
        double p = 100;
        for (int i = 0; i < 60; i++, date = date.AddDays(date.DayOfWeek == DayOfWeek.Friday ? 3 : 1))
        {
            p *= Math.Exp(0.01 * Math.Sin(1.3 * i));
            sb.Append(CultureInfo.InvariantCulture, $"{date:yyyy-MM-dd},{p:F4},100,US78462F1030\n");
        }

        string path = Path.Combine(_dir, "cash.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    [Theory]
    [InlineData("tabular", "TRANSFORM-E")]
    [InlineData("sequence", "constant-series")]
    public void AConstantColumn_IsWarnedByDataCheck_AndTrainsRefusalNamesTheFileAndTheColumn(string kind, string rule)
    {
        string path = File60();
        var check = Crucible("data", "check", "--data", path, "--columns", "SPY,CASH");
        Assert.True(check.Exit == 0, check.Stderr);
        Assert.Contains($"{path}:1:3: warning [CSV-W-CONSTANT]: column 'CASH': all its 60 values are 100:", check.Stdout, StringComparison.Ordinal);

        string model = Path.Combine(_dir, "m");
        string[] kindArgs = kind == "sequence" ? ["--kind", "sequence", "--window", "5"] : [];
        var train = Crucible(["train", "--data", path, "--columns", "SPY,CASH", "--steps", "2", .. kindArgs, "--out", model]);
        Assert.True(train.Exit == 2, train.Stderr);
        Assert.Contains($"{path}:1:3: error [{rule}]: ", train.Stderr, StringComparison.Ordinal);
        Assert.Contains("'CASH'", train.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(model));
    }

    [Fact]
    public void DataCheck_Columns_ReadsOnlyThoseColumns()
    {
        string path = File60();
        var all = Crucible("data", "check", "--data", path);
        Assert.Equal(2, all.Exit);
        Assert.Contains("CSV-E-NUM", all.Stdout, StringComparison.Ordinal);

        var spy = Crucible("data", "check", "--data", path, "--columns", "SPY");
        Assert.True(spy.Exit == 0, spy.Stdout + spy.Stderr);
        Assert.Contains("columns:   1 (SPY)", spy.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("CSV-E-NUM", spy.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("CSV-W-CONSTANT", spy.Stdout, StringComparison.Ordinal);

        var twice = Crucible("data", "check", "--data", path, "--columns", "SPY,SPY");
        Assert.Equal(2, twice.Exit);
        Assert.Contains("error [COLUMN-E]: column 'SPY' is named twice", twice.Stderr, StringComparison.Ordinal);
        var unknown = Crucible("data", "check", "--data", path, "--columns", "QQQ");
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("CSV-E-HEADER", unknown.Stdout + unknown.Stderr, StringComparison.Ordinal);
    }
}
