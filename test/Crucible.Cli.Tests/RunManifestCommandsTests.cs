using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Governance;
using Crucible.Governance.Audit;

namespace Crucible.Cli.Tests;

/// <summary>
/// The run manifests (MRM-2) of <c>evaluate</c>, <c>backtest</c>, <c>baseline</c>, <c>compare</c>, <c>model-card</c>,
/// <c>train</c>, <c>generate</c>, <c>stress</c> and <c>ensemble</c>, end to end in child processes of the built CLI with a
/// temporary home: each prints its manifest's path, the manifest lists every file read and written with the SHA-256
/// computed here, <c>crucible verify-run</c> passes, and fails once an output is changed; the <c>run.completed</c> entry
/// pins the manifest's bytes, which the home's audit store holds, so <c>verify-run --home</c> catches an edited manifest.
/// Tiny data, few steps.
/// </summary>
public sealed class RunManifestCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-runs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The child's home folder (CRUCIBLE_HOME): a temporary one, never the real ~/.crucible.</summary>
    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string EvaluationFixture(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crucible.slnx")))
                return Path.Combine(dir.FullName, "test", "Crucible.Evaluation.Tests", "TestData", name);
        }

        throw new InvalidOperationException("Crucible.slnx not found above " + AppContext.BaseDirectory);
    }

    // a file of test/Crucible.Stress.Tests/TestData
    private static string StressFixture(string name) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(EvaluationFixture(name))!, "..", "..", "Crucible.Stress.Tests", "TestData", name));

    /// <summary>The path on the run's <c>manifest:</c> line.</summary>
    private static string ManifestPath(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];

    private static (string Path, string Sha256)[] Files(JsonElement manifest, string role) =>
        [.. manifest.GetProperty(role).EnumerateArray().Select(f => (f.GetProperty("path").GetString()!, f.GetProperty("sha256").GetString()!))];

    /// <summary>
    /// Checks the manifest the run printed: in HOME/runs, of <paramref name="kind"/>, with exactly these input and output
    /// files (absolute paths, SHA-256 computed here), and <c>verify-run</c> passes. Returns its root.
    /// </summary>
    private JsonElement CheckManifest(string stdout, string kind, string[] inputs, string[] outputs)
    {
        string path = ManifestPath(stdout);
        Assert.Equal(Path.Combine(Home, "runs"), Path.GetDirectoryName(path));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement.Clone();
        Assert.Equal(kind, root.GetProperty("kind").GetString());
        Assert.Equal(Path.GetFileNameWithoutExtension(path), root.GetProperty("run_id").GetString());
        Assert.Equal(inputs.Select(p => (Path.GetFullPath(p), Sha(p))), Files(root, "inputs"));
        Assert.Equal(outputs.Select(p => (Path.GetFullPath(p), Sha(p))), Files(root, "outputs"));
        var verify = Crucible("verify-run", path);
        Assert.True(verify.Exit == 0, verify.Stdout + verify.Stderr);
        Assert.Contains($"{inputs.Length + outputs.Length}/{inputs.Length + outputs.Length} files match", verify.Stdout, StringComparison.Ordinal);
        return root;
    }

    /// <summary>The last audit entry is the <c>run.completed</c> that pins the manifest's bytes; returns its payload.</summary>
    private JsonElement CheckPinned(string stdout, string command)
    {
        string path = ManifestPath(stdout);
        var last = AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase)[^1];
        Assert.Equal("run.completed", last.Kind);
        using var doc = JsonDocument.Parse(last.Payload);
        var payload = doc.RootElement.Clone();
        Assert.Equal(command, payload.GetProperty("command").GetString());
        Assert.Equal(Path.GetFileNameWithoutExtension(path), payload.GetProperty("run_id").GetString());
        Assert.Equal(Sha(path), payload.GetProperty("manifest_sha256").GetString());
        using (var log = AuditLog.Open(CrucibleHome.Resolve(Home)))
        {
            // the audit store holds the manifest's bytes under its run id, as the service's runs
            Assert.Equal(File.ReadAllBytes(path), log.ReadRunManifest(Path.GetFileNameWithoutExtension(path)));
        }

        var verify = Crucible("verify-run", path, "--home", Home);
        Assert.True(verify.Exit == 0, verify.Stdout + verify.Stderr);
        Assert.Contains($"pinned    manifest by audit entry {last.Seq}", verify.Stdout, StringComparison.Ordinal);
        return payload;
    }

    /// <summary>
    /// Edits the manifest the run printed (its seed: still a valid manifest, every file still hashes as recorded):
    /// <c>verify-run</c> alone cannot tell, <c>verify-run --home</c> exits 3 as the file no longer hashes as pinned.
    /// </summary>
    private void CheckEditedManifestCaught(string stdout)
    {
        string path = ManifestPath(stdout);
        var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        manifest["seed"] = "424242";
        File.WriteAllText(path, manifest.ToJsonString());
        Assert.Equal(0, Crucible("verify-run", path).Exit);
        var verify = Crucible("verify-run", path, "--home", Home);
        Assert.True(verify.Exit == 3, verify.Stdout + verify.Stderr);
        Assert.Contains("MISMATCH  manifest: audit entry", verify.Stdout, StringComparison.Ordinal);
        Assert.Contains(", manifest NOT pinned", verify.Stdout, StringComparison.Ordinal);
        var json = Crucible("verify-run", path, "--home", Home, "--json");
        Assert.Equal(3, json.Exit);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.False(doc.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("mismatch", doc.RootElement.GetProperty("pin").GetProperty("result").GetString());
        Assert.Equal(Sha(path), doc.RootElement.GetProperty("pin").GetProperty("actual").GetString());
    }

    /// <summary>Changes <paramref name="output"/> by one byte: <c>verify-run</c> of the manifest exits 3 naming it.</summary>
    private void CheckTamperingFails(string stdout, string output)
    {
        File.AppendAllText(output, " ");
        var verify = Crucible("verify-run", ManifestPath(stdout));
        Assert.True(verify.Exit == 3, verify.Stdout + verify.Stderr);
        Assert.Contains($"MISMATCH  output {Path.GetFullPath(output)}", verify.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_WritesItsRunManifest_PinnedAfterItsEvaluationEntry()
    {
        string real = EvaluationFixture("real.csv"), synthetic = EvaluationFixture("synthetic.csv"), train = EvaluationFixture("train.csv");
        string thresholds = Write("thresholds.json", """{"ks_max": {"max": 0.5}}""");
        string segments = Write("segments.json",
            """{"asset_class": {"EQ_US": "equity", "EQ_EU": "equity", "EQ_JP": "equity", "RATES_10Y": "rates", "CREDIT_HY": "credit"}}""");
        string json = Path.Combine(_dir, "report.json"), html = Path.Combine(_dir, "report.html");
        var run = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", train, "--thresholds", thresholds,
            "--segments", segments, "--alpha", "0.95", "--out", json, "--html", html);
        Assert.True(run.Exit == 0, run.Stderr);

        var manifest = CheckManifest(run.Stdout, "evaluate", [real, synthetic, train, thresholds, segments], [json, html]);
        var config = manifest.GetProperty("config");
        Assert.Equal("evaluate", config.GetProperty("command").GetString());
        Assert.Equal(0.95, config.GetProperty("alpha").GetDouble());
        Assert.Equal("file", config.GetProperty("segments").GetString());
        Assert.True(manifest.GetProperty("outcome").GetProperty("thresholds_passed").GetBoolean());
        Assert.False(manifest.TryGetProperty("model_id", out _)); // no model is read without --shadow-models
        Assert.False(manifest.TryGetProperty("dp", out _));

        // evaluation.completed as before, then the run.completed that pins the manifest, in one transaction
        var entries = AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase);
        Assert.Equal(["evaluation.completed", "run.completed"], entries.Select(e => e.Kind));
        Assert.Contains("audit:      entries 1 and 2 in", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(Sha(json), CheckPinned(run.Stdout, "evaluate").GetProperty("report_sha256").GetString());
        Assert.True(AuditLog.Verify(CrucibleHome.Resolve(Home)).Ok);

        CheckTamperingFails(run.Stdout, html);
    }

    // RELIABILITY MRM-6
    [Fact]
    public void BacktestBaselineCompare_WriteTheirRunManifests()
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 400); // weekdays 2020-01-01 .. mid 2021
        string portfolio = Write("portfolio.json", """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""");

        string backtest = Path.Combine(_dir, "backtest.json");
        var b = Crucible("backtest", "--data", prices, "--portfolio", portfolio, "--generator", "bootstrap", "--first-year", "2021", "--last-year", "2021",
            "--samples", "100", "--seed", "3", "--out", backtest);
        Assert.True(b.Exit == 0, b.Stderr);
        var bm = CheckManifest(b.Stdout, "backtest", [prices, portfolio], [backtest]);
        Assert.Equal("3", bm.GetProperty("seed").GetString());
        Assert.Equal(["bootstrap"], bm.GetProperty("config").GetProperty("generators").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(100, bm.GetProperty("config").GetProperty("samples").GetInt32());
        Assert.Equal(Sha(backtest), CheckPinned(b.Stdout, "backtest").GetProperty("report_sha256").GetString());
        CheckTamperingFails(b.Stdout, backtest);

        string scenarios = Path.Combine(_dir, "baseline.csv");
        var s = Crucible("baseline", "--data", prices, "--generator", "bootstrap", "--count", "20", "--window", "5", "--seed", "4", "--out", scenarios);
        Assert.True(s.Exit == 0, s.Stderr);
        var sm = CheckManifest(s.Stdout, "baseline", [prices], [scenarios]);
        Assert.Equal("4", sm.GetProperty("seed").GetString());
        Assert.Equal("bootstrap", sm.GetProperty("config").GetProperty("generator").GetString());
        Assert.Equal(5, sm.GetProperty("config").GetProperty("window").GetInt32());
        Assert.Equal(Sha(scenarios), CheckPinned(s.Stdout, "baseline").GetProperty("csv_sha256").GetString());
        CheckTamperingFails(s.Stdout, scenarios);

        string table = Path.Combine(_dir, "compare.json"), page = Path.Combine(_dir, "compare.html");
        var c = Crucible("compare", "--data", prices, "--portfolio", portfolio, "--train-end", "2020-12-31", "--generator", "bootstrap",
            "--count", "10", "--window", "5", "--seed", "5", "--out", table, "--html", page);
        Assert.True(c.Exit == 0, c.Stderr);
        var cm = CheckManifest(c.Stdout, "compare", [prices, portfolio], [table, page]);
        Assert.Equal("2020-12-31", cm.GetProperty("config").GetProperty("train_end").GetString());
        Assert.Equal(Sha(table), CheckPinned(c.Stdout, "compare").GetProperty("report_sha256").GetString());
        CheckTamperingFails(c.Stdout, table);

        // three runs, three manifests, each pinned by its run.completed; the chain verifies
        Assert.Equal(3, Directory.GetFiles(Path.Combine(Home, "runs")).Length);
        Assert.Equal(3, AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase).Count(e => e.Kind == "run.completed"));
        Assert.True(AuditLog.Verify(CrucibleHome.Resolve(Home)).Ok);
    }

    /// <summary>`crucible train` of a tiny tabular model on 200 rows of test prices: its output, the data and model files.</summary>
    private ((int Exit, string Stdout, string Stderr) Train, string Prices, string Model, string Weights, string ModelManifest) TrainTiny(int seed)
    {
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 200), model = Path.Combine(_dir, "model");
        string config = Write("small.json", """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""");
        var t = Crucible("train", "--data", prices, "--steps", "5", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--config", config, "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        return (t, prices, model, Path.Combine(model, "weights.safetensors"), Path.Combine(model, "manifest.json"));
    }

    [Fact]
    public void TrainWithoutDp_HasNoDpField_AndModelCard_WritesItsRunManifest()
    {
        var (t, prices, model, weights, modelManifest) = TrainTiny(6);
        var tm = CheckManifest(t.Stdout, "train", [prices], [weights, modelManifest]);
        Assert.False(tm.TryGetProperty("dp", out _)); // no DP statement for a model trained without DP-SGD
        Assert.Equal(Sha(weights), tm.GetProperty("model_id").GetString());

        // MRM-8 / CSV-7: the ingest's data-quality counts, reconciled, and the hash of the report crucible data check prints
        var quality = tm.GetProperty("outcome").GetProperty("data_quality");
        var check = Crucible("data", "check", "--data", prices, "--json");
        Assert.True(check.Exit == 0, check.Stderr);
        var report = check.Stdout.EndsWith('\n') ? check.Stdout[..^1] : check.Stdout;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(report))), quality.GetProperty("report_sha256").GetString());
        using (var checkedReport = JsonDocument.Parse(report))
            Assert.Equal(checkedReport.RootElement.GetProperty("rows_in").GetInt64(), quality.GetProperty("rows_in").GetInt64());
        Assert.Equal(prices, quality.GetProperty("file").GetString());
        Assert.Equal(File.ReadAllLines(prices).Length - 1, quality.GetProperty("rows_in").GetInt64()); // every data row read
        Assert.Equal(quality.GetProperty("rows_in").GetInt64(), quality.GetProperty("rows_accepted").GetInt64() + quality.GetProperty("rows_rejected").GetInt64());
        Assert.Equal(0, quality.GetProperty("rows_rejected").GetInt64());
        Assert.Empty(quality.GetProperty("repairs").EnumerateObject()); // no repair is made unless asked for (CSV-7)

        string card = Path.Combine(_dir, "card.md"), html = Path.Combine(_dir, "card.html");
        var m = Crucible("model-card", "--model", model, "--out", card, "--html", html);
        Assert.True(m.Exit == 0, m.Stderr);
        var mm = CheckManifest(m.Stdout, "model-card", [weights, modelManifest], [card, html]);
        Assert.Equal(Sha(weights), mm.GetProperty("model_id").GetString());
        Assert.Equal("candidate", mm.GetProperty("config").GetProperty("registry_status").GetString()); // train registered it: the card says so
        var pinned = CheckPinned(m.Stdout, "model-card");
        Assert.Equal(Sha(weights), pinned.GetProperty("model_id").GetString());
        Assert.Equal(Sha(card), pinned.GetProperty("card_sha256").GetString());
        CheckTamperingFails(m.Stdout, card);
    }

    [Fact]
    public void TrainAndGenerate_PinTheirRunManifests_AfterTheirOwnEntries()
    {
        var (t, prices, model, weights, modelManifest) = TrainTiny(8);
        CheckManifest(t.Stdout, "train", [prices], [weights, modelManifest]);
        var trained = CheckPinned(t.Stdout, "train");
        Assert.Equal(Sha(weights), trained.GetProperty("model_id").GetString());
        Assert.Equal(Sha(modelManifest), trained.GetProperty("model_manifest_sha256").GetString()); // the model's manifest, beside the run's
        Assert.Contains("audit:      entry 2 in", t.Stdout, StringComparison.Ordinal); // after model.registered

        string scenarios = Path.Combine(_dir, "s.csv"), meta = Path.Combine(_dir, "s.meta.json");
        var g = Crucible("generate", "--model", model, "--count", "20", "--seed", "2", "--sampling-steps", "5", "--out", scenarios);
        Assert.True(g.Exit == 0, g.Stderr);
        CheckManifest(g.Stdout, "generate", [weights, modelManifest], [scenarios, meta]);
        var generated = CheckPinned(g.Stdout, "generate");
        Assert.Equal(Sha(weights), generated.GetProperty("model_id").GetString());
        Assert.Equal(Sha(scenarios), generated.GetProperty("csv_sha256").GetString());
        Assert.Contains("audit:     entries 3 and 4 in", g.Stdout, StringComparison.Ordinal);

        var entries = AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase);
        Assert.Equal(["model.registered", "run.completed", "scenarios.generated", "run.completed"], entries.Select(e => e.Kind));
        Assert.True(AuditLog.Verify(CrucibleHome.Resolve(Home)).Ok);
        CheckEditedManifestCaught(t.Stdout);
        CheckEditedManifestCaught(g.Stdout);
    }

    [Fact]
    public void StressAndEnsemble_PinTheirRunManifests()
    {
        string scenarios = StressFixture("scenarios.csv"), portfolio = StressFixture("portfolio.json");
        string report = Path.Combine(_dir, "stress.json");
        var s = Crucible("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--alpha", "0.95", "--out", report);
        Assert.True(s.Exit == 0, s.Stderr);
        CheckManifest(s.Stdout, "stress", [scenarios, portfolio], [report]);
        Assert.Equal(Sha(report), CheckPinned(s.Stdout, "stress").GetProperty("report_sha256").GetString());
        Assert.Contains("audit:      entry 1 in ", s.Stdout, StringComparison.Ordinal); // the entry that pins the run, as generate prints

        string a = Path.Combine(_dir, "a.csv"), b = Path.Combine(_dir, "b.csv"), ensemble = Path.Combine(_dir, "ensemble.json");
        File.Copy(scenarios, a);
        File.Copy(scenarios, b);
        var e = Crucible("ensemble", "--scenarios", a, "--scenarios", b, "--portfolio", portfolio, "--out", ensemble);
        Assert.True(e.Exit == 0, e.Stdout + e.Stderr);
        CheckManifest(e.Stdout, "ensemble", [a, b, portfolio], [ensemble]);
        var pinned = CheckPinned(e.Stdout, "ensemble");
        Assert.Equal(Sha(ensemble), pinned.GetProperty("report_sha256").GetString());
        Assert.False(pinned.GetProperty("flagged").GetBoolean());
        Assert.Contains("audit:    entry 2 in ", e.Stdout, StringComparison.Ordinal);

        // one run.completed each, nothing else; the chain verifies
        Assert.Equal(["run.completed", "run.completed"], AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase).Select(x => x.Kind));
        Assert.True(AuditLog.Verify(CrucibleHome.Resolve(Home)).Ok);
        CheckEditedManifestCaught(s.Stdout);
        CheckEditedManifestCaught(e.Stdout);
        CheckTamperingFails(e.Stdout, ensemble);
    }

    [Fact]
    public void VerifyRun_WithAHomeThatDoesNotPinTheRun_Exits3_AndWithoutALog_Exits2()
    {
        string scenarios = StressFixture("scenarios.csv"), portfolio = StressFixture("portfolio.json");
        var s = Crucible("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--alpha", "0.95", "--out", Path.Combine(_dir, "stress.json"));
        Assert.True(s.Exit == 0, s.Stderr);
        string path = ManifestPath(s.Stdout);

        // another home with a log that never saw this run
        string other = Path.Combine(_dir, "other");
        var o = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = other },
            "stress", "--scenarios", scenarios, "--portfolio", portfolio, "--alpha", "0.95", "--out", Path.Combine(_dir, "stress2.json"));
        Assert.True(o.Exit == 0, o.Stderr);
        var unpinned = Crucible("verify-run", path, "--home", other);
        Assert.True(unpinned.Exit == 3, unpinned.Stdout + unpinned.Stderr);
        Assert.Contains("UNPINNED  manifest: no run.completed entry pins run " + Path.GetFileNameWithoutExtension(path), unpinned.Stdout, StringComparison.Ordinal);

        // a home without an audit log: nothing to check against, and nothing is created there; a home folder that does
        // not exist at all is named as such (session 15)
        string empty = Path.Combine(_dir, "empty");
        var missing = Crucible("verify-run", path, "--home", empty);
        Assert.True(missing.Exit == 2, missing.Stdout + missing.Stderr);
        Assert.Contains($"error [HOME-E-MISSING]: no Crucible home at {empty} (--home)", missing.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(empty));
        Directory.CreateDirectory(empty);
        var none = Crucible("verify-run", path, "--home", empty);
        Assert.True(none.Exit == 2, none.Stdout + none.Stderr);
        Assert.Contains("AUDIT-E-NOLOG", none.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(empty));
    }
}
