using System.Globalization;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible stress</c> end to end in a child process, on the stress fixtures (test/Crucible.Stress.Tests/TestData,
/// whose stress_ref.json was computed by stress_ref.py with numpy from the METRICS.md formulas).
/// </summary>
public sealed class StressCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("crucible-stress-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static string Fixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crucible.slnx")))
                return Path.Combine(dir.FullName, "test", "Crucible.Stress.Tests", "TestData", name);
        }

        throw new InvalidOperationException("Crucible.slnx not found above " + AppContext.BaseDirectory);
    }

    private string Temp(string name) => Path.Combine(_dir.FullName, name);

    [Fact]
    public void Stress_MatchesTheReference_AndContributionsSumToEs()
    {
        var outPath = Temp("out/stress.json");
        var (code, stdout, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
            "--alpha", "0.9", "0.95", "--alpha", "0.975,0.99", "--out", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("VaR", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(outPath));
        using var reference = JsonDocument.Parse(File.ReadAllText(Fixture("stress_ref.json")));
        var p = doc.RootElement.GetProperty("portfolio");
        Assert.Equal(400, doc.RootElement.GetProperty("scenarios").GetProperty("count").GetInt32());
        foreach (var level in reference.RootElement.EnumerateObject())
        {
            foreach (var key in new[] { "var", "es", "cdar" })
            {
                var want = level.Value.GetProperty(key).GetDouble();
                var got = p.GetProperty(key).GetProperty(level.Name).GetDouble();
                Assert.True(Math.Abs(want - got) <= 1e-9 * Math.Abs(want), $"{key} at {level.Name}: {got} vs {want}");
            }

            var sum = p.GetProperty("es_contributions").GetProperty(level.Name).EnumerateObject().Sum(c => c.Value.GetDouble());
            Assert.Equal(p.GetProperty("es").GetProperty(level.Name).GetDouble(), sum, 1e-12);
        }
    }

    [Fact]
    public void Stress_BadPortfolio_Exits2_WithFileLineColumnAndRule()
    {
        var portfolio = Temp("bad.json");
        File.WriteAllText(portfolio, "{\n  \"weights\": {\"A\": 0.5, \"Z\": 0.5}\n}\n");
        var (code, _, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", portfolio, "--out", Temp("o.json"));
        Assert.Equal(2, code);
        Assert.Contains($"{portfolio}:2:25: error [unknown-series]", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Temp("o.json")));
    }

    [Fact]
    public void Stress_BadAlpha_Exits2()
    {
        var (code, _, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
            "--alpha", "1.5", "--out", Temp("o.json"));
        Assert.Equal(2, code);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"--alpha"), stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stress_DecimalCommaAlpha_SaysWhereTheBadLevelCameFrom()
    {
        // session 15 QA: "0,99" (a German user's 0.99) was refused as "got '0'", naming a number the user never typed
        var (code, _, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
            "--alpha", "0,99", "--out", Temp("o.json"));
        Assert.Equal(2, code);
        Assert.Contains("error [OPT-E]: --alpha takes numbers in (0, 1), got '0' (from '0,99': a comma separates levels; write decimals with a point, e.g. 0.99)",
            stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Temp("o.json")));
    }

    // history.csv: prices of A, B, C (from 100 on 2010-01-04) rebuilt from the returns of the fixture's first 60 scenarios
    private string HistoryFile() => StressHistoryFixture.Write(Fixture("scenarios.csv"), Temp("history.csv"));

    [Fact]
    public void Stress_Reverse_ReportsOnlyBreachingScenarios()
    {
        var historyPath = HistoryFile();
        var outPath = Temp("rev.json");
        var (code, stdout, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
            "--reverse", "--loss-threshold", "0.04", "--history", historyPath, "--top", "5", "--out", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("reverse:", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(outPath));
        var reverse = doc.RootElement.GetProperty("reverse");
        Assert.Equal(400, reverse.GetProperty("candidates").GetInt32());
        var scenarios = reverse.GetProperty("scenarios").EnumerateArray().ToArray();
        Assert.Equal(5, scenarios.Length);
        Assert.All(scenarios, s => Assert.True(s.GetProperty("loss").GetDouble() >= 0.04));
        var plausibility = scenarios.Select(s => s.GetProperty("plausibility").GetDouble()).ToArray();
        Assert.Equal(plausibility.OrderByDescending(x => x), plausibility);
    }

    [Fact]
    public void Stress_Reverse_NamesAsDriversOnlySeriesThatAddToTheLoss()
    {
        // a book of A alone on scenarios of A, B, C: B and C (weight 0, attribution 0) were printed as the second and
        // third drivers ("drivers: A 0.0567, B 0, C 0"), and a hedge's negative share would rank below them
        var portfolio = Temp("a-only.json");
        File.WriteAllText(portfolio, """{"name": "A only", "weights": {"A": 1.0}}""");
        var (code, stdout, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", portfolio,
            "--reverse", "--loss-threshold", "0.04", "--history", HistoryFile(), "--out", Temp("rev-a.json"));
        Assert.True(code == 0, stderr);
        var line = stdout.Split('\n').Single(l => l.StartsWith("reverse:", StringComparison.Ordinal));
        var drivers = line[(line.IndexOf("drivers: ", StringComparison.Ordinal) + "drivers: ".Length)..].Trim();
        Assert.Matches("^A [0-9.e-]+$", drivers);
    }

    [Fact]
    public void Stress_ReverseWithAModel_GuidesTheCandidatesIntoTheBreach()
    {
        // a tiny sequence model trained on the history's prices
        var historyPath = HistoryFile();
        var config = Temp("small.json");
        File.WriteAllText(config, """{"hidden": 8, "layers": 1, "heads": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""");
        var model = Temp("m");
        var t = CliProcess.Run("train", "--data", historyPath, "--kind", "sequence", "--window", "5", "--steps", "20", "--config", config, "--seed", "1", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        var outPath = Temp("rev.json");
        var (code, stdout, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
            "--reverse", "--loss-threshold", "0.04", "--history", historyPath, "--model", model, "--candidates", "50", "--top", "5", "--seed", "2", "--out", outPath);
        Assert.True(code == 0, stderr);
        Assert.Contains("guided scenarios lose", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(outPath));
        var reverse = doc.RootElement.GetProperty("reverse");
        Assert.Equal("guided", reverse.GetProperty("sampling").GetString());
        Assert.Equal(50, reverse.GetProperty("candidates").GetInt32());
        Assert.True(reverse.GetProperty("breaching").GetInt32() >= 45);
        Assert.All(reverse.GetProperty("scenarios").EnumerateArray(), s => Assert.True(s.GetProperty("loss").GetDouble() >= 0.04));

        // recalibration: from a tiny guidance scale the loop doubles it while the declared breach rate fails, and the
        // run manifest records every attempt
        var home = Temp("home");
        var calibrated = Temp("cal.json");
        var c = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"), "--reverse",
            "--loss-threshold", "0.04", "--history", historyPath, "--model", model, "--candidates", "50", "--seed", "2",
            "--guidance-scale", "0.001", "--min-breach-rate", "0.9", "--home", home, "--out", calibrated);
        Assert.True(c.Exit == 0, c.Stderr);
        Assert.Contains("recalibration:", c.Stdout, StringComparison.Ordinal);
        using var cal = JsonDocument.Parse(File.ReadAllText(calibrated));
        var attempts = cal.RootElement.GetProperty("reverse").GetProperty("recalibration").EnumerateArray().ToArray();
        Assert.InRange(attempts.Length, 1, 3);
        for (int i = 0; i < attempts.Length; i++)
        {
            Assert.Equal(0.001 * Math.Pow(2, i), attempts[i].GetProperty("guidance_scale").GetDouble(), 12);
            Assert.Equal(attempts[i].GetProperty("breach_rate").GetDouble() >= 0.9, attempts[i].GetProperty("passed").GetBoolean());
            if (i < attempts.Length - 1) Assert.False(attempts[i].GetProperty("passed").GetBoolean());
        }

        if (!attempts[^1].GetProperty("passed").GetBoolean()) Assert.Equal(3, attempts.Length);
        Assert.Equal(attempts[^1].GetProperty("breach_rate").GetDouble(), cal.RootElement.GetProperty("reverse").GetProperty("breach_rate").GetDouble());
        var manifestPath = Assert.Single(Directory.GetFiles(Path.Combine(home, "runs")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(manifestPath));
        Assert.Equal("stress", manifest.RootElement.GetProperty("kind").GetString());
        Assert.Equal(attempts.Length, manifest.RootElement.GetProperty("outcome").GetProperty("recalibration").GetArrayLength());
        Assert.Equal(0, CliProcess.Run("verify-run", manifestPath).Exit);

        // adversarial scenarios: the worst plausible losses, above the floor, largest first
        var adversarialPath = Temp("adv.json");
        var adv = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"), "--adversarial",
            "--history", historyPath, "--model", model, "--candidates", "100", "--top", "5", "--seed", "3", "--home", home, "--out", adversarialPath);
        Assert.True(adv.Exit == 0, adv.Stderr);
        Assert.Contains("adversarial: worst plausible loss", adv.Stdout, StringComparison.Ordinal);
        using var advDoc = JsonDocument.Parse(File.ReadAllText(adversarialPath));
        var section = advDoc.RootElement.GetProperty("adversarial");
        Assert.Equal(100, section.GetProperty("candidates").GetInt32());   // 20 unguided + 4 rungs of 20
        var worst = section.GetProperty("scenarios").EnumerateArray().ToArray();
        Assert.Equal(5, worst.Length);
        double floor = section.GetProperty("floor").GetDouble();
        Assert.All(worst, w => Assert.True(w.GetProperty("plausibility").GetDouble() >= floor));
        var losses = worst.Select(w => w.GetProperty("loss").GetDouble()).ToArray();
        Assert.Equal(losses.OrderByDescending(l => l), losses);
    }

    [Fact]
    public void Stress_ReverseWithoutThreshold_Exits2()
    {
        var (code, _, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
            "--reverse", "--out", Temp("o.json"));
        Assert.Equal(2, code);
        Assert.Contains("--loss-threshold", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Baseline_WritesAScenarioCsv_ThatStressReads()
    {
        var csv = Temp("b.csv");
        var prices = Temp("prices.csv");
        var text = new System.Text.StringBuilder("Date,A,B\n");
        var rng = new System.Random(1);
        double a = 100, b = 50;
        var day = new DateOnly(2015, 1, 1);
        for (var t = 0; t < 300; t++)
        {
            a *= Math.Exp((rng.NextDouble() - 0.5) * 0.02);
            b *= Math.Exp((rng.NextDouble() - 0.5) * 0.01);
            text.Append(CultureInfo.InvariantCulture, $"{day.AddDays(t):yyyy-MM-dd},{a:R},{b:R}\n");
        }

        File.WriteAllText(prices, text.ToString());
        var (code, _, stderr) = CliProcess.Run("baseline", "--data", prices, "--generator", "bootstrap", "--count", "50", "--window", "5", "--seed", "2",
            "--home", Temp("home"), "--out", csv);
        Assert.True(code == 0, stderr);
        var rows = File.ReadAllLines(csv);
        Assert.Equal("scenario,step,A,B", rows[0]);
        Assert.Equal(251, rows.Length);
        var portfolio = Temp("p.json");
        File.WriteAllText(portfolio, """{"weights": {"A": 0.5, "B": 0.5}}""");
        var (code2, _, stderr2) = CliProcess.Run("stress", "--scenarios", csv, "--portfolio", portfolio, "--out", Temp("s.json"));
        Assert.True(code2 == 0, stderr2);
    }

    [Fact]
    public void ReverseWithABadHistory_NamesTheHistoryFileAndTheRule()
    {
        string history = StressHistoryFixture.Write(Fixture("scenarios.csv"), Temp("history.csv"));
        var lines = File.ReadAllLines(history);
        File.WriteAllLines(Temp("no-c.csv"), lines.Select(l => l[..l.LastIndexOf(',')]));
        File.WriteAllLines(Temp("short.csv"), lines.Take(5));
        File.WriteAllLines(Temp("flat.csv"), lines.Take(40).Select((l, i) => i == 0 ? l : string.Join(',', l.Split(',').Select((c, j) => j == 1 ? "100" : c))));
        (string File, string Expected)[] cases =
        [
            (Temp("no-c.csv"), $"{Temp("no-c.csv")}: error [COLUMN-E]: the history: no column named 'C'"),
            (Temp("short.csv"), $"{Temp("short.csv")}: error [too-few-rows]: the history (3 returns) is shorter than one window of 10"),
            (Temp("flat.csv"), $"{Temp("flat.csv")}: error [constant-series]: series 'A' of the history does not vary"),
        ];
        foreach (var (file, expected) in cases)
        {
            var (code, _, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
                "--reverse", "--loss-threshold", "0.05", "--history", file, "--out", Temp("r.json"));
            Assert.True(code == 2, $"{file}: exit {code}: {stderr}");
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("5")]
    [InlineData("0")]
    [InlineData("-0.1")]
    public void ALossThresholdOutsideZeroOne_NamesTheOption(string threshold)
    {
        var (code, _, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
            "--reverse", "--loss-threshold", threshold, "--history", HistoryFile(), "--out", Temp("r.json"));
        Assert.True(code == 2, $"exit {code}: {stderr}");
        Assert.Contains($"error [OPT-E]: --loss-threshold takes a fraction of capital in (0, 1), e.g. 0.15; got {threshold}", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Temp("r.json")));
    }

    [Theory]
    [InlineData("--top", "0")]
    [InlineData("--top", "-3")]
    [InlineData("--candidates", "0")]
    public void ACountBelowOne_ExitsTwoNamingTheOption(string option, string value)
    {
        // these were accepted silently (exit 0, an empty or meaningless reverse section)
        var (code, _, stderr) = CliProcess.Run("stress", "--scenarios", Fixture("scenarios.csv"), "--portfolio", Fixture("portfolio.json"),
            "--reverse", "--loss-threshold", "0.05", "--history", HistoryFile(), option, value, "--out", Temp("r.json"));
        Assert.True(code == 2, $"exit {code}: {stderr}");
        Assert.Contains($"error [OPT-E]: {option} takes a count ≥ 1, got {value}", stderr, StringComparison.Ordinal);
    }
}
