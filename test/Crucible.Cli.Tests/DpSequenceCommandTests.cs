using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible train --kind sequence --dp-*</c> end to end in child processes (RELIABILITY.md DP-8, DP-10, DP-11): the
/// statement per day (group privacy over k = W windows) or per window in the model manifest, the run manifest and the
/// model card; recompute in reproducible mode and its refusal in secure mode; the exit-2 refusals.
/// </summary>
public sealed class DpSequenceCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-seqdp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    private (string Prices, string State) Files() => TestPrices.Sequence(_dir);

    private string Config(string extra = "")
    {
        string path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 8, "warmup_steps": 1}""" + extra + "}");
        return path;
    }

    private static string ManifestPath(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];

    // the run manifest of the training run that printed `stdout` records the model's dp section, and verify-run --recompute
    // reproduces the run's two outputs
    private void AssertRunRecordsDpAndRecomputes(string stdout, JsonElement dp)
    {
        var manifest = ManifestPath(stdout);
        using (var run = JsonDocument.Parse(File.ReadAllBytes(manifest)))
            Assert.True(JsonElement.DeepEquals(dp, run.RootElement.GetProperty("dp")), run.RootElement.ToString());
        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainSequence_DpPerDay_StatementInManifestRunAndCard_RecomputeReproduces()
    {
        var (prices, _) = Files();
        string model = Path.Combine(_dir, "m");
        var (code, stdout, stderr) = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", Config(), "--steps", "4",
            "--dp-noise-multiplier", "3", "--dp-delta", "1e-4", "--out", model);
        Assert.True(code == 0, stderr);
        Assert.Contains("loss withheld", stdout, StringComparison.Ordinal);
        Assert.Contains("-DP per record (group privacy over the k = 5 windows", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json")));
        var p = doc.RootElement.GetProperty("privacy");
        Assert.Equal("record", p.GetProperty("unit").GetString());              // DP-8: a day, k = W
        Assert.Equal(5, p.GetProperty("group_size").GetInt32());
        Assert.Equal(119, p.GetProperty("units").GetInt32());                  // 119 days of returns
        Assert.Equal(115, p.GetProperty("dataset_size").GetInt32());           // 115 windows
        Assert.Equal(8.0 / 115, p.GetProperty("sample_rate").GetDouble(), 1e-12);
        Assert.Equal(5 * p.GetProperty("example_epsilon").GetDouble(), p.GetProperty("epsilon").GetDouble(), 1e-12);
        Assert.Equal(1e-4, p.GetProperty("delta").GetDouble());
        // DP-11: prices were read, but the last train prices are not in the manifest; the scale is the public one
        var data = doc.RootElement.GetProperty("data");
        Assert.True(!data.TryGetProperty("last_prices", out var last) || last.ValueKind == JsonValueKind.Null, data.ToString());
        Assert.Equal(0.02, doc.RootElement.GetProperty("affine").GetProperty("scale")[0].GetDouble());

        AssertRunRecordsDpAndRecomputes(stdout, p);

        // PRIV-7/DP-12: evaluate --model reads a sequence model's DP statement for the membership gate, as a tabular one's
        string real = TestPrices.Returns(Path.Combine(_dir, "real.csv"), 200, seed: 1), synthetic = TestPrices.Returns(Path.Combine(_dir, "synthetic.csv"), 200, seed: 2),
            train = TestPrices.Returns(Path.Combine(_dir, "train.csv"), 200, seed: 3), report = Path.Combine(_dir, "report.json");
        var evaluated = Crucible("evaluate", "--real", real, "--synthetic", synthetic, "--train", train, "--model", model, "--out", report);
        Assert.True(evaluated.Exit == 0, evaluated.Stderr);
        using (var evaluation = JsonDocument.Parse(File.ReadAllText(report)))
        {
            var gate = evaluation.RootElement.GetProperty("privacy").GetProperty("membership_inference").GetProperty("gate");
            Assert.Equal(p.GetProperty("epsilon").GetDouble(), gate.GetProperty("epsilon").GetDouble());
            Assert.Equal(1e-4, gate.GetProperty("delta").GetDouble());
        }

        var recomputed = Crucible("verify-run", ManifestPath(evaluated.Stdout), "--recompute");
        Assert.True(recomputed.Exit == 0, recomputed.Stdout + recomputed.Stderr);

        // DP-10: the model card carries the sequence statement
        var card = Path.Combine(_dir, "card.md");
        var carded = Crucible("model-card", "--model", model, "--out", card);
        Assert.True(carded.Exit == 0, carded.Stderr);
        var text = File.ReadAllText(card);
        Assert.Contains("trained with DP-SGD", text, StringComparison.Ordinal);
        Assert.Contains("group_size", text, StringComparison.Ordinal);
        Assert.Contains("group privacy over the k = 5 windows", text, StringComparison.Ordinal);

        // DP-11: the model folder and its card carry no exact hash of the private data; the home's run manifest keeps the
        // input file's hash (verify-run and --recompute above still check it)
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(prices)));
        Assert.Equal(JsonValueKind.Null, data.GetProperty("input_sha256").ValueKind);
        Assert.Equal(JsonValueKind.Null, data.GetProperty("train_matrix_sha256").ValueKind);
        Assert.DoesNotContain(sha, File.ReadAllText(Path.Combine(model, "manifest.json")), StringComparison.Ordinal);
        Assert.Contains("| input SHA-256 | withheld (DP-11", text, StringComparison.Ordinal);
        Assert.Contains("| train matrix SHA-256 (log returns, float64 LE, row-major) | withheld (DP-11", text, StringComparison.Ordinal);
        Assert.DoesNotContain(sha, text, StringComparison.Ordinal);
        using (var run = JsonDocument.Parse(File.ReadAllBytes(ManifestPath(stdout))))
            Assert.Contains(run.RootElement.GetProperty("inputs").EnumerateArray(), i => i.GetProperty("sha256").GetString() == sha);
    }

    [Fact]
    public void TrainSequence_DpPerWindowSecure_RecomputeRefused_AndTheUnsupportedCombinationsExitTwo()
    {
        var (prices, state) = Files();
        string model = Path.Combine(_dir, "w");
        var (code, stdout, stderr) = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", Config(), "--steps", "3",
            "--dp-noise-multiplier", "2", "--dp-delta", "1e-4", "--dp-unit", "window", "--dp-secure", "--out", model);
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json"))))
        {
            var p = doc.RootElement.GetProperty("privacy");
            Assert.Equal("window", p.GetProperty("unit").GetString());
            Assert.False(p.TryGetProperty("group_size", out _));
            Assert.True(p.GetProperty("secure_mode").GetBoolean());
        }

        var again = Crucible("verify-run", ManifestPath(stdout), "--recompute");
        Assert.Equal(2, again.Exit);
        Assert.Contains("secure mode (privacy.secure_mode)", again.Stderr, StringComparison.Ordinal);

        string refused = Path.Combine(_dir, "refused");
        void Refused(string expected, params string[] args)
        {
            var r = Crucible(["train", "--data", prices, "--kind", "sequence", "--window", "5", .. args, "--out", refused]);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(refused));
        }

        Refused("entity is not available for sequence models", "--steps", "2", "--dp-epsilon", "3", "--dp-unit", "entity");
        Refused("DP-E-PREPROCESS", "--steps", "2", "--dp-epsilon", "3", "--state", state, "--state-columns", "VIXCLS");
        // the plan's and the engine's DP-E-BUDGET refusals name the flag that set the value
        Refused("--dp-budget: error [DP-E-BUDGET]: per window, for unit record (a day in up to k = 5 windows", "--config", Config(), "--dp-noise-multiplier", "0.3", "--dp-budget", "1", "--steps", "100000");
        Refused("--dp-delta: error [DP-E-BUDGET]: delta 0.5 is not below 1/N", "--steps", "2", "--dp-epsilon", "3", "--dp-delta", "0.5");
        // a privacy section in the config with the data-fitted noise scales left on names the option
        Refused("volatility_adaptive", "--steps", "2", "--config", Config(""", "privacy": {"noise_multiplier": 3, "delta": 1e-4}"""));
        // a tabular model's unit is the record
        var tabular = Crucible("train", "--data", prices, "--steps", "2", "--dp-epsilon", "3", "--dp-unit", "window", "--out", refused);
        Assert.Equal(2, tabular.Exit);
        Assert.Contains("privacy.unit", tabular.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainSequence_DpPublicState_ConditionalModel_StatementNamesTheStateFile_RecomputeReproduces_AndWhatReadsTheReturnsExitsTwo()
    {
        var (prices, state) = Files();
        string model = Path.Combine(_dir, "c");
        var (code, stdout, stderr) = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", Config(), "--steps", "4",
            "--train-end", "2020-05-15", "--state", state, "--state-columns", "VIXCLS,TERM", "--dp-public-state", "--dp-noise-multiplier", "3",
            "--dp-delta", "1e-4", "--out", model);
        Assert.True(code == 0, stderr);
        Assert.Contains("conditioned on a public economic state (state.csv, SHA-256", stdout, StringComparison.Ordinal);
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(state)));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json")));
        var p = doc.RootElement.GetProperty("privacy");
        var inputs = p.GetProperty("public_state");
        Assert.Equal(sha, inputs.GetProperty("sha256").GetString());
        Assert.Equal(["VIXCLS", "TERM"], inputs.GetProperty("features").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal("2020-05-16", inputs.GetProperty("statistics_end").GetString());       // the state of the declared train end, the day after
        Assert.Equal("2020-05-16", doc.RootElement.GetProperty("conditions").GetProperty("reference_date").GetString());
        Assert.True(doc.RootElement.GetProperty("config").GetProperty("privacy").GetProperty("public_state").GetBoolean());

        AssertRunRecordsDpAndRecomputes(stdout, p);

        var scenarios = Path.Combine(_dir, "vix30.csv");
        var generated = Crucible("generate", "--model", model, "--count", "3", "--condition", "VIXCLS=30", "--sampling-steps", "5", "--seed", "1", "--out", scenarios);
        Assert.True(generated.Exit == 0, generated.Stderr);
        using (var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "vix30.meta.json"))))
            Assert.Equal(sha, meta.RootElement.GetProperty("privacy").GetProperty("public_state").GetProperty("sha256").GetString());

        var card = Path.Combine(_dir, "card.md");
        var carded = Crucible("model-card", "--model", model, "--out", card);
        Assert.True(carded.Exit == 0, carded.Stderr);
        Assert.Contains(sha, File.ReadAllText(card), StringComparison.Ordinal);

        string refused = Path.Combine(_dir, "refused");
        void Refused(string rule, string expected, params string[] args)
        {
            var r = Crucible(["train", "--data", prices, "--kind", "sequence", "--window", "5", "--steps", "2", "--dp-epsilon", "3", "--dp-delta", "1e-4", .. args, "--out", refused]);
            Assert.True(r.Exit == 2, $"{string.Join(' ', args)}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains(rule, r.Stderr, StringComparison.Ordinal);
            Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(refused));
        }

        Refused("DP-E-PREPROCESS", "--dp-public-state", "--state", state, "--state-columns", "VIXCLS");                        // no declaration
        Refused("DP-E-PREPROCESS", "RV20", "--state", state, "--state-columns", "VIXCLS,RV20", "--dp-public-state");           // from the returns
        Refused("DP-E-PREPROCESS", "RV20", "--state", state, "--dp-public-state");                                              // the default features hold it
        Refused("DP-E-PREPROCESS", "calibrate-guidance", "--state", state, "--state-columns", "VIXCLS", "--dp-public-state", "--calibrate-guidance", "covid-2020");
        Refused("DP-E-CONFIG", "--state", "--dp-public-state");                                                                  // nothing to declare
        var tabular = Crucible("train", "--data", prices, "--steps", "2", "--dp-epsilon", "3", "--dp-public-state", "--out", refused);
        Assert.Equal(2, tabular.Exit);
        Assert.Contains("OPT-E-KIND", tabular.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainSequence_DpPublicState_WithStateScale_RecordsItInTheStatement_ScalesTheDraws_AndWithoutTheColumnExitsTwo()
    {
        var (prices, state) = Files();
        string model = Path.Combine(_dir, "s");
        string config = Config(", \"state_scale\": \"VIXCLS\"");
        var (code, stdout, stderr) = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", config, "--steps", "4",
            "--train-end", "2020-05-15", "--state", state, "--state-columns", "VIXCLS,TERM", "--dp-public-state", "--dp-noise-multiplier", "3",
            "--dp-delta", "1e-4", "--out", model);
        Assert.True(code == 0, stderr);
        Assert.Contains("state scale: each window's returns divided by its VIXCLS / ", stdout, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json"))))
        {
            var scale = doc.RootElement.GetProperty("state_scale");
            Assert.Equal("VIXCLS", scale.GetProperty("feature").GetString());
            double reference = scale.GetProperty("reference").GetDouble();
            Assert.Equal(doc.RootElement.GetProperty("conditions").GetProperty("mean")[0].GetDouble(), reference);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"divided by its state's VIXCLS / {reference:G6} (state_scale"),
                doc.RootElement.GetProperty("privacy").GetProperty("statement").GetString(), StringComparison.Ordinal);
        }

        // the same seed at twice the level: the same model-space windows (w = 0), twice the returns
        double[] Draw(string vix)
        {
            var file = Path.Combine(_dir, $"vix{vix}.csv");
            var r = Crucible("generate", "--model", model, "--count", "4", "--condition", $"VIXCLS={vix}", "--guidance", "0", "--sampling-steps", "5", "--seed", "1", "--out", file);
            Assert.True(r.Exit == 0, r.Stderr);
            return [.. File.ReadAllLines(file).Skip(1).SelectMany(l => l.Split(',').Skip(2)).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
        }

        var (low, high) = (Draw("15"), Draw("30"));
        Assert.Equal(low.Length, high.Length);
        for (int i = 0; i < low.Length; i++) Assert.Equal(2 * low[i], high[i], 1e-9 * (1 + Math.Abs(high[i])));

        // stress --reverse/--adversarial --model without --condition VIXCLS=… set no level, so guidance has no single scale:
        // exit 2 naming the manifest and the option; rejection sampling (--guidance-scale 0) draws a level per window and runs
        string portfolio = Path.Combine(_dir, "portfolio.json");
        File.WriteAllText(portfolio, """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""");
        string report = Path.Combine(_dir, "reverse.json");
        string[] reverse = ["stress", "--scenarios", Path.Combine(_dir, "vix15.csv"), "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.05",
            "--history", prices, "--model", model, "--candidates", "8", "--top", "2", "--out", report];
        foreach (string[] args in new string[][] { [.. reverse, "--guidance-scale", "1"], [.. reverse.Where(a => a != "--reverse" && a != "--loss-threshold" && a != "0.05"), "--adversarial"] })
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains("state-scale", r.Stderr, StringComparison.Ordinal);
            Assert.Contains(Path.Combine(model, "manifest.json"), r.Stderr, StringComparison.Ordinal);
            Assert.Contains("--condition VIXCLS=VALUE", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(report));

            // with the level set, one s for every window: guided, the level recorded, and verify-run --recompute reproduces
            var leveled = Crucible([.. args, "--condition", "VIXCLS=24"]);
            Assert.True(leveled.Exit == 0, $"exit {leveled.Exit}\n{leveled.Stdout}\n{leveled.Stderr}");
            using (var doc = JsonDocument.Parse(File.ReadAllText(report)))
            {
                var section = doc.RootElement.GetProperty(args.Contains("--reverse") ? "reverse" : "adversarial");
                Assert.Equal(24, section.GetProperty("conditions").GetProperty("VIXCLS").GetDouble());
                if (args.Contains("--reverse")) Assert.Equal("guided", section.GetProperty("sampling").GetString());
            }

            var again = Crucible("verify-run", ManifestPath(leveled.Stdout), "--recompute");
            Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
            Assert.Contains("1/1 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
            File.Delete(report);
        }

        var rejection = Crucible([.. reverse, "--guidance-scale", "0"]);
        Assert.True(rejection.Exit == 0, rejection.Stderr);
        Assert.True(File.Exists(report));

        // a stress specification's moves are constraints on the returns, which need that one s as well: with
        // --guidance-scale 0, and in generate, a specification with moves and no level exits 2 at the move in --stress
        // (line 1, its column), saying what to add, before any draw; with the level in it, it runs
        File.Delete(report);
        string movesCsv = Path.Combine(_dir, "moves.csv");
        foreach (var (args, column) in new (string[], int)[]
        {
            ([.. reverse, "--guidance-scale", "0", "--stress", "TERM=+0.5, A<=-5%"], 12),
            (["generate", "--model", model, "--count", "2", "--sampling-steps", "5", "--stress", "mean(A,B)<=-2%", "--out", movesCsv], 1),
        })
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"--stress:1:{column}: error [state-scale]: the move "), r.Stderr, StringComparison.Ordinal);
            Assert.Contains("add a level, VIXCLS=VALUE as a condition or in the specification", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(report));
            Assert.False(File.Exists(movesCsv));
        }

        var movesWithLevel = Crucible([.. reverse, "--guidance-scale", "0", "--stress", "TERM=+0.5, A<=-5%, VIXCLS=30"]);
        Assert.True(movesWithLevel.Exit == 0, movesWithLevel.Stderr);
        Assert.True(File.Exists(report));

        string stateless = Path.Combine(_dir, "stateless.csv");
        File.WriteAllLines(stateless, File.ReadAllLines(state).Select(l => string.Join(',', l.Split(',').Where((_, i) => i != 1))));
        string refused = Path.Combine(_dir, "refused");
        foreach (var (file, columns, expected) in new[] { (stateless, "VIXCLS,TERM", "which the state file lacks"), (state, "TERM", "not among the condition features") })
        {
            var r = Crucible("train", "--data", prices, "--kind", "sequence", "--window", "5", "--config", config, "--steps", "2", "--state", file,
                "--state-columns", columns, "--out", refused);
            Assert.True(r.Exit == 2, $"{columns}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains("state-scale", r.Stderr, StringComparison.Ordinal);
            Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(refused));
        }
    }
}
