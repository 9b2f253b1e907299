using Crucible.Data;
using Crucible.Governance.Manifests;

namespace Crucible.Governance.Tests.Manifests;

public sealed class OutputGuardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-output-guard-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheSameFileSpelledDifferently_IsRefusedNamingTheOptionAndTheInput()
    {
        string input = Path.Combine(_dir, "s.csv");
        File.WriteAllText(input, "x");
        var e = Assert.Throws<InvalidInputException>(() => OutputGuard.Check("--out", [input], Path.Combine(_dir, "sub", "..", ".", "s.csv")));
        Assert.Equal(OutputGuard.Rule, e.Rule);
        Assert.Contains($"--out would overwrite the input {input}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASidecarOverwritingAnInput_IsRefusedNamingTheSidecar()
    {
        string input = Path.Combine(_dir, "s.meta.json");
        var e = Assert.Throws<InvalidInputException>(() => OutputGuard.Check("--out", [input], Path.Combine(_dir, "s.csv"), Path.Combine(_dir, "s.meta.json")));
        Assert.Contains($"(with {Path.Combine(_dir, "s.meta.json")}, which it writes beside {Path.Combine(_dir, "s.csv")})", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASymbolicLinkToAnInput_IsRefused()
    {
        string input = Path.Combine(_dir, "s.csv"), link = Path.Combine(_dir, "link.csv");
        File.WriteAllText(input, "x");
        File.CreateSymbolicLink(link, input);
        Assert.Throws<InvalidInputException>(() => OutputGuard.Check("--out", [input], link));
    }

    [Fact]
    public void OtherFiles_PassAndTheBuilderChecksItsRecordedInputs()
    {
        string input = Path.Combine(_dir, "s.csv");
        File.WriteAllText(input, "x");
        OutputGuard.Check("--out", [input], Path.Combine(_dir, "s.csv.json"), Path.Combine(_dir, "t.csv"));
        var run = new RunManifestBuilder(RunKind.Stress, [], 0, _dir).AddInput(input);
        run.CheckOutput("--out", Path.Combine(_dir, "r.json"));
        Assert.Throws<InvalidInputException>(() => run.CheckOutput("--html", "./" + Path.GetRelativePath(Environment.CurrentDirectory, input)));
    }
}
