using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>--json</c> of <c>stress</c>, <c>ensemble</c>, <c>compare</c>, <c>backtest</c> and <c>baseline</c> (session 24,
/// as session 23's <c>train</c>, <c>generate</c> and <c>evaluate</c>): stdout is one JSON document and nothing else, its
/// figures are the report file's exactly (the full doubles, not the summary's rounding), its paths, run and audit entry
/// are those written, the summary goes to stderr, and an error prints no document (exit code and stderr line as without
/// <c>--json</c>).
/// </summary>
public sealed class JsonResultStressCommandsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-json-stress-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private string Temp(string name) => Path.Combine(_dir, name);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static string StressFixture(string name) => TestRepo.Fixture("Crucible.Stress.Tests", name);

    // stdout: exactly one line, one JSON object
    private static JsonElement Document(string stdout) => JsonStdout.Single(stdout);

    private static JsonElement Parse(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    // the document's run: its manifest (absolute path, this run id and kind, the output's hash) and its run.completed
    // entry in the audit log (audit_seq, as audit log --json lists it, pinning that manifest)
    private void AssertRun(JsonElement d, string kind, string output)
    {
        string runId = d.GetProperty("run_id").GetString()!, path = d.GetProperty("run_manifest").GetString()!;
        Assert.True(Path.IsPathFullyQualified(path), path);
        var manifest = Parse(path);
        Assert.Equal(runId, manifest.GetProperty("run_id").GetString());
        Assert.Equal(kind, manifest.GetProperty("kind").GetString());
        Assert.Contains(manifest.GetProperty("outputs").EnumerateArray(), f => f.GetProperty("sha256").GetString() == Sha(output));

        Assert.Equal(Path.GetFullPath(Path.Combine(Home, "audit.db")), d.GetProperty("audit_database").GetString());
        long seq = d.GetProperty("audit_seq").GetInt64();
        var log = Crucible("audit", "log", "--from", seq.ToString(CultureInfo.InvariantCulture), "--limit", "1", "--json");
        Assert.True(log.Exit == 0, log.Stderr);
        using var entries = JsonDocument.Parse(log.Stdout);
        var entry = Assert.Single(entries.RootElement.EnumerateArray());
        Assert.Equal(seq, entry.GetProperty("seq").GetInt64());
        Assert.Equal("run.completed", entry.GetProperty("kind").GetString());
        Assert.Equal(runId, entry.GetProperty("payload").GetProperty("run_id").GetString());
        Assert.Equal(Sha(path), entry.GetProperty("payload").GetProperty("manifest_sha256").GetString());
    }

    private static void AssertNoDocument((int Exit, string Stdout, string Stderr) r, string message)
    {
        Assert.True(r.Exit == 2, $"exit {r.Exit}: {r.Stderr}");
        Assert.Equal("", r.Stdout);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stress_Json_PrintsTheReportsFiguresPerAlpha_AndTheReverseTest_WithTheRun()
    {
        string scenarios = StressFixture("scenarios.csv"), portfolio = StressFixture("portfolio.json"), report = Temp("stress.json");
        string history = StressHistoryFixture.Write(scenarios, Temp("history.csv"));
        var (exit, stdout, stderr) = Crucible("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.04",
            "--history", history, "--top", "5", "--out", report, "--json");
        Assert.True(exit == 0, stderr);
        var d = Document(stdout);
        Assert.Contains("portfolio:  ref (400 scenarios of 10 steps)", stderr, StringComparison.Ordinal); // the summary, on stderr
        Assert.Contains("reverse:    ", stderr, StringComparison.Ordinal);

        var r = Parse(report);
        var p = r.GetProperty("portfolio");
        Assert.Equal("stress", d.GetProperty("command").GetString());
        Assert.Equal(Path.GetFullPath(report), d.GetProperty("report").GetString());
        Assert.Equal(JsonValueKind.Null, d.GetProperty("model_id").ValueKind);
        Assert.Equal(p.GetProperty("name").GetString(), d.GetProperty("portfolio").GetString());
        Assert.Equal(r.GetProperty("scenarios").GetProperty("count").GetInt32(), d.GetProperty("scenarios").GetInt32());
        Assert.Equal(r.GetProperty("scenarios").GetProperty("steps_min").GetInt32(), d.GetProperty("steps_min").GetInt32());
        Assert.Equal(r.GetProperty("scenarios").GetProperty("steps_max").GetInt32(), d.GetProperty("steps_max").GetInt32());
        Assert.Equal(p.GetProperty("alphas").EnumerateArray().Select(a => a.GetDouble()), d.GetProperty("alphas").EnumerateArray().Select(a => a.GetDouble()));
        foreach (var key in new[] { "var", "es", "cdar", "tail_count" })
        {
            var expected = p.GetProperty(key).EnumerateObject().Select(x => (x.Name, x.Value.GetDouble())).ToArray();
            Assert.Equal(3, expected.Length);
            Assert.Equal(expected, d.GetProperty(key).EnumerateObject().Select(x => (x.Name, x.Value.GetDouble())).ToArray());
        }

        var rv = d.GetProperty("reverse");
        var reportReverse = r.GetProperty("reverse");
        Assert.Equal(0.04, rv.GetProperty("loss_threshold").GetDouble());
        foreach (var key in new[] { "candidates", "breaching" })
            Assert.Equal(reportReverse.GetProperty(key).GetInt32(), rv.GetProperty(key).GetInt32());
        Assert.Equal(reportReverse.GetProperty("sampling").GetString(), rv.GetProperty("sampling").GetString());
        var attribution = reportReverse.GetProperty("mean_attribution").EnumerateObject().Select(x => (x.Name, x.Value.GetDouble())).ToArray();
        Assert.Equal(attribution, rv.GetProperty("mean_attribution").EnumerateObject().Select(x => (x.Name, x.Value.GetDouble())).ToArray());
        // the drivers: the series adding to the loss, largest first, as the summary names them
        Assert.Equal(attribution.Where(a => a.Item2 > 0).OrderByDescending(a => a.Item2).Take(3).Select(a => a.Name),
            rv.GetProperty("drivers").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(JsonValueKind.Null, rv.GetProperty("recalibration").ValueKind);
        Assert.Equal(JsonValueKind.Null, d.GetProperty("adversarial").ValueKind);
        AssertRun(d, "stress", report);

        // without --reverse: no reverse section; a bad option: no document, exit 2
        var plain = Crucible("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--alpha", "0.9", "--out", Temp("plain.json"), "--json");
        Assert.True(plain.Exit == 0, plain.Stderr);
        var pd = Document(plain.Stdout);
        Assert.Equal(JsonValueKind.Null, pd.GetProperty("reverse").ValueKind);
        Assert.Equal(Parse(Temp("plain.json")).GetProperty("portfolio").GetProperty("es").GetProperty("0.9").GetDouble(), pd.GetProperty("es").GetProperty("0.9").GetDouble());
        AssertNoDocument(Crucible("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--history", history, "--out", Temp("bad.json"), "--json"),
            "--reverse needs --loss-threshold X");
        Assert.False(File.Exists(Temp("bad.json")));
    }

    [Fact]
    public void Stress_Json_AReverseTestWithoutABreach_HasNoMeanAttribution_AsTheReport()
    {
        // with no breach the report's mean_attribution is null (no mean), and --json printed an object of zeros, then of nulls
        string scenarios = StressFixture("scenarios.csv"), portfolio = StressFixture("portfolio.json"), report = Temp("nobreach.json");
        string history = StressHistoryFixture.Write(scenarios, Temp("history.csv"));
        var (exit, stdout, stderr) = Crucible("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.99",
            "--history", history, "--out", report, "--json");
        Assert.True(exit == 0, stderr);
        var rv = Document(stdout).GetProperty("reverse");
        Assert.Equal(0, rv.GetProperty("breaching").GetInt32());
        Assert.Equal(JsonValueKind.Null, Parse(report).GetProperty("reverse").GetProperty("mean_attribution").ValueKind);
        Assert.Equal(JsonValueKind.Null, rv.GetProperty("mean_attribution").ValueKind);
        Assert.Empty(rv.GetProperty("drivers").EnumerateArray());
    }

    [Fact]
    public void Stress_Json_FromASequenceModel_CarriesItsId_TheRecalibrationAndTheAdversarialFigures_OfTheReport()
    {
        string scenarios = StressFixture("scenarios.csv"), portfolio = StressFixture("portfolio.json"), report = Temp("model-stress.json");
        string history = StressHistoryFixture.Write(scenarios, Temp("history.csv")), config = Temp("seq.json"), model = Temp("m");
        File.WriteAllText(config, """{"hidden": 8, "layers": 1, "heads": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""");
        var trained = Crucible("train", "--data", history, "--kind", "sequence", "--window", "5", "--steps", "5", "--config", config, "--seed", "1", "--out", model);
        Assert.True(trained.Exit == 0, trained.Stderr);
        var (exit, stdout, stderr) = Crucible("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.04",
            "--history", history, "--model", model, "--candidates", "50", "--top", "3", "--seed", "2", "--guidance-scale", "0.5", "--min-breach-rate", "0.9",
            "--adversarial", "--out", report, "--json");
        Assert.True(exit == 0, stderr);
        var d = Document(stdout);
        Assert.Contains("recalibration: ", stderr, StringComparison.Ordinal);

        var r = Parse(report);
        Assert.Equal(Sha(Path.Combine(model, "weights.safetensors")), d.GetProperty("model_id").GetString());
        var attempts = d.GetProperty("reverse").GetProperty("recalibration").EnumerateArray().ToArray();
        var expected = r.GetProperty("reverse").GetProperty("recalibration").EnumerateArray().ToArray();
        Assert.NotEmpty(attempts);
        Assert.Equal(expected.Length, attempts.Length);
        for (int i = 0; i < attempts.Length; i++)
        {
            foreach (var key in new[] { "guidance_scale", "breach_rate" })
                Assert.Equal(expected[i].GetProperty(key).GetDouble(), attempts[i].GetProperty(key).GetDouble());
            var median = expected[i].GetProperty("median_plausibility"); // null when not finite
            if (median.ValueKind == JsonValueKind.Null) Assert.Equal(JsonValueKind.Null, attempts[i].GetProperty("median_plausibility").ValueKind);
            else Assert.Equal(median.GetDouble(), attempts[i].GetProperty("median_plausibility").GetDouble());
            Assert.Equal(expected[i].GetProperty("passed").GetBoolean(), attempts[i].GetProperty("passed").GetBoolean());
        }

        var adversarial = d.GetProperty("adversarial");
        var expectedAdversarial = r.GetProperty("adversarial");
        foreach (var key in new[] { "candidates", "plausible" })
            Assert.Equal(expectedAdversarial.GetProperty(key).GetInt32(), adversarial.GetProperty(key).GetInt32());
        Assert.Equal(expectedAdversarial.GetProperty("floor").GetDouble(), adversarial.GetProperty("floor").GetDouble());
        var worst = expectedAdversarial.GetProperty("scenarios").EnumerateArray().ToArray();
        if (worst.Length > 0) Assert.Equal(worst[0].GetProperty("loss").GetDouble(), adversarial.GetProperty("worst_loss").GetDouble());
        else Assert.Equal(JsonValueKind.Null, adversarial.GetProperty("worst_loss").ValueKind);
        AssertRun(d, "stress", report);
        Assert.Equal(d.GetProperty("model_id").GetString(), Parse(d.GetProperty("run_manifest").GetString()!).GetProperty("model_id").GetString());
    }

    // a scenario CSV of i.i.d. normal daily log returns (sd vol for A, half of it for B); test input, not model maths
    private string Scenarios(string name, int seed, double vol)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var text = new StringBuilder("scenario,step,A,B\n");
        for (int s = 1; s <= 500; s++)
        {
            for (int t = 1; t <= 5; t++) text.Append(CultureInfo.InvariantCulture, $"{s},{t},{vol * Normal():R},{0.5 * vol * Normal():R}\n");
        }

        File.WriteAllText(Temp(name), text.ToString());
        return Temp(name);
    }

    [Fact]
    public void Ensemble_Json_FlaggedExit3_PrintsTheMembersSpreadAndReasons_OfTheReport()
    {
        string a = Scenarios("a.csv", 1, 0.01), calm = Scenarios("calm.csv", 3, 0.004), portfolio = Temp("p.json"), report = Temp("ensemble.json");
        File.WriteAllText(portfolio, """{"name": "half-half", "weights": {"A": 0.5, "B": 0.5}}""");
        var (exit, stdout, stderr) = Crucible("ensemble", "--scenarios", a, calm, "--portfolio", portfolio, "--out", report, "--json");
        Assert.True(exit == 3, $"exit {exit}: {stderr}"); // flagged: exit 3, the report and the document all the same
        var d = Document(stdout);
        Assert.Contains("FLAGGED: ", stderr, StringComparison.Ordinal);
        Assert.Contains("ES spread ", stderr, StringComparison.Ordinal);

        var r = Parse(report);
        Assert.Equal("ensemble", d.GetProperty("command").GetString());
        Assert.Equal(Path.GetFullPath(report), d.GetProperty("report").GetString());
        Assert.Equal("half-half", d.GetProperty("portfolio").GetString());
        Assert.Equal(r.GetProperty("alpha").GetDouble(), d.GetProperty("alpha").GetDouble());
        Assert.True(d.GetProperty("flagged").GetBoolean());
        Assert.Equal(r.GetProperty("reasons").EnumerateArray().Select(x => x.GetString()), d.GetProperty("reasons").EnumerateArray().Select(x => x.GetString()));
        Assert.NotEmpty(d.GetProperty("reasons").EnumerateArray());
        foreach (var key in new[] { "es_spread", "max_wasserstein" })
        {
            Assert.Equal(r.GetProperty(key).GetDouble(), d.GetProperty(key).GetDouble());
            Assert.Equal(r.GetProperty("thresholds").GetProperty(key == "es_spread" ? "max_es_spread" : key).GetDouble(),
                d.GetProperty("thresholds").GetProperty(key == "es_spread" ? "max_es_spread" : key).GetDouble());
        }

        var members = d.GetProperty("members").EnumerateArray().ToArray();
        var expected = r.GetProperty("members").EnumerateArray().ToArray();
        Assert.Equal(2, members.Length);
        Assert.Equal(expected.Length, members.Length);
        for (int i = 0; i < members.Length; i++)
        {
            Assert.Equal(expected[i].GetProperty("name").GetString(), members[i].GetProperty("name").GetString());
            Assert.Equal(expected[i].GetProperty("scenarios").GetInt32(), members[i].GetProperty("scenarios").GetInt32());
            Assert.Equal(expected[i].GetProperty("var").GetDouble(), members[i].GetProperty("var").GetDouble());
            Assert.Equal(expected[i].GetProperty("es").GetDouble(), members[i].GetProperty("es").GetDouble());
        }

        AssertRun(d, "ensemble", report);
        AssertNoDocument(Crucible("ensemble", "--scenarios", a, a, "--portfolio", portfolio, "--out", Temp("twice.json"), "--json"), "--scenarios names ");
    }

    private string Portfolio()
    {
        string path = Temp("portfolio.json");
        File.WriteAllText(path, """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""");
        return path;
    }

    [Fact]
    public void Compare_Json_PrintsEachGeneratorsFigures_OfTheTable_AndBothFiles()
    {
        string prices = TestPrices.Write(Temp("prices.csv"), 400), portfolio = Portfolio(), table = Temp("compare.json"), page = Temp("compare.html");
        var (exit, stdout, stderr) = Crucible("compare", "--data", prices, "--portfolio", portfolio, "--train-end", "2020-12-31", "--generator", "bootstrap",
            "--generator", "fhs", "--count", "20", "--window", "5", "--seed", "5", "--out", table, "--html", page, "--json");
        Assert.True(exit == 0, stderr);
        var d = Document(stdout);
        Assert.Contains("report:     ", stderr, StringComparison.Ordinal);

        var r = Parse(table);
        Assert.Equal("compare", d.GetProperty("command").GetString());
        Assert.Equal(Path.GetFullPath(table), d.GetProperty("report").GetString());
        Assert.Equal(Path.GetFullPath(page), d.GetProperty("html").GetString());
        Assert.Equal(r.GetProperty("portfolio").GetString(), d.GetProperty("portfolio").GetString());
        Assert.Equal(r.GetProperty("alpha").GetDouble(), d.GetProperty("alpha").GetDouble());
        var rows = d.GetProperty("generators").EnumerateArray().ToArray();
        var expected = r.GetProperty("generators").EnumerateArray().ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Equal(expected.Length, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var e = expected[i];
            Assert.Equal(e.GetProperty("name").GetString(), rows[i].GetProperty("name").GetString());
            Assert.Equal(e.GetProperty("fidelity").GetProperty("ks_mean").GetDouble(), rows[i].GetProperty("ks_mean").GetDouble());
            Assert.Equal(e.GetProperty("fidelity").GetProperty("corr_distance").GetDouble(), rows[i].GetProperty("corr_distance").GetDouble());
            Assert.Equal(e.GetProperty("temporal").GetProperty("acf_abs_error").GetDouble(), rows[i].GetProperty("acf_abs_error").GetDouble());
            Assert.Equal(e.GetProperty("tail").GetProperty("excess_kurtosis_error").GetDouble(), rows[i].GetProperty("excess_kurtosis_error").GetDouble());
            Assert.Equal(e.GetProperty("risk").GetProperty("es")[0].GetDouble(), rows[i].GetProperty("es").GetProperty("real").GetDouble());
            Assert.Equal(e.GetProperty("risk").GetProperty("es")[1].GetDouble(), rows[i].GetProperty("es").GetProperty("synthetic").GetDouble());
        }

        AssertRun(d, "compare", table);
        AssertNoDocument(Crucible("compare", "--data", prices, "--portfolio", portfolio, "--train-end", "2020-12-31", "--count", "5", "--out", Temp("bad.json"), "--json"),
            "--window must be ≥ 1 and --count ≥ 10");
    }

    [Fact]
    public void Backtest_Json_PrintsEachYearsExceptionsZonesAndThePooledTests_OfTheReport()
    {
        string prices = TestPrices.Write(Temp("prices.csv"), 400), portfolio = Portfolio(), report = Temp("backtest.json");
        var (exit, stdout, stderr) = Crucible("backtest", "--data", prices, "--portfolio", portfolio, "--generator", "bootstrap", "--first-year", "2021", "--last-year", "2021",
            "--samples", "100", "--seed", "3", "--out", report, "--json");
        Assert.True(exit == 0, stderr);
        var d = Document(stdout);
        Assert.Contains("zones:      ", stderr, StringComparison.Ordinal);

        var r = Parse(report);
        Assert.Equal("backtest", d.GetProperty("command").GetString());
        Assert.Equal(Path.GetFullPath(report), d.GetProperty("report").GetString());
        Assert.Equal(r.GetProperty("alpha").GetDouble(), d.GetProperty("alpha").GetDouble());
        var generator = Assert.Single(d.GetProperty("generators").EnumerateArray());
        var expected = Assert.Single(r.GetProperty("generators").EnumerateArray());
        Assert.Equal(expected.GetProperty("name").GetString(), generator.GetProperty("name").GetString());
        Assert.Equal(expected.GetProperty("daily_update").GetBoolean(), generator.GetProperty("daily_update").GetBoolean());
        var year = Assert.Single(generator.GetProperty("years").EnumerateArray());
        var expectedYear = Assert.Single(expected.GetProperty("years").EnumerateArray());
        Assert.Equal(2021, year.GetProperty("year").GetInt32());
        foreach (var key in new[] { "observations", "exceptions" })
            Assert.Equal(expectedYear.GetProperty(key).GetInt32(), year.GetProperty(key).GetInt32());
        Assert.Equal(expectedYear.GetProperty("zone").GetString(), year.GetProperty("zone").GetString());

        var pooled = generator.GetProperty("pooled");
        var expectedPooled = expected.GetProperty("pooled");
        foreach (var key in new[] { "observations", "exceptions" })
            Assert.Equal(expectedPooled.GetProperty(key).GetInt32(), pooled.GetProperty(key).GetInt32());
        Assert.Equal(expectedPooled.GetProperty("kupiec_p").GetDouble(), pooled.GetProperty("kupiec_p").GetDouble());
        foreach (var key in new[] { "independence_p", "conditional_coverage_p" })
            Assert.Equal(expectedPooled.GetProperty("christoffersen").GetProperty(key).GetDouble(), pooled.GetProperty("christoffersen").GetProperty(key).GetDouble());

        // the zones line: the Basel bounds of the year's days, as the report gives them
        var bounds = Assert.Single(d.GetProperty("zone_bounds").EnumerateArray());
        Assert.Equal(year.GetProperty("observations").GetInt32(), bounds.GetProperty("observations").GetInt32());
        foreach (var key in new[] { "yellow_from", "red_from" })
            Assert.Equal(expectedYear.GetProperty("zone_bounds").GetProperty(key).GetInt32(), bounds.GetProperty(key).GetInt32());
        Assert.Equal(expectedYear.GetProperty("zone_bounds").GetProperty("text").GetString(), bounds.GetProperty("text").GetString());
        Assert.Contains(bounds.GetProperty("text").GetString()!, stderr, StringComparison.Ordinal);

        AssertRun(d, "backtest", report);
        AssertNoDocument(Crucible("backtest", "--data", prices, "--portfolio", portfolio, "--samples", "10", "--out", Temp("bad.json"), "--json"),
            "--samples must be at least 100");
    }

    [Fact]
    public void Baseline_Json_PrintsTheCsvItsHashTheSeriesAndTheRowsFitted()
    {
        string prices = TestPrices.Write(Temp("prices.csv"), 400), csv = Temp("baseline.csv");
        var (exit, stdout, stderr) = Crucible("baseline", "--data", prices, "--generator", "bootstrap", "--columns", "A,C", "--train-end", "2020-12-31",
            "--count", "20", "--window", "5", "--seed", "4", "--out", csv, "--json");
        Assert.True(exit == 0, stderr);
        var d = Document(stdout);
        Assert.Contains("20 scenarios of 5 steps over 2 series", stderr, StringComparison.Ordinal);

        Assert.Equal("baseline", d.GetProperty("command").GetString());
        Assert.Equal(Path.GetFullPath(csv), d.GetProperty("csv").GetString());
        Assert.Equal(Sha(csv), d.GetProperty("csv_sha256").GetString());
        Assert.Equal("stationary-bootstrap", d.GetProperty("generator").GetString()); // the generator's name, as the summary prints it
        Assert.Equal(["A", "C"], d.GetProperty("series").EnumerateArray().Select(x => x.GetString()));
        // the CSV holds count × window rows of those series
        var lines = File.ReadAllLines(csv);
        Assert.Equal("scenario,step,A,C", lines[0]);
        Assert.Equal(20, d.GetProperty("count").GetInt32());
        Assert.Equal(5, d.GetProperty("window").GetInt32());
        Assert.Equal(20, lines.Skip(1).Select(l => l.Split(',')[0]).Distinct().Count());
        Assert.Equal(20 * 5, lines.Length - 1);
        // fitted on the log returns up to the train end: one fewer than the price rows dated 2020
        int priceRows2020 = File.ReadAllLines(prices).Skip(1).Count(l => l.StartsWith("2020-", StringComparison.Ordinal));
        Assert.Equal(priceRows2020 - 1, d.GetProperty("fit_rows").GetInt32());
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"fitted on {priceRows2020 - 1} rows"), stderr, StringComparison.Ordinal);

        AssertRun(d, "baseline", csv);
        using var entries = JsonDocument.Parse(Crucible("audit", "log", "--json").Stdout);
        Assert.Equal(Sha(csv), entries.RootElement.EnumerateArray().Single(e => e.GetProperty("seq").GetInt64() == d.GetProperty("audit_seq").GetInt64())
            .GetProperty("payload").GetProperty("csv_sha256").GetString());
        AssertNoDocument(Crucible("baseline", "--data", prices, "--generator", "bootstrap", "--count", "0", "--out", Temp("bad.csv"), "--json"),
            "--count and --window must be positive");
    }
}
