namespace Crucible.Cli.Tests;

/// <summary>
/// A folder named where an input file is expected (<c>--data</c>, <c>--real</c>, <c>--synthetic</c>) is refused as a
/// folder, exit 2: <c>data check</c> used to answer "Access to the path … is denied", <c>train</c> "does not exist",
/// <c>evaluate</c> "file not found".
/// </summary>
public sealed class InputFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-input-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    [Fact]
    public void AFolderForAnInputFile_IsRefusedAsAFolder()
    {
        string folder = Path.Combine(_dir, "a-folder");
        Directory.CreateDirectory(folder);
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        (string[] Args, string Rule)[] cases =
        [
            (["data", "check", "--data", folder], "CSV-E-FILE"),
            (["train", "--data", folder, "--steps", "2", "--out", Path.Combine(_dir, "m")], "CSV-E-FILE"),
            (["evaluate", "--real", folder, "--synthetic", prices, "--out", Path.Combine(_dir, "r.json")], "not-a-file"),
            (["evaluate", "--real", prices, "--synthetic", folder, "--out", Path.Combine(_dir, "r.json")], "not-a-file"),
        ];
        foreach (var (args, rule) in cases)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Stdout}{r.Stderr}");
            Assert.Contains($"{folder}: error [{rule}]: a folder, not a file: name the file itself", r.Stdout + r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("denied", r.Stdout + r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
        Assert.False(File.Exists(Path.Combine(_dir, "r.json")));
    }

    [Fact]
    public void AFolderForAGovernanceInputFile_IsRefusedAsAFolder_NotAsMissing()
    {
        // model status --evidence, model-card --report and audit verify --checkpoints answered "FOLDER does not exist"
        // (REG-E-EVIDENCE, CARD-E-REPORT, AUDIT-E-CHECKPOINTS) for a folder that exists
        string folder = Path.Combine(_dir, "a-folder");
        Directory.CreateDirectory(folder);
        string home = Path.Combine(_dir, "gov-home");
        string model = Path.Combine(_dir, "model");
        Directory.CreateDirectory(model);
        File.WriteAllBytes(Path.Combine(model, "weights.safetensors"), [1, 2, 3, 4]);
        File.WriteAllText(Path.Combine(model, "manifest.json"), """{"kind":"tabular","seed":1}""");
        string id;
        using (var log = Governance.Audit.AuditLog.Open(Governance.CrucibleHome.Resolve(home)))
            id = new Governance.Registry.ModelRegistry(Governance.CrucibleHome.Resolve(home), log).Register(model).Id;

        string[][] cases =
        [
            ["model", "status", "--home", home, "--id", id, "--status", "validated", "--reason", "ok", "--evidence", folder],
            ["model-card", "--model", model, "--report", folder, "--out", Path.Combine(_dir, "card.md")],
            ["audit", "verify", "--home", home, "--checkpoints", folder],
        ];
        foreach (var args in cases)
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Stdout}{r.Stderr}");
            Assert.Contains($"{folder}: error [not-a-file]: a folder, not a file: name the file itself", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("does not exist", r.Stdout + r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(_dir, "card.md")));
    }
}
