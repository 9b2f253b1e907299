namespace Crucible.Cli.Tests;

/// <summary>
/// An <c>--out</c> (or <c>--html</c>) that names one of the command's own inputs, however spelled, or whose sidecar
/// would, is refused with exit 2 (OUT-E-INPUT) before anything is written: the input keeps its bytes.
/// </summary>
public sealed class OutputOverwritesInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-out-input-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string StressFixture(string name) => TestRepo.Fixture("Crucible.Stress.Tests", name);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    // the command line (with {dir} for the temporary folder) and the input file it must leave untouched
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "stress", "stress --scenarios {dir}/scenarios.csv --portfolio {dir}/portfolio.json --out {dir}/./scenarios.csv", "scenarios.csv" },
        { "stress portfolio", "stress --scenarios {dir}/scenarios.csv --portfolio {dir}/portfolio.json --out {dir}/sub/../portfolio.json", "portfolio.json" },
        { "ensemble", "ensemble --scenarios {dir}/scenarios.csv {dir}/scenarios-2.csv --portfolio {dir}/portfolio.json --out {dir}/scenarios.csv", "scenarios.csv" },
        { "evaluate", "evaluate --real {dir}/returns.csv --synthetic {dir}/synthetic.csv --out {dir}/returns.csv", "returns.csv" },
        { "evaluate html", "evaluate --real {dir}/returns.csv --synthetic {dir}/synthetic.csv --out {dir}/r.json --html {dir}/synthetic.csv", "synthetic.csv" },
        { "baseline", "baseline --data {dir}/prices.csv --generator bootstrap --count 5 --window 2 --out {dir}/prices.csv", "prices.csv" },
        { "backtest", "backtest --data {dir}/prices.csv --portfolio {dir}/portfolio.json --generator bootstrap --out {dir}/portfolio.json", "portfolio.json" },
        { "compare", "compare --data {dir}/prices.csv --portfolio {dir}/portfolio.json --train-end 2020-02-14 --generator bootstrap --window 2 --count 10 --out {dir}/c.json --html {dir}/prices.csv", "prices.csv" },
        { "train", "train --data {dir}/model/manifest.json --steps 2 --out {dir}/model", "model/manifest.json" },
        { "generate", "generate --model {dir}/model --count 2 --out {dir}/model/manifest.json", "model/manifest.json" },
        { "model-card", "model-card --model {dir}/model --out {dir}/model/weights.safetensors", "model/weights.safetensors" },
    };

    // the files the command lines read, in the test's folder (and a model trained there when the line names one)
    private void WriteInputs(string commandLine)
    {
        File.Copy(StressFixture("scenarios.csv"), Path.Combine(_dir, "scenarios.csv"));
        File.Copy(StressFixture("scenarios.csv"), Path.Combine(_dir, "scenarios-2.csv")); // an ensemble's second member
        File.Copy(StressFixture("portfolio.json"), Path.Combine(_dir, "portfolio.json"));
        TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        TestPrices.Returns(Path.Combine(_dir, "returns.csv"), 80);
        File.WriteAllLines(Path.Combine(_dir, "synthetic.csv"), ["scenario,step,A,B", .. File.ReadAllLines(Path.Combine(_dir, "returns.csv")).Skip(1).Select((l, i) => $"{i + 1},1,{l[(l.IndexOf(',', StringComparison.Ordinal) + 1)..]}")]);
        Directory.CreateDirectory(Path.Combine(_dir, "sub"));
        if (commandLine.Contains("{dir}/model", StringComparison.Ordinal))
        {
            var t = Crucible("train", "--data", Path.Combine(_dir, "prices.csv"), "--steps", "2", "--out", Path.Combine(_dir, "model"));
            Assert.True(t.Exit == 0, t.Stderr);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AnOutputNamingAnInput_ExitsTwoBeforeWriting(string name, string commandLine, string input)
    {
        WriteInputs(commandLine);

        string path = Path.Combine(_dir, input);
        var before = File.ReadAllBytes(path);
        string[] args = [.. commandLine.Split(' ').Select(a => a.Replace("{dir}", _dir, StringComparison.Ordinal))];
        var r = Crucible(args);
        Assert.True(r.Exit == 2, $"{name}: exit {r.Exit}: {r.Stderr}");
        Assert.Contains("error [OUT-E-INPUT]", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(commandLine.Contains("--html {dir}/" + input, StringComparison.Ordinal) ? "--html would overwrite the input" : "--out would overwrite the input", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Theory]
    [InlineData("evaluate --real {dir}/returns.csv --synthetic {dir}/synthetic.csv --out {dir}/r.json --html {dir}/./r.json")]
    [InlineData("compare --data {dir}/prices.csv --portfolio {dir}/portfolio.json --train-end 2020-02-14 --generator bootstrap --window 2 --count 10 --out {dir}/r.json --html {dir}/sub/../r.json")]
    [InlineData("model-card --model {dir}/model --out {dir}/r.json --html {dir}/r.json")]
    public void AnHtmlNamingTheOutItself_ExitsTwoBeforeWriting(string commandLine)
    {
        // --html equal to --out: the page replaced the report (or card) that the run had just written, and the run
        // manifest recorded the page's hash for both outputs; now refused before anything is written
        WriteInputs(commandLine);

        string[] args = [.. commandLine.Split(' ').Select(a => a.Replace("{dir}", _dir, StringComparison.Ordinal))];
        var r = Crucible(args);
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains("error [OUT-E-SAME]: --html and --out name the same file", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "r.json")));
    }
}
