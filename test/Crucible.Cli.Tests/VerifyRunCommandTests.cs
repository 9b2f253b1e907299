using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Microsoft.Data.Sqlite;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible verify-run</c> end to end; with <c>--home</c>, on a home whose audit log pins (and stores) the manifest,
/// the clean case and each tamper case: the file edited, the stored copy edited (SQL on the database), the chain broken.
/// </summary>
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
        var b = new RunManifestBuilder(RunKind.Generate, new JsonObject { ["count"] = 1 }, 7, _dir)
            .AddInput(Path.Combine(_dir, "in.csv")).AddOutput(Path.Combine(_dir, "out.csv"));
        var path = Path.Combine(_dir, "manifest.json");
        b.Finish().Write(path);
        return path;
    }

    // the service's runs keep the request and the files it carried by hash only: --recompute says so for every kind,
    // where it used to say "the manifest names no model weights" for a scenario request or blame the demo for an evaluation
    [Theory]
    [InlineData(RunKind.Generate, "service.scenarios")]
    [InlineData(RunKind.Evaluate, "service.evaluate")]
    [InlineData(RunKind.Ensemble, "service.ensemble")]
    [InlineData(RunKind.Train, "service.train")]
    public void VerifyRun_Recompute_AServiceRun_IsRefusedSayingTheServiceRecordedIt(RunKind kind, string command)
    {
        var request = System.Text.Encoding.UTF8.GetBytes("""{"model": "0ba46f08", "count": 20, "seed": 7}""");
        var b = new RunManifestBuilder(kind, new JsonObject { ["command"] = command, ["count"] = 20 }, 7, _dir)
            .AddInput(ManifestFile.Named("request", request)).AddOutput(ManifestFile.Named("response", request));
        var path = Path.Combine(_dir, "service-run.json");
        b.Finish().Write(path);
        Assert.Equal(0, Crucible("verify-run", path).Exit);
        var r = Crucible("verify-run", path, "--recompute");
        Assert.True(r.Exit == 2, r.Stdout + r.Stderr);
        Assert.Contains($"error [VERIFY-E-RECOMPUTE]: run {b.RunId} was recorded by the service ('{command}'), which keeps its request and the files it carried by SHA-256 only",
            r.Stderr, StringComparison.Ordinal);
    }

    // RELIABILITY MRM-2
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

        // a folder named as the manifest was an internal error (UnauthorizedAccessException: "Access to the path is denied")
        var folder = Crucible("verify-run", _dir);
        Assert.Equal(2, folder.Exit);
        Assert.Contains($"{_dir}: error [not-a-file]", folder.Stderr, StringComparison.Ordinal);
    }

    private string HomeDir => Path.Combine(_dir, "home");

    /// <summary>A manifest of two real files, written to HOME/runs and pinned by entry 3 of the home's log (after two others).</summary>
    private (string Path, string RunId) Pinned()
    {
        File.WriteAllText(Path.Combine(_dir, "in.csv"), "Date,A\n2020-01-02,1\n");
        File.WriteAllText(Path.Combine(_dir, "out.csv"), "scenario,step,A\n0,0,0.1\n");
        var home = CrucibleHome.Resolve(HomeDir);
        var manifest = new RunManifestBuilder(RunKind.Generate, new JsonObject { ["count"] = 1 }, 7, home.RunsFolder)
            .AddInput(Path.Combine(_dir, "in.csv")).AddOutput(Path.Combine(_dir, "out.csv")).Finish();
        var bytes = manifest.ToCanonicalJson();
        // opened first, as RunAudit.Complete does: opening a new home's log refuses runs/ files that no entry recorded (AUDIT-E-LOST)
        using var log = AuditLog.Open(home);
        var path = RunManifests.WriteJson(home, bytes);
        log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = "earlier" });
        log.Append(AuditKind.RunStarted, new JsonObject { ["run_id"] = manifest.RunId });
        Assert.Equal(3, log.AppendRunCompletedJson(bytes, new JsonObject { ["command"] = "test" })[^1].Seq);
        return (path, manifest.RunId);
    }

    /// <summary>Runs SQL on the home's audit database, as someone with the file can (triggers dropped first by the caller's SQL).</summary>
    private void Sql(string sql)
    {
        SQLitePCL.Batteries_V2.Init();
        using var c = new SqliteConnection($"Data Source={Path.Combine(HomeDir, "audit.db")};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static string[] Problems(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("problems").EnumerateArray().Select(e => e.GetString()!)];
    }

    // the manifest with another seed: still a valid manifest whose files all hash as recorded
    // verify-run PATH --home exits 3 with each of lines in its report and no stack trace, and its --json report (returned)
    // names exactly problem
    private string AssertNotPinned(string path, string problem, params string[] lines)
    {
        var r = Crucible("verify-run", path, "--home", HomeDir);
        Assert.True(r.Exit == 3, r.Stdout + r.Stderr);
        foreach (var line in lines) Assert.Contains(line, r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.Stdout + r.Stderr, StringComparison.Ordinal);
        var json = Crucible("verify-run", path, "--home", HomeDir, "--json");
        Assert.Equal(3, json.Exit);
        Assert.Equal([problem], Problems(json.Stdout));
        return json.Stdout;
    }

    private static string Edited(string path)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        node["seed"] = "424242";
        return node.ToJsonString();
    }

    [Fact]
    public void VerifyRunHome_Clean_ChecksChainPinAndStoredCopy_Exit0()
    {
        var (path, _) = Pinned();
        var ok = Crucible("verify-run", path, "--home", HomeDir);
        Assert.True(ok.Exit == 0, ok.Stdout + ok.Stderr);
        Assert.Contains("chain     audit log verifies (ok: 3 entries, 2 checkpoints verified)", ok.Stdout, StringComparison.Ordinal);
        Assert.Contains("pinned    manifest by audit entry 3", ok.Stdout, StringComparison.Ordinal);
        Assert.Contains("stored    copy in the audit store hashes as pinned", ok.Stdout, StringComparison.Ordinal);
        Assert.Contains("verified: run", ok.Stdout, StringComparison.Ordinal);
        Assert.Contains(", manifest pinned", ok.Stdout, StringComparison.Ordinal);

        var json = Crucible("verify-run", path, "--home", HomeDir, "--json");
        Assert.Equal(0, json.Exit);
        using var doc = JsonDocument.Parse(json.Stdout);
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        Assert.True(doc.RootElement.GetProperty("chain").GetProperty("ok").GetBoolean());
        Assert.Equal(sha, doc.RootElement.GetProperty("pin").GetProperty("actual").GetString());
        Assert.Equal(sha, doc.RootElement.GetProperty("stored").GetProperty("actual").GetString());
        Assert.Equal("match", doc.RootElement.GetProperty("stored").GetProperty("result").GetString());
        Assert.Empty(Problems(json.Stdout));

        // the options of the log check need the log
        Assert.Equal(2, Crucible("verify-run", path, "--public-key", Path.Combine(_dir, "k.pem")).Exit);
    }

    [Fact]
    public void VerifyRunHome_FileEdited_Exit3_NamesTheFile()
    {
        var (path, _) = Pinned();
        File.WriteAllText(path, Edited(path));
        AssertNotPinned(path, "file_edited",
            "2/2 files match",
            "MISMATCH  manifest: audit entry 3 pins",
            "(the manifest file was edited)",
            "stored    copy in the audit store hashes as pinned",
            "manifest NOT pinned (manifest file edited)");
    }

    [Fact]
    public void VerifyRunHome_StoredCopyEdited_Exit3_NamesTheStoredCopy()
    {
        var (path, runId) = Pinned();
        var forged = Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(Edited(path)));
        Sql($"DROP TRIGGER runs_no_update; UPDATE runs SET manifest = X'{forged}' WHERE run_id = '{runId}';");
        AssertNotPinned(path, "stored_copy_edited",
            "2/2 files match",
            "chain     audit log verifies",
            "pinned    manifest by audit entry 3",
            "MISMATCH  stored copy: audit entry 3 pins",
            "(the stored copy was edited)",
            "manifest NOT pinned (stored copy edited)");
    }

    [Fact]
    public void VerifyRunHome_ChainBroken_Exit3_EvenThoughTheFileHashesAsPinned()
    {
        var (path, _) = Pinned();
        Sql("DROP TRIGGER audit_entry_no_update; UPDATE audit_entry SET actor = 'mallory' WHERE seq = 1;");
        var json = AssertNotPinned(path, "chain_broken",
            "2/2 files match",
            "BROKEN    audit chain (Hash, first bad entry 1, at or before the pinning entry 3)",
            "its pin proves nothing",
            "pinned    manifest by audit entry 3", // the file still hashes as the (untrusted) pin
            "manifest NOT pinned (audit chain broken)");
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("Hash", doc.RootElement.GetProperty("chain").GetProperty("problem").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("chain").GetProperty("first_bad_seq").GetInt64());
    }
    // RELIABILITY MRM-2
    [Fact]
    public void VerifyRunRecompute_DrawsAGenerateRunAgain_TrainsATrainRunAgain_AndCatchesAnOutputWhoseRecordWasRewritten()
    {
        string home = Path.Combine(_dir, "rhome"), model = Path.Combine(_dir, "model"), csv = Path.Combine(_dir, "s.csv");
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 200);
        string config = Path.Combine(_dir, "small.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        var train = Crucible("train", "--data", prices, "--steps", "10", "--config", config, "--seed", "2", "--home", home, "--out", model);
        Assert.True(train.Exit == 0, train.Stderr);
        var generate = Crucible("generate", "--model", model, "--count", "64", "--sampling-steps", "10", "--seed", "5", "--home", home, "--out", csv);
        Assert.True(generate.Exit == 0, generate.Stderr);
        string manifest = generate.Stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();

        var ok = Crucible("verify-run", manifest, "--recompute");
        Assert.True(ok.Exit == 0, ok.Stdout + ok.Stderr);
        Assert.Contains($"recomputed {csv}: identical to the recorded output", ok.Stdout, StringComparison.Ordinal);
        Assert.Contains("2/2 outputs recomputed identically", ok.Stdout, StringComparison.Ordinal);

        // a forger who edits a scenario and rewrites the manifest's hashes passes the file checks, not the recomputation
        var lines = File.ReadAllLines(csv);
        lines[1] = lines[1][..lines[1].LastIndexOf(',')] + ",0.5";
        File.WriteAllLines(csv, lines);
        var json = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        foreach (var output in json["outputs"]!.AsArray())
        {
            if ((string?)output!["path"] == csv)
            {
                output["sha256"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(csv)));
                output["bytes"] = new FileInfo(csv).Length;
            }
        }

        File.WriteAllText(manifest, json.ToJsonString());
        Assert.Equal(0, Crucible("verify-run", manifest).Exit);
        var forged = Crucible("verify-run", manifest, "--recompute", "--json");
        Assert.Equal(3, forged.Exit);
        using (var doc = JsonDocument.Parse(forged.Stdout))
        {
            var results = doc.RootElement.GetProperty("recompute").EnumerateArray().Select(r => r.GetProperty("result").GetString()!).ToArray();
            Assert.Equal(["mismatch", "match"], results); // the CSV; the metadata, not edited, still names the original CSV
        }

        // the training run: trained again from the recorded data and options, the same weights and model manifest
        string trainManifest = train.Stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim().Split(' ')[0];
        var retrained = Crucible("verify-run", trainManifest, "--recompute");
        Assert.True(retrained.Exit == 0, retrained.Stdout + retrained.Stderr);
        Assert.Contains($"recomputed {Path.Combine(model, "weights.safetensors")}: identical", retrained.Stdout, StringComparison.Ordinal);
        Assert.Contains("2/2 outputs recomputed identically", retrained.Stdout, StringComparison.Ordinal);

        // a manifest that names no model to run again is refused as input (exit 2)
        var refused = Crucible("verify-run", Manifest(), "--recompute");
        Assert.Equal(2, refused.Exit);
        Assert.Contains("VERIFY-E-RECOMPUTE", refused.Stderr, StringComparison.Ordinal);
    }
}
