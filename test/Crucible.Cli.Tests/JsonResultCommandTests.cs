using System.Security.Cryptography;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>--json</c> of <c>train</c>, <c>generate</c> and <c>evaluate</c> (schedulers read it instead of the summary lines):
/// stdout is one JSON document and nothing else, its ids, hashes and paths are those of the files written (the model
/// folder, the scenario CSV and its metadata, report.json, the run manifest), the summary goes to stderr, and an error
/// prints no document (exit code and stderr line as without <c>--json</c>).
/// </summary>
public sealed class JsonResultCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private string SmallConfig()
    {
        string path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, """{"hidden": 32, "blocks": 1, "time_embedding": 16, "diffusion_steps": 100, "training": {"batch_size": 32, "warmup_steps": 5}}""");
        return path;
    }

    private static string EvaluationFixture(string name) => TestRepo.Fixture("Crucible.Evaluation.Tests", name);

    // stdout: exactly one line, one JSON object
    private static JsonElement Document(string stdout) => JsonStdout.Single(stdout);

    private static JsonElement RunManifest(JsonElement document, string runId)
    {
        string path = document.GetProperty("run_manifest").GetString()!;
        Assert.True(Path.IsPathFullyQualified(path), path);
        using var manifest = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(runId, manifest.RootElement.GetProperty("run_id").GetString());
        return manifest.RootElement.Clone();
    }

    [Fact]
    public void Train_Json_PrintsTheModelIdFolderRegistrationAndRun_MatchingTheFilesWritten()
    {
        string data = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 400), config = SmallConfig(), checkpoint = Path.Combine(_dir, "train.ckpt");
        string[] args = ["train", "--data", data, "--seed", "3", "--steps", "30", "--config", config, "--checkpoint", checkpoint, "--checkpoint-every", "10", "--json", "--out"];
        string m1 = Path.Combine(_dir, "m1"), m2 = Path.Combine(_dir, "m2");
        var first = Crucible([.. args, m1]);
        Assert.True(first.Exit == 0, first.Stderr);
        var d = Document(first.Stdout);
        Assert.Contains("model:      ", first.Stderr, StringComparison.Ordinal); // the summary, on stderr

        string weights = Path.Combine(m1, "weights.safetensors");
        Assert.Equal("train", d.GetProperty("command").GetString());
        Assert.Equal("tabular", d.GetProperty("kind").GetString());
        Assert.Equal(Sha(weights), d.GetProperty("model_id").GetString());
        Assert.Equal(64, d.GetProperty("model_id").GetString()!.Length);
        Assert.Equal(Path.GetFullPath(m1), d.GetProperty("model_folder").GetString());
        Assert.Equal("registered", d.GetProperty("registration").GetString());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("registration_rule").ValueKind);
        Assert.Equal(JsonValueKind.Null, d.GetProperty("resumed_from_step").ValueKind);
        Assert.Equal(30, d.GetProperty("steps").GetInt32());
        Assert.Equal(3UL, d.GetProperty("seed").GetUInt64());
        Assert.False(d.GetProperty("dp").GetBoolean());
        using (var model = JsonDocument.Parse(File.ReadAllText(Path.Combine(m1, "manifest.json"))))
        {
            var training = model.RootElement.GetProperty("training");
            Assert.Equal(training.GetProperty("final_loss").GetDouble(), d.GetProperty("final_loss").GetDouble());
            Assert.Equal(model.RootElement.GetProperty("data").GetProperty("train_rows").GetInt32(), d.GetProperty("train_rows").GetInt32());
        }

        var run = RunManifest(d, d.GetProperty("run_id").GetString()!);
        Assert.Equal(d.GetProperty("model_id").GetString(), run.GetProperty("model_id").GetString());
        Assert.Equal("train", run.GetProperty("kind").GetString());
        Assert.Equal(d.GetProperty("model_id").GetString(), AuditEntry(d).GetProperty("model_id").GetString());
        Assert.Contains(run.GetProperty("outputs").EnumerateArray(), f => f.GetProperty("sha256").GetString() == Sha(weights));

        // the same model again, from the checkpoint: already registered, resumed at step 30, a run of its own
        var second = Crucible([.. args, m2]);
        Assert.True(second.Exit == 0, second.Stderr);
        var d2 = Document(second.Stdout);
        Assert.Equal(d.GetProperty("model_id").GetString(), d2.GetProperty("model_id").GetString());
        Assert.Equal("already_registered", d2.GetProperty("registration").GetString());
        Assert.Equal(30, d2.GetProperty("resumed_from_step").GetInt32());
        Assert.NotEqual(d.GetProperty("run_id").GetString(), d2.GetProperty("run_id").GetString());
        RunManifest(d2, d2.GetProperty("run_id").GetString()!);
    }

    // the audit log's entry audit_seq names (crucible audit log --json): the run.completed that pins the document's run
    private JsonElement AuditEntry(JsonElement document)
    {
        long seq = document.GetProperty("audit_seq").GetInt64();
        var log = Crucible("audit", "log", "--from", seq.ToString(System.Globalization.CultureInfo.InvariantCulture), "--limit", "1", "--json");
        Assert.True(log.Exit == 0, log.Stderr);
        using var entries = JsonDocument.Parse(log.Stdout);
        var entry = Assert.Single(entries.RootElement.EnumerateArray()).Clone();
        Assert.Equal(seq, entry.GetProperty("seq").GetInt64());
        Assert.Equal("run.completed", entry.GetProperty("kind").GetString());
        var payload = entry.GetProperty("payload");
        Assert.Equal(document.GetProperty("run_id").GetString(), payload.GetProperty("run_id").GetString());
        Assert.Equal(Sha(document.GetProperty("run_manifest").GetString()!), payload.GetProperty("manifest_sha256").GetString());
        Assert.Equal(Path.GetFullPath(Path.Combine(Home, "audit.db")), document.GetProperty("audit_database").GetString());
        return payload.Clone();
    }

    [Fact]
    public void Train_Json_OfAModelTheRegistryRefuses_SaysNotRegistered_WithTheRuleAndReason_AndItsAuditEntry()
    {
        // the registry keys a model by its weights: the same network (data, config, seed) trained here with
        // --withhold-prices is registered, and the plain twin, whose manifest records the last prices, conflicts with it
        string data = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 120), config = SmallConfig();
        string withheld = Path.Combine(_dir, "withheld"), twin = Path.Combine(_dir, "twin");
        string[] args = ["train", "--data", data, "--config", config, "--steps", "4", "--seed", "2", "--json"];
        var first = Crucible([.. args, "--withhold-prices", "--out", withheld]);
        Assert.True(first.Exit == 0, first.Stderr);
        var d1 = Document(first.Stdout);
        Assert.Equal("registered", d1.GetProperty("registration").GetString());
        Assert.Equal(JsonValueKind.Null, d1.GetProperty("registration_reason").ValueKind);
        var p1 = AuditEntry(d1);
        Assert.Equal(d1.GetProperty("model_id").GetString(), p1.GetProperty("model_id").GetString());

        var second = Crucible([.. args, "--out", twin]);
        Assert.True(second.Exit == 0, second.Stderr); // the folder is complete and usable by path: the run completes
        var d = Document(second.Stdout);
        Assert.Equal(Sha(Path.Combine(twin, "weights.safetensors")), d.GetProperty("model_id").GetString());
        Assert.Equal(d1.GetProperty("model_id").GetString(), d.GetProperty("model_id").GetString()); // the same weights
        Assert.Equal("not_registered", d.GetProperty("registration").GetString());
        Assert.Equal("REG-E-CONFLICT", d.GetProperty("registration_rule").GetString());
        string reason = d.GetProperty("registration_reason").GetString()!;
        Assert.Contains("data.last_prices", reason, StringComparison.Ordinal); // the keys the manifests differ in
        Assert.Contains($"warning [REG-E-CONFLICT]: {reason}; this model is not registered", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("registry:   not registered", second.Stderr, StringComparison.Ordinal); // the summary, on stderr

        // the registry still holds the withheld model's manifest under that id; the twin's run is recorded all the same
        var list = Crucible("model", "list", "--json");
        Assert.True(list.Exit == 0, list.Stderr);
        using (var models = JsonDocument.Parse(list.Stdout))
        {
            var registered = Assert.Single(models.RootElement.EnumerateArray());
            Assert.Equal(d.GetProperty("model_id").GetString(), registered.GetProperty("id").GetString());
            Assert.Equal(Sha(Path.Combine(withheld, "manifest.json")), registered.GetProperty("manifest_sha256").GetString());
            Assert.NotEqual(Sha(Path.Combine(twin, "manifest.json")), registered.GetProperty("manifest_sha256").GetString());
        }

        var payload = AuditEntry(d);
        Assert.Equal(d.GetProperty("model_id").GetString(), payload.GetProperty("model_id").GetString());
        Assert.True(d.GetProperty("audit_seq").GetInt64() > d1.GetProperty("audit_seq").GetInt64());
        var run = RunManifest(d, d.GetProperty("run_id").GetString()!);
        Assert.Equal(d.GetProperty("model_id").GetString(), run.GetProperty("model_id").GetString());
    }

    [Fact]
    public void Generate_Json_PrintsTheCsvMetaHashModelAndRun_MatchingTheFilesWritten()
    {
        string data = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 400), config = SmallConfig(), model = Path.Combine(_dir, "m");
        var trained = Crucible("train", "--data", data, "--seed", "5", "--steps", "30", "--config", config, "--out", model);
        Assert.True(trained.Exit == 0, trained.Stderr);

        string csv = Path.Combine(_dir, "scenarios.csv");
        var (exit, stdout, stderr) = Crucible("generate", "--model", model, "--count", "64", "--seed", "7", "--sampler", "ddim", "--sampling-steps", "10", "--out", csv, "--json");
        Assert.True(exit == 0, stderr);
        var d = Document(stdout);
        Assert.Contains("scenarios: ", stderr, StringComparison.Ordinal);

        Assert.Equal("generate", d.GetProperty("command").GetString());
        Assert.Equal(Path.GetFullPath(csv), d.GetProperty("csv").GetString());
        Assert.True(File.Exists(d.GetProperty("meta").GetString()), d.GetProperty("meta").GetString());
        Assert.Equal(Sha(csv), d.GetProperty("csv_sha256").GetString());
        using var metadata = JsonDocument.Parse(File.ReadAllText(d.GetProperty("meta").GetString()!));
        Assert.Equal(metadata.RootElement.GetProperty("csv_sha256").GetString(), d.GetProperty("csv_sha256").GetString());
        Assert.Equal(Sha(Path.Combine(model, "weights.safetensors")), d.GetProperty("model_id").GetString());
        Assert.Equal(metadata.RootElement.GetProperty("model_id").GetString(), d.GetProperty("model_id").GetString());
        Assert.Equal(64, d.GetProperty("count").GetInt32());
        Assert.Equal(7UL, d.GetProperty("seed").GetUInt64());
        Assert.Equal("ddim", d.GetProperty("sampler").GetString());
        Assert.Equal(10, d.GetProperty("sampling_steps").GetInt32());
        Assert.Equal(JsonValueKind.Array, d.GetProperty("condition_warnings").ValueKind);
        Assert.Equal(0, d.GetProperty("condition_warnings").GetArrayLength());

        var run = RunManifest(d, d.GetProperty("run_id").GetString()!);
        Assert.Equal("generate", run.GetProperty("kind").GetString());
        Assert.Equal(d.GetProperty("model_id").GetString(), run.GetProperty("model_id").GetString());
        Assert.Contains(run.GetProperty("outputs").EnumerateArray(), f => f.GetProperty("sha256").GetString() == Sha(csv));
    }

    [Fact]
    public void Generate_Json_OnBadInput_PrintsNoDocument_AndKeepsExitCodeAndStderrLine()
    {
        var (exit, stdout, stderr) = Crucible("generate", "--model", Path.Combine(_dir, "nowhere"), "--count", "0", "--out", Path.Combine(_dir, "s.csv"), "--json");
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Contains("--count must be at least 1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_Json_PrintsReportRunAndFailedThresholds_WithExit3_AndTheReportsFigures()
    {
        string thresholds = Path.Combine(_dir, "thresholds.json"), report = Path.Combine(_dir, "out", "report.json");
        File.WriteAllText(thresholds, """{"ks_max": {"max": 0.0}, "ks_mean": {"max": 1.0}}""");
        var (exit, stdout, stderr) = Crucible("evaluate", "--real", EvaluationFixture("real.csv"), "--synthetic", EvaluationFixture("synthetic.csv"),
            "--train", EvaluationFixture("train.csv"), "--thresholds", thresholds, "--fail-on-threshold", "--out", report, "--json");
        Assert.True(exit == 3, stderr);
        var d = Document(stdout);
        Assert.Contains("thresholds: 1 of 2 passed", stderr, StringComparison.Ordinal);

        Assert.Equal("evaluate", d.GetProperty("command").GetString());
        Assert.Equal(Path.GetFullPath(report), d.GetProperty("report").GetString());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("html").ValueKind);
        Assert.True(d.GetProperty("fail_on_threshold").GetBoolean());
        var verdicts = d.GetProperty("thresholds");
        Assert.False(verdicts.GetProperty("passed").GetBoolean());
        Assert.Equal(2, verdicts.GetProperty("checked").GetInt32());
        var failed = Assert.Single(verdicts.GetProperty("failed").EnumerateArray());
        Assert.Equal("ks_max", failed.GetProperty("key").GetString());
        Assert.Equal("max", failed.GetProperty("bound").GetString());
        Assert.Equal(0.0, failed.GetProperty("limit").GetDouble());

        using var written = JsonDocument.Parse(File.ReadAllText(report));
        var r = written.RootElement;
        foreach (var key in new[] { "ks_mean", "ks_max", "wasserstein_mean", "corr_distance" })
            Assert.Equal(r.GetProperty(key).GetDouble(), d.GetProperty(key).GetDouble());
        Assert.Equal(r.GetProperty("ks_max").GetDouble(), failed.GetProperty("actual").GetDouble());
        Assert.Equal(r.GetProperty("privacy").GetProperty("share_closer_to_train").GetDouble(), d.GetProperty("share_closer_to_train").GetDouble());

        var run = RunManifest(d, d.GetProperty("run_id").GetString()!);
        Assert.Equal("evaluate", run.GetProperty("kind").GetString());
        Assert.Contains(run.GetProperty("outputs").EnumerateArray(), f => f.GetProperty("sha256").GetString() == Sha(report));
        Assert.False(run.GetProperty("outcome").GetProperty("thresholds_passed").GetBoolean());
    }

    /// <summary>
    /// evaluate --json summarises privacy (share_closer_to_train): privacy_subsample says whether that figure was measured on
    /// drawn rows (--privacy-rows), as the audit entry records it, and is null when the section used every row.
    /// </summary>
    [Fact]
    public void Evaluate_Json_PrivacySubsample_SaysTheSectionWasMeasuredOnDrawnRows()
    {
        string[] args = ["evaluate", "--real", EvaluationFixture("real.csv"), "--synthetic", EvaluationFixture("synthetic.csv"), "--train", EvaluationFixture("train.csv"), "--json"];
        var drawn = Crucible([.. args, "--privacy-rows", "150", "--out", Path.Combine(_dir, "drawn", "report.json")]);
        Assert.True(drawn.Exit == 0, drawn.Stderr);
        Assert.Equal("""{"limit":150,"seed":"0","train":{"rows":300,"drawn":150},"holdout":{"rows":400,"drawn":150},"synthetic":{"rows":500,"drawn":150}}""",
            Document(drawn.Stdout).GetProperty("privacy_subsample").GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));

        // every row: null, and a limit no smaller than every set draws nothing
        foreach (var extra in new[] { Array.Empty<string>(), ["--privacy-rows", "500"] })
        {
            var all = Crucible([.. args, .. extra, "--out", Path.Combine(_dir, "all" + extra.Length, "report.json")]);
            Assert.True(all.Exit == 0, all.Stderr);
            Assert.Equal(JsonValueKind.Null, Document(all.Stdout).GetProperty("privacy_subsample").ValueKind);
        }
    }

    [Fact]
    public void SequenceTrainAndGenerate_Json_CarryTheKindAndTheConditionWarningsOfTheMetadata()
    {
        var (prices, state) = TestPrices.Sequence(_dir, 120);
        string config = Path.Combine(_dir, "seq.json"), model = Path.Combine(_dir, "seq");
        File.WriteAllText(config, """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,RV20",
            "--steps", "12", "--config", config, "--seed", "2", "--out", model, "--json");
        Assert.True(t.Exit == 0, t.Stderr);
        var d = Document(t.Stdout);
        Assert.Equal("sequence", d.GetProperty("kind").GetString());
        Assert.Equal(Sha(Path.Combine(model, "weights.safetensors")), d.GetProperty("model_id").GetString());
        Assert.Equal(12, d.GetProperty("steps").GetInt32());
        Assert.Equal(2UL, d.GetProperty("seed").GetUInt64());
        RunManifest(d, d.GetProperty("run_id").GetString()!);

        // VIXCLS far outside the training range: the scenarios extrapolate, and the document says so as the metadata does
        string csv = Path.Combine(_dir, "far.csv");
        var g = Crucible("generate", "--model", model, "--count", "4", "--condition", "VIXCLS=900", "--condition", "RV20=0.2", "--out", csv, "--json");
        Assert.True(g.Exit == 0, g.Stderr);
        var gd = Document(g.Stdout);
        Assert.Contains("warning: ", g.Stderr, StringComparison.Ordinal);
        using var metadata = JsonDocument.Parse(File.ReadAllText(gd.GetProperty("meta").GetString()!));
        var expected = metadata.RootElement.GetProperty("condition_warnings");
        Assert.NotEqual(0, expected.GetArrayLength());
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(expected.GetRawText()),
            System.Text.Json.Nodes.JsonNode.Parse(gd.GetProperty("condition_warnings").GetRawText())), gd.GetProperty("condition_warnings").GetRawText());
        Assert.Equal(d.GetProperty("model_id").GetString(), gd.GetProperty("model_id").GetString());
    }

    [Fact]
    public void Train_Json_UnderDpSgd_WithholdsTheFinalLoss()
    {
        string data = TestPrices.Returns(Path.Combine(_dir, "returns.csv"), 300, 5), config = Path.Combine(_dir, "dp.json"), model = Path.Combine(_dir, "dp");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 20, "warmup_steps": 2}}""");
        var (exit, stdout, stderr) = Crucible("train", "--data", data, "--input", "log-returns", "--config", config, "--steps", "20",
            "--dp-epsilon", "2", "--dp-delta", "1e-4", "--out", model, "--json");
        Assert.True(exit == 0, stderr);
        var d = Document(stdout);
        Assert.True(d.GetProperty("dp").GetBoolean());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("final_loss").ValueKind); // a statistic of the private rows
        Assert.Contains("loss withheld", stderr, StringComparison.Ordinal);
        Assert.Equal(Sha(Path.Combine(model, "weights.safetensors")), d.GetProperty("model_id").GetString());
    }
}
