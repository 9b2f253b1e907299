namespace Crucible.Cli.Tests;

/// <summary>
/// <c>--stress "VIXCLS=4.5e1"</c> was refused while <c>--condition VIXCLS=4.5e1</c> was accepted: both now read numbers by
/// one rule (<c>StressSpec.TryParseNumber</c>: invariant culture, scientific notation, finite only).
/// </summary>
public sealed class StressNumberSyntaxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-stress-number-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    private string Generate(string name, params string[] extra)
    {
        string csv = Path.Combine(_dir, name + ".csv");
        var r = Crucible(["generate", "--model", Path.Combine(_dir, "m"), "--count", "6", "--seed", "3", "--sampling-steps", "5", .. extra, "--out", csv]);
        Assert.True(r.Exit == 0, $"{string.Join(' ', extra)}: exit {r.Exit}: {r.Stderr}");
        return File.ReadAllText(csv);
    }

    [Fact]
    public void ScientificNotation_IsAcceptedByStressAsByCondition_AndNonFiniteIsRefusedByBoth()
    {
        var (prices, state) = TestPrices.Sequence(_dir);
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 20, "training": {"batch_size": 16, "warmup_steps": 1}}""");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,TERM",
            "--steps", "2", "--config", config, "--out", Path.Combine(_dir, "m"));
        Assert.True(t.Exit == 0, t.Stderr);

        // both forms, each the same draw as its plain-decimal spelling
        Assert.Equal(Generate("stress-plain", "--stress", "VIXCLS=45"), Generate("stress-sci", "--stress", "VIXCLS=4.5e1"));
        Assert.Equal(Generate("condition-plain", "--condition", "VIXCLS=45"), Generate("condition-sci", "--condition", "VIXCLS=4.5e1"));

        foreach (string bad in (string[])["1e400", "NaN", "Infinity"])
        {
            var s = Crucible("generate", "--model", Path.Combine(_dir, "m"), "--count", "2", "--stress", $"VIXCLS={bad}", "--out", Path.Combine(_dir, "bad.csv"));
            Assert.True(s.Exit == 2, $"--stress {bad}: exit {s.Exit}: {s.Stderr}");
            Assert.Contains($"--stress:1:8: error [STRESS-E-VALUE]: '{bad}' is not a finite number", s.Stderr, StringComparison.Ordinal);
            var c = Crucible("generate", "--model", Path.Combine(_dir, "m"), "--count", "2", "--condition", $"VIXCLS={bad}", "--out", Path.Combine(_dir, "bad.csv"));
            Assert.True(c.Exit == 2, $"--condition {bad}: exit {c.Exit}: {c.Stderr}");
            Assert.Contains("error [OPT-E-CONDITION]", c.Stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(_dir, "bad.csv")));
    }
}
