namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible generate</c>'s default sampler on a model trained with fewer than 50 diffusion steps: DDIM over all of its
/// T steps (<c>SamplerOptions.DefaultFor</c>), not DDIM-50 refused; an explicit <c>--sampling-steps</c> above T stays an
/// input error.
/// </summary>
public sealed class GenerateDefaultSamplerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-default-sampler-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    [Fact]
    public void ATwentyStepModel_GeneratesWithDdimOverItsTwentySteps_AndRefusesAnExplicit50()
    {
        string data = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 200);
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 20, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        string model = Path.Combine(_dir, "m");
        var t = Crucible("train", "--data", data, "--columns", "A,C", "--steps", "10", "--config", config, "--seed", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);

        string csv = Path.Combine(_dir, "s.csv");
        var g = Crucible("generate", "--model", model, "--count", "20", "--seed", "3", "--out", csv);
        Assert.True(g.Exit == 0, g.Stderr);
        Assert.Contains("ddim-20", g.Stdout, StringComparison.Ordinal);
        string explicit20 = Path.Combine(_dir, "s20.csv");
        Assert.Equal(0, Crucible("generate", "--model", model, "--count", "20", "--seed", "3", "--sampling-steps", "20", "--out", explicit20).Exit);
        Assert.Equal(File.ReadAllBytes(explicit20), File.ReadAllBytes(csv));

        var bad = Crucible("generate", "--model", model, "--count", "20", "--sampling-steps", "50", "--out", Path.Combine(_dir, "bad.csv"));
        Assert.Equal(2, bad.Exit);
        Assert.Contains("--sampling-steps must be in 1..20", bad.Stderr, StringComparison.Ordinal);
    }
}
