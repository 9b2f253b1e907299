using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// Session 17: <c>crucible stress --reverse/--adversarial --model DIR --stress SPEC</c>: the model's candidates drawn under
/// a stress specification with generate's parser and semantics, recorded in the report and the run manifest and
/// reproduced by <c>verify-run --recompute</c>; a specification's moves only where the candidates are drawn unguided
/// (guidance toward the loss fills the sampler slot that enforces them), other combinations refused with exit 2.
/// </summary>
public sealed class StressSpecCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-stressspec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    private static string ManifestPath(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];

    // a tiny sequence model on the test prices (series A, B), conditioned on VIXCLS and TERM
    private string Train(string prices, string state)
    {
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 8, "layers": 1, "heads": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 8, "warmup_steps": 1}}""");
        string model = Path.Combine(_dir, "c");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", config, "--steps", "4", "--seed", "1", "--out", model,
            "--state", state, "--state-columns", "VIXCLS,TERM");
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

    private static string Reverse(string report, out JsonElement section)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        section = doc.RootElement.GetProperty("reverse").Clone();
        return section.GetProperty("scenarios").GetRawText();
    }

    [Theory]
    [InlineData("VIXCLS=+2sd", new string[0])]                      // conditions: guided toward the loss as usual
    [InlineData("A<=-1%", new[] { "--guidance-scale", "0" })]     // a move: unguided candidates under constraint guidance
    public void ReverseUnderAStressSpecification_DrawsOtherCandidates_RecordsTheSpecification_AndRecomputeReproduces(string spec, string[] mode)
    {
        var (prices, state) = TestPrices.Sequence(_dir);
        string model = Train(prices, state);

        string plain = Path.Combine(_dir, "plain.json"), stressed = Path.Combine(_dir, "stressed.json");
        var a = Crucible(Stress(model, prices, plain, mode));
        Assert.True(a.Exit == 0, a.Stderr);
        var b = Crucible(Stress(model, prices, stressed, [.. mode, "--stress", spec]));
        Assert.True(b.Exit == 0, b.Stderr);

        // the same seed under the specification: other candidates, and the report says what they were drawn under
        var plainScenarios = Reverse(plain, out var plainSection);
        Assert.NotEqual(plainScenarios, Reverse(stressed, out var section));
        Assert.False(plainSection.TryGetProperty("stress", out _));
        Assert.Equal(spec, section.GetProperty("stress").GetString());
        var conditions = section.GetProperty("conditions").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(spec.StartsWith("VIXCLS", StringComparison.Ordinal) ? ["VIXCLS"] : [], conditions); // the specification's conditions, resolved
        Assert.True(section.TryGetProperty("guidance", out _)); // the weight in effect, as for --condition

        string manifest = ManifestPath(b.Stdout);
        using (var m = JsonDocument.Parse(File.ReadAllText(manifest)))
            Assert.Equal(spec, m.RootElement.GetProperty("config").GetProperty("stress").GetString());
        using (var m = JsonDocument.Parse(File.ReadAllText(ManifestPath(a.Stdout))))
            Assert.False(m.RootElement.GetProperty("config").TryGetProperty("stress", out _)); // earlier configs stay as they were

        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("1/1 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void CombinationsThatCannotWork_ExitTwoNamingTheRule_AndWriteNothing()
    {
        var (prices, state) = TestPrices.Sequence(_dir);
        string model = Train(prices, state);
        string report = Path.Combine(_dir, "r.json");

        void Fails(string[] args, params string[] expected)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            foreach (var e in expected) Assert.Contains(e, r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(report));
        }

        // moves under guidance toward the loss (the reverse test's default scale, and --adversarial always)
        Fails(Stress(model, prices, report, "--stress", "VIXCLS=+2sd,A<=-1%"), "--stress: error [guidance-conflict]", "has moves on the returns", "--guidance-scale 0");
        var adversarial = Stress(model, prices, report, "--guidance-scale", "0", "--stress", "A<=-1%", "--adversarial");
        Fails(adversarial, "error [guidance-conflict]", "--adversarial fills that slot");

        // the specification's own errors, as generate reports them, and a condition given twice
        Fails(Stress(model, prices, report, "--stress", "NOPE=+1sd"), "--stress");
        Fails(Stress(model, prices, report, "--stress", "VIXCLS=+2sd", "--condition", "VIXCLS=20"), "condition-conflict");

        // --stress sets what --model draws under
        var args = Stress(model, prices, report, "--stress", "VIXCLS=+2sd");
        int at = Array.IndexOf(args, "--model");
        Fails([.. args[..at], .. args[(at + 2)..]], "--condition, --guidance and --stress set what --model draws under");
    }
}
