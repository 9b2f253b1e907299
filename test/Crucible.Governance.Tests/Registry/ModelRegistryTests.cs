using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Data;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Governance.Tests.Audit;

namespace Crucible.Governance.Tests.Registry;

public sealed class ModelRegistryTests : IDisposable
{
    private readonly AuditTestHome _t = new(checkpointInterval: 4);
    private readonly string _source = Path.Combine(Path.GetTempPath(), "crucible-model-src-" + Guid.NewGuid().ToString("N"));

    public ModelRegistryTests()
    {
        Directory.CreateDirectory(_source);
        File.WriteAllBytes(Path.Combine(_source, ModelRegistry.WeightsFileName), Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray());
        File.WriteAllText(Path.Combine(_source, ModelRegistry.ManifestFileName), """{"kind":"tabular","seed":1}""");
    }

    public void Dispose()
    {
        _t.Dispose();
        Directory.Delete(_source, recursive: true);
    }

    private string ExpectedId => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(_source, ModelRegistry.WeightsFileName))));

    [Fact]
    public void Register_IdIsWeightsSha256_FolderIsCopied_EntryIsLogged()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source, "alice");
        Assert.Equal(ExpectedId, m.Id);
        Assert.Equal(ModelStatus.Candidate, m.Status);
        Assert.Equal(Path.Combine(_t.Home.ModelsFolder, m.Id), m.Folder);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_source, ModelRegistry.WeightsFileName)), File.ReadAllBytes(m.WeightsPath));
        var entry = log.List().Single();
        Assert.Equal("model.registered", entry.Kind);
        Assert.Equal("alice", entry.Actor);
        Assert.Contains(m.Id, entry.Payload, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(_t.Home.ModelsFolder, ".staging-*"));
        Assert.Equal(m.Id, registry.Load(m.Id).Id);
    }

    [Fact]
    public void Register_SameWeightsTwice_IsRefused_AndNothingIsOverwritten()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source);
        File.WriteAllText(Path.Combine(_source, ModelRegistry.ManifestFileName), """{"kind":"tabular","seed":2}""");
        var e = Assert.Throws<InvalidInputException>(() => registry.Register(_source));
        Assert.Equal("REG-E-EXISTS", e.Rule);
        Assert.Equal("""{"kind":"tabular","seed":1}""", File.ReadAllText(m.ManifestPath));
        Assert.Single(log.List());
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("manifest")]
    public void Load_ChangedFiles_AreRefused(string change)
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        var m = registry.Register(_source);
        switch (change)
        {
            case "flip":
                var bytes = File.ReadAllBytes(m.WeightsPath);
                bytes[1234] ^= 0x10;
                File.WriteAllBytes(m.WeightsPath, bytes);
                break;
            case "truncate":
                using (var f = new FileStream(m.WeightsPath, FileMode.Open)) f.SetLength(100);
                break;
            default:
                File.WriteAllText(m.ManifestPath, """{"kind":"tabular","seed":9}""");
                break;
        }

        var e = Assert.Throws<InvalidInputException>(() => registry.Load(m.Id));
        Assert.Equal("REG-E-HASH", e.Rule);
    }

    [Fact]
    public void StatusChanges_FollowTheLifeCycle_EachIsAnAuditEntry()
    {
        var evidence = new string('a', 64);
        string id;
        using (var log = _t.Open())
        {
            var registry = new ModelRegistry(_t.Home, log);
            id = registry.Register(_source).Id;
            Assert.Equal("REG-E-TRANSITION", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(id, ModelStatus.Promoted, "skip")).Rule);
            Assert.Equal("REG-E-EVIDENCE", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(id, ModelStatus.Validated, "no report")).Rule);
            Assert.Equal(ModelStatus.Validated, registry.ChangeStatus(id, ModelStatus.Validated, "all metrics PASS", evidence, "validator").Status);
            Assert.Equal(ModelStatus.Promoted, registry.ChangeStatus(id, ModelStatus.Promoted, "approved by committee", actor: "approver").Status);
            Assert.Equal(ModelStatus.Retired, registry.ChangeStatus(id, ModelStatus.Retired, "superseded").Status);
            Assert.Equal("REG-E-TRANSITION", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(id, ModelStatus.Promoted, "again")).Rule);
            Assert.Equal("REG-E-UNKNOWN", Assert.Throws<InvalidInputException>(() => registry.ChangeStatus(new string('b', 64), ModelStatus.Retired, "x")).Rule);
            Assert.Equal(ModelStatus.Retired, registry.List().Single().Status);

            var changes = log.List().Where(e => e.Kind == "model.status_changed").ToList();
            Assert.Equal(3, changes.Count);
            using var first = JsonDocument.Parse(changes[0].Payload);
            Assert.Equal("candidate", first.RootElement.GetProperty("from").GetString());
            Assert.Equal("validated", first.RootElement.GetProperty("to").GetString());
            Assert.Equal(evidence, first.RootElement.GetProperty("evidence_sha256").GetString());
            Assert.Equal("validator", changes[0].Actor);
        }

        Assert.True(AuditLog.Verify(_t.Home).Ok);
        // The status lives in the audit log: a fresh registry over the same home sees it.
        using var again = _t.Open();
        Assert.Equal(ModelStatus.Retired, new ModelRegistry(_t.Home, again).Find(id)!.Status);
    }

    [Fact]
    public void Register_MissingFileOrBadManifest_IsBadInput()
    {
        using var log = _t.Open();
        var registry = new ModelRegistry(_t.Home, log);
        File.WriteAllText(Path.Combine(_source, ModelRegistry.ManifestFileName), "{not json");
        Assert.Equal("REG-E-FOLDER", Assert.Throws<InvalidInputException>(() => registry.Register(_source)).Rule);
        File.Delete(Path.Combine(_source, ModelRegistry.ManifestFileName));
        Assert.Equal("REG-E-FOLDER", Assert.Throws<InvalidInputException>(() => registry.Register(_source)).Rule);
        Assert.Empty(log.List());
    }
}
