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
}
