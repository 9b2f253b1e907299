namespace Crucible.Cli.Tests;

/// <summary>
/// Session 17: <c>--guidance</c>, <c>--guidance-min-noise</c> and <c>--regime-guidance</c> act through conditions, so on a
/// sequence model without condition inputs <c>generate</c> and <c>stress --reverse/--adversarial --model</c> refuse them
/// (the library's rule GUIDANCE-E-UNCONDITIONAL, exit 2, the model's manifest named, nothing written) instead of
/// recording a weight that changed nothing.
/// </summary>
public sealed class UnconditionalGuidanceCommandTests : IDisposable
{
    private const string Rule = "GUIDANCE-E-UNCONDITIONAL";

    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-uncond-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    [Fact]
    public void GuidanceOnAnUnconditionalSequenceModel_ExitsTwo_InGenerateAndStress_AndWritesNothing()
    {
        var (prices, _) = TestPrices.Sequence(_dir);
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 8, "layers": 1, "heads": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 8, "warmup_steps": 1}}""");
        string model = Path.Combine(_dir, "u");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", config, "--steps", "4", "--seed", "1", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);

        string csv = Path.Combine(_dir, "s.csv");
        string[] generate = ["generate", "--model", model, "--count", "2", "--sampling-steps", "5", "--out", csv];
        foreach (var (option, value) in new[] { ("--guidance", "4"), ("--guidance-min-noise", "0.5"), ("--regime-guidance", "1") })
        {
            var r = Crucible([.. generate, option, value]);
            Assert.True(r.Exit == 2, $"{option}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains($"{Path.Combine(model, "manifest.json")}: error [{Rule}]: the model has no condition inputs", r.Stderr, StringComparison.Ordinal);
            Assert.Contains(option[2..].Replace('-', '_') + " " + value, r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(csv));
        }

        // the same model without them generates
        var plain = Crucible(generate);
        Assert.True(plain.Exit == 0, plain.Stderr);

        string portfolio = Path.Combine(_dir, "portfolio.json"), report = Path.Combine(_dir, "r.json");
        File.WriteAllText(portfolio, """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""");
        string[] stress = ["stress", "--scenarios", csv, "--portfolio", portfolio, "--history", prices, "--model", model, "--candidates", "10", "--top", "4",
            "--out", report, "--guidance", "2"];
        foreach (var mode in new[] { new[] { "--reverse", "--loss-threshold", "0.001" }, ["--adversarial"] })
        {
            var r = Crucible([.. stress, .. mode]);
            Assert.True(r.Exit == 2, $"{mode[0]}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains($"{Path.Combine(model, "manifest.json")}: error [{Rule}]: the model has no condition inputs", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(report));
        }
    }
}
