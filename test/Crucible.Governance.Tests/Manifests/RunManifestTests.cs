using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Manifests;

namespace Crucible.Governance.Tests.Manifests;

public sealed class RunManifestTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "crucible-manifest-" + Guid.NewGuid().ToString("N"));

    public RunManifestTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class FixedClock(DateTimeOffset t) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => t;
    }

    private string Build(string name = "manifest.json")
    {
        File.WriteAllText(Path.Combine(_dir, "prices.csv"), "Date,A\n2020-01-02,1.5\n");
        var builder = new RunManifestBuilder(RunKind.Generate, new JsonObject { ["steps"] = 200, ["lr"] = 0.001, ["columns"] = new JsonArray("A") },
            seed: 18446744073709551615UL, _dir, new FixedClock(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)))
        {
            RunId = "run-fixed",
        };
        builder.AddInput(Path.Combine(_dir, "prices.csv"));
        File.WriteAllText(Path.Combine(_dir, "scenarios.csv"), "scenario,step,A\n0,0,0.01\n");
        builder.AddOutput(Path.Combine(_dir, "scenarios.csv"));
        builder.ModelId = new string('c', 64);
        builder.Dp = new JsonObject { ["epsilon"] = 2.5, ["delta"] = 1e-5 };
        var manifest = builder.Finish();
        var path = Path.Combine(_dir, name);
        manifest.Write(path);
        return path;
    }

    // RELIABILITY MRM-2
    [Fact]
    public void Write_Load_RoundTrip_WithEveryField()
    {
        var path = Build();
        var m = RunManifest.Load(path);
        Assert.Equal("run-fixed", m.RunId);
        Assert.Equal("2026-01-02T03:04:05.0000000Z", m.StartedUtc);
        Assert.Equal(18446744073709551615UL, m.Seed);
        Assert.Equal("philox4x32-10", m.Prng);
        Assert.Equal("prices.csv", m.Inputs.Single().Path);
        Assert.Equal(FileHash.Sha256(Path.Combine(_dir, "prices.csv")), m.Inputs.Single().Sha256);
        Assert.Equal("scenarios.csv", m.Outputs.Single().Path);
        Assert.Equal(new string('c', 64), m.ModelId);
        Assert.Equal(2.5, (double)m.Dp!["epsilon"]!);
        Assert.Equal("cpu", (string)m.Runtime["device"]!);
        Assert.False(string.IsNullOrEmpty(m.LibraryVersion));
        var text = File.ReadAllText(path);
        Assert.Contains("\"config_sha256\":\"", text, StringComparison.Ordinal);
        Assert.Equal(text, Encoding.UTF8.GetString(m.ToCanonicalJson())); // canonical: re-serialising gives the same bytes
    }

    // RELIABILITY MRM-2: the git commit of the build (the SDK's "+sha" source revision; CRUCIBLE_GIT_COMMIT where the
    // build has none) is in every manifest
    [Fact]
    public void Finish_RecordsTheGitCommitOfTheBuild()
    {
        Assert.Matches("^[0-9a-f]{40}$", RunEnvironment.GitCommit);
        var m = RunManifest.Load(Build());
        Assert.Equal(RunEnvironment.GitCommit, m.GitCommit);
        Assert.Contains($"\"git_commit\":\"{m.GitCommit}\"", File.ReadAllText(Path.Combine(_dir, "manifest.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_IsByteIdenticalUnderDeDeAndTrTr()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            var hashes = new List<string>();
            foreach (var culture in new[] { "", "de-DE", "tr-TR" })
            {
                CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
                hashes.Add(FileHash.Sha256(Build($"m-{culture}.json")));
            }

            Assert.Single(hashes.Distinct());
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    // RELIABILITY MRM-2
    [Fact]
    public void Verify_AllFilesMatch_ThenChangedAndMissingOutputsAreReported()
    {
        var path = Build();
        Assert.True(ManifestVerifier.Verify(path).Ok);
        File.AppendAllText(Path.Combine(_dir, "scenarios.csv"), "1,0,0.02\n");
        var v = ManifestVerifier.Verify(path);
        Assert.False(v.Ok);
        Assert.Equal(FileCheck.Mismatch, v.Files.Single(f => f.Role == "output").Result);
        Assert.Equal(FileCheck.Match, v.Files.Single(f => f.Role == "input").Result);
        File.Delete(Path.Combine(_dir, "prices.csv"));
        Assert.Equal(FileCheck.Missing, ManifestVerifier.Verify(path).Files.Single(f => f.Role == "input").Result);
    }

    [Theory]
    [InlineData("run_id")]
    [InlineData("kind")]
    [InlineData("started_utc")]
    [InlineData("finished_utc")]
    [InlineData("inputs")]
    [InlineData("outputs")]
    [InlineData("config")]
    [InlineData("config_sha256")]
    [InlineData("seed")]
    [InlineData("prng")]
    [InlineData("library_version")]
    [InlineData("runtime")]
    public void Load_MissingField_IsRefusedByName(string field)
    {
        var path = Build();
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root.Remove(field);
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.Throws<InvalidInputException>(() => RunManifest.Load(path));
        Assert.Equal("MANIFEST-E-FIELD", e.Rule);
        Assert.Contains($"'{field}'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("config_sha256", "\"0000000000000000000000000000000000000000000000000000000000000000\"")]
    [InlineData("started_utc", "\"02/01/2026 03:04\"")]
    [InlineData("seed", "42")]
    [InlineData("schema", "\"other\"")]
    [InlineData("kind", "\"Generate\"")]
    [InlineData("kind", "\"scenarios\"")]
    [InlineData("dp", "\"epsilon=2.5\"")]   // a dp or outcome that is no object was dropped silently
    [InlineData("outcome", "[1]")]
    [InlineData("git_commit", "7")]
    public void Load_BadValue_IsRefused(string field, string json)
    {
        var path = Build();
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root[field] = JsonNode.Parse(json);
        File.WriteAllText(path, root.ToJsonString());
        Assert.Equal("MANIFEST-E-VALUE", Assert.Throws<InvalidInputException>(() => RunManifest.Load(path)).Rule);
    }

    [Theory]
    [InlineData("-1")]    // a file of negative size was accepted
    [InlineData("1.5")]   // FormatException: an internal error, not a refusal
    [InlineData("\"12\"")]
    [InlineData("null")]
    public void Load_AFileWhoseBytesIsNoNonNegativeInteger_IsRefused_NamingTheField(string json)
    {
        var path = Build();
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root["inputs"]![0]!["bytes"] = JsonNode.Parse(json);
        File.WriteAllText(path, root.ToJsonString());
        var e = Assert.Throws<InvalidInputException>(() => RunManifest.Load(path));
        Assert.StartsWith("MANIFEST-E-", e.Rule, StringComparison.Ordinal);
        Assert.Contains("'bytes'", e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.Location!.File);
    }

    /// <summary>
    /// The kinds' wire names are the manifest's <c>kind</c> and the runs table's, in every home written so far: pinned, and
    /// each read back as its kind (the number of an enum member is never written).
    /// </summary>
    [Fact]
    public void Kinds_AreWrittenByTheirWireNames_AndReadBack()
    {
        Assert.Equal(["train", "generate", "evaluate", "stress", "ensemble", "backtest", "baseline", "compare", "model-card"],
            RunKinds.All.Select(k => k.WireName()));
        Assert.Equal(Enum.GetValues<RunKind>(), RunKinds.All);
        foreach (var kind in RunKinds.All)
        {
            var bytes = new RunManifestBuilder(kind, new JsonObject(), 1, _dir).Finish().ToCanonicalJson();
            Assert.Equal(kind.WireName(), (string?)JsonNode.Parse(bytes)!["kind"]);
            Assert.Equal(kind, RunManifest.Parse(bytes).Kind);
        }

        Assert.Null(RunKinds.FromWireName("model_card"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((RunKind)99).WireName());
    }

    [Fact]
    public void Load_EditedConfig_FailsItsHash()
    {
        var path = Build();
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"steps\":200", "\"steps\":201", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidInputException>(() => RunManifest.Load(path));
        Assert.Contains("config_sha256", e.Message, StringComparison.Ordinal);
    }
    [Fact]
    public void NamedBytes_RoundTrip_AsName_AndAreListedNotRehashed()
    {
        File.WriteAllText(Path.Combine(_dir, "scenarios.csv"), "scenario,step,A\n0,0,0.01\n");
        var body = "{\"count\": 1}"u8.ToArray();
        var manifest = new RunManifestBuilder(RunKind.Generate, new JsonObject { ["count"] = 1 }, 7, _dir)
            .AddInput(ManifestFile.Named("request", body))
            .AddOutput(Path.Combine(_dir, "scenarios.csv"))
            .AddOutput(ManifestFile.Named("response", "x"u8))
            .Finish();
        var bytes = manifest.ToCanonicalJson();
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains($"{{\"bytes\":{body.Length},\"name\":\"request\",\"sha256\":\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body))}\"}}", text, StringComparison.Ordinal);
        Assert.Contains("\"path\":\"scenarios.csv\"", text, StringComparison.Ordinal);

        var parsed = RunManifest.Parse(bytes);
        Assert.False(parsed.Inputs.Single().IsFile);
        Assert.Equal(["scenarios.csv", "response"], parsed.Outputs.Select(o => o.Path));
        Assert.Equal([true, false], parsed.Outputs.Select(o => o.IsFile));
        Assert.Equal(bytes, parsed.ToCanonicalJson()); // named entries survive a round trip unchanged

        var path = Path.Combine(_dir, "named.json");
        File.WriteAllBytes(path, bytes);
        var v = ManifestVerifier.Verify(path);
        Assert.True(v.Ok);
        Assert.Equal([FileCheck.Named, FileCheck.Match, FileCheck.Named], v.Files.Select(f => f.Result));
        File.AppendAllText(Path.Combine(_dir, "scenarios.csv"), "1,0,0.02\n");
        Assert.False(ManifestVerifier.Verify(path).Ok); // the file still counts
    }

    [Fact]
    public void Parse_RefusesAnEntryWithNeitherPathNorName()
    {
        var root = JsonNode.Parse(File.ReadAllText(Build()))!.AsObject();
        root["inputs"]![0]!.AsObject().Remove("path");
        var e = Assert.Throws<InvalidInputException>(() => RunManifest.Parse(Encoding.UTF8.GetBytes(root.ToJsonString())));
        Assert.Equal("MANIFEST-E-FIELD", e.Rule);
        Assert.Contains("'path'", e.Message, StringComparison.Ordinal);
    }
    [Theory]
    [InlineData("{", "{\"prng\":\"x\",")]                     // a second prng at the top
    [InlineData("\"config\":{", "\"config\":{\"lr\":1,")]         // a second lr inside the config
    public void Load_ADuplicateMember_IsRefusedAsJson_NotACrash(string at, string with)
    {
        var path = Build();
        var text = File.ReadAllText(path);
        var i = text.IndexOf(at, StringComparison.Ordinal);
        File.WriteAllText(path, text[..i] + with + text[(i + at.Length)..]);
        var e = Assert.Throws<InvalidInputException>(() => RunManifest.Load(path));
        Assert.Equal("MANIFEST-E-JSON", e.Rule);
        Assert.Equal(path, e.Location?.File);
    }
}
