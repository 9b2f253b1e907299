using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Governance;
using Crucible.Governance.Audit;

namespace Crucible.Cli.Tests;

/// <summary>
/// Issue #9 through the built CLI in child processes: training registers the model and writes a run manifest, the
/// model inventory and its status changes, <c>evaluate --segments</c>, <c>train --stratify</c>, <c>model-card</c>, and
/// byte-identical outputs of the same run under the invariant, de-DE and tr-TR cultures (MRM-1).
/// </summary>
public sealed class GovernanceCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-governance-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    /// <summary>A price CSV of three random walks on weekdays from 2020-01-01.</summary>
    private string PriceFile(int rows = 300) => TestPrices.Write(Path.Combine(_dir, "prices.csv"), rows);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string SmallConfig() =>
        Write("small.json", """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private string Train(string data, string model, params string[] extra)
    {
        var r = Crucible(["train", "--data", data, "--steps", "10", "--config", SmallConfig(), "--seed", "2", .. extra, "--out", model]);
        Assert.True(r.Exit == 0, r.Stderr);
        return r.Stdout;
    }

    [Fact]
    public void Train_RegistersTheModel_AndStatusChangesAreAuditedAndChecked()
    {
        string data = PriceFile(), model = Path.Combine(_dir, "m");
        var stdout = Train(data, model);
        string id = Sha(Path.Combine(model, "weights.safetensors"));
        Assert.Contains($"registered as {id} (candidate)", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Home, "models", id, "weights.safetensors")));

        // the same weights again: left as registered, not an error
        Assert.Contains("already registered", Train(data, Path.Combine(_dir, "m-again")), StringComparison.Ordinal);

        var list = Crucible("model", "list", "--json");
        Assert.Equal(0, list.Exit);
        using (var doc = JsonDocument.Parse(list.Stdout))
        {
            var m = Assert.Single(doc.RootElement.EnumerateArray());
            Assert.Equal(id, m.GetProperty("id").GetString());
            Assert.Equal("candidate", m.GetProperty("status").GetString());
        }

        // validation needs a report with passed, predeclared thresholds
        var noEvidence = Crucible("model", "status", "--id", id[..12], "--status", "validated", "--reason", "holdout");
        Assert.Equal(2, noEvidence.Exit);
        Assert.Contains("REG-E-EVIDENCE", noEvidence.Stderr, StringComparison.Ordinal);
        string failed = Write("failed.json", """{"ks_max": 0.3, "thresholds": {"passed": false, "verdicts": []}}""");
        Assert.Equal(2, Crucible("model", "status", "--id", id, "--status", "validated", "--reason", "holdout", "--evidence", failed).Exit);
        Assert.Equal(2, Crucible("model", "status", "--id", id, "--status", "promoted", "--reason", "skip validation").Exit); // candidate → promoted is refused
        string passed = EvaluatedReport(model, data, Thresholds(), "passed");
        var validated = Crucible("model", "status", "--id", id[..12], "--status", "validated", "--reason", "holdout 2021", "--evidence", passed);
        Assert.True(validated.Exit == 0, validated.Stderr);
        Assert.Contains("candidate → validated", validated.Stdout, StringComparison.Ordinal);

        // segregation of duties (MRM-10): the validator (this OS user) cannot promote; the refusal is an audit entry
        var selfApproved = Crucible("model", "status", "--id", id, "--status", "promoted", "--reason", "approved by me");
        Assert.Equal(2, selfApproved.Exit);
        Assert.Contains("REG-E-SOD", selfApproved.Stderr, StringComparison.Ordinal);
        Assert.Contains("segregation of duties", selfApproved.Stderr, StringComparison.Ordinal);
        var refusal = AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase)[^1];
        Assert.Equal("model.status_refused", refusal.Kind);
        Assert.Equal("user:" + Environment.UserName, refusal.Actor);
        using (var approverLog = AuditLog.Open(CrucibleHome.Resolve(Home)))
            new global::Crucible.Governance.Registry.ModelRegistry(CrucibleHome.Resolve(Home), approverLog)
                .ChangeStatus(id, global::Crucible.Governance.Registry.ModelStatus.Promoted, "approved by MRM", actor: "user:approver");
        list = Crucible("model", "list", "--json");
        using (var doc = JsonDocument.Parse(list.Stdout))
        {
            var m = Assert.Single(doc.RootElement.EnumerateArray());
            Assert.Equal("promoted", m.GetProperty("status").GetString());
            Assert.Equal("user:" + Environment.UserName, m.GetProperty("owner").GetString());
            Assert.Equal(JsonValueKind.Null, m.GetProperty("parent").ValueKind);
            Assert.Equal(Sha(passed), m.GetProperty("validation_report_sha256").GetString());
        }

        Assert.Equal(0, Crucible("model", "status", "--id", id, "--status", "retired", "--reason", "superseded").Exit);
        Assert.Equal(2, Crucible("model", "status", "--id", id, "--status", "promoted", "--reason", "again").Exit); // retired is terminal
        Assert.Equal(2, Crucible("model", "status", "--id", "00000000", "--status", "retired", "--reason", "x").Exit);

        // every change is an audit entry, and the log verifies
        var entries = AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase);
        Assert.Single(entries, e => e.Kind == "model.registered");
        var changes = entries.Where(e => e.Kind == "model.status_changed").Select(e => JsonDocument.Parse(e.Payload).RootElement).ToList();
        Assert.Equal(["validated", "promoted", "retired"], changes.Select(c => c.GetProperty("to").GetString()));
        Assert.Equal(Sha(passed), changes[0].GetProperty("evidence_sha256").GetString());
        Assert.Equal("holdout 2021", changes[0].GetProperty("reason").GetString());
        Assert.Equal(0, Crucible("audit", "verify").Exit);

        // generate takes a registered id (prefix) and loads it through the registry's hash check; a retired model only
        // with --allow-retired, and the refusal writes nothing
        string byId = Path.Combine(_dir, "by-id.csv"), byFolder = Path.Combine(_dir, "by-folder.csv");
        var retired = Crucible("generate", "--model", id[..10], "--count", "20", "--sampling-steps", "5", "--out", byId);
        Assert.Equal(2, retired.Exit);
        Assert.Contains("REG-E-RETIRED", retired.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(byId));
        Assert.Equal(0, Crucible("generate", "--model", id[..10], "--count", "20", "--sampling-steps", "5", "--allow-retired", "--out", byId).Exit);
        Assert.Equal(0, Crucible("generate", "--model", model, "--count", "20", "--sampling-steps", "5", "--out", byFolder).Exit);
        Assert.Equal(File.ReadAllBytes(byFolder), File.ReadAllBytes(byId));

        // a registered model whose files changed is refused on load (hash check)
        File.AppendAllText(Path.Combine(Home, "models", id, "weights.safetensors"), "x");
        var tampered = Crucible("generate", "--model", id[..10], "--count", "20", "--allow-retired", "--out", byId);
        Assert.Equal(2, tampered.Exit);
        Assert.Contains("REG-E-HASH", tampered.Stderr, StringComparison.Ordinal);
        using var log = AuditLog.Open(CrucibleHome.Resolve(Home));
        var e = Assert.Throws<Crucible.Data.InvalidInputException>(() => new Crucible.Governance.Registry.ModelRegistry(CrucibleHome.Resolve(Home), log).Load(id));
        Assert.Equal("REG-E-HASH", e.Rule);
    }

    // lenient declared thresholds on two metrics, so that a 10-step model passes them
    private string Thresholds(double ksMax = 1.0) =>
        Write(string.Create(CultureInfo.InvariantCulture, $"thresholds-{ksMax}.json"),
            string.Create(CultureInfo.InvariantCulture, $$$"""{"ks_max": {"max": {{{ksMax}}}}, "corr_distance": {"max": 100}}"""));

    /// <summary>Generates scenarios from <paramref name="model"/> in the home and evaluates them with <paramref name="thresholds"/>: a recorded report.</summary>
    private string EvaluatedReport(string model, string prices, string? thresholds, string name)
    {
        string scenarios = Path.Combine(_dir, name + ".csv"), report = Path.Combine(_dir, name + ".json");
        Assert.Equal(0, Crucible("generate", "--model", model, "--count", "200", "--sampling-steps", "5", "--out", scenarios).Exit);
        string returns = Write("returns.csv", Returns(prices));
        var r = Crucible(["evaluate", "--real", returns, "--synthetic", scenarios, .. thresholds is null ? Array.Empty<string>() : ["--thresholds", thresholds], "--out", report]);
        Assert.True(r.Exit == 0, r.Stderr); // without --fail-on-threshold, a FAIL still exits 0 (README: why)
        return report;
    }

    // RELIABILITY MRM-5
    [Fact]
    public void Validation_TakesOnlyARecordedPassingReportOfThisModel_AndParentIsDeclared()
    {
        string data = PriceFile(), model = Path.Combine(_dir, "m"), other = Path.Combine(_dir, "other");
        Train(data, model);
        string id = Sha(Path.Combine(model, "weights.safetensors"));
        // another model, trained in another home: not registered here until `model register`
        var trainedElsewhere = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home2") },
            "train", "--data", data, "--steps", "10", "--config", SmallConfig(), "--seed", "3", "--out", other);
        Assert.True(trainedElsewhere.Exit == 0, trainedElsewhere.Stderr);

        (int Exit, string Stderr) Validate(string evidence)
        {
            var r = Crucible("model", "status", "--id", id, "--status", "validated", "--reason", "holdout", "--evidence", evidence);
            return (r.Exit, r.Stderr);
        }

        void Refused(string evidence, string why)
        {
            var (exit, stderr) = Validate(evidence);
            Assert.Equal(2, exit);
            Assert.Contains("REG-E-EVIDENCE", stderr, StringComparison.Ordinal);
            Assert.Contains(why, stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal); // no stack trace
        }

        string genuine = EvaluatedReport(model, data, Thresholds(), "genuine");
        using (var doc = JsonDocument.Parse(File.ReadAllText(genuine)))
            Assert.Equal(2, doc.RootElement.GetProperty("thresholds").GetProperty("verdicts").GetArrayLength());

        // a forged report: well-formed, passing, but no evaluation wrote it
        var forged = JsonNode(genuine);
        forged["ks_mean"] = 0.0001;
        Refused(Write("forged.json", forged.ToJsonString()), "no evaluation in the audit log wrote a report");
        // the genuine report, changed by one byte
        string tampered = Write("tampered.json", File.ReadAllText(genuine).Replace("\"passed\": true", "\"passed\":  true", StringComparison.Ordinal));
        Assert.NotEqual(Sha(genuine), Sha(tampered));
        Refused(tampered, "unchanged");
        // a genuine report of another model's scenarios
        Refused(EvaluatedReport(other, data, Thresholds(), "other-model"), "scenarios generated by model");
        // recorded, but without declared thresholds, with a failed one, and a hand-written one with empty verdicts
        Refused(EvaluatedReport(model, data, null, "no-thresholds"), "declares no thresholds");
        Refused(EvaluatedReport(model, data, Thresholds(ksMax: 0), "failing"), "threshold ks_max failed");
        Refused(Write("empty.json", """{"thresholds": {"passed": true, "verdicts": []}}"""), "no threshold verdicts");
        // a genuine report of scenarios generated in another home: nothing here says which model made them
        string foreign = Path.Combine(_dir, "foreign.csv");
        Assert.Equal(0, CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home2") },
            "generate", "--model", model, "--count", "150", "--sampling-steps", "5", "--out", foreign).Exit);
        string foreignReport = Path.Combine(_dir, "foreign.json");
        Assert.Equal(0, Crucible("evaluate", "--real", Path.Combine(_dir, "returns.csv"), "--synthetic", foreign, "--thresholds", Thresholds(), "--out", foreignReport).Exit);
        Refused(foreignReport, "nothing in the audit log ties this report (the scenarios it evaluates) to model");
        Assert.Equal("candidate", Status(id));

        // the genuine report validates
        var ok = Validate(genuine);
        Assert.True(ok.Exit == 0, ok.Stderr);
        Assert.Equal("validated", Status(id));

        // parent: declared at registration, must be registered; listed
        var badParent = Crucible("model", "register", "--model", other, "--parent", "deadbeef00");
        Assert.Equal(2, badParent.Exit);
        var registered = Crucible("model", "register", "--model", other, "--parent", id[..12]);
        Assert.True(registered.Exit == 0, registered.Stderr);
        using (var doc = JsonDocument.Parse(Crucible("model", "list", "--json").Stdout))
        {
            var child = doc.RootElement.EnumerateArray().Single(m => m.GetProperty("id").GetString() == Sha(Path.Combine(other, "weights.safetensors")));
            Assert.Equal(id, child.GetProperty("parent").GetString());
        }

        Assert.Contains("parent " + id[..16], Crucible("model", "list").Stdout, StringComparison.Ordinal);
        Assert.Equal(0, Crucible("audit", "verify").Exit);
    }

    [Fact]
    public void AFolderWithARegisteredModelsWeightsButAnotherManifest_IsRecordedAsUnregistered_AndIsNoEvidenceForIt()
    {
        // session 15: generate --model FOLDER recorded the registered id for a folder whose weights a registered model has
        // with another manifest (here a hand-edited seed: beyond ModelRegistry.ProvenanceKeys), so its scenarios passed for
        // the registered model's, in the metadata and in the audit log that validation evidence is read from
        string data = PriceFile(), model = Path.Combine(_dir, "m"), copy = Path.Combine(_dir, "m-edited");
        Train(data, model);
        string id = Sha(Path.Combine(model, "weights.safetensors"));
        Directory.CreateDirectory(copy);
        File.Copy(Path.Combine(model, "weights.safetensors"), Path.Combine(copy, "weights.safetensors"));
        var manifest = JsonNode(Path.Combine(model, "manifest.json"));
        manifest["seed"] = 99;
        File.WriteAllText(Path.Combine(copy, "manifest.json"), manifest.ToJsonString());

        string registeredCsv = Path.Combine(_dir, "registered.csv"), editedCsv = Path.Combine(_dir, "edited.csv");
        Assert.Equal(0, Crucible("generate", "--model", id[..12], "--count", "20", "--sampling-steps", "5", "--out", registeredCsv).Exit);
        var edited = Crucible("generate", "--model", copy, "--count", "20", "--sampling-steps", "5", "--out", editedCsv);
        Assert.True(edited.Exit == 0, edited.Stderr);
        Assert.Contains($"note:      model {id[..16]}… is registered in {Home} with another manifest.json", edited.Stdout, StringComparison.Ordinal);

        foreach (var (csv, folder, registered) in new[] { (registeredCsv, model, true), (editedCsv, copy, false) })
        {
            var meta = JsonNode(csv[..^4] + ".meta.json");
            Assert.Equal(id, meta["model_id"]!.GetValue<string>()); // the id is the weights' hash (ARCHITECTURE.md) ...
            Assert.Equal(Sha(Path.Combine(folder, "manifest.json")), meta["model_manifest_sha256"]!.GetValue<string>()); // ... the manifest tells them apart
            Assert.Equal(registered, meta["registered"]!.GetValue<bool>());
        }

        var entries = global::Crucible.Governance.Audit.AuditLog.Read(Path.Combine(Home, "audit.db"));
        var generated = entries.Where(e => e.Kind == "scenarios.generated").Select(e => JsonDocument.Parse(e.Payload).RootElement).ToList();
        Assert.Equal([true, false], generated.Select(g => g.GetProperty("registered").GetBoolean()));
        Assert.Equal(Sha(Path.Combine(copy, "manifest.json")), generated[1].GetProperty("model_manifest_sha256").GetString());

        // a passing, recorded evaluation of the edited folder's scenarios is no validation evidence for the registered model
        var report = EvaluatedReport(copy, data, Thresholds(), "edited-evaluated");
        var refused = Crucible("model", "status", "--id", id, "--status", "validated", "--reason", "holdout", "--evidence", report);
        Assert.Equal(2, refused.Exit);
        Assert.Contains($"the report evaluates scenarios drawn from a folder with the weights of model {id[..16]}… but another manifest.json", refused.Stderr, StringComparison.Ordinal);
        var genuine = Crucible("model", "status", "--id", id, "--status", "validated", "--reason", "holdout",
            "--evidence", EvaluatedReport(model, data, Thresholds(), "genuine-evaluated"));
        Assert.True(genuine.Exit == 0, genuine.Stderr);
    }

    private static System.Text.Json.Nodes.JsonObject JsonNode(string path) => System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    private string Status(string id)
    {
        using var doc = JsonDocument.Parse(Crucible("model", "list", "--json").Stdout);
        return doc.RootElement.EnumerateArray().Single(m => m.GetProperty("id").GetString() == id).GetProperty("status").GetString()!;
    }

    [Fact]
    public void EvaluateWithSegments_TrainStratified_AndTheModelCard()
    {
        string data = PriceFile();
        string segments = Write("segments.json", """{"tolerance": 0.25, "asset_class": {"A": "equity", "B": "equity", "C": "bond"}}""");
        string plain = Path.Combine(_dir, "plain"), stratified = Path.Combine(_dir, "stratified");
        Train(data, plain);
        Train(data, stratified, "--segments", segments, "--stratify", "asset_class");
        Assert.NotEqual(Sha(Path.Combine(plain, "weights.safetensors")), Sha(Path.Combine(stratified, "weights.safetensors")));
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(stratified, "manifest.json"))))
            Assert.Equal("bond", manifest.RootElement.GetProperty("config").GetProperty("strata").GetProperty("C").GetString());
        var missing = Crucible("train", "--data", data, "--steps", "2", "--segments", segments, "--stratify", "region", "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, missing.Exit);
        Assert.Contains("SEG-E-DIMENSION", missing.Stderr, StringComparison.Ordinal);

        string scenarios = Path.Combine(_dir, "s.csv");
        Assert.Equal(0, Crucible("generate", "--model", stratified, "--count", "300", "--sampling-steps", "10", "--out", scenarios).Exit);
        string report = Path.Combine(_dir, "report.json"), html = Path.Combine(_dir, "report.html");
        // the real set as log returns: evaluate reads returns, so convert the prices here
        string returns = Write("returns.csv", Returns(data));
        var eval = Crucible("evaluate", "--real", returns, "--synthetic", scenarios, "--segments", segments, "--out", report, "--html", html);
        Assert.True(eval.Exit == 0, eval.Stderr);
        Assert.Contains("coverage:   2 segment(s), tolerance 0.25", eval.Stdout, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(report)))
        {
            var c = doc.RootElement.GetProperty("coverage");
            Assert.Equal(0.25, c.GetProperty("tolerance").GetDouble());
            Assert.Equal(["bond", "equity"], c.GetProperty("segments").EnumerateArray().Select(s => s.GetProperty("segment").GetString()));
        }

        Assert.Contains("id=\"coverage\"", File.ReadAllText(html), StringComparison.Ordinal);
        var evaluated = AuditLog.Read(CrucibleHome.Resolve(Home).AuditDatabase).Last(e => e.Kind == "evaluation.completed");
        using (var payload = JsonDocument.Parse(evaluated.Payload))
            Assert.Equal(Sha(segments), payload.RootElement.GetProperty("segments_sha256").GetString());
        Assert.Equal(2, Crucible("evaluate", "--real", returns, "--synthetic", scenarios, "--segments", Write("bad.json", "{\"r\": 3}"), "--out", report).Exit);
        Assert.Equal(2, Crucible("evaluate", "--real", returns, "--synthetic", scenarios, "--segments", "default", "--out", Path.Combine(_dir, "r2.json")).Exit); // names none of A, B, C

        string card = Path.Combine(_dir, "card.md"), cardHtml = Path.Combine(_dir, "card.html");
        var made = Crucible("model-card", "--model", stratified, "--report", report, "--out", card, "--html", cardHtml);
        Assert.True(made.Exit == 0, made.Stderr);
        var md = File.ReadAllText(card);
        Assert.Contains("| registry status | candidate |", md, StringComparison.Ordinal);
        Assert.Contains("| strata.C | bond |", md, StringComparison.Ordinal);
        Assert.Contains("## Coverage audit", md, StringComparison.Ordinal);
        Assert.Contains("| asset_class | bond | 0.01 |", md, StringComparison.Ordinal);
        Assert.Contains("## Limitations and assumptions", md, StringComparison.Ordinal);
        Assert.Contains("<section id=\"validation\">", File.ReadAllText(cardHtml), StringComparison.Ordinal);
        Assert.Equal(2, Crucible("model-card", "--model", Path.Combine(_dir, "none"), "--out", card).Exit);
    }

    // log returns of the price file, dated, invariant culture
    private static string Returns(string pricesPath)
    {
        var lines = File.ReadAllLines(pricesPath);
        var sb = new StringBuilder(lines[0]).Append('\n');
        double[]? previous = null;
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            var prices = cells.Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            if (previous is not null)
                sb.Append(cells[0]).Append(string.Concat(prices.Select((p, i) => "," + Math.Log(p / previous[i]).ToString("R", CultureInfo.InvariantCulture)))).Append('\n');
            previous = prices;
        }

        return sb.ToString();
    }

    [Fact]
    public void TheSameRun_GivesTheSameBytes_UnderInvariantGermanAndTurkishCultures_AndVerifiesUnderAnother()
    {
        // the runtime has real cultures (ICU, not invariant-globalization mode): otherwise this test would prove nothing
        Assert.Equal(",", CultureInfo.GetCultureInfo("de-DE").NumberFormat.NumberDecimalSeparator);
        Assert.Equal("ı", "I".ToLower(CultureInfo.GetCultureInfo("tr-TR")));

        string data = PriceFile(200), config = SmallConfig();
        string segments = Write("segments.json", """{"asset_class": {"A": "equity", "B": "equity", "C": "bond"}}""");
        var outputs = new Dictionary<string, string[]>();
        var trainManifests = new Dictionary<string, string>();
        foreach (var culture in new[] { "", "de-DE", "tr-TR" })
        {
            string tag = culture.Length == 0 ? "inv" : culture;
            var env = new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home-" + tag) };
            if (culture.Length > 0)
            {
                string posix = culture.Replace('-', '_') + ".UTF-8";
                env["LANG"] = posix;
                env["LC_ALL"] = posix;
                env["CRUCIBLE_CULTURE"] = culture;
            }

            string model = Path.Combine(_dir, "model-" + tag), csv = Path.Combine(_dir, "s-" + tag + ".csv");
            string report = Path.Combine(_dir, "report-" + tag + ".json"), card = Path.Combine(_dir, "card-" + tag + ".md");
            var train = CliProcess.Run(env, "train", "--data", data, "--steps", "8", "--config", config, "--seed", "4", "--train-end", "2020-08-31",
                "--segments", segments, "--stratify", "asset_class", "--out", model);
            Assert.True(train.Exit == 0, $"{culture}: {train.Stderr}");
            trainManifests[tag] = train.Stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            var generate = CliProcess.Run(env, "generate", "--model", model, "--count", "200", "--seed", "5", "--sampler", "dpm2m", "--sampling-steps", "10", "--out", csv);
            Assert.True(generate.Exit == 0, $"{culture}: {generate.Stderr}");
            var evaluate = CliProcess.Run(env, "evaluate", "--real", Write("returns.csv", Returns(data)), "--synthetic", csv, "--segments", segments, "--out", report);
            Assert.True(evaluate.Exit == 0, $"{culture}: {evaluate.Stderr}");
            var modelCard = CliProcess.Run(env, "model-card", "--model", model, "--report", report, "--out", card);
            Assert.True(modelCard.Exit == 0, $"{culture}: {modelCard.Stderr}");
            outputs[tag] = [.. new[] { Path.Combine(model, "weights.safetensors"), Path.Combine(model, "manifest.json"), csv, report, card }.Select(Sha)];

            // decimal option values are read with '.' whatever the culture (System.CommandLine alone read 0.04 as 4 under de-DE)
            var epsilon = CliProcess.Run(env, "privacy", "epsilon", "--noise-multiplier", "1.5", "--sampling-rate", "0.04", "--steps", "2250", "--delta", "1e-5", "--json");
            Assert.True(epsilon.Exit == 0, $"{culture}: {epsilon.Stderr}");
            outputs[tag] = [.. outputs[tag], epsilon.Stdout];
            Assert.Equal(2, CliProcess.Run(env, "privacy", "epsilon", "--noise-multiplier", "1,5", "--sampling-rate", "0.04", "--steps", "10", "--delta", "1e-5").Exit);

            // the run manifest records the same output hashes
            using var run = JsonDocument.Parse(File.ReadAllBytes(trainManifests[tag]));
            Assert.Equal(outputs[tag][..2], run.RootElement.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("sha256").GetString()));
            Assert.Equal(outputs[tag][0], run.RootElement.GetProperty("model_id").GetString());
        }

        Assert.Equal(outputs["inv"], outputs["de-DE"]);
        Assert.Equal(outputs["inv"], outputs["tr-TR"]);

        // the German run's manifest verifies in a Turkish process
        var verify = CliProcess.Run(new Dictionary<string, string> { ["LANG"] = "tr_TR.UTF-8", ["LC_ALL"] = "tr_TR.UTF-8", ["CRUCIBLE_CULTURE"] = "tr-TR" },
            "verify-run", trainManifests["de-DE"]);
        Assert.True(verify.Exit == 0, verify.Stdout + verify.Stderr);
        Assert.Contains("verified", verify.Stdout, StringComparison.Ordinal);

        // and a changed output is caught
        File.AppendAllText(Path.Combine(_dir, "model-de-DE", "manifest.json"), " ");
        Assert.Equal(3, CliProcess.Run("verify-run", trainManifests["de-DE"]).Exit);
    }
}
