using System.Text.Json;

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

    // a tiny sequence model on the test prices, with the state's VIXCLS and TERM as condition inputs when `conditional`
    private (string Model, string Prices) TrainTiny(bool conditional)
    {
        var (prices, state) = TestPrices.Sequence(_dir);
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 8, "layers": 1, "heads": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 8, "warmup_steps": 1}}""");
        string model = Path.Combine(_dir, conditional ? "c" : "u");
        string[] train = ["train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", config, "--steps", "4", "--seed", "1", "--out", model];
        var t = Crucible(conditional ? [.. train, "--state", state, "--state-columns", "VIXCLS,TERM"] : train);
        Assert.True(t.Exit == 0, t.Stderr);
        return (model, prices);
    }

    // `stress` over the scenarios `csv` with --model `model` guided at --guidance 2 (portfolio A 0.6 / B 0.4, history
    // `prices`, report r.json), and its two modes that draw from the model: --reverse and --adversarial
    private (string[] Stress, string[][] Modes, string Report) GuidedStress(string model, string prices, string csv)
    {
        string portfolio = Path.Combine(_dir, "portfolio.json"), report = Path.Combine(_dir, "r.json");
        File.WriteAllText(portfolio, """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""");
        string[] stress = ["stress", "--scenarios", csv, "--portfolio", portfolio, "--history", prices, "--model", model, "--candidates", "10", "--top", "4",
            "--out", report, "--guidance", "2"];
        return (stress, [["--reverse", "--loss-threshold", "0.001"], ["--adversarial"]], report);
    }

    [Fact]
    public void GuidanceOnAnUnconditionalSequenceModel_ExitsTwo_InGenerateAndStress_AndWritesNothing()
    {
        var (model, prices) = TrainTiny(conditional: false);

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

        var (stress, modes, report) = GuidedStress(model, prices, csv);
        foreach (var mode in modes)
        {
            var r = Crucible([.. stress, .. mode]);
            Assert.True(r.Exit == 2, $"{mode[0]}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains($"{Path.Combine(model, "manifest.json")}: error [{Rule}]: the model has no condition inputs", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(report));
        }
    }

    /// <summary>
    /// Session 18: on a sequence model WITH condition inputs, a request that names no condition (no <c>--condition</c>, no
    /// <c>--stress</c> that sets one) samples the unconditional model whatever <c>--guidance</c>, <c>--guidance-min-noise</c>
    /// and <c>--regime-guidance</c> say, so asking for them is refused (the library's rule GUIDANCE-E-UNCONDITIONAL, exit 2,
    /// the option named, nothing written); the model's own default guidance never is, and a condition makes them valid.
    /// </summary>
    [Fact]
    public void GuidanceWithoutACondition_OnAConditionalModel_ExitsTwo_InGenerateAndStress_NamingTheOption_AndWritesNothing()
    {
        var (model, prices) = TrainTiny(conditional: true);

        string csv = Path.Combine(_dir, "s.csv");
        string[] generate = ["generate", "--model", model, "--count", "2", "--sampling-steps", "5", "--out", csv];
        foreach (var (option, value) in new[] { ("--guidance", "4"), ("--guidance-min-noise", "0.5"), ("--regime-guidance", "1"), ("--guidance", "0") })
        {
            var r = Crucible([.. generate, option, value]);
            Assert.True(r.Exit == 2, $"{option}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains($"{option}: error [{Rule}]: no condition was named", r.Stderr, StringComparison.Ordinal);
            Assert.Contains(option[2..].Replace('-', '_') + " " + value, r.Stderr, StringComparison.Ordinal);
            Assert.Contains($"--condition NAME=VALUE or --stress SPEC names one; or drop {option}", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(csv));
            Assert.False(File.Exists(csv[..^4] + ".meta.json"));
        }

        // a stress specification of moves only names no condition either
        var moves = Crucible([.. generate, "--guidance", "2", "--stress", "A<=-1%"]);
        Assert.True(moves.Exit == 2, moves.Stderr);
        Assert.Contains($"--guidance: error [{Rule}]: no condition was named", moves.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(csv));

        // without them the request is not refused, and draws the unconditional model: no guidance applied, none recorded
        // (it recorded the model's default 4); with a condition (or a stress specification that sets one) they are valid
        var plain = Crucible(generate);
        Assert.True(plain.Exit == 0, plain.Stderr);
        using (var meta = JsonDocument.Parse(File.ReadAllText(csv[..^4] + ".meta.json")))
            Assert.Equal(JsonValueKind.Null, meta.RootElement.GetProperty("guidance").ValueKind);
        foreach (string[] named in new[] { new[] { "--guidance", "2", "--condition", "VIXCLS=30" }, ["--guidance", "2", "--regime-guidance", "1", "--stress", "vix=+1sd"] })
        {
            var r = Crucible([.. generate, .. named]);
            Assert.True(r.Exit == 0, r.Stderr);
        }

        var (stress, modes, report) = GuidedStress(model, prices, csv);
        foreach (var mode in modes)
        {
            var r = Crucible([.. stress, .. mode]);
            Assert.True(r.Exit == 2, $"{mode[0]}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains($"--guidance: error [{Rule}]: no condition was named", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("or drop --guidance", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(report));

            var conditioned = Crucible([.. stress, .. mode, "--condition", "VIXCLS=30"]);
            Assert.True(conditioned.Exit == 0, conditioned.Stderr);
            File.Delete(report);
        }
    }

    [Fact]
    public void RefusalsOfTheGuidanceAndConditionOptions_PointAtTheOptionGiven()
    {
        // they said "error [guidance]: the guidance scale -1 …" or "error [condition-name]: …" without the option, and on a
        // tabular model listed all five options at the model folder
        var (model, prices) = TrainTiny(conditional: true);
        string csv = Path.Combine(_dir, "s.csv");
        string[] generate = ["generate", "--model", model, "--count", "2", "--sampling-steps", "5", "--out", csv];
        void Refused(string expected, params string[] args)
        {
            var r = Crucible([.. generate, .. args]);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(csv));
        }

        Refused("--guidance: error [OPT-E]: --guidance takes the classifier-free guidance weight w, finite and ≥ 0; got -1", "--condition", "VIXCLS=30", "--guidance", "-1");
        Refused("--guidance-min-noise: error [OPT-E]: --guidance-min-noise takes the guidance's minimum noise level, finite and ≥ 0; got -1",
            "--condition", "VIXCLS=30", "--guidance-min-noise", "-1");
        Refused("--regime-guidance: error [OPT-E]: --regime-guidance takes the regime guidance a, finite and ≥ 0; got -1", "--condition", "VIXCLS=30", "--regime-guidance", "-1");
        Refused("--condition: error [OPT-E-CONDITION]: --condition 'VIXCLS' is not NAME=VALUE", "--condition", "VIXCLS");
        Refused("--condition: error [OPT-E-CONDITION]: --condition names vixcls twice", "--condition", "VIXCLS=30", "--condition", "vixcls=31");
        Refused("--condition: error [condition-name]: the model has no condition 'NOPE'", "--condition", "NOPE=1");
        Refused("--condition: error [condition-value]: condition VIXCLS = 1000000000 is", "--condition", "VIXCLS=1e9");

        string tabular = Path.Combine(_dir, "t"), config = Path.Combine(_dir, "tabular.json");
        File.WriteAllText(config, """{"hidden": 8, "blocks": 1, "time_embedding": 8, "diffusion_steps": 20}""");
        var t = Crucible("train", "--data", prices, "--config", config, "--steps", "2", "--out", tabular);
        Assert.True(t.Exit == 0, t.Stderr);
        generate = ["generate", "--model", tabular, "--count", "2", "--out", csv];
        Refused($"--guidance: error [OPT-E-KIND]: --guidance applies to sequence models only; {tabular} is a tabular model", "--guidance", "2");
        Refused("--regime-guidance: error [OPT-E-KIND]: --regime-guidance applies to sequence models only", "--regime-guidance", "1");
        Refused("--condition: error [OPT-E-KIND]: --condition applies to sequence models only", "--condition", "VIXCLS=30", "--guidance", "2");
    }
}
