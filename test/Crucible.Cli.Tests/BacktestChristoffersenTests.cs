using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible backtest</c>'s JSON carries Christoffersen's independence and conditional-coverage tests beside Kupiec's
/// (session 15: they were in the library only), checked on a backtest whose exception days are known by construction.
/// </summary>
public sealed class BacktestChristoffersenTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-christoffersen-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BacktestJson_HasChristoffersenTests_MatchingAHandComputation()
    {
        // 2020 (training): every day +0.1 % or +0.3 %, so the bootstrap's one-day VaR 99 % is a gain of 0.1 %; 2021 (the 250
        // test days): +0.5 % (no exception) except a loss of 2 % on days 10, 11, 12, 50, 100, 101 and 200 (exceptions, in
        // clusters). The reference below is the hand computation of Christoffersen (1998) in Python (math.log, math.erfc):
        //   n00 238, n01 4, n10 4, n11 3; LR_ind 13.487563523752073, p 0.00024014982189789666;
        //   LR_pof 5.496990447792683 (x 7 of T 250, p 1 %); LR_cc 18.984553971544756, p = exp(-LR_cc/2) 7.54321496593878e-05
        var (data, portfolio) = BacktestFixture.Write(_dir, [10, 11, 12, 50, 100, 101, 200]);
        string report = Path.Combine(_dir, "backtest.json");
        var run = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") },
            "backtest", "--data", data, "--input", "log-returns", "--portfolio", portfolio, "--generator", "bootstrap",
            "--first-year", "2021", "--last-year", "2021", "--samples", "200", "--seed", "1", "--out", report);
        Assert.True(run.Exit == 0, run.Stderr);

        using var doc = JsonDocument.Parse(File.ReadAllBytes(report));
        var generator = doc.RootElement.GetProperty("generators")[0];
        var year = generator.GetProperty("years")[0];
        Assert.Equal(250, year.GetProperty("observations").GetInt32());
        Assert.Equal(7, year.GetProperty("exceptions").GetInt32());
        Assert.Equal(5.496990447792683, year.GetProperty("kupiec_lr").GetDouble(), 1e-9);
        // one test year: the pooled days are the year's days
        foreach (var section in new[] { year, generator.GetProperty("pooled") })
        {
            var c = section.GetProperty("christoffersen");
            Assert.Equal([238, 4, 4, 3], new[] { "n00", "n01", "n10", "n11" }.Select(k => c.GetProperty(k).GetInt32()));
            Assert.Equal(13.487563523752073, c.GetProperty("independence_lr").GetDouble(), 1e-9);
            Assert.Equal(0.00024014982189789666, c.GetProperty("independence_p").GetDouble(), 1e-12);
            Assert.Equal(18.984553971544756, c.GetProperty("conditional_coverage_lr").GetDouble(), 1e-9);
            Assert.Equal(7.54321496593878e-05, c.GetProperty("conditional_coverage_p").GetDouble(), 1e-13);
        }

        Assert.Contains("Christoffersen ind p 0.0002401, cc p 7.543E-05", run.Stdout, StringComparison.Ordinal);
    }
}
