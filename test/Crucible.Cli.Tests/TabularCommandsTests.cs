using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Governance.Audit;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible train</c>, <c>generate</c> and <c>demo</c> end to end in child processes of the built CLI (output
/// redirected, as in CI): exit codes, files, metadata, determinism, and no progress bar when output is redirected.
/// Models are tiny (a few dozen steps) so the class runs in seconds.
/// </summary>
public sealed class TabularCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-tabular-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The child's home folder (CRUCIBLE_HOME): a temporary one, never the real ~/.crucible.</summary>
    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    /// <summary>A price CSV of three correlated random walks on weekdays from 2020-01-01.</summary>
    private string PriceFile(int rows = 400) => TestPrices.Write(Path.Combine(_dir, "prices.csv"), rows);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static readonly string[] Small = ["--steps", "30", "--config"];

    private string SmallConfig()
    {
        string path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, """{"hidden": 32, "blocks": 1, "time_embedding": 16, "diffusion_steps": 100, "training": {"batch_size": 32, "warmup_steps": 5}}""");
        return path;
    }

    [Fact]
    public void Train_ResumingFromACheckpoint_SaysSoOnStderr_LeavingStdoutAsIs()
    {
        string data = PriceFile(), config = SmallConfig(), checkpoint = Path.Combine(_dir, "train.ckpt");
        string[] args = ["train", "--data", data, "--seed", "3", .. Small, config, "--checkpoint", checkpoint, "--checkpoint-every", "10", "--out"];
        var fresh = Crucible([.. args, Path.Combine(_dir, "m1")]);
        Assert.True(fresh.Exit == 0, fresh.Stderr);
        Assert.DoesNotContain("resuming", fresh.Stderr + fresh.Stdout, StringComparison.Ordinal); // no checkpoint yet: a fresh start
        Assert.True(File.Exists(checkpoint));

        var resumed = Crucible([.. args, Path.Combine(_dir, "m2")]);
        Assert.True(resumed.Exit == 0, resumed.Stderr);
        Assert.Contains($"resuming from step 30 of 30 (checkpoint {checkpoint})", resumed.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("resuming", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal(fresh.Stdout.Split('\n')[1], resumed.Stdout.Split('\n')[1]); // the "train rows:" line, as before
        Assert.Equal(Sha(Path.Combine(_dir, "m1", "weights.safetensors")), Sha(Path.Combine(_dir, "m2", "weights.safetensors")));
    }

    [Fact]
    public void TrainThenGenerate_WritesTheModelFolderAndScenarios_Deterministically()
    {
        string data = PriceFile(), config = SmallConfig();
        string m1 = Path.Combine(_dir, "m1"), m2 = Path.Combine(_dir, "m2");
        var t1 = Crucible(["train", "--data", data, "--columns", "A,C", "--train-end", "2020-12-31", "--seed", "3", .. Small, config, "--out", m1]);
        Assert.True(t1.Exit == 0, t1.Stderr);
        var t2 = Crucible(["train", "--data", data, "--columns", "A,C", "--train-end", "2020-12-31", "--seed", "3", .. Small, config, "--out", m2]);
        Assert.Equal(0, t2.Exit);

        // redirected output: no progress bar, no carriage returns
        Assert.DoesNotContain("\r", t1.Stderr + t1.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("steps/s", t1.Stderr, StringComparison.Ordinal);

        // the model folder: same data, config and seed ⇒ the same bytes
        Assert.Equal(Sha(Path.Combine(m1, "weights.safetensors")), Sha(Path.Combine(m2, "weights.safetensors")));
        Assert.Equal(Sha(Path.Combine(m1, "manifest.json")), Sha(Path.Combine(m2, "manifest.json")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(m1, "manifest.json")));
        var root = manifest.RootElement;
        Assert.Equal(["A", "C"], root.GetProperty("columns").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(Sha(Path.Combine(m1, "weights.safetensors")), root.GetProperty("weights").GetProperty("sha256").GetString());
        Assert.Equal(Sha(data), root.GetProperty("data").GetProperty("input_sha256").GetString());
        Assert.Equal("2020-12-31", root.GetProperty("data").GetProperty("train_end").GetString());
        Assert.Equal(30, root.GetProperty("training").GetProperty("steps").GetInt32());
        Assert.Equal(3UL, root.GetProperty("seed").GetUInt64());
        Assert.Equal("quantile_normal", root.GetProperty("config").GetProperty("transform").GetString());

        // generate: same seed ⇒ the same CSV; another seed ⇒ another CSV
        string s1 = Path.Combine(_dir, "s1.csv"), s2 = Path.Combine(_dir, "s2.csv"), s3 = Path.Combine(_dir, "s3.csv");
        var g1 = Crucible("generate", "--model", m1, "--count", "250", "--seed", "9", "--sampling-steps", "20", "--out", s1);
        Assert.True(g1.Exit == 0, g1.Stderr);
        Assert.Equal(0, Crucible("generate", "--model", m2, "--count", "250", "--seed", "9", "--sampling-steps", "20", "--out", s2).Exit);
        Assert.Equal(0, Crucible("generate", "--model", m1, "--count", "250", "--seed", "10", "--sampling-steps", "20", "--out", s3).Exit);
        Assert.Equal(File.ReadAllBytes(s1), File.ReadAllBytes(s2));
        Assert.NotEqual(File.ReadAllBytes(s1), File.ReadAllBytes(s3));

        var lines = File.ReadAllLines(s1);
        Assert.Equal("scenario,step,A,C", lines[0]);
        Assert.Equal(251, lines.Length);
        Assert.StartsWith("1,1,", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("250,1,", lines[250], StringComparison.Ordinal);
        var values = lines.Skip(1).SelectMany(l => l.Split(',').Skip(2)).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Assert.All(values, v => Assert.True(double.IsFinite(v) && Math.Abs(v) < 0.5, $"{v} is not a daily log return"));

        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s1.meta.json")));
        var m = meta.RootElement;
        Assert.Equal(root.GetProperty("weights").GetProperty("sha256").GetString(), m.GetProperty("model_id").GetString());
        Assert.Equal(Sha(s1), m.GetProperty("csv_sha256").GetString());
        Assert.Equal(250, m.GetProperty("rows").GetInt32());
        Assert.Equal(9UL, m.GetProperty("seed").GetUInt64());
        Assert.Equal("ddim", m.GetProperty("sampler").GetString());
        Assert.Equal(20, m.GetProperty("sampling_steps").GetInt32());
        Assert.Equal(Sha(data), m.GetProperty("input_data_sha256").GetString());
        Assert.Equal("log_returns", m.GetProperty("units").GetString());
        var created = DateTimeOffset.Parse(m.GetProperty("created").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow - created, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        Assert.EndsWith("Z", m.GetProperty("created").GetString(), StringComparison.Ordinal);

        // DDPM takes all T = 100 steps
        string s4 = Path.Combine(_dir, "s4.csv");
        Assert.Equal(0, Crucible("generate", "--model", m1, "--count", "10", "--sampler", "ddpm", "--out", s4).Exit);
        using var ddpm = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s4.meta.json")));
        Assert.Equal(100, ddpm.RootElement.GetProperty("sampling_steps").GetInt32());
        Assert.Equal(JsonValueKind.Null, ddpm.RootElement.GetProperty("timestep_spacing").ValueKind);

        // DPM-Solver++(2M) on uniform-angle timesteps
        string s5 = Path.Combine(_dir, "s5.csv");
        Assert.Equal(0, Crucible("generate", "--model", m1, "--count", "10", "--sampler", "dpm2m", "--spacing", "angle", "--sampling-steps", "25", "--out", s5).Exit);
        using var dpm = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s5.meta.json")));
        Assert.Equal("dpm2m", dpm.RootElement.GetProperty("sampler").GetString());
        Assert.Equal("uniform_angle", dpm.RootElement.GetProperty("timestep_spacing").GetString());
        Assert.Equal(25, dpm.RootElement.GetProperty("sampling_steps").GetInt32());
    }

    public static TheoryData<string[], string> BadTrainInput => new()
    {
        { ["--data", "no-such-file.csv"], "does not exist" },
        { ["--columns", "A,Z"], "Z" },
        { ["--train-end", "2019-01-01"], "--train-end" },
        { ["--train-end", "31/12/2020"], "YYYY-MM-DD" },
        { ["--kind", "lstm"], "--kind" },
        { ["--window", "5"], "--window" },
        { ["--steps", "0"], "--steps" },
    };

    [Theory]
    [MemberData(nameof(BadTrainInput))]
    public void Train_BadInput_ExitsTwo_WithoutStackTrace(string[] change, string expected)
    {
        string data = PriceFile(60);
        var args = new List<string> { "train", "--data", data, "--steps", "2", "--out", Path.Combine(_dir, "bad") };
        for (int i = 0; i < change.Length; i += 2)
        {
            int at = args.IndexOf(change[i]);
            if (at >= 0) args[at + 1] = change[i + 1];
            else args.AddRange([change[i], change[i + 1]]);
        }

        var (code, stdout, stderr) = Crucible([.. args]);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")));
        Assert.False(File.Exists(Path.Combine(Home, "audit.db")), "a failed run appends no audit entry");
    }

    [Fact]
    public void UsageErrors_ExitTwo()
    {
        Assert.Equal(2, Crucible("generate", "--model", "m", "--count", "3").Exit);                       // --out missing
        Assert.Equal(2, Crucible("generate", "--model", "m", "--count", "many", "--out", "x.csv").Exit); // not a number
        Assert.Equal(2, Crucible("train", "--data", "d.csv", "--out", "m", "--input", "yen").Exit);     // not an allowed value
    }

    [Fact]
    public void Train_BadConfig_ExitsTwo_NamingTheFileAndKey()
    {
        string data = PriceFile(60), config = Path.Combine(_dir, "typo.json");
        File.WriteAllText(config, "{\"hiden\": 32}");
        var (code, _, stderr) = Crucible("train", "--data", data, "--config", config, "--out", Path.Combine(_dir, "m"));
        Assert.Equal(2, code);
        Assert.Contains("typo.json", stderr, StringComparison.Ordinal);
        Assert.Contains("hiden", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_TabularConfigWithPacfWeight_ExitsTwo_NamingTheFileAndKey()
    {
        // the PACF regulariser compares lags within a sequence model's windows: on tabular rows it ended in an internal error (exit 1)
        string data = PriceFile(60), config = Path.Combine(_dir, "pacf.json"), model = Path.Combine(_dir, "m");
        File.WriteAllText(config, """{"hidden": 8, "blocks": 1, "time_embedding": 8, "diffusion_steps": 20, "training": {"pacf_weight": 0.1}}""");
        var (code, stdout, stderr) = Crucible("train", "--data", data, "--config", config, "--steps", "2", "--out", model);
        Assert.True(code == 2, $"exit {code}: {stderr}");
        Assert.Contains($"{config}: error [config]: training.pacf_weight applies to sequence models only", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(model));

        // 0, the default, is no regulariser: accepted
        File.WriteAllText(config, """{"hidden": 8, "blocks": 1, "time_embedding": 8, "diffusion_steps": 20, "training": {"pacf_weight": 0}}""");
        var zero = Crucible("train", "--data", data, "--config", config, "--steps", "2", "--out", model);
        Assert.True(zero.Exit == 0, zero.Stderr);
    }

    [Fact]
    public void Generate_OnACalibratedModel_AppliesTheCalibrationToItsSamplerOnly_AndSaysSo()
    {
        string data = PriceFile(120), model = Path.Combine(_dir, "calibrated"), config = Path.Combine(_dir, "calibrated.json");
        File.WriteAllText(config, """{"hidden": 32, "blocks": 1, "time_embedding": 16, "diffusion_steps": 100, "training": {"batch_size": 32, "warmup_steps": 5}, "calibration": {"rows": 500, "knots": 50}}""");
        Assert.Equal(0, Crucible(["train", "--data", data, "--steps", "5", "--config", config, "--out", model]).Exit);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json"))))
            Assert.Equal(500, manifest.RootElement.GetProperty("calibration").GetProperty("rows").GetInt32());

        string ddim = Path.Combine(_dir, "ddim.csv"), dpm = Path.Combine(_dir, "dpm.csv");
        var plain = Crucible("generate", "--model", model, "--count", "20", "--out", ddim);
        Assert.Equal(0, plain.Exit);
        Assert.DoesNotContain("note:", plain.Stdout, StringComparison.Ordinal);
        var other = Crucible("generate", "--model", model, "--count", "20", "--sampler", "dpm2m", "--out", dpm);
        Assert.Equal(0, other.Exit);
        Assert.Contains("calibrated for ddim-50", other.Stdout, StringComparison.Ordinal);
        bool Applied(string csv)
        {
            using var meta = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(csv, ".meta.json")));
            return meta.RootElement.GetProperty("marginal_calibration").GetBoolean();
        }

        Assert.True(Applied(ddim));
        Assert.False(Applied(dpm));
    }

    [Fact]
    public void Generate_BadInput_ExitsTwo()
    {
        string data = PriceFile(80), config = SmallConfig(), model = Path.Combine(_dir, "model");
        Assert.Equal(0, Crucible(["train", "--data", data, "--steps", "3", "--config", config, "--out", model]).Exit);
        string csv = Path.Combine(_dir, "s.csv");
        Assert.Equal(2, Crucible("generate", "--model", Path.Combine(_dir, "nowhere"), "--count", "5", "--out", csv).Exit);
        Assert.Equal(2, Crucible("generate", "--model", model, "--count", "0", "--out", csv).Exit);
        var tooMany = Crucible("generate", "--model", model, "--count", "5", "--sampling-steps", "101", "--out", csv);
        Assert.Equal(2, tooMany.Exit);
        Assert.Contains("1..100", tooMany.Stderr, StringComparison.Ordinal);

        // a tampered weights file is caught by the manifest's hash
        var weights = Path.Combine(model, "weights.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(weights, bytes);
        var tampered = Crucible("generate", "--model", model, "--count", "5", "--out", csv);
        Assert.Equal(2, tampered.Exit);
        Assert.Contains("model-integrity", tampered.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(csv));
    }

    [Fact]
    public void Demo_WritesReportScenariosAndMetadata()
    {
        string dir = Path.Combine(_dir, "demo");
        var (code, stdout, stderr) = Crucible("demo", "--out", dir, "--steps", "40", "--count", "400");
        Assert.True(code == 0, stderr);
        foreach (var file in new[] { "report.html", "report.json", "scenarios.csv", "scenarios.meta.json", "scenarios-stressed.csv", "scenarios-stressed.meta.json", "model/weights.safetensors", "model/manifest.json" })
        {
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
        }

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "report.json")));
        Assert.True(report.RootElement.GetProperty("ks_mean").GetDouble() is >= 0 and <= 1);
        Assert.True(report.RootElement.TryGetProperty("privacy", out _));
        Assert.Equal(10, report.RootElement.GetProperty("per_series").EnumerateObject().Count());
        // the regime window is half the 20-day scenarios, so the synthetic set's regime transitions are counted (null at 20)
        var regimes = report.RootElement.GetProperty("regimes");
        Assert.Equal(10, regimes.GetProperty("window").GetInt32());
        Assert.Equal(JsonValueKind.Number, regimes.GetProperty("calm_to_stressed")[1].ValueKind);
        Assert.Equal(JsonValueKind.Number, regimes.GetProperty("stressed_to_calm")[1].ValueKind);
        Assert.False(regimes.TryGetProperty("transitions_unavailable", out _));
        Assert.Equal(1 + (400 * 20), File.ReadAllLines(Path.Combine(dir, "scenarios.csv")).Length);
        using (var stressed = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "scenarios-stressed.meta.json"))))
        {
            // the demo's stress specification: realised volatility two training sd above the reference state, under guidance
            var m = stressed.RootElement;
            Assert.Equal("sequence", m.GetProperty("kind").GetString());
            Assert.Equal("vol=+2sd", m.GetProperty("stress").GetString());
            Assert.True(m.GetProperty("conditions").GetProperty("RV20").GetDouble() > 10);
            Assert.Equal(2.0, m.GetProperty("guidance").GetDouble());
        }

        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(Path.Combine(dir, "report.html")), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("ks_mean", stdout, StringComparison.Ordinal);

        // the model is registered in the demo's home
        string id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, "model", "weights.safetensors"))));
        Assert.Contains($"registered as {id[..16]}", stdout, StringComparison.Ordinal);
        var listed = Crucible("model", "list", "--home", dir);
        Assert.True(listed.Exit == 0, listed.Stderr);
        Assert.StartsWith(id, listed.Stdout, StringComparison.Ordinal);

        // the portfolio stress section: baseline, stressed and two sets of historical windows, in JSON and HTML
        var stress = report.RootElement.GetProperty("stress");
        Assert.Equal(["baseline", "stressed", "holdout", "gfc-2008"], stress.GetProperty("sets").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        foreach (var set in stress.GetProperty("sets").EnumerateArray())
        {
            Assert.Equal(20, set.GetProperty("steps").GetInt32());
            Assert.True(set.GetProperty("es").GetProperty("0.99").GetDouble() >= set.GetProperty("var").GetProperty("0.99").GetDouble());
        }

        Assert.Contains("<section id=\"stress\">", File.ReadAllText(Path.Combine(dir, "report.html")), StringComparison.Ordinal);

        // the comparison table: the diffusion model beside the baselines on the same holdout windows
        var compared = report.RootElement.GetProperty("generator_comparison").GetProperty("generators").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToArray();
        Assert.Equal("diffusion", compared[0]);
        Assert.Equal(3, compared.Length);
        Assert.Contains("<section id=\"generator-comparison\">", File.ReadAllText(Path.Combine(dir, "report.html")), StringComparison.Ordinal);

        // the coverage audit of the default segments, and the model card that quotes it
        var coverage = report.RootElement.GetProperty("coverage");
        Assert.Equal(["asset_class", "region", "cyclicality", "cyclicality"], coverage.GetProperty("segments").EnumerateArray().Select(s => s.GetProperty("dimension").GetString()));
        var card = File.ReadAllText(Path.Combine(dir, "model-card.md"));
        Assert.Contains("## Coverage audit", card, StringComparison.Ordinal);
        Assert.Contains("| asset_class | equity | 0.01 |", card, StringComparison.Ordinal);
        Assert.Contains("| train period | 2000-01-03 .. 2017-12-29 |", card, StringComparison.Ordinal);
        // the state columns come from the embedded file too: the manifest and the card name and hash it as the state input
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "model", "manifest.json"))))
        {
            var state = manifest.RootElement.GetProperty("state_data");
            Assert.Equal("ff10_treasury_demo.csv", state.GetProperty("input_file").GetString());
            Assert.Equal("Levels", state.GetProperty("input_kind").GetString());
            Assert.Equal(manifest.RootElement.GetProperty("data").GetProperty("input_sha256").GetString(), state.GetProperty("input_sha256").GetString());
        }
        Assert.Contains("| state file | ff10_treasury_demo.csv |", card, StringComparison.Ordinal);
        Assert.Contains("From the evaluation report with SHA-256 " + Sha(Path.Combine(dir, "report.json")), card, StringComparison.Ordinal);
        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(Path.Combine(dir, "model-card.html")), StringComparison.Ordinal);
        Assert.DoesNotContain("\r", stdout + stderr, StringComparison.Ordinal);

        // DIR is the demo's home (CRUCIBLE_HOME is not): it holds the audit log, its checkpoints and key, and verifies
        foreach (var file in new[] { "audit.db", "audit-checkpoints.jsonl", "keys/audit-checkpoint.pub.pem" })
        {
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
        }

        Assert.False(File.Exists(Path.Combine(Home, "audit.db")));
        var entries = AuditLog.Read(Path.Combine(dir, "audit.db"));
        // each step records what its command records: train (the registration, then its run.completed), generate twice
        // (scenarios.generated, then its run.completed), evaluate (evaluation.completed, then its run.completed), the
        // model card; every run.completed pins its step's run manifest
        Assert.Equal(["model.registered", "run.completed", "scenarios.generated", "run.completed", "scenarios.generated", "run.completed",
            "evaluation.completed", "run.completed", "run.completed"], entries.Select(e => e.Kind));
        Assert.Contains($"audit:      9 entries in {Path.Combine(dir, "audit.db")}", stdout, StringComparison.Ordinal);

        using var registeredEntry = JsonDocument.Parse(entries[0].Payload);
        Assert.Contains(Sha(Path.Combine(dir, "model", "weights.safetensors")), registeredEntry.RootElement.ToString(), StringComparison.Ordinal);
        using var trained = JsonDocument.Parse(entries[1].Payload);
        Assert.Equal(Sha(Path.Combine(dir, "model", "weights.safetensors")), trained.RootElement.GetProperty("model_id").GetString());
        Assert.Equal(Sha(Path.Combine(dir, "model", "manifest.json")), trained.RootElement.GetProperty("model_manifest_sha256").GetString());
        using var generated = JsonDocument.Parse(entries[2].Payload);
        Assert.Equal(Sha(Path.Combine(dir, "scenarios.csv")), generated.RootElement.GetProperty("csv_sha256").GetString());
        Assert.Equal(400, generated.RootElement.GetProperty("count").GetInt32());
        using var stressedEntry = JsonDocument.Parse(entries[4].Payload);
        Assert.Equal(Sha(Path.Combine(dir, "scenarios-stressed.csv")), stressedEntry.RootElement.GetProperty("csv_sha256").GetString());
        using var evaluated = JsonDocument.Parse(entries[6].Payload);
        Assert.Equal(Sha(Path.Combine(dir, "report.json")), evaluated.RootElement.GetProperty("report_sha256").GetString());
        Assert.Equal(Sha(Path.Combine(dir, "scenarios.csv")), evaluated.RootElement.GetProperty("synthetic_sha256").GetString());
        // PRIV-9 as crucible evaluate records it: the hash of report.json's privacy object bytes and its verdicts
        var privacySection = Encoding.UTF8.GetBytes(report.RootElement.GetProperty("privacy").GetRawText());
        var privacyEntry = evaluated.RootElement.GetProperty("privacy");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(privacySection)), privacyEntry.GetProperty("privacy_sha256").GetString());
        Assert.Equal(report.RootElement.GetProperty("privacy").GetProperty("share_within_bound").GetBoolean(), privacyEntry.GetProperty("share_within_bound").GetBoolean());
        var verify = Crucible("audit", "verify", "--home", dir);
        Assert.True(verify.Exit == 0, verify.Stdout + verify.Stderr);

        // one run manifest per step, in DIR/runs, printed in step order: every file read or written with its SHA-256, the
        // embedded demo CSV by name; verify-run passes on each, and each is pinned in the log by its step's run.completed
        var printed = stdout.Split('\n').Where(l => l.StartsWith("manifest:", StringComparison.Ordinal))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ToArray();
        Assert.Equal(Directory.GetFiles(Path.Combine(dir, "runs")).Order(StringComparer.Ordinal), printed.Order(StringComparer.Ordinal));
        var runs = printed.Select(p => JsonDocument.Parse(File.ReadAllBytes(p)).RootElement).ToArray();
        Assert.Equal(["train", "generate", "generate", "evaluate", "model-card"], runs.Select(r => r.GetProperty("kind").GetString()));
        string In(string name) => Path.Combine(dir, name);
        string[] modelFiles = [In("model/weights.safetensors"), In("model/manifest.json")];
        string[][] inputs = [[], modelFiles, modelFiles, [In("scenarios.csv"), In("scenarios-stressed.csv"), .. modelFiles], [.. modelFiles, In("report.json")]];
        string[][] outputs = [modelFiles, [In("scenarios.csv"), In("scenarios.meta.json")], [In("scenarios-stressed.csv"), In("scenarios-stressed.meta.json")],
            [In("report.json"), In("report.html")], [In("model-card.md"), In("model-card.html")]];
        for (int i = 0; i < runs.Length; i++)
        {
            var files = runs[i].GetProperty("inputs").EnumerateArray().Where(f => f.TryGetProperty("path", out _));
            Assert.Equal(inputs[i].Select(f => (f, Sha(f))), files.Select(f => (f.GetProperty("path").GetString()!, f.GetProperty("sha256").GetString()!)));
            Assert.Equal(outputs[i].Select(f => (f, Sha(f))),
                runs[i].GetProperty("outputs").EnumerateArray().Select(f => (f.GetProperty("path").GetString()!, f.GetProperty("sha256").GetString()!)));
            Assert.Equal(Sha(In("model/weights.safetensors")), runs[i].GetProperty("model_id").GetString());
            var checkedRun = Crucible("verify-run", printed[i], "--home", dir); // the files, and the pin of the manifest's bytes
            Assert.True(checkedRun.Exit == 0, checkedRun.Stdout + checkedRun.Stderr);
        }

        foreach (var i in new[] { 0, 3 }) // train and evaluate read the embedded CSV: a named input, its bytes' SHA-256
        {
            var named = runs[i].GetProperty("inputs")[0];
            Assert.Equal("ff10_treasury_demo.csv", named.GetProperty("name").GetString());
            Assert.Equal(trained.RootElement.GetProperty("input_sha256").GetString(), named.GetProperty("sha256").GetString());
        }

        Assert.Equal("vol=+2sd", runs[2].GetProperty("config").GetProperty("stress").GetString());
        Assert.Equal("1", runs[2].GetProperty("seed").GetString());
        foreach (var (entry, run) in new[] { (entries[1], printed[0]), (entries[3], printed[1]), (entries[5], printed[2]), (entries[7], printed[3]), (entries[8], printed[4]) })
        {
            using var pinned = JsonDocument.Parse(entry.Payload);
            Assert.Equal(Path.GetFileNameWithoutExtension(run), pinned.RootElement.GetProperty("run_id").GetString());
            Assert.Equal(Sha(run), pinned.RootElement.GetProperty("manifest_sha256").GetString());
        }

        // verify-run --recompute (MRM-2): every step done again from its manifest, byte for byte: the train step trained
        // again on the embedded data, the generate steps drawn again, the evaluation (with its stress and comparison
        // sections) evaluated again from the recorded scenario files and model, the model card built again
        foreach (var manifestPath in printed)
        {
            var recomputed = Crucible("verify-run", manifestPath, "--recompute");
            Assert.True(recomputed.Exit == 0, recomputed.Stdout + recomputed.Stderr);
            Assert.Contains("2/2 outputs recomputed identically", recomputed.Stdout, StringComparison.Ordinal);
        }

        // a report edited together with its recorded hash passes the file checks, not the recomputation
        File.AppendAllText(In("report.json"), " ");
        var evaluation = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(printed[3]))!;
        evaluation["outputs"]![0]!["sha256"] = Sha(In("report.json"));
        evaluation["outputs"]![0]!["bytes"] = new FileInfo(In("report.json")).Length;
        File.WriteAllText(printed[3], evaluation.ToJsonString());
        Assert.Equal(0, Crucible("verify-run", printed[3]).Exit);
        var forged = Crucible("verify-run", printed[3], "--recompute");
        Assert.True(forged.Exit == 3, forged.Stdout + forged.Stderr);
        Assert.Contains($"MISMATCH  recomputed {In("report.json")}", forged.Stdout, StringComparison.Ordinal);

        // generate finds the registered model by id in the demo's home
        var again = Crucible("generate", "--home", dir, "--model", id[..12], "--count", "2", "--sampling-steps", "5", "--out", Path.Combine(_dir, "from-demo.csv"));
        Assert.True(again.Exit == 0, again.Stderr);
    }

    [Fact]
    public void Train_ACheckpointInAFolderNotYetThere_IsWritten_AndOneOnTheModelFolderIsRefusedBeforeTraining()
    {
        // --checkpoint sub/train.ckpt (a folder not yet there: the model folder itself, or any other) ended the run with
        // "internal error: DirectoryNotFoundException" at the first checkpoint; --checkpoint MODEL/weights.safetensors
        // or --checkpoint MODEL (the --out folder) trained and then collided with the model's own files
        string data = PriceFile(), config = SmallConfig();
        string model = Path.Combine(_dir, "m"), checkpoint = Path.Combine(_dir, "sub", "train.ckpt");
        var r = Crucible(["train", "--data", data, "--steps", "2", "--config", config, "--checkpoint", checkpoint, "--checkpoint-every", "1", "--out", model]);
        Assert.True(r.Exit == 0, r.Stderr);
        Assert.True(File.Exists(checkpoint));

        foreach (var clash in new[] { Path.Combine(_dir, "m2"), Path.Combine(_dir, "m2", "weights.safetensors") })
        {
            r = Crucible(["train", "--data", data, "--steps", "2", "--config", config, "--checkpoint", clash, "--out", Path.Combine(_dir, "m2")]);
            Assert.True(r.Exit == 2, $"{clash}: exit {r.Exit}: {r.Stderr}");
            Assert.Contains("error [OUT-E-SAME]: --checkpoint and --out name the same file", r.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(_dir, "m2")));
            Assert.False(File.Exists(Path.Combine(_dir, "m2")));
        }
    }
}
