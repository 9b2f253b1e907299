namespace Crucible.Cli.Tests;

/// <summary>
/// What the tests of <c>crucible stress --reverse --model DIR</c> share (<see cref="StressConditionCommandTests"/>,
/// <see cref="StressSpecCommandTests"/>): a temporary folder with its own home, a tiny sequence model trained by the CLI on
/// the test prices, and the reverse-stress command line on a two-series portfolio.
/// </summary>
public abstract class StressModelCommandTestBase(string prefix) : IDisposable
{
    /// <summary>The test's temporary folder (its home is <c>home</c> inside).</summary>
    protected string Dir { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(Dir, "home") }, args);

    protected static string ManifestPath(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];

    // a tiny sequence model on the test prices (series A, B) in Dir/name, conditioned on VIXCLS and TERM of `state` when given
    protected string Train(string name, string prices, string? state)
    {
        string config = Path.Combine(Dir, "small.json");
        File.WriteAllText(config, """{"hidden": 8, "layers": 1, "heads": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 8, "warmup_steps": 1}}""");
        string model = Path.Combine(Dir, name);
        string[] args = ["train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", config, "--steps", "4", "--seed", "1", "--out", model];
        var t = Crucible(state is null ? args : [.. args, "--state", state, "--state-columns", "VIXCLS,TERM"]);
        Assert.True(t.Exit == 0, t.Stderr);
        return model;
    }

    // stress --reverse of the 60/40 A/B portfolio with the model's candidates, then `extra`
    protected string[] Stress(string model, string prices, string report, params string[] extra)
    {
        string portfolio = Path.Combine(Dir, "portfolio.json");
        File.WriteAllText(portfolio, """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""");
        string scenarios = Path.Combine(Dir, "scenarios.csv");
        File.WriteAllText(scenarios, "scenario,step,A,B\n1,1,-0.01,0.002\n1,2,0.003,-0.001\n2,1,0.004,0.001\n2,2,-0.002,0.003\n");
        return ["stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.001", "--history", prices,
            "--model", model, "--candidates", "10", "--top", "4", "--seed", "2", "--out", report, .. extra];
    }
}
