using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Governance.Manifests;

namespace Crucible.Cli.Tests;

/// <summary><c>crucible verify-run</c> end to end.</summary>
public sealed class VerifyRunCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crucible-verify-run-" + Guid.NewGuid().ToString("N"));

    public VerifyRunCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(args);

    private string Manifest()
    {
        File.WriteAllText(Path.Combine(_dir, "in.csv"), "Date,A\n2020-01-02,1\n");
        File.WriteAllText(Path.Combine(_dir, "out.csv"), "scenario,step,A\n0,0,0.1\n");
        var b = new RunManifestBuilder("generate", new JsonObject { ["count"] = 1 }, 7, _dir)
            .AddInput(Path.Combine(_dir, "in.csv")).AddOutput(Path.Combine(_dir, "out.csv"));
        var path = Path.Combine(_dir, "manifest.json");
        b.Finish().Write(path);
        return path;
    }

    [Fact]
    public void VerifyRun_Intact_Exit0_Changed_Exit3_Broken_Exit2()
    {
        var path = Manifest();
        var ok = Crucible("verify-run", path);
        Assert.Equal(0, ok.Exit);
        Assert.Contains("verified: run", ok.Stdout, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_dir, "out.csv"), "scenario,step,A\n0,0,0.2\n");
        var changed = Crucible("verify-run", path, "--json");
        Assert.Equal(3, changed.Exit);
        using (var doc = JsonDocument.Parse(changed.Stdout))
        {
            Assert.False(doc.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal("mismatch", doc.RootElement.GetProperty("files")[1].GetProperty("result").GetString());
        }

        File.WriteAllText(path, "{\"schema\":\"crucible-run-manifest-v1\"}");
        var broken = Crucible("verify-run", path);
        Assert.Equal(2, broken.Exit);
        Assert.Contains("error [MANIFEST-E-FIELD]", broken.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, Crucible("verify-run", Path.Combine(_dir, "none.json")).Exit);
    }
}
