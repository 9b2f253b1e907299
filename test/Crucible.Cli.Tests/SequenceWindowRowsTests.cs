namespace Crucible.Cli.Tests;

/// <summary>
/// <c>train --kind sequence</c> with too few rows for its window: the message counts what the user gave. A price file
/// of N rows gives N − 1 returns; it used to say "the training data has N − 1 rows" of a file the user saw N rows in.
/// </summary>
public sealed class SequenceWindowRowsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-seq-rows-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    [Fact]
    public void TooFewRowsForTheWindow_NamesThePriceRowsGiven_AndTheRowsNeeded()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 120);
        var r = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "119", "--steps", "1", "--out", Path.Combine(_dir, "m"));
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains("error [too-few-rows]: the training data's 120 price rows give 119 returns; a window of 119 needs at least 120 returns, so at least 121 price rows",
            r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));

        // the count it names is enough: 121 price rows train with a window of 119
        prices = TestPrices.Write(Path.Combine(_dir, "prices121.csv"), 121);
        r = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "119", "--steps", "1", "--out", Path.Combine(_dir, "m"));
        Assert.True(r.Exit == 0, r.Stderr);

        // a file of returns: one row per return, counted as returns
        string returns = TestPrices.Returns(Path.Combine(_dir, "returns.csv"), 119);
        r = Crucible("train", "--data", returns, "--input", "returns", "--kind", "sequence", "--window", "119", "--steps", "1", "--out", Path.Combine(_dir, "m2"));
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains("error [too-few-rows]: the training data has 119 returns; a window of 119 needs at least 120", r.Stderr, StringComparison.Ordinal);
    }
}
