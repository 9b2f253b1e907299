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

    // a symbolic link was resolved only when it was the file itself: a path through a symlinked folder (dirlink/s.csv
    // for real/s.csv) passed as another file, so --out dirlink/s.csv overwrote the input real/s.csv
    [Fact]
    public void APathThroughASymlinkedFolder_IsTheSameFile_ExistingOrNot()
    {
        string real = Directory.CreateDirectory(Path.Combine(_dir, "real")).FullName, input = Path.Combine(real, "s.csv");
        File.WriteAllText(input, "x");
        string dirlink = Path.Combine(_dir, "dirlink");
        Directory.CreateSymbolicLink(dirlink, real);
        Assert.True(OutputGuard.SameFile(Path.Combine(dirlink, "s.csv"), input));
        Assert.True(OutputGuard.SameFile(input, Path.Combine(dirlink, "s.csv")));
        var e = Assert.Throws<InvalidInputException>(() => OutputGuard.Check("--out", [input], Path.Combine(dirlink, "s.csv")));
        Assert.Equal(OutputGuard.Rule, e.Rule);
        Assert.Throws<InvalidInputException>(() => OutputGuard.Check("--out", [Path.Combine(dirlink, "s.csv")], input));
        // a file not written yet (an output, its sidecar) in the linked folder, and a relative link to a link to the folder
        Assert.True(OutputGuard.SameFile(Path.Combine(dirlink, "new.json"), Path.Combine(real, "new.json")));
        string chain = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "deep")).FullName, "chain");
        Directory.CreateSymbolicLink(chain, Path.Combine("..", "dirlink"));
        Assert.True(OutputGuard.SameFile(Path.Combine(chain, "s.csv"), input));
        // '..' after a linked folder is the target's parent, as the kernel reads it: deep/chain/../real/s.csv is real/s.csv
        Assert.True(OutputGuard.SameFile(Path.Combine(chain, "..", "real", "s.csv"), input));

        // other files stay other files: a sibling in the linked folder, the same name elsewhere, the link itself
        File.WriteAllText(Path.Combine(real, "t.csv"), "y");
        Assert.False(OutputGuard.SameFile(Path.Combine(dirlink, "t.csv"), input));
        Assert.False(OutputGuard.SameFile(Path.Combine(_dir, "deep", "s.csv"), input));
        Assert.False(OutputGuard.SameFile(dirlink, input));
        OutputGuard.Check("--out", [input], Path.Combine(dirlink, "t.csv"), Path.Combine(dirlink, "s.csv.json"));
    }

    [Fact]
    public void ALinkLoop_IsComparedByItsOwnPath()
    {
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        Directory.CreateSymbolicLink(a, b);
        Directory.CreateSymbolicLink(b, a);
        Assert.False(OutputGuard.SameFile(Path.Combine(a, "x.csv"), Path.Combine(_dir, "x.csv")));
        Assert.True(OutputGuard.SameFile(Path.Combine(a, "x.csv"), Path.Combine(_dir, ".", "a", "x.csv")));
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
