using System.Globalization;
using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>
/// Session 23's QA of the help texts and summaries: an option whose values are a fixed set lists them in <c>--help</c>
/// (not a <c>&lt;kind&gt;</c> placeholder), <c>audit log --limit</c> shows no int.MaxValue default, and stress says one
/// horizon once.
/// </summary>
public sealed class HelpValuesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-helpvalues-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TrainHelp_ListsTheValuesOfItsFixedSetOptions()
    {
        var r = CliProcess.Run("train", "--help");
        Assert.Equal(0, r.Exit);
        Assert.Contains("--kind <tabular|sequence>", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--calibrate-guidance <gfc-2008|covid-2020|rates-2022>", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--calibration-rule <regime|smallest-within|closest>", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("--state-missing <ffill|reject>", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("<kind>", r.Stdout, StringComparison.Ordinal);

        // the values are shown, not enforced by the parser: an unknown kind keeps its own rule and exit 2
        var bad = CliProcess.Run("train", "--data", "x.csv", "--kind", "tree", "--out", Path.Combine(_dir, "m"));
        Assert.Equal(2, bad.Exit);
        Assert.Contains("OPT-E-KIND", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AuditLogHelp_SaysDefaultAll_WithoutIntMaxValue()
    {
        var r = CliProcess.Run("audit", "log", "--help");
        Assert.Equal(0, r.Exit);
        Assert.Contains("Most entries to list (default all)", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("2147483647", r.Stdout, StringComparison.Ordinal);
        var zero = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, "audit", "log", "--limit", "0");
        Assert.Equal(2, zero.Exit);
        Assert.Contains("--from and --limit must be at least 1", zero.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stress_SaysOneHorizonOnce()
    {
        var text = new StringBuilder("scenario,step,A,B\n");
        for (int s = 1; s <= 40; s++)
        {
            for (int t = 1; t <= 4; t++) text.Append(CultureInfo.InvariantCulture, $"{s},{t},{0.001 * (((s * 7) + t) % 11 - 5)},{0.002 * (((s * 3) + t) % 7 - 3)}\n");
        }

        string scenarios = Path.Combine(_dir, "scenarios.csv"), portfolio = Path.Combine(_dir, "p.json");
        File.WriteAllText(scenarios, text.ToString());
        File.WriteAllText(portfolio, """{"name": "half-half", "weights": {"A": 0.5, "B": 0.5}}""");
        var r = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") },
            "stress", "--scenarios", scenarios, "--portfolio", portfolio, "--out", Path.Combine(_dir, "s.json"));
        Assert.True(r.Exit == 0, r.Stderr);
        Assert.Contains("portfolio:  half-half (40 scenarios of 4 steps)", r.Stdout, StringComparison.Ordinal);
    }
}
