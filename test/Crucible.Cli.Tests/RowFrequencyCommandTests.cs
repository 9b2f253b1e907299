namespace Crucible.Cli.Tests;

/// <summary>
/// <c>train --kind sequence</c> with the RV20 condition on weekly return rows: refused (<c>condition-frequency</c>),
/// located in the return file whose dates are at fault, at its date column's header cell. Until session 25 the
/// refusal was relocated to the state file's 1:0, which is not where the problem lies.
/// </summary>
public sealed class RowFrequencyCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-row-frequency-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void RV20_OnWeeklyRows_IsRefused_AtTheReturnFilesDateHeader_NotTheStateFile()
    {
        var (daily, state) = TestPrices.Sequence(_dir, 400);
        var lines = File.ReadAllLines(daily);
        string weekly = Path.Combine(_dir, "weekly.csv");
        File.WriteAllLines(weekly, lines.Take(1).Concat(lines.Skip(1).Where((_, i) => i % 5 == 0))); // every fifth trading day
        var r = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") },
            ["train", "--data", weekly, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,RV20",
             "--steps", "2", "--out", Path.Combine(_dir, "m")]);
        Assert.Equal(2, r.Exit);
        Assert.Contains($"{weekly}:1:1: error [condition-frequency]: condition feature RV20 is the realised volatility of the 20 daily returns",
            r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(state, r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
    }
}
