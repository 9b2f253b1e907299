using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Tests;

/// <summary>
/// <see cref="ModelKind"/> is written by its wire name wherever a kind is stored (a model's <c>manifest.json</c>, a
/// scenario file's metadata): the names are pinned, they read back, and a manifest of a kind no generator has is a
/// <c>model-kind</c> input error naming the manifest, from <see cref="SequenceGenerator.ReadKind"/> and both loaders.
/// </summary>
public sealed class ModelKindTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-model-kind-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WireNames_ArePinned_AndReadBack()
    {
        Assert.Equal(["tabular", "sequence"], ModelKinds.All.Select(k => k.WireName()));
        Assert.Equal(Enum.GetValues<ModelKind>(), ModelKinds.All);
        foreach (var kind in ModelKinds.All) Assert.Equal(kind, ModelKinds.FromWireName(kind.WireName()));
        Assert.Equal("tabular or sequence", ModelKinds.Choices);
        Assert.Null(ModelKinds.FromWireName("Tabular"));
        Assert.Null(ModelKinds.FromWireName("rows"));
        Assert.Null(ModelKinds.FromWireName(""));
        Assert.Null(ModelKinds.FromWireName(null));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ModelKind)99).WireName());
    }

    [Fact]
    public void TheDocuments_WriteTheWireName_UnderAnyOptions_AndReadItBack()
    {
        // the manifests' options, and default options (no enum converter): never a number, never "Tabular"
        foreach (var options in new[] { DiffusionJson.Options, JsonSerializerOptions.Default })
        {
            Assert.Equal("\"tabular\"", JsonSerializer.Serialize(ModelKind.Tabular, options));
            Assert.Equal("\"sequence\"", JsonSerializer.Serialize(ModelKind.Sequence, options));
            Assert.Equal(ModelKind.Sequence, JsonSerializer.Deserialize<ModelKind>("\"sequence\"", options));
            Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ModelKind>("\"regime\"", options));
            Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ModelKind>("1", options));
        }

        Assert.Equal("tabular", (string?)JsonNode.Parse(DiffusionJson.FileBytes(new ModelManifest { Transform = JsonDocument.Parse("{}").RootElement }))!["kind"]);
        Assert.Equal("sequence", (string?)JsonNode.Parse(DiffusionJson.FileBytes(new SequenceManifest()))!["kind"]);
        var meta = new ScenarioMetadata { Kind = ModelKind.Sequence };
        string json = JsonSerializer.Serialize(meta, DiffusionJson.Options);
        Assert.Equal("sequence", (string?)JsonNode.Parse(json)!["kind"]);
        Assert.Equal(ModelKind.Sequence, JsonSerializer.Deserialize<ScenarioMetadata>(json, DiffusionJson.Options)!.Kind);
        Assert.Equal(ModelKind.Tabular, new ScenarioMetadata().Kind);
    }

    private string Folder(string manifestJson)
    {
        var folder = Path.Combine(_dir, "m-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, DiffusionGenerator.ManifestFileName), manifestJson);
        File.WriteAllBytes(Path.Combine(folder, DiffusionGenerator.WeightsFileName), [0]);
        return folder;
    }

    [Fact]
    public void ReadKind_GivesTheEnum()
    {
        Assert.Equal(ModelKind.Tabular, SequenceGenerator.ReadKind(Folder("""{"format": "crucible-model/1", "kind": "tabular"}""")));
        Assert.Equal(ModelKind.Sequence, SequenceGenerator.ReadKind(Folder("""{"format": "crucible-model/1", "kind": "sequence"}""")));
    }

    [Fact]
    public void AManifestOfAnUnknownKind_IsAModelKindError_NamingTheFile_FromReadKindAndBothLoaders()
    {
        var folder = Folder("""{"format": "crucible-model/1", "kind": "regime"}""");
        var manifest = Path.Combine(folder, DiffusionGenerator.ManifestFileName);
        foreach (var (load, message) in new (Action, string)[]
                 {
                     (() => SequenceGenerator.ReadKind(folder), "model kind 'regime' is not tabular or sequence"),
                     (() => SequenceGenerator.Load(folder), "model kind 'regime' is not tabular or sequence"),
                     (() => DiffusionGenerator.Load(folder), "model kind 'regime' is not tabular"),
                 })
        {
            var e = Assert.Throws<InvalidInputException>(load);
            Assert.Equal("model-kind", e.Rule);
            Assert.Equal(manifest, e.Location?.File);
            Assert.Equal(message, e.Message);
        }
    }

    [Fact]
    public void AManifestWithoutAKind_IsAModelManifestError_ForReadKind()
    {
        var folder = Folder("""{"format": "crucible-model/1"}""");
        var e = Assert.Throws<InvalidInputException>(() => SequenceGenerator.ReadKind(folder));
        Assert.Equal("model-manifest", e.Rule);
        Assert.Equal(Path.Combine(folder, DiffusionGenerator.ManifestFileName), e.Location?.File);
        Assert.Equal("the manifest has no kind", e.Message);
    }

    [Fact]
    public void EachLoader_RefusesTheOtherKind_ByItsWireName()
    {
        var sequence = Folder("""{"format": "crucible-model/1", "kind": "sequence"}""");
        var e = Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(sequence));
        Assert.Equal(("model-kind", "model kind 'sequence' is not tabular"), (e.Rule, e.Message));
        var tabular = Folder("""{"format": "crucible-model/1", "kind": "tabular"}""");
        e = Assert.Throws<InvalidInputException>(() => SequenceGenerator.Load(tabular));
        Assert.Equal(("model-kind", "model kind 'tabular' is not sequence"), (e.Rule, e.Message));
    }
}
