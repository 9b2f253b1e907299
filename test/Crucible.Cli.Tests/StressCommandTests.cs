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
        Assert.Contains($"{portfolio}:2:27: error [unknown-series]", stderr, StringComparison.Ordinal);
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
}
