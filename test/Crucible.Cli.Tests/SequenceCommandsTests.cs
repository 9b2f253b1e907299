using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible train --kind sequence</c> and <c>generate</c> on a sequence model, end to end in child processes: the
/// state file, conditions and guidance, the scenario layout and metadata, determinism and input errors (exit 2).
/// </summary>
public sealed class SequenceCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-sequence-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private (string Prices, string State) Files(int rows = 120) => TestPrices.Sequence(_dir, rows);

    private string SmallConfig()
    {
        string path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""");
        return path;
    }

    [Fact]
    public void TrainSequence_ThenGenerateWithConditions_WritesWindowsAndMetadata_Deterministically()
    {
        var (prices, state) = Files();
        string config = SmallConfig(), model = Path.Combine(_dir, "m");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,TERM,RV20",
            "--steps", "12", "--config", config, "--seed", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        Assert.Contains("VIXCLS, TERM, RV20", t.Stdout, StringComparison.Ordinal);

        // registered as a candidate, with a run manifest that verifies
        string id = Sha(Path.Combine(model, "weights.safetensors"));
        Assert.Contains($"registered as {id}", t.Stdout, StringComparison.Ordinal);
        Assert.StartsWith(id, Crucible("model", "list").Stdout, StringComparison.Ordinal);
        var runManifest = Assert.Single(Directory.GetFiles(Path.Combine(Home, "runs")));
        Assert.Equal(0, Crucible("verify-run", runManifest).Exit);
        // MRM-2: trained again from the recorded data, state file and options, the model comes out byte-identical
        var again = Crucible("verify-run", runManifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
        using (var run = JsonDocument.Parse(File.ReadAllText(runManifest)))
        {
            // MRM-8: the data file's ingest counts, reconciled (the state file is read by its own reader)
            var quality = run.RootElement.GetProperty("outcome").GetProperty("data_quality");
            Assert.Equal(prices, quality.GetProperty("file").GetString());
            Assert.Equal(File.ReadAllLines(prices).Length - 1, quality.GetProperty("rows_in").GetInt64());
            Assert.Equal(quality.GetProperty("rows_in").GetInt64(), quality.GetProperty("rows_accepted").GetInt64() + quality.GetProperty("rows_rejected").GetInt64());
            Assert.Equal(64, quality.GetProperty("report_sha256").GetString()!.Length);
        }

        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json"))))
        {
            var root = manifest.RootElement;
            Assert.Equal("sequence", root.GetProperty("kind").GetString());
            Assert.Equal(5, root.GetProperty("config").GetProperty("window").GetInt32());
            Assert.Equal(["VIXCLS", "TERM", "RV20"], root.GetProperty("conditions").GetProperty("names").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(Sha(state), root.GetProperty("state_data").GetProperty("input_sha256").GetString());
        }

        string s1 = Path.Combine(_dir, "s1.csv"), s2 = Path.Combine(_dir, "s2.csv");
        string[] generate = ["generate", "--model", model, "--count", "7", "--seed", "3", "--sampling-steps", "10", "--condition", "vixcls=40", "--condition", "TERM=0.5", "--guidance", "2"];
        var g = Crucible([.. generate, "--out", s1]);
        Assert.True(g.Exit == 0, g.Stderr);
        Assert.Equal(0, Crucible([.. generate, "--out", s2]).Exit);
        Assert.Equal(File.ReadAllBytes(s1), File.ReadAllBytes(s2));

        // a condition outside the training range (the manifest's conditions.min/max) is drawn, warned on stderr and recorded
        string far = Path.Combine(_dir, "far.csv");
        var f = Crucible("generate", "--model", model, "--count", "2", "--sampling-steps", "5", "--condition", "VIXCLS=1000", "--out", far);
        Assert.True(f.Exit == 0, f.Stderr);
        Assert.Contains("warning: condition VIXCLS = 1000 is outside its training range [", f.Stderr, StringComparison.Ordinal);
        Assert.Contains("training sd above the maximum", f.Stderr, StringComparison.Ordinal);
        using (var farMeta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "far.meta.json"))))
        {
            var warning = Assert.Single(farMeta.RootElement.GetProperty("condition_warnings").EnumerateArray());
            Assert.Equal("VIXCLS", warning.GetProperty("feature").GetString());
            Assert.Equal(1000, warning.GetProperty("value").GetDouble());
            Assert.True(warning.GetProperty("standard_deviations_beyond").GetDouble() > 0);
        }

        var lines = File.ReadAllLines(s1);
        Assert.Equal("scenario,step,A,B", lines[0]);
        Assert.Equal(1 + (7 * 5), lines.Length);
        Assert.StartsWith("1,5,", lines[5], StringComparison.Ordinal);
        Assert.StartsWith("7,5,", lines[35], StringComparison.Ordinal);
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s1.meta.json")));
        var m = meta.RootElement;
        Assert.Equal("sequence", m.GetProperty("kind").GetString());
        Assert.Equal(2.0, m.GetProperty("guidance").GetDouble());
        Assert.Equal(40.0, m.GetProperty("conditions").GetProperty("VIXCLS").GetDouble());
        Assert.Equal(0.5, m.GetProperty("conditions").GetProperty("TERM").GetDouble());
        Assert.Equal(5, m.GetProperty("steps_per_scenario").GetInt32());
        Assert.Equal(7, m.GetProperty("scenarios").GetInt32());
        Assert.Equal(10, m.GetProperty("sampling_steps").GetInt32());
        Assert.Equal("ddim", m.GetProperty("sampler").GetString());
        Assert.False(m.TryGetProperty("guidance_min_noise", out _));

        // limited-interval guidance: recorded, and a different draw from guidance at every step
        string s3 = Path.Combine(_dir, "s3.csv");
        Assert.Equal(0, Crucible([.. generate, "--guidance-min-noise", "0.3", "--out", s3]).Exit);
        using var limited = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s3.meta.json")));
        Assert.Equal(0.3, limited.RootElement.GetProperty("guidance_min_noise").GetDouble());
        Assert.NotEqual(File.ReadAllBytes(s1), File.ReadAllBytes(s3));
        Assert.False(m.TryGetProperty("regime_guidance", out _));

        // regime guidance: recorded with its factor, and every value of the plain draw scaled by it
        string s4 = Path.Combine(_dir, "s4.csv");
        Assert.Equal(0, Crucible([.. generate, "--regime-guidance", "0.5", "--out", s4]).Exit);
        using var regime = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s4.meta.json")));
        Assert.Equal(0.5, regime.RootElement.GetProperty("regime_guidance").GetDouble());
        double k = regime.RootElement.GetProperty("regime_factor").GetDouble();
        Assert.NotEqual(1.0, k);
        var plain = File.ReadAllLines(s1)[1].Split(',');
        var scaled = File.ReadAllLines(s4)[1].Split(',');
        double p0 = double.Parse(plain[2], System.Globalization.CultureInfo.InvariantCulture), s0 = double.Parse(scaled[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(k * p0, s0, 1e-6 * Math.Abs(k * p0) + 1e-12);

        // a regime guidance whose factor exp(a·(ℓ_c − ℓ_∅)) overflows or underflows is refused by its flag, nothing written
        string s5 = Path.Combine(_dir, "s5.csv");
        var huge = Crucible([.. generate, "--regime-guidance", "1e300", "--out", s5]);
        Assert.True(huge.Exit == 2, huge.Stdout + huge.Stderr);
        Assert.Contains("--regime-guidance: error [OPT-E]: --regime-guidance 1E+300 scales every window of these conditions by k = exp(a·(ℓ_c − ℓ_∅))", huge.Stderr, StringComparison.Ordinal);
        Assert.Contains("give a smaller --regime-guidance", huge.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(s5));
    }

    [Fact]
    public void TrainWithCalibratedGuidance_SetsTheDefaultByTheRule_AndStoresTheEvidence()
    {
        var (prices, state) = Files();
        string config = SmallConfig(), model = Path.Combine(_dir, "cal"), model2 = Path.Combine(_dir, "cal-within");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,RV20",
            "--steps", "12", "--config", config, "--seed", "2", "--calibrate-guidance", "covid-2020", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        Assert.Contains("calibrated on covid-2020", t.Stdout, StringComparison.Ordinal);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json")));
        var root = manifest.RootElement;
        var c = root.GetProperty("guidance_calibration");
        Assert.Equal("covid-2020", c.GetProperty("episode").GetString());

        // the default rule: one DPM-Solver++(2M)-50 draw at w = 2, and the regime guidance it fits becomes the model's default
        Assert.Equal("regime", c.GetProperty("rule").GetString());
        Assert.Equal("dpm2m-50", c.GetProperty("sampler").GetString());
        Assert.Equal(2.0, c.GetProperty("chosen").GetDouble());
        Assert.Single(c.GetProperty("points").EnumerateArray());
        double a = c.GetProperty("regime_guidance").GetDouble();
        Assert.True(a >= 0);
        Assert.Equal(2.0, root.GetProperty("config").GetProperty("guidance_scale").GetDouble());
        Assert.Equal(a, root.GetProperty("config").TryGetProperty("regime_guidance", out var ra) ? ra.GetDouble() : 0.0);
        Assert.Equal(Math.Exp(a * (c.GetProperty("conditional_log_scale").GetDouble() - c.GetProperty("unconditional_log_scale").GetDouble())),
            c.GetProperty("regime_factor").GetDouble(), 12);

        // a request without --guidance samples at the calibrated w and a
        string csv = Path.Combine(_dir, "cal.csv");
        Assert.Equal(0, Crucible("generate", "--model", model, "--count", "3", "--sampling-steps", "5", "--condition", "VIXCLS=30", "--out", csv).Exit);
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "cal.meta.json")));
        Assert.Equal(2.0, meta.RootElement.GetProperty("guidance").GetDouble());
        if (a > 0) Assert.Equal(a, meta.RootElement.GetProperty("regime_guidance").GetDouble());
        else Assert.False(meta.RootElement.TryGetProperty("regime_guidance", out _));

        // session 4's rule: it stops at the first w within the band; without one it tries all eight and takes the closest
        t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,RV20",
            "--steps", "12", "--config", config, "--seed", "2", "--calibrate-guidance", "covid-2020", "--calibration-rule", "smallest-within", "--out", model2);
        Assert.True(t.Exit == 0, t.Stderr);
        // the same network (same data, config and seed) with another calibration: the weights' id names the first model,
        // so this one stays unregistered, said on both streams, and is used by its folder
        Assert.Contains("not registered", t.Stdout, StringComparison.Ordinal);
        Assert.Contains("REG-E-CONFLICT", t.Stderr, StringComparison.Ordinal);
        using var manifest2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(model2, "manifest.json")));
        var c2 = manifest2.RootElement.GetProperty("guidance_calibration");
        Assert.Equal("smallest_within_tolerance", c2.GetProperty("rule").GetString());
        double chosen = c2.GetProperty("chosen").GetDouble();
        Assert.Equal(chosen, manifest2.RootElement.GetProperty("config").GetProperty("guidance_scale").GetDouble());
        var points = c2.GetProperty("points").EnumerateArray().ToArray();
        Assert.InRange(points.Length, 1, 8);
        if (c2.GetProperty("within_tolerance").GetBoolean()) Assert.Equal(chosen, points[^1].GetProperty("guidance").GetDouble());
        else Assert.Equal(8, points.Length);
    }

    [Fact]
    public void TrainWithTheClosestRule_DrawsEveryScale_AtTheConfigsNoiseLevel()
    {
        var (prices, state) = Files();
        string config = Path.Combine(_dir, "closest.json"), model = Path.Combine(_dir, "closest");
        var small = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(SmallConfig()))!.AsObject();
        small["guidance_min_noise"] = 0.3;
        File.WriteAllText(config, small.ToJsonString());
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,RV20",
            "--steps", "12", "--config", config, "--seed", "2", "--calibrate-guidance", "covid-2020", "--calibration-rule", "closest", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        Assert.Contains("guidance at σ ≥ 0.3", t.Stdout, StringComparison.Ordinal);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json")));
        var c = manifest.RootElement.GetProperty("guidance_calibration");
        var points = c.GetProperty("points").EnumerateArray().Select(p => (W: p.GetProperty("guidance").GetDouble(), Es: p.GetProperty("expected_shortfall").GetDouble())).ToArray();
        Assert.Equal(Enumerable.Range(1, 8).Select(w => (double)w), points.Select(p => p.W));
        double realised = c.GetProperty("realised_es").GetDouble();
        Assert.Equal(points.OrderBy(p => Math.Abs(p.Es - realised)).First().W, c.GetProperty("chosen").GetDouble());
        Assert.Equal("closest_to_realised", c.GetProperty("rule").GetString());
        Assert.Equal(0.3, c.GetProperty("guidance_min_noise").GetDouble());
        Assert.Equal(0.3, manifest.RootElement.GetProperty("config").GetProperty("guidance_min_noise").GetDouble());
    }

    [Fact]
    public void BadSequenceInput_ExitsTwo_WithoutStackTrace()
    {
        var (prices, state) = Files(60);
        string config = SmallConfig(), model = Path.Combine(_dir, "m");
        void Fails(string expected, params string[] args)
        {
            var (code, stdout, stderr) = Crucible(args);
            Assert.True(code == 2, $"exit {code}: {stderr}");
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        }

        Fails("DGS10", "train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", prices, "--state-columns", "TERM", "--steps", "2", "--out", model);
        Fails("--state", "train", "--data", prices, "--kind", "sequence", "--state-columns", "VIXCLS", "--steps", "2", "--out", model);
        Fails("--window", "train", "--data", prices, "--kind", "sequence", "--window", "1", "--steps", "2", "--out", model);
        Assert.False(Directory.Exists(model));

        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS", "--steps", "2", "--config", config, "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        string csv = Path.Combine(_dir, "s.csv");
        Fails("NAME=VALUE", "generate", "--model", model, "--count", "2", "--condition", "VIXCLS:40", "--out", csv);
        Fails("HY", "generate", "--model", model, "--count", "2", "--condition", "HY=4", "--out", csv);
        Fails("guidance", "generate", "--model", model, "--count", "2", "--condition", "VIXCLS=40", "--guidance", "-1", "--out", csv);
        // trained on 2020 data: no gfc-2008 archetype, and the error says why (the state history given at training has no
        // state in the episode), with the manifest's train period beside it
        Fails("has no known condition state in the episode (2008-09-15 to 2009-03-09); archetypes come from the whole state history given at training",
            "generate", "--model", model, "--count", "2", "--stress", "gfc-2008", "--out", csv);
        Fails("not only the training data (2020-01-02 to 2020-03-24); the model's archetypes: covid-2020",
            "generate", "--model", model, "--count", "2", "--stress", "gfc-2008", "--out", csv);
        Fails("unknown episode", "train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS", "--steps", "2", "--calibrate-guidance", "dotcom-2000", "--out", model + "x");
        Fails("needs --state", "train", "--data", prices, "--kind", "sequence", "--window", "5", "--steps", "2", "--calibrate-guidance", "covid-2020", "--out", model + "x");
        Fails("holds no", "train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS", "--steps", "2", "--config", config, "--calibrate-guidance", "gfc-2008", "--out", model + "x");
        Fails("--kind sequence only", "train", "--data", prices, "--calibrate-guidance", "gfc-2008", "--out", model + "x");
        Fails("unknown rule 'nearest'", "train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS", "--steps", "2", "--calibrate-guidance", "covid-2020", "--calibration-rule", "nearest", "--out", model + "x");
        Fails("--calibration-rule needs --calibrate-guidance", "train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--steps", "2", "--calibration-rule", "closest", "--out", model + "x");
        Fails("--kind sequence only", "train", "--data", prices, "--calibration-rule", "closest", "--out", model + "x");
        Assert.False(Directory.Exists(model + "x"));
        Fails("minimum noise level", "generate", "--model", model, "--count", "2", "--condition", "VIXCLS=40", "--guidance-min-noise", "-1", "--out", csv);
        Assert.False(File.Exists(csv));
    }

    [Fact]
    public void GenerateWithStress_ResolvesConditionsAndMoves_RecordsThemAndTheViolationRate()
    {
        var (prices, state) = Files();
        string config = SmallConfig(), model = Path.Combine(_dir, "m");
        var t = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--state", state, "--state-columns", "VIXCLS,TERM,RV20",
            "--steps", "12", "--config", config, "--seed", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);

        // a shift of the reference state, an absolute value through an alias, and a joint move enforced by guidance
        string csv = Path.Combine(_dir, "stress.csv");
        var g = Crucible("generate", "--model", model, "--count", "20", "--seed", "5", "--sampling-steps", "10",
            "--stress", "vol=+2sd, vix=45, A<=-10%", "--guidance", "2", "--out", csv);
        Assert.True(g.Exit == 0, g.Stderr);
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "stress.meta.json")));
        var m = meta.RootElement;
        Assert.Equal("vol=+2sd, vix=45, A<=-10%", m.GetProperty("stress").GetString());
        Assert.Equal(45.0, m.GetProperty("conditions").GetProperty("VIXCLS").GetDouble());
        Assert.True(m.GetProperty("conditions").TryGetProperty("RV20", out _));
        Assert.Single(m.GetProperty("constraints").EnumerateArray());
        double violation = m.GetProperty("constraint_violation_rate").GetDouble();

        // every scenario's cumulative log return of A is at most ln(0.9), up to the guidance's tolerance
        var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToArray();
        var cumulative = rows.GroupBy(r => r[0]).Select(s => s.Sum(r => double.Parse(r[2], CultureInfo.InvariantCulture))).ToArray();
        Assert.Equal(20, cumulative.Length);
        double share = cumulative.Count(c => c > Math.Log(0.9) + 1e-6) / 20.0;
        Assert.Equal(share, violation, 10);
        Assert.True(share <= 0.1, $"{share:P0} of the scenarios break A<=-10%");

        // a name the model does not know is an input error naming the column of the term
        var bad = Crucible("generate", "--model", model, "--count", "2", "--stress", "VIXCLS=45,HYG<=-10%", "--out", Path.Combine(_dir, "bad.csv"));
        Assert.Equal(2, bad.Exit);
        Assert.Contains("HYG", bad.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", bad.Stderr, StringComparison.Ordinal);

        // moves that contradict each other on their face: exit 2 naming both, before anything is drawn
        var contradictory = Crucible("generate", "--model", model, "--count", "2", "--stress", "A<=-50%; A>=50%", "--out", Path.Combine(_dir, "contradictory.csv"));
        Assert.Equal(2, contradictory.Exit);
        Assert.Contains("--stress:1:10: error [STRESS-E-CONFLICT]: the moves 'A<=-50%' (column 1) and 'A>=50%' (column 10) contradict each other", contradictory.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "contradictory.csv")));
    }
}
