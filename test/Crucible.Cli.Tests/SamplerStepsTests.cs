namespace Crucible.Cli.Tests;

/// <summary>
/// <c>--sampling-steps</c> with <c>--sampler ddpm</c>: DDPM runs every one of the model's T diffusion steps, so a
/// count K ≠ T is refused naming the option (it used to be ignored silently), while <c>verify-run --recompute</c> of a
/// ddpm run, whose manifest records the sampler options' unused K, still draws the same scenarios.
/// </summary>
public sealed class SamplerStepsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-ddpm-steps-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    // a tabular model of T = 40 diffusion steps, trained for 2 steps on 60 rows: its folder
    private string TrainTinyModel()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        string config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 40, "training": {"batch_size": 20, "warmup_steps": 1}}""");
        var t = Crucible("train", "--data", prices, "--steps", "2", "--config", config, "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        return model;
    }

    [Fact]
    public void DdpmWithSamplingSteps_ExitsTwoNamingTheOption_AndADdpmRunRecomputesIdentically()
    {
        string model = TrainTinyModel();
        string csv = Path.Combine(_dir, "s.csv");

        var r = Crucible("generate", "--model", model, "--count", "3", "--sampler", "ddpm", "--sampling-steps", "10", "--out", csv);
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains("error [OPT-E]: --sampling-steps applies to --sampler ddim and dpm2m; --sampler ddpm always runs all 40 of the model's diffusion steps (got 10)", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(csv));

        // K = T says what DDPM does: accepted, and the same draw as without it
        r = Crucible("generate", "--model", model, "--count", "3", "--sampler", "ddpm", "--sampling-steps", "40", "--out", csv);
        Assert.True(r.Exit == 0, r.Stderr);
        string withT = File.ReadAllText(csv);
        var runs = Path.Combine(_dir, "home", "runs");
        var before = Directory.GetFiles(runs, "*.json").ToHashSet();
        r = Crucible("generate", "--model", model, "--count", "3", "--sampler", "ddpm", "--out", csv);
        Assert.True(r.Exit == 0, r.Stderr);
        Assert.Equal(withT, File.ReadAllText(csv));

        string manifest = Directory.GetFiles(runs, "*.json").Single(f => !before.Contains(f));
        var v = Crucible("verify-run", manifest, "--recompute");
        Assert.True(v.Exit == 0, v.Stdout + v.Stderr);
        Assert.Contains("outputs recomputed identically", v.Stdout, StringComparison.Ordinal);

        // the manifest records the steps DDPM ran, T = 40, as the sidecar does (ddpm-40); it recorded the unused K = 50
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
        Assert.Equal(40, (int)json["config"]!["sampling_steps"]!);
        using (var sidecar = System.Text.Json.JsonDocument.Parse(File.ReadAllText(global::Crucible.Diffusion.Scenarios.ScenarioCsv.MetadataPath(csv))))
            Assert.Equal(40, sidecar.RootElement.GetProperty("sampling_steps").GetInt32());

        // an older manifest of a ddpm run, which recorded K = 50, still recomputes identically (the K is not passed back)
        json["config"]!["sampling_steps"] = 50;
        json["config_sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(global::Crucible.Governance.Audit.CanonicalJson.Serialize(json["config"])));
        string old = Path.Combine(runs, "old-ddpm-manifest.json");
        File.WriteAllText(old, json.ToJsonString());
        v = Crucible("verify-run", old, "--recompute");
        Assert.True(v.Exit == 0, v.Stdout + v.Stderr);
        Assert.Contains("outputs recomputed identically", v.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void DdpmWithSpacing_ExitsTwoNamingTheOption_WhileDdimTakesIt()
    {
        // DDPM visits every one of the T steps, so a --spacing given with it was ignored silently
        string model = TrainTinyModel();
        string csv = Path.Combine(_dir, "s.csv");

        foreach (string spacing in new[] { "angle", "linear" })
        {
            var r = Crucible("generate", "--model", model, "--count", "3", "--sampler", "ddpm", "--spacing", spacing, "--out", csv);
            Assert.True(r.Exit == 2, $"--spacing {spacing}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains("error [OPT-E]: --spacing applies to --sampler ddim and dpm2m; --sampler ddpm visits every one of the model's 40 diffusion steps", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(csv));
        }

        var ddim = Crucible("generate", "--model", model, "--count", "3", "--sampler", "ddim", "--sampling-steps", "10", "--spacing", "angle", "--out", csv);
        Assert.True(ddim.Exit == 0, ddim.Stderr);
        var ddpm = Crucible("generate", "--model", model, "--count", "3", "--sampler", "ddpm", "--out", csv);
        Assert.True(ddpm.Exit == 0, ddpm.Stderr);
    }
}
