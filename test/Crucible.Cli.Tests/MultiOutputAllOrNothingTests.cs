namespace Crucible.Cli.Tests;

/// <summary>
/// A command with several outputs checks every destination before it writes the first: when one cannot be written
/// (a folder the system refuses, a folder where a file goes), the run exits 2 naming it and leaves nothing written,
/// neither its other outputs nor a run manifest (session 13 found <c>evaluate --out r.json --html /proc/x.html</c>
/// writing r.json and then exiting 2).
/// </summary>
public sealed class MultiOutputAllOrNothingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-multiout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private string[] RunManifests() => Directory.Exists(Path.Combine(Home, "runs")) ? Directory.GetFiles(Path.Combine(Home, "runs"), "*.json") : [];

    [Theory]
    [InlineData("evaluate")]
    [InlineData("compare")]
    [InlineData("model-card")]
    [InlineData("generate")]
    [InlineData("train")]
    [InlineData("demo")]
    public void ADestinationThatCannotBeWritten_LeavesNothingOfTheRunWritten(string command)
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60), model = Path.Combine(_dir, "m");
        string first = Path.Combine(_dir, "first.out"), blocker = Path.Combine(_dir, "blocker");
        string refused = OperatingSystem.IsLinux() ? "/proc/crucible-x.html" : Path.Combine(blocker, "x.html");
        File.WriteAllText(blocker, "a file where a folder should be");
        if (command is "model-card" or "generate") Assert.Equal(0, Crucible("train", "--data", prices, "--steps", "2", "--out", model).Exit);
        int manifestsBefore = RunManifests().Length;
        string returns = TestPrices.Returns(Path.Combine(_dir, "returns.csv"), 80);
        string portfolio = Path.Combine(_dir, "p.json");
        File.WriteAllText(portfolio, """{"name": "p", "weights": {"A": 0.5, "B": 0.5}}""");
        string[] args;
        string expected;
        switch (command)
        {
            case "evaluate":
                args = ["evaluate", "--real", returns, "--synthetic", returns, "--out", first, "--html", refused];
                expected = $"{refused}: error [OUT-E-WRITE]: cannot write {refused}";
                break;
            case "compare":
                args = ["compare", "--data", prices, "--portfolio", portfolio, "--train-end", "2020-02-14", "--generator", "bootstrap", "--window", "2", "--count", "20",
                    "--out", first, "--html", refused];
                expected = $"{refused}: error [OUT-E-WRITE]: cannot write {refused}";
                break;
            case "model-card":
                args = ["model-card", "--model", model, "--out", first, "--html", refused];
                expected = $"{refused}: error [OUT-E-WRITE]: cannot write {refused}";
                break;
            case "generate":
                // the sidecar FILE.meta.json is a folder: the CSV must not be written either
                Directory.CreateDirectory(first + ".meta.json");
                args = ["generate", "--model", model, "--count", "3", "--out", first];
                expected = $"{first}.meta.json: error [OUT-E]: this is a folder, not a file";
                break;
            case "train":
                // the model folder's manifest.json is a folder: refused before training, not when saving
                Directory.CreateDirectory(Path.Combine(first, "manifest.json"));
                args = ["train", "--data", prices, "--steps", "2", "--out", first];
                expected = $"{first}: error [OUT-E]: the folder exists and holds manifest.json, which is not a model's file";
                break;
            default:
                // the demo's report.html is a folder: it must stop before training, with none of its files written
                Directory.CreateDirectory(Path.Combine(first, "report.html"));
                args = ["demo", "--out", first, "--home", Home];
                expected = $"{Path.Combine(first, "report.html")}: error [OUT-E]: this is a folder, not a file";
                break;
        }

        var r = Crucible(args);
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
        if (Directory.Exists(first))
            Assert.Equal([Path.Combine(first, command == "train" ? "manifest.json" : "report.html")], Directory.GetFileSystemEntries(first)); // only what the test made
        else
            Assert.False(File.Exists(first), $"{command} wrote {first}");
        Assert.Empty(Directory.EnumerateFiles(_dir, "*.tmp", SearchOption.AllDirectories));
        Assert.Equal(manifestsBefore, RunManifests().Length);
    }
}
