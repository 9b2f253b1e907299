using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// Session 18: <c>crucible backtest</c>'s Basel zone is the one for the days tested at <c>--alpha</c> (green while
/// P(X ≤ k) &lt; 0.95, yellow while &lt; 0.9999, X ~ Binomial(n, 1 − α)), not the 250-day, 99 % thresholds whatever they
/// are, and the output and the report say which thresholds were used.
/// </summary>
public sealed class BacktestZoneBoundsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-zone-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TwelveExceptionsIn250DaysAt95Percent_AreGreen_AndTheThresholdsAreReported()
    {
        // 2020 (training): every day +0.1 % or +0.3 %, so the bootstrap's one-day VaR is a gain of 0.1 % at any α; 2021
        // (the 250 test days): +0.5 % except a loss of 2 % on 12 days (the exceptions). At 95 % twelve exceptions in 250
        // days are what a correct VaR gives (n p = 12.5): green (0–17), where the 99 % thresholds said red (≥ 10)
        var (data, portfolio) = BacktestFixture.Write(_dir, [5, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220]);
        foreach (var (alpha, zone, yellowFrom, redFrom, text) in new[]
        {
            ("0.95", "green", 18, 27, "green 0–17, yellow 18–26, red ≥27 for 250 observations at 95%"),
            ("0.99", "red", 5, 10, "green 0–4, yellow 5–9, red ≥10 for 250 observations at 99%"),
        })
        {
            string report = Path.Combine(_dir, $"backtest-{alpha}.json");
            var run = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") },
                "backtest", "--data", data, "--input", "log-returns", "--portfolio", portfolio, "--generator", "bootstrap", "--alpha", alpha,
                "--first-year", "2021", "--last-year", "2021", "--samples", "200", "--seed", "1", "--out", report);
            Assert.True(run.Exit == 0, run.Stderr);
            Assert.Contains($"2021:12/{zone}", run.Stdout, StringComparison.Ordinal);
            Assert.Contains($"zones:      {text}\n", run.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);

            using var doc = JsonDocument.Parse(File.ReadAllBytes(report));
            var year = doc.RootElement.GetProperty("generators")[0].GetProperty("years")[0];
            Assert.Equal(250, year.GetProperty("observations").GetInt32());
            Assert.Equal(12, year.GetProperty("exceptions").GetInt32());
            Assert.Equal(zone, year.GetProperty("zone").GetString());
            var bounds = year.GetProperty("zone_bounds");
            Assert.Equal(yellowFrom, bounds.GetProperty("yellow_from").GetInt32());
            Assert.Equal(redFrom, bounds.GetProperty("red_from").GetInt32());
            Assert.Equal(text, bounds.GetProperty("text").GetString());
        }
    }
}
