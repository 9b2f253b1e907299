using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible train --dp-*</c> end to end in child processes: the DP statement in the model manifest and in the run
/// manifest, and the budget refusal.
/// </summary>
public sealed class DpTrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-dp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    private string Returns(int rows, string name = "returns.csv", int seed = 5) => TestPrices.Returns(Path.Combine(_dir, name), rows, seed);

    private string SmallConfig()
    {
        var path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 20, "warmup_steps": 2}}""");
        return path;
    }

    [Fact]
    public void Train_WithTargetEpsilon_WritesTheDpStatement()
    {
        string data = Returns(300), model = Path.Combine(_dir, "m");
        var (code, stdout, stderr) = Crucible("train", "--data", data, "--input", "log-returns", "--config", SmallConfig(), "--steps", "20",
            "--dp-epsilon", "2", "--dp-delta", "1e-4", "--dp-max-grad-norm", "0.5", "--out", model);
        Assert.True(code == 0, stderr);
        Assert.Contains("privacy:", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json")));
        var p = doc.RootElement.GetProperty("privacy");
        Assert.InRange(p.GetProperty("epsilon").GetDouble(), 1.98, 2.0);
        Assert.Equal(1e-4, p.GetProperty("delta").GetDouble());
        Assert.Equal(0.5, p.GetProperty("max_grad_norm").GetDouble());
        Assert.Equal(20.0 / 300, p.GetProperty("sample_rate").GetDouble(), 1e-12);
        Assert.Equal(20, p.GetProperty("steps").GetInt64());
        Assert.Equal("record", p.GetProperty("unit").GetString()); // DP-8: the unit of privacy, named
        Assert.Contains("-DP per record:", p.GetProperty("statement").GetString(), StringComparison.Ordinal);
        Assert.Equal("none", doc.RootElement.GetProperty("config").GetProperty("transform").GetString());
        // the run manifest's dp field is the model manifest's DP statement, key for key and value for value
        var run = RunManifest(stdout);
        Assert.True(JsonElement.DeepEquals(p, run.GetProperty("dp")), run.GetProperty("dp").ToString());
        Assert.Equal(0, Crucible("verify-run", ManifestPath(stdout)).Exit);
        // the shadow attack repeats the private training at the model's q on smaller shadow sets
        string real = Returns(200, "real.csv", 7), synthetic = Path.Combine(_dir, "s.csv"), report = Path.Combine(_dir, "r.json");
        Assert.Equal(0, Crucible("generate", "--model", model, "--count", "300", "--sampling-steps", "10", "--out", synthetic).Exit);
        // DP-10: the scenarios' metadata carries the model's DP statement, member for member
        using (var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s.meta.json"))))
            Assert.True(JsonElement.DeepEquals(p, meta.RootElement.GetProperty("privacy")), meta.RootElement.ToString());
        var evaluated = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", data, "--model", model,
            "--shadow-models", "1", "--shadow-steps", "5", "--out", report);
        Assert.True(evaluated.Exit == 0, evaluated.Stderr);
        Assert.Contains("shadow MIA:", evaluated.Stdout, StringComparison.Ordinal);
        // the evaluation read the model (its shadows repeat its training): its files and id are in the evaluation's manifest
        var evaluation = RunManifest(evaluated.Stdout);
        Assert.Equal(doc.RootElement.GetProperty("weights").GetProperty("sha256").GetString(), evaluation.GetProperty("model_id").GetString());
        Assert.Equal([real, synthetic, data, Path.Combine(model, "weights.safetensors"), Path.Combine(model, "manifest.json")],
            evaluation.GetProperty("inputs").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.False(evaluation.TryGetProperty("dp", out _)); // the statement belongs to the training run
        Assert.Equal(0, Crucible("verify-run", ManifestPath(evaluated.Stdout)).Exit);
        // PRIV-7/DP-12: the model's (epsilon, delta) reach both membership gates, which check TPR <= e^eps*FPR + delta (+ the CI half-width)
        using (var evaluatedReport = JsonDocument.Parse(File.ReadAllText(report)))
        {
            foreach (var attack in new[] { "membership_inference", "shadow_membership_inference" })
            {
                var gate = evaluatedReport.RootElement.GetProperty("privacy").GetProperty(attack).GetProperty("gate");
                Assert.Equal(p.GetProperty("epsilon").GetDouble(), gate.GetProperty("epsilon").GetDouble());
                Assert.Equal(1e-4, gate.GetProperty("delta").GetDouble());
                Assert.True(gate.GetProperty("dp_bound_fpr_1pct").GetDouble() > Math.Exp(p.GetProperty("epsilon").GetDouble()) * 0.01);
                Assert.Contains("DP-12", gate.GetProperty("rule").GetString(), StringComparison.Ordinal);
            }
        }
        Assert.Contains("DP-12 ≤", evaluated.Stdout, StringComparison.Ordinal);
        // --model without --shadow-models: the model is read for its DP statement alone
        var withoutShadows = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", data, "--model", model, "--out", report);
        Assert.True(withoutShadows.Exit == 0, withoutShadows.Stderr);
        using (var evaluatedReport = JsonDocument.Parse(File.ReadAllText(report)))
            Assert.Equal(p.GetProperty("epsilon").GetDouble(),
                evaluatedReport.RootElement.GetProperty("privacy").GetProperty("membership_inference").GetProperty("gate").GetProperty("epsilon").GetDouble());
        Assert.Contains("loss withheld", stdout, StringComparison.Ordinal);
        var log = Crucible("audit", "log", "--json");
        Assert.Contains("-DP per record", log.Stdout, StringComparison.Ordinal); // the run.completed entry carries the statement
    }

    // 10 DP-SGD steps at σ = 1.5, δ = 1e-3 on 200 days of log returns, into the folder m: (the data file, the model folder, stdout)
    private (string Data, string Model, string Stdout) TrainWithNoiseMultiplier()
    {
        string data = Returns(200), model = Path.Combine(_dir, "m");
        var (code, stdout, stderr) = Crucible("train", "--data", data, "--input", "log-returns", "--config", SmallConfig(), "--steps", "10",
            "--dp-noise-multiplier", "1.5", "--dp-delta", "1e-3", "--out", model);
        Assert.True(code == 0, stderr);
        return (data, model, stdout);
    }

    [Fact]
    public void Train_WithNoiseMultiplier_PutsTheDpStatementInTheRunManifest()
    {
        var (_, model, stdout) = TrainWithNoiseMultiplier();
        var dp = RunManifest(stdout).GetProperty("dp");
        Assert.Equal(1.5, dp.GetProperty("noise_multiplier").GetDouble());
        Assert.Equal(20.0 / 200, dp.GetProperty("sample_rate").GetDouble(), 1e-12);
        Assert.Equal(10, dp.GetProperty("steps").GetInt64());
        Assert.Equal(1e-3, dp.GetProperty("delta").GetDouble());
        Assert.Equal("rdp", dp.GetProperty("accountant").GetString());
        Assert.True(dp.GetProperty("epsilon").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, dp.GetProperty("target_epsilon").ValueKind); // σ was given, not calibrated
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json")));
        Assert.True(JsonElement.DeepEquals(doc.RootElement.GetProperty("privacy"), dp));
    }

    [Fact]
    public void Train_Dp_RunCompletedRecordsTheInputHash_FromTheRunManifest_AndRecomputeReproduces()
    {
        // DP-11 withholds the data's hashes from the model manifest; the internal audit log still identifies the data
        var (data, model, stdout) = TrainWithNoiseMultiplier();
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(data)));
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json"))))
            Assert.Equal(JsonValueKind.Null, manifest.RootElement.GetProperty("data").GetProperty("input_sha256").ValueKind);
        Assert.DoesNotContain(sha, File.ReadAllText(Path.Combine(model, "manifest.json")), StringComparison.Ordinal);

        var entries = global::Crucible.Governance.Audit.AuditLog.Read(Path.Combine(_dir, "home", "audit.db"));
        var completed = JsonDocument.Parse(entries.Single(e => e.Kind == "run.completed").Payload).RootElement;
        Assert.Equal(sha, completed.GetProperty("input_sha256").GetString());
        Assert.Equal(RunManifest(stdout).GetProperty("inputs")[0].GetProperty("sha256").GetString(), completed.GetProperty("input_sha256").GetString());
        Assert.Equal(JsonValueKind.Null, completed.GetProperty("train_matrix_sha256").ValueKind); // not in the run manifest: stays null
        Assert.True(completed.TryGetProperty("dp", out _));

        var recomputed = Crucible("verify-run", ManifestPath(stdout), "--recompute");
        Assert.True(recomputed.Exit == 0, recomputed.Stdout + recomputed.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", recomputed.Stdout, StringComparison.Ordinal);
        var verified = Crucible("audit", "verify");
        Assert.True(verified.Exit == 0, verified.Stdout + verified.Stderr);
    }

    /// <summary>The path on the run's <c>manifest:</c> line.</summary>
    private static string ManifestPath(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];

    [Fact]
    public void Evaluate_WithoutModel_TakesEpsilonFromTheScenarioMetadata_OnlyWhenItIsThisFiles()
    {
        var (data, model, _) = TrainWithNoiseMultiplier();
        string real = Returns(200, "real.csv", 7), synthetic = Path.Combine(_dir, "s.csv"), report = Path.Combine(_dir, "r.json");
        Assert.Equal(0, Crucible("generate", "--model", model, "--count", "300", "--sampling-steps", "10", "--out", synthetic).Exit);
        double epsilon;
        using (var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s.meta.json"))))
            epsilon = meta.RootElement.GetProperty("privacy").GetProperty("epsilon").GetDouble();

        // DP-12 from s.meta.json (its csv_sha256 is s.csv's): the gate checks the bound and names where epsilon came from
        var evaluated = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", data, "--out", report);
        Assert.True(evaluated.Exit == 0, evaluated.Stderr);
        using (var r = JsonDocument.Parse(File.ReadAllText(report)))
        {
            var gate = r.RootElement.GetProperty("privacy").GetProperty("membership_inference").GetProperty("gate");
            Assert.Equal(epsilon, gate.GetProperty("epsilon").GetDouble());
            Assert.Equal(1e-3, gate.GetProperty("delta").GetDouble());
            Assert.Equal("s.meta.json", gate.GetProperty("dp_source").GetString());
            Assert.Contains("(from s.meta.json, the scenario file's metadata, its csv_sha256 checked)", gate.GetProperty("rule").GetString(), StringComparison.Ordinal);
        }

        Assert.Contains("from s.meta.json", evaluated.Stdout, StringComparison.Ordinal);
        // the metadata is a recorded input of the run, and the recompute reads it again
        var run = RunManifest(evaluated.Stdout);
        Assert.Contains(Path.Combine(_dir, "s.meta.json"), run.GetProperty("inputs").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        var again = Crucible("verify-run", ManifestPath(evaluated.Stdout), "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);

        // with --model, the model's manifest gives it (no dp_source, as before)
        Assert.Equal(0, Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", data, "--model", model, "--out", report).Exit);
        using (var r = JsonDocument.Parse(File.ReadAllText(report)))
            Assert.False(r.RootElement.GetProperty("privacy").GetProperty("membership_inference").GetProperty("gate").TryGetProperty("dp_source", out _));

        // another file beside a copy of that metadata: not its statement, so no DP-12 check, and a warning says why
        var lines = File.ReadAllLines(synthetic);
        File.WriteAllLines(Path.Combine(_dir, "t.csv"), lines.Take(lines.Length - 1));
        File.Copy(Path.Combine(_dir, "s.meta.json"), Path.Combine(_dir, "t.meta.json"));
        var stale = Crucible("evaluate", "--real", real, "--synthetic", Path.Combine(_dir, "t.csv"), "--train", data, "--out", report);
        Assert.True(stale.Exit == 0, stale.Stderr);
        Assert.Contains("warning: t.meta.json carries a DP statement but is not this file's metadata", stale.Stderr, StringComparison.Ordinal);
        using (var r = JsonDocument.Parse(File.ReadAllText(report)))
            Assert.False(r.RootElement.GetProperty("privacy").GetProperty("membership_inference").GetProperty("gate").TryGetProperty("epsilon", out _));
    }

    /// <summary>The run manifest the run printed, parsed.</summary>
    private static JsonElement RunManifest(string stdout)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(ManifestPath(stdout)));
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Train_OverBudget_ExitsTwoBeforeTraining()
    {
        string data = Returns(300), model = Path.Combine(_dir, "m");
        // a billion steps of the small model (thousands of steps a second here) would train for days: an answer within
        // two minutes, loaded machine and process start-up included, came before training
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, stderr) = Crucible("train", "--data", data, "--input", "log-returns", "--config", SmallConfig(), "--steps", "1000000000",
            "--dp-noise-multiplier", "0.5", "--dp-delta", "1e-4", "--dp-budget", "3", "--out", model);
        Assert.Equal(2, code);
        Assert.Contains("above the declared budget 3", stderr, StringComparison.Ordinal);
        Assert.Contains("--dp-budget: error [DP-E-BUDGET]: ", stderr, StringComparison.Ordinal); // the flag that set the budget
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(model));
        Assert.True(clock.Elapsed.TotalSeconds < 120, $"refused after {clock.Elapsed.TotalSeconds:F1} s: it trained first");

        var both = Crucible("train", "--data", data, "--input", "log-returns", "--dp-epsilon", "1", "--dp-noise-multiplier", "1", "--out", model);
        Assert.Equal(2, both.Exit);
    }

    [Fact]
    public void Train_BadDpValue_NamesTheFlagGiven_OrTheConfigKey()
    {
        string data = Returns(300), model = Path.Combine(_dir, "m");
        void Refused(string expected, string unexpected, params string[] args)
        {
            var (code, _, stderr) = Crucible(["train", "--data", data, "--input", "log-returns", "--steps", "2", .. args, "--out", model]);
            Assert.Equal(2, code);
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(unexpected, stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(model));
        }

        // a value from a flag is named by the flag, not by the config key it sets
        Refused("--dp-epsilon must be a finite number > 0", "privacy.target_epsilon", "--dp-epsilon", "0");
        Refused("--dp-budget must be a finite number > 0", "privacy.epsilon_budget", "--dp-noise-multiplier", "1", "--dp-budget", "0");
        Refused("--dp-delta must be in (0, 1)", "privacy.delta", "--dp-epsilon", "2", "--dp-delta", "1");
        Refused("--dp-sample-rate must be in (0, 1]", "privacy.sample_rate", "--dp-epsilon", "2", "--dp-sample-rate", "2");
        Refused("--dp-max-grad-norm must be a finite number > 0", "privacy.max_grad_norm", "--dp-epsilon", "2", "--dp-max-grad-norm", "0");
        // a value from the config file keeps its key, beside a flag that sets another value
        string config = Path.Combine(_dir, "dp.json");
        File.WriteAllText(config, """{"privacy": {"target_epsilon": 2, "epsilon_budget": 0}}""");
        Refused("privacy.epsilon_budget must be a finite number > 0", "--dp-budget", "--config", config, "--dp-delta", "1e-4");
    }

    [Fact]
    public void Train_DpBudgetRefusal_NamesTheFlagGiven_OrTheConfigKey()
    {
        // the engine's refusals (δ ≥ 1/N for the 299 train rows, ε over the budget) name the setting as the user gave it
        string data = Returns(300), model = Path.Combine(_dir, "m");
        void Refused(string expected, string unexpected, params string[] args)
        {
            var (code, _, stderr) = Crucible(["train", "--data", data, "--input", "log-returns", .. args, "--out", model]);
            Assert.True(code == 2, $"exit {code}: {stderr}");
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(unexpected, stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(model));
        }

        Refused("--dp-delta: error [DP-E-BUDGET]: delta 0.01 is not below 1/N", "privacy.delta", "--config", SmallConfig(), "--steps", "2", "--dp-epsilon", "2", "--dp-delta", "0.01");
        // a value from the config file keeps its key, beside flags that set other values
        string config = Path.Combine(_dir, "dp.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 20, "warmup_steps": 2}, "transform": "none", "volatility_adaptive": false, "whiten": false, "privacy": {"noise_multiplier": 0.5, "delta": 0.01}}""");
        Refused("privacy.delta: error [DP-E-BUDGET]: delta 0.01 is not below 1/N", "--dp-delta", "--config", config, "--steps", "2", "--dp-budget", "3");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 20, "warmup_steps": 2}, "transform": "none", "volatility_adaptive": false, "whiten": false, "privacy": {"noise_multiplier": 0.5, "epsilon_budget": 3}}""");
        Refused("privacy.epsilon_budget: error [DP-E-BUDGET]: the configuration spends epsilon", "--dp-budget", "--config", config, "--dp-delta", "1e-4", "--steps", "100000");
        // the default budget (no config file, or one without the key) is named by the flag that would change it
        Refused("--dp-budget: error [DP-E-BUDGET]: the configuration spends epsilon", "privacy.epsilon_budget", "--dp-noise-multiplier", "0.5", "--dp-delta", "1e-4", "--steps", "100000");
        Refused("--dp-budget: error [DP-E-BUDGET]: the configuration spends epsilon", "privacy.epsilon_budget", "--config", SmallConfig(), "--dp-noise-multiplier", "0.5", "--dp-delta", "1e-4", "--steps", "100000");
    }

    [Fact]
    public void Evaluate_WithSensitiveAndShadowModels_ReportsTheAttacks()
    {
        string train = Returns(300), real = Returns(300, "real.csv", 6), model = Path.Combine(_dir, "m"), synthetic = Path.Combine(_dir, "s.csv");
        Assert.Equal(0, Crucible("train", "--data", train, "--input", "log-returns", "--config", SmallConfig(), "--steps", "20", "--out", model).Exit);
        Assert.Equal(0, Crucible("generate", "--model", model, "--count", "400", "--sampling-steps", "10", "--out", synthetic).Exit);
        using (var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s.meta.json"))))
            Assert.False(meta.RootElement.TryGetProperty("privacy", out _)); // no DP-SGD: no DP statement, the metadata as before
        var json = Path.Combine(_dir, "report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", train, "--sensitive", "B",
            "--model", model, "--shadow-models", "2", "--shadow-steps", "10", "--out", json, "--html", Path.Combine(_dir, "report.html"));
        Assert.True(code == 0, stderr);
        Assert.Contains("shadow MIA:", stdout, StringComparison.Ordinal);
        Assert.Contains("attribute:  B", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var privacy = doc.RootElement.GetProperty("privacy");
        Assert.Equal(2, privacy.GetProperty("shadow_membership_inference").GetProperty("shadow_models").GetInt32());
        // PRIV-7: each attack carries its gate; a model without DP has no epsilon, so the chance bound alone
        foreach (var attack in new[] { "membership_inference", "shadow_membership_inference" })
        {
            var gate = privacy.GetProperty(attack).GetProperty("gate");
            Assert.Equal(global::Crucible.Evaluation.Privacy.MembershipGate.ChanceBound(gate.GetProperty("members").GetInt32(), gate.GetProperty("non_members").GetInt32()), gate.GetProperty("bound").GetDouble(), 12);
            Assert.False(gate.TryGetProperty("epsilon", out _));
            Assert.Equal(gate.GetProperty("passed").GetBoolean(), gate.GetProperty("within_chance").GetBoolean());
        }
        Assert.Equal("B", privacy.GetProperty("attribute_inference")[0].GetProperty("column").GetString());
        Assert.True(privacy.TryGetProperty("outlier_risk", out _));

        var noTrain = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--sensitive", "B", "--out", json);
        Assert.Equal(2, noTrain.Exit);
        var unknown = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", train, "--sensitive", "Z", "--out", json);
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("'Z'", unknown.Stderr, StringComparison.Ordinal);
    }
}
