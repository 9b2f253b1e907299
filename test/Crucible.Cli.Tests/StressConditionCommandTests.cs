using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible stress --reverse/--adversarial --model DIR --condition NAME=VALUE [--guidance W]</c>: the model's candidates
/// drawn under the conditions and classifier-free guidance weight, parsed and refused as <c>generate --condition</c>,
/// recorded in the report and the run manifest, and reproduced by <c>verify-run --recompute</c>.
/// </summary>
public sealed class StressConditionCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-stresscond-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    private static string ManifestPath(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];

    // a tiny sequence model on the test prices, conditioned on VIXCLS and TERM when `conditional`
    private string Train(string name, string prices, string? state)
    {
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 8, "layers": 1, "heads": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 8, "warmup_steps": 1}}""");
        string model = Path.Combine(_dir, name);
        string[] args = ["train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", config, "--steps", "4", "--seed", "1", "--out", model];
        var t = Crucible(state is null ? args : [.. args, "--state", state, "--state-columns", "VIXCLS,TERM"]);
        Assert.True(t.Exit == 0, t.Stderr);
        return model;
    }

    private string[] Stress(string model, string prices, string report, params string[] extra)
    {
        string portfolio = Path.Combine(_dir, "portfolio.json");
        File.WriteAllText(portfolio, """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""");
        string scenarios = Path.Combine(_dir, "scenarios.csv");
        File.WriteAllText(scenarios, "scenario,step,A,B\n1,1,-0.01,0.002\n1,2,0.003,-0.001\n2,1,0.004,0.001\n2,2,-0.002,0.003\n");
        return ["stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.001", "--history", prices,
            "--model", model, "--candidates", "10", "--top", "4", "--seed", "2", "--out", report, .. extra];
    }

    [Fact]
    public void ReverseAndAdversarial_WithACondition_DrawOtherScenarios_RecordTheConditionAndTheWeight_AndRecomputeReproduces()
    {
        var (prices, state) = TestPrices.Sequence(_dir);
        string model = Train("c", prices, state);

        string plain = Path.Combine(_dir, "plain.json"), conditioned = Path.Combine(_dir, "conditioned.json");
        var a = Crucible(Stress(model, prices, plain));
        Assert.True(a.Exit == 0, a.Stderr);
        var b = Crucible(Stress(model, prices, conditioned, "--condition", "vixcls=24", "--guidance", "3", "--adversarial"));
        Assert.True(b.Exit == 0, b.Stderr);

        using var plainDoc = JsonDocument.Parse(File.ReadAllText(plain));
        using var doc = JsonDocument.Parse(File.ReadAllText(conditioned));
        var plainReverse = plainDoc.RootElement.GetProperty("reverse");
        var reverse = doc.RootElement.GetProperty("reverse");
        // the same seed under VIXCLS = 24 and w = 3: other candidates
        Assert.NotEqual(plainReverse.GetProperty("scenarios").GetRawText(), reverse.GetProperty("scenarios").GetRawText());
        Assert.False(plainReverse.TryGetProperty("conditions", out _));
        Assert.False(plainReverse.TryGetProperty("guidance", out _));
        foreach (var section in new[] { reverse, doc.RootElement.GetProperty("adversarial") })
        {
            // under the model's own feature name, as generate's metadata records it
            var conditions = section.GetProperty("conditions");
            Assert.Equal(24, conditions.GetProperty("VIXCLS").GetDouble());
            Assert.Single(conditions.EnumerateObject());
            Assert.Equal(3, section.GetProperty("guidance").GetDouble());
        }

        string manifest = ManifestPath(b.Stdout);
        using (var m = JsonDocument.Parse(File.ReadAllText(manifest)))
        {
            var config = m.RootElement.GetProperty("config");
            Assert.Equal("vixcls=24", Assert.Single(config.GetProperty("conditions").EnumerateArray()).GetString());
            Assert.Equal(3, config.GetProperty("guidance").GetDouble());
        }

        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("1/1 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("VIXCLS", "OPT-E-CONDITION")]
    [InlineData("VIXCLS=abc", "OPT-E-CONDITION")]
    [InlineData("=24", "OPT-E-CONDITION")]
    [InlineData("VIXCLS=24,TERM=1", "OPT-E-CONDITION")]
    [InlineData("NOPE=1", "condition-name")]
    public void ABadCondition_ExitsTwoNamingTheRule_AndWritesNothing(string condition, string rule)
    {
        var (prices, state) = TestPrices.Sequence(_dir);
        string model = Train("c", prices, state);
        string report = Path.Combine(_dir, "r.json");
        var r = Crucible(Stress(model, prices, report, "--condition", condition));
        Assert.True(r.Exit == 2, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
        Assert.Contains(rule, r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(report));
    }

    [Fact]
    public void AConditionOnAnUnconditionalModel_OrWithoutAModel_OrANegativeWeight_ExitsTwo()
    {
        var (prices, _) = TestPrices.Sequence(_dir);
        string model = Train("u", prices, null);
        string report = Path.Combine(_dir, "r.json");
        var unconditional = Crucible(Stress(model, prices, report, "--condition", "VIXCLS=20"));
        Assert.True(unconditional.Exit == 2, unconditional.Stderr);
        Assert.Contains("condition-name", unconditional.Stderr, StringComparison.Ordinal);
        Assert.Contains("the model is unconditional", unconditional.Stderr, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(model, "manifest.json"), unconditional.Stderr, StringComparison.Ordinal);

        var args = Stress(model, prices, report, "--condition", "VIXCLS=20");
        int at = Array.IndexOf(args, "--model");
        var noModel = Crucible([.. args[..at], .. args[(at + 2)..]]);
        Assert.True(noModel.Exit == 2, noModel.Stderr);
        Assert.Contains("--condition, --guidance and --stress set what --model draws under", noModel.Stderr, StringComparison.Ordinal);

        var negative = Crucible(Stress(model, prices, report, "--guidance", "-1"));
        Assert.True(negative.Exit == 2, negative.Stderr);
        Assert.Contains("--guidance takes the classifier-free guidance weight", negative.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(report));
    }
}
