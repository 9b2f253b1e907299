namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible benchmark stocks</c>: bad input exits 2 before any training. (A full run takes minutes: its library
/// path is tested in StocksBenchmarkTests and PacfTrainingTests, its figures are in bench/stocks.)
/// </summary>
public sealed class BenchmarkCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BadInput_ExitsTwo_WithoutStackTrace()
    {
        var missing = CliProcess.Run("benchmark", "stocks", "--data", Path.Combine(_dir, "none.csv"));
        Assert.Equal(2, missing.Exit);
        Assert.DoesNotContain("   at ", missing.Stderr, StringComparison.Ordinal);

        var constant = Path.Combine(_dir, "constant.csv");
        File.WriteAllLines(constant, ["Date,A,B", .. Enumerable.Range(0, 30).Select(i => $"{new DateTime(2020, 1, 1).AddDays(i):yyyy-MM-dd},1.5,{i}")]);
        var flat = CliProcess.Run("benchmark", "stocks", "--data", constant);
        Assert.Equal(2, flat.Exit);
        Assert.Contains("constant", flat.Stderr, StringComparison.Ordinal);

        var ok = Path.Combine(_dir, "ok.csv");
        File.WriteAllLines(ok, ["Date,A,B", .. Enumerable.Range(0, 30).Select(i => $"{new DateTime(2020, 1, 1).AddDays(i):yyyy-MM-dd},{i % 7},{i}")]);
        Assert.Equal(2, CliProcess.Run("benchmark", "stocks", "--data", ok, "--runs", "0").Exit);
        Assert.Equal(2, CliProcess.Run("benchmark", "stocks", "--data", ok, "--pacf-weight", "-1").Exit);
        Assert.Equal(2, CliProcess.Run("benchmark", "stocks", "--runs", "2").Exit); // --data missing
    }
}
