using Crucible.Cli;

namespace Crucible.Cli.Tests;

/// <summary>
/// The <c>--input</c> option the series commands share (one factory, which also restricts its values): every command
/// takes the four input kinds and refuses any other word at parse time, before any file is read.
/// </summary>
public class SeriesOptionsTests
{
    public static TheoryData<string[]> Commands => new()
    {
        new[] { "data", "check", "--data", "d.csv" },
        new[] { "baseline", "--data", "d.csv", "--generator", "bootstrap", "--out", "o.csv" },
        new[] { "compare", "--data", "d.csv", "--portfolio", "p.json", "--train-end", "2020-01-01", "--out", "o.json" },
        new[] { "backtest", "--data", "d.csv", "--portfolio", "p.json", "--out", "o.json" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public void Input_TakesTheFourKinds_AndRefusesAnyOther(string[] command)
    {
        foreach (var kind in new[] { "prices", "returns", "log-returns", "percent" })
        {
            Assert.Empty(CrucibleCommand.Build().Parse([.. command, "--input", kind]).Errors);
        }

        var errors = CrucibleCommand.Build().Parse([.. command, "--input", "bogus"]).Errors;
        Assert.Contains(errors, e => e.Message.Contains("bogus", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("compare", "--generator", "bootstrap", "--generator", "fhs,bootstrap")]
    [InlineData("backtest", "--generator", "bootstrap,bootstrap")]
    public void Generator_NamedTwice_IsRefused(params string[] args)
    {
        // compare/backtest ran a generator named twice twice: two table rows "stationary-bootstrap" with different figures
        var dir = Directory.CreateTempSubdirectory("crucible-cli-generators-").FullName;
        try
        {
            string prices = TestPrices.Write(Path.Combine(dir, "prices.csv"), 60), portfolio = Path.Combine(dir, "p.json"), output = Path.Combine(dir, "o.json");
            File.WriteAllText(portfolio, """{"name": "ab", "weights": {"A": 0.5, "B": 0.5}}""");
            string[] common = ["--data", prices, "--portfolio", portfolio, "--out", output, "--home", Path.Combine(dir, "home")];
            string[] extra = args[0] == "compare" ? ["--train-end", "2020-02-14"] : [];
            var (code, _, stderr) = CliProcess.Run([args[0], .. common, .. extra, .. args[1..]]);
            Assert.Equal(2, code);
            Assert.Contains("error [OPT-E]: --generator names bootstrap twice", stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(output));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("compare", "--train-end", "2020-02-14")]
    [InlineData("backtest", "--first-year", "2021", "--last-year", "2021", "--samples", "100")]
    public void PortfolioHoldingASeriesTheDataLacks_IsNamedAtItsHolding(params string[] args)
    {
        // compare and backtest selected the held series from the data by name: one it lacks was "error [COLUMN-E]: no
        // column named 'Z'", naming no file; crucible stress names the holding in the portfolio file (unknown-series)
        var dir = Directory.CreateTempSubdirectory("crucible-cli-held-").FullName;
        try
        {
            string prices = TestPrices.Write(Path.Combine(dir, "prices.csv"), 400), portfolio = Path.Combine(dir, "p.json"), output = Path.Combine(dir, "o.json");
            File.WriteAllText(portfolio, "{\n  \"weights\": {\"A\": 0.5, \"Z\": 0.5}\n}\n");
            var (code, _, stderr) = CliProcess.Run([args[0], "--data", prices, "--portfolio", portfolio, "--generator", "bootstrap", "--out", output,
                "--home", Path.Combine(dir, "home"), .. args[1..]]);
            Assert.Equal(2, code);
            Assert.Contains($"{portfolio}:2:25: error [unknown-series]: portfolio series 'Z' is not in the data (series: A, B, C)", stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(output));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Baseline_ATrainEndBeforeTheData_IsRefusedAtTheOption()
    {
        // it left no row to fit on and read "error [too-few-rows]: the generator needs at least 2 rows to fit, got 0", of a
        // file of 60 rows; compare says what --train-end did
        var dir = Directory.CreateTempSubdirectory("crucible-cli-train-end-").FullName;
        try
        {
            string prices = TestPrices.Write(Path.Combine(dir, "prices.csv"), 60), output = Path.Combine(dir, "o.csv");
            var (code, _, stderr) = CliProcess.Run("baseline", "--data", prices, "--generator", "bootstrap", "--train-end", "2019-12-31", "--out", output,
                "--home", Path.Combine(dir, "home"));
            Assert.Equal(2, code);
            Assert.Contains("error [OPT-E]: --train-end 2019-12-31 precedes the data's first return (2020-01-02): no rows to fit on", stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(output));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
