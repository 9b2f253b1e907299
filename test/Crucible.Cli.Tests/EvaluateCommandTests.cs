using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible evaluate</c> end to end, in a child process of the built CLI, on the evaluation fixtures
/// (test/Crucible.Evaluation.Tests/TestData): exit codes 0 / 2 / 3, the files written, the report's keys.
/// </summary>
public sealed class EvaluateCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("crucible-evaluate-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static string Fixture(string name) => TestRepo.Fixture("Crucible.Evaluation.Tests", name);

    private string Temp(string name) => Path.Combine(_dir.FullName, name);

    private string Write(string name, string text)
    {
        var path = Temp(name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The child's home folder (CRUCIBLE_HOME): a temporary one, never the real ~/.crucible.</summary>
    private string Home => Path.Combine(_dir.FullName, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private static void AssertNoStackTrace(string text)
    {
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_WithTrainAndHtml_WritesBothFiles_WithTheArchitectureKeys()
    {
        var (json, html) = (Temp("out/report.json"), Temp("out/report.html"));
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--train", Fixture("train.csv"), "--out", json, "--html", html);
        Assert.True(code == 0, stderr);
        Assert.Contains("ks_mean", stdout, StringComparison.Ordinal);
        Assert.Equal(["report.html", "report.json"], Directory.GetFiles(Temp("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        foreach (var k in new[] { "ks_mean", "ks_max", "wasserstein_mean", "corr_distance", "lower_tail_dependence", "per_series", "privacy" })
            Assert.True(root.TryGetProperty(k, out _), k);
        Assert.Equal(2, root.GetProperty("lower_tail_dependence").EnumerateObject().Count());
        var series = root.GetProperty("per_series").GetProperty("CREDIT_HY");
        foreach (var k in new[] { "ks", "wasserstein", "mean", "std", "skewness", "excess_kurtosis", "acf", "acf_abs", "var", "es", "max_drawdown" })
            Assert.True(series.TryGetProperty(k, out _), k);
        foreach (var k in new[] { "dcr_train_median", "dcr_train_p05", "dcr_holdout_median", "share_closer_to_train" })
            Assert.True(root.GetProperty("privacy").TryGetProperty(k, out _), k);
        Assert.False(root.TryGetProperty("thresholds", out _));
        var utility = root.GetProperty("utility");
        foreach (var target in new[] { "return", "volatility" })
        {
            foreach (var k in new[] { "tstr", "trtr", "trts", "mse_ratio", "r2_ratio", "importance" })
                Assert.True(utility.GetProperty(target).TryGetProperty(k, out _), target + "." + k);
        }
        Assert.Contains("utility:", stdout, StringComparison.Ordinal);
        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(html), StringComparison.Ordinal);
    }

    /// <summary>RELIABILITY.md PRIV-9: the privacy section carries the holdout file's SHA-256, the same hash the audit
    /// entry records for --real, and the audit entry carries the report's hash.</summary>
    [Fact]
    public void Evaluate_PrivacySection_RecordsTheHoldoutFileHash_AndTheAuditEntryTheReportHash()
    {
        var json = Temp("report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--train", Fixture("train.csv"), "--out", json);
        Assert.True(code == 0, stderr);
        static string Sha(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var privacy = doc.RootElement.GetProperty("privacy");
        Assert.Equal(Sha(Fixture("real.csv")), privacy.GetProperty("holdout_sha256").GetString());
        Assert.Equal("file", privacy.GetProperty("split").GetProperty("holdout_hash_of").GetString());
        foreach (var metric in new[] { "dcr_share", "ims", "nndr" })
            Assert.Equal(Sha(Fixture("real.csv")), privacy.GetProperty(metric).GetProperty("holdout_sha256").GetString());
        // train 300 rows, holdout 400: no warning about the holdout's size; 300-row references and 300 synthetic rows
        Assert.Equal(300, privacy.GetProperty("dcr_share").GetProperty("n").GetInt32());
        Assert.Equal(0, privacy.GetProperty("warnings").GetArrayLength());
        Assert.Contains("split:", stdout, StringComparison.Ordinal);

        var entries = global::Crucible.Governance.Audit.AuditLog.Read(global::Crucible.Governance.CrucibleHome.Resolve(Home).AuditDatabase);
        var evaluated = JsonDocument.Parse(entries.Single(e => e.Kind == "evaluation.completed").Payload).RootElement;
        Assert.Equal(privacy.GetProperty("holdout_sha256").GetString(), evaluated.GetProperty("real_sha256").GetString());
        Assert.Equal(Sha(json), evaluated.GetProperty("report_sha256").GetString());
        // the privacy report in the entry: the hash of the privacy object's bytes in report.json, the holdout hash, the verdicts
        var privacyEntry = evaluated.GetProperty("privacy");
        var section = System.Text.Encoding.UTF8.GetBytes(privacy.GetRawText());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(section)), privacyEntry.GetProperty("privacy_sha256").GetString());
        Assert.Equal(Sha(Fixture("real.csv")), privacyEntry.GetProperty("holdout_sha256").GetString());
        Assert.Equal(privacy.GetProperty("share_within_bound").GetBoolean(), privacyEntry.GetProperty("share_within_bound").GetBoolean());
        Assert.Equal(0, Crucible("audit", "verify").Exit);
    }

    /// <summary>
    /// The <c>evaluation.completed</c> entry's payload byte for byte (canonical JSON, RELIABILITY PRIV-9), without and with
    /// --privacy-rows: the privacy object names the hash of report.json's privacy bytes, the holdout hash, the gates'
    /// verdicts, the warnings and, on a subsample, the limit, the seed and each set's rows given and drawn.
    /// </summary>
    [Theory]
    [InlineData(null, "true")]
    [InlineData("150", "false")]
    public void Evaluate_EvaluationCompletedEntry_IsPinnedByteForByte(string? privacyRows, string nndrBelow)
    {
        var json = Temp("pin/report.json");
        string[] args = ["evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"), "--train", Fixture("train.csv"), "--out", json];
        var (code, _, stderr) = Crucible(privacyRows is null ? args : [.. args, "--privacy-rows", privacyRows]);
        Assert.True(code == 0, stderr);
        static string Sha(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
        var section = System.Text.Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("privacy").GetRawText());
        string real = Sha(File.ReadAllBytes(Fixture("real.csv")));
        var subsample = privacyRows is null ? ""
            : "\"subsample\":{\"holdout\":{\"drawn\":150,\"rows\":400},\"limit\":150,\"seed\":\"0\",\"synthetic\":{\"drawn\":150,\"rows\":500},\"train\":{\"drawn\":150,\"rows\":300}},";
        var expected = "{\"privacy\":{\"holdout_sha256\":\"" + real + "\",\"ims_within_margin\":true,\"nndr_synthetic_below_training\":" + nndrBelow
            + ",\"privacy_sha256\":\"" + Sha(section) + "\",\"share_within_bound\":true," + subsample + "\"warnings\":[]},"
            + "\"real_sha256\":\"" + real + "\",\"report_sha256\":\"" + Sha(File.ReadAllBytes(json)) + "\",\"synthetic_sha256\":\"" + Sha(File.ReadAllBytes(Fixture("synthetic.csv")))
            + "\",\"thresholds_passed\":null,\"thresholds_sha256\":null,\"train_sha256\":\"" + Sha(File.ReadAllBytes(Fixture("train.csv"))) + "\"}";
        var entries = global::Crucible.Governance.Audit.AuditLog.Read(global::Crucible.Governance.CrucibleHome.Resolve(Home).AuditDatabase);
        Assert.Equal(expected, entries.Single(e => e.Kind == "evaluation.completed").Payload);
    }

    [Fact]
    public void Evaluate_ScenarioFile_GroupsPaths_AndMatchesTheLibrary()
    {
        var json = Temp("report.json");
        var (code, _, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("scenarios.csv"),
            "--alpha", "0.95", "--out", json);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(12, doc.RootElement.GetProperty("rows").GetProperty("synthetic_paths").GetInt32());
        Assert.Equal(0.95, doc.RootElement.GetProperty("alpha").GetDouble());
        Assert.False(doc.RootElement.TryGetProperty("privacy", out _));

        // the CLI is a thin shell: its file is byte for byte the library's report
        var report = global::Crucible.Evaluation.Evaluator.Evaluate(new global::Crucible.Evaluation.EvaluationInput(
                global::Crucible.Evaluation.SeriesSetCsv.Read(Fixture("real.csv")),
                global::Crucible.Evaluation.SeriesSetCsv.Read(Fixture("scenarios.csv"))),
            new global::Crucible.Evaluation.EvaluationOptions { Alpha = 0.95 });
        Assert.Equal(global::Crucible.Evaluation.Reporting.ReportJson.ToJson(report), File.ReadAllText(json));
    }

    // RELIABILITY MRM-5
    [Fact]
    public void Evaluate_FailedThreshold_WithFlag_Exits3_AndStillWritesTheReport()
    {
        var thresholds = Write("thresholds.json", """{"ks_max": {"max": 0.01}, "corr_distance": {"max": 10}}""");
        var json = Temp("report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--thresholds", thresholds, "--fail-on-threshold", "--out", json);
        Assert.True(code == 3, stdout + stderr);
        Assert.Contains("FAIL ks_max", stdout, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var t = doc.RootElement.GetProperty("thresholds");
        Assert.False(t.GetProperty("passed").GetBoolean());
        Assert.Equal(2, t.GetProperty("verdicts").GetArrayLength());
        Assert.True(t.GetProperty("verdicts")[1].GetProperty("passed").GetBoolean());

        // without the flag a failed threshold is reported, not an error
        Assert.Equal(0, Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--thresholds", thresholds, "--out", json).Exit);
    }

    // RELIABILITY MRM-5
    [Fact]
    public void Evaluate_PassedThresholds_WithFlag_Exits0()
    {
        var thresholds = Write("thresholds.json", """{"ks_max": {"max": 0.5}, "privacy.share_closer_to_train": {"max": 0.6, "min": 0.0}}""");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--train", Fixture("train.csv"), "--thresholds", thresholds, "--fail-on-threshold", "--out", Temp("report.json"));
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("thresholds: 3 of 3 passed", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\n  \"ks_max\": {}\n}", ":2:13: error [empty-threshold]")]
    [InlineData("{\"ks_max\": {\"max\": 0.1, \"min\": 0.2}}", ":1:32: error [min-above-max]")]
    public void Evaluate_AThresholdThatChecksNothing_IsRefusedAtItsLocation_Exit2_NothingWritten(string declared, string where)
    {
        // {"ks_max": {}} was dropped silently and a min above the max failed whatever the report said
        var thresholds = Write("thresholds.json", declared);
        var json = Temp("report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--thresholds", thresholds, "--fail-on-threshold", "--out", json);
        Assert.Equal(2, code);
        Assert.Contains(thresholds + where, stderr, StringComparison.Ordinal);
        AssertNoStackTrace(stdout + stderr);
        Assert.False(File.Exists(json));
    }

    /// <summary>A copy of a fixture with its series columns (after the date) in reverse order.</summary>
    private string Reversed(string fixture)
    {
        var lines = File.ReadAllLines(Fixture(fixture)).Where(l => l.Length > 0)
            .Select(l => l.Split(',')).Select(c => string.Join(',', [c[0], .. c[1..].Reverse()]));
        return Write("reversed-" + fixture, string.Join('\n', lines) + "\n");
    }

    [Fact]
    public void Evaluate_TheSameSeriesInAnotherOrder_AreMatchedByName_ToTheSameReport()
    {
        var inOrder = Temp("in-order.json");
        var a = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"), "--train", Fixture("train.csv"), "--out", inOrder);
        Assert.True(a.Exit == 0, a.Stderr);
        Assert.DoesNotContain("another order", a.Stdout, StringComparison.Ordinal);
        var reordered = Temp("reordered.json");
        var b = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Reversed("synthetic.csv"), "--train", Reversed("train.csv"), "--out", reordered);
        Assert.True(b.Exit == 0, b.Stderr);
        // the same report, byte for byte: the synthetic and train columns were read in the real file's order
        Assert.Equal(File.ReadAllBytes(inOrder), File.ReadAllBytes(reordered));
        Assert.Contains("the synthetic series are in another order, matched by name to the real order: EQ_US, EQ_EU, EQ_JP, RATES_10Y, CREDIT_HY", b.Stdout, StringComparison.Ordinal);
        Assert.Contains("the train series are in another order", b.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_TheSameFileAsRealAndSynthetic_WarnsOnStderrAndInTheReport_AndExitsZero()
    {
        const string warning = "real and synthetic are the same file: every fidelity metric is trivially perfect";
        // the same file by full path, spelled two ways
        string real = Write("real.csv", File.ReadAllText(Fixture("real.csv")));
        var (json, html) = (Temp("same/report.json"), Temp("same/report.html"));
        var (code, _, stderr) = Crucible("evaluate", "--real", Path.Combine(_dir.FullName, ".", "real.csv"), "--synthetic", real, "--out", json, "--html", html);
        Assert.True(code == 0, stderr);
        Assert.Contains($"warning: {warning} ({real})", stderr, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            Assert.Equal([warning], doc.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()));
            Assert.Equal(0, doc.RootElement.GetProperty("ks_max").GetDouble());
        }

        Assert.Contains($"<ul id=\"warnings\"><li class=\"fail\">{warning}</li></ul>", File.ReadAllText(html), StringComparison.Ordinal);

        // the same file through a symbolic link (as OutputGuard.SameFile compares paths): it was compared by full path only,
        // so a link to the real file evaluated it against itself without a word
        string link = Path.Combine(_dir.FullName, "link-to-real.csv");
        File.CreateSymbolicLink(link, real);
        var linked = Crucible("evaluate", "--real", real, "--synthetic", link, "--out", Temp("link/report.json"));
        Assert.True(linked.Exit == 0, linked.Stderr);
        Assert.Contains($"warning: {warning} ({real})", linked.Stderr, StringComparison.Ordinal);

        // two files with the same content are two files: no warning, and no warnings key
        var other = Crucible("evaluate", "--real", real, "--synthetic", Fixture("real.csv"), "--out", Temp("copy/report.json"));
        Assert.True(other.Exit == 0, other.Stderr);
        Assert.DoesNotContain("same file", other.Stderr, StringComparison.Ordinal);
        using var copy = JsonDocument.Parse(File.ReadAllText(Temp("copy/report.json")));
        Assert.False(copy.RootElement.TryGetProperty("warnings", out _));
    }

    [Fact]
    public void Evaluate_RealDatesNotStrictlyIncreasing_WarnsOnStderrAndInTheReport_AndChangesNoFigure()
    {
        // the fixture's lines 4 and 5 swapped: line 5 is dated before line 4, and ACF, drawdowns, regimes and the backtest
        // follow the rows' order; they were computed on that order without a word
        var lines = File.ReadAllLines(Fixture("real.csv"));
        (lines[3], lines[4]) = (lines[4], lines[3]);
        string real = Write("unsorted.csv", string.Join('\n', lines) + "\n");
        string warning = $"the --real file's dates are not strictly increasing: line 5 is dated {lines[4][..10]}, before line 4's {lines[3][..10]}; "
            + "its rows are used in file order, so its ACF, ACF of |r| (volatility clustering), PACF and leverage, drawdowns and CDaR, regimes and "
            + "the VaR backtest follow that order (sort the file by date and drop duplicate dates first)";
        var json = Temp("unsorted/report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", real, "--synthetic", Fixture("synthetic.csv"), "--out", json);
        Assert.True(code == 0, stderr);
        Assert.Contains($"warning: {warning} ({real})", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n'), l => l.StartsWith("warning:", StringComparison.Ordinal));

        // every figure is the library's on the rows in file order: the warning is the only difference
        var report = global::Crucible.Evaluation.Evaluator.Evaluate(new global::Crucible.Evaluation.EvaluationInput(
            global::Crucible.Evaluation.SeriesSetCsv.Read(real), global::Crucible.Evaluation.SeriesSetCsv.Read(Fixture("synthetic.csv"))));
        Assert.Equal(global::Crucible.Evaluation.Reporting.ReportJson.ToJson(report with { Warnings = [warning] }), File.ReadAllText(json));

        // recomputed from the run manifest: the same bytes (the warning names the file by its option, not its path)
        string manifest = stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();
        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("1/1 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ADuplicateTrainDate_WarnsNamingTheTrainFigures_AndAScenarioFileHasNoDatesToCheck()
    {
        var lines = File.ReadAllLines(Fixture("train.csv"));
        lines[2] = lines[1][..10] + lines[2][10..];
        string train = Write("train.csv", string.Join('\n', lines) + "\n");
        var json = Temp("dup/report.json");
        var (code, _, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("scenarios.csv"), "--train", train, "--out", json);
        Assert.True(code == 0, stderr);
        string prefix = $"the --train file's dates are not strictly increasing: line 3 repeats the date {lines[1][..10]} of line 2; its rows are used in file order, so the regime threshold";
        Assert.Contains($"warning: {prefix}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--real file's dates", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("--synthetic file's dates", stderr, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Single(doc.RootElement.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Fact]
    public void Evaluate_ARealSetTooSmallForItsMetrics_WarnsOnStderrAndInTheReport_AndExitsZero()
    {
        // one real row: every figure of the report is noise (no tail, no kurtosis, a KS of steps of 1/1)
        string real = Write("one-row.csv", "date,EQ_US,EQ_EU,EQ_JP,RATES_10Y,CREDIT_HY\n2020-01-01,0.01,-0.02,0.003,0.001,-0.004\n");
        const string warning = "the real set has 1 rows, fewer than the 100 its metrics need to mean anything (an α = 0.99 VaR/ES needs ⌈1/(1 − α)⌉ rows for one observation in the tail, skewness and kurtosis at least 4): its fidelity, tail and risk figures are noise";
        var json = Temp("small/report.json");
        var (code, _, stderr) = Crucible("evaluate", "--real", real, "--synthetic", Fixture("synthetic.csv"), "--out", json);
        Assert.True(code == 0, stderr);
        Assert.Contains($"warning: {warning}", stderr, StringComparison.Ordinal);
        // and no 20-step regime window in one row (session 21: said, not left as bare nulls)
        const string regimes = "no regime can be measured in the real set: its paths have at most 1 step, fewer than the regime window of 20, so none has a full window; "
            + "high_vol_share, calm_to_stressed and stressed_to_calm are undefined (null) for it; paths of 1 step are too short for any regime window (2 steps at least) to count a transition";
        Assert.Contains($"warning: {regimes}", stderr, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
            Assert.Equal([warning, regimes], doc.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()));

        // the threshold follows --alpha (⌈1/(1 − 0.95)⌉ = 20 rows): 19 synthetic rows warn, 20 do not
        string[] lines = File.ReadAllLines(Fixture("synthetic.csv"));
        string syn19 = Write("syn19.csv", string.Join('\n', lines.Take(20)) + "\n"), syn20 = Write("syn20.csv", string.Join('\n', lines.Take(21)) + "\n");
        var few = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", syn19, "--alpha", "0.95", "--out", Temp("few/report.json"));
        Assert.True(few.Exit == 0, few.Stderr);
        Assert.Contains("warning: the synthetic set has 19 rows, fewer than the 20 its metrics need", few.Stderr, StringComparison.Ordinal);
        // (a 20-row path has one 20-step regime window and no transition, warned since session 21: a 10-step window counts them)
        var enough = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", syn20, "--alpha", "0.95", "--regime-window", "10", "--out", Temp("enough/report.json"));
        Assert.True(enough.Exit == 0, enough.Stderr);
        Assert.DoesNotContain("warning", enough.Stderr, StringComparison.Ordinal);
        using var full = JsonDocument.Parse(File.ReadAllText(Temp("enough/report.json")));
        Assert.False(full.RootElement.TryGetProperty("warnings", out _));
    }

    [Fact]
    public void Evaluate_TwentyStepScenarios_WarnWhyTheirRegimeTransitionsAreNull_AndRegimeWindowCountsThem()
    {
        // session 21: 20-step paths with the default 20-step regime window have no two consecutive windows
        string[] lines = File.ReadAllLines(Fixture("scenarios.csv"));
        string twenty = Write("twenty.csv", string.Join('\n', lines.Where((l, i) => i == 0 || int.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture) < 20)) + "\n");
        var json = Temp("w20/report.json");
        var (code, _, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", twenty, "--out", json);
        Assert.True(code == 0, stderr);
        Assert.Contains("warning: no regime transition can be counted in the synthetic set: its paths have at most 20 steps, the regime window", stderr, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            var regimes = doc.RootElement.GetProperty("regimes");
            Assert.Equal(20, regimes.GetProperty("window").GetInt32());
            Assert.Equal(JsonValueKind.Null, regimes.GetProperty("calm_to_stressed")[1].ValueKind);
            Assert.StartsWith("no regime transition can be counted in the synthetic set", regimes.GetProperty("transitions_unavailable").GetString(), StringComparison.Ordinal);
        }

        var ten = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", twenty, "--regime-window", "10", "--out", Temp("w10/report.json"));
        Assert.True(ten.Exit == 0, ten.Stderr);
        Assert.DoesNotContain("regime", ten.Stderr, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Temp("w10/report.json"))))
        {
            var regimes = doc.RootElement.GetProperty("regimes");
            Assert.Equal(10, regimes.GetProperty("window").GetInt32());
            Assert.Equal(JsonValueKind.Number, regimes.GetProperty("calm_to_stressed")[1].ValueKind);
            Assert.False(regimes.TryGetProperty("transitions_unavailable", out _));
        }

        var one = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", twenty, "--regime-window", "1", "--out", Temp("w1/report.json"));
        Assert.Equal(2, one.Exit);
        Assert.Contains("error [OPT-E]: --regime-window takes a number of steps of at least 2", one.Stderr, StringComparison.Ordinal);
        AssertNoStackTrace(one.Stdout + one.Stderr);
        Assert.False(Directory.Exists(Temp("w1")));
    }

    [Fact]
    public void Evaluate_ADifferentSetOfSeries_IsRefused_NamingEveryMissingAndExtraSeries()
    {
        var synthetic = Write("other-set.csv", "date,CREDIT_HY,EQ_US,EQ_EU,RATES_2Y,FX_EUR\n2020-01-01,0.1,0.2,0.3,0.4,0.5\n");
        var json = Temp("report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", synthetic, "--out", json);
        Assert.Equal(2, code);
        Assert.Contains(synthetic + ":1:5: error [column-mismatch]", stderr, StringComparison.Ordinal);
        Assert.Contains("series 'RATES_2Y', 'FX_EUR' are not in the real data; series 'EQ_JP', 'RATES_10Y' are missing", stderr, StringComparison.Ordinal);
        AssertNoStackTrace(stdout + stderr);
        Assert.False(File.Exists(json));
    }

    public static TheoryData<string, string, string> BadSynthetic => new()
    {
        // file content, expected location suffix, expected rule
        { "date,EQ_US,EQ_EU,EQ_JP,RATES_10Y,CREDIT_HY\n2020-01-01,0.1,0.2,0.3,0.4,0.5\n2020-01-02,0.1,x,0.3,0.4,0.5\n", ":3:3:", "[non-numeric]" },
        { "date,EQ_US,EQ_EU,EQ_JP,RATES_10Y,CREDIT_HY\n2020-01-01,0.1,0.2,0.3,NaN,0.5\n", ":2:5:", "[non-finite]" },
        { "date,EQ_US,EQ_EU,EQ_JP,RATES_10Y,CREDIT_HY\n2020-01-01,0.1,0.2,0.3,0.4\n", ":2:1:", "[ragged-row]" },
        { "date,EQ_US,EQ_EU,EQ_JP,RATES_2Y,CREDIT_HY\n2020-01-01,0.1,0.2,0.3,0.4,0.5\n", ":1:5:", "[column-mismatch]" },
        { "scenario,step,EQ_US,EQ_EU,EQ_JP,RATES_10Y,CREDIT_HY\n0,0,0.1,0.2,0.3,0.4,0.5\nA,1,0.1,0.2,0.3,0.4,0.5\n", ":3:1:", "[non-integer]" },
        { "date,EQ_US,EQ_EU,EQ_JP,RATES_10Y,CREDIT_HY\n", ":2:1:", "[no-rows]" },
    };

    // RELIABILITY CSV-2
    [Theory]
    [MemberData(nameof(BadSynthetic))]
    public void Evaluate_BadSyntheticFile_Exits2_NamingFileLineColumnRule(string content, string location, string rule)
    {
        var synthetic = Write("bad.csv", content);
        var json = Temp("report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", synthetic, "--out", json);
        Assert.Equal(2, code);
        Assert.Contains(synthetic + location + " error " + rule, stderr, StringComparison.Ordinal);
        AssertNoStackTrace(stdout + stderr);
        Assert.False(File.Exists(json));
    }

    [Fact]
    public void Evaluate_ABlankCellInTrain_Exits2_SayingItIsAMissingValueAndWhatToDo()
    {
        // was: "train.csv:3:3: error [non-numeric]: '' is not a number" (train's reader says CSV-E-MISSING for the same cell)
        var lines = File.ReadAllLines(Fixture("real.csv"));
        var cells = lines[2].Split(',');
        cells[2] = "";
        lines[2] = string.Join(',', cells);
        var train = Write("train-with-gap.csv", string.Join('\n', lines) + "\n");
        var json = Temp("report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"), "--train", train, "--out", json);
        Assert.Equal(2, code);
        Assert.Contains(train + ":3:3: error [CSV-E-MISSING]: missing value (a blank cell)", stderr, StringComparison.Ordinal);
        Assert.Contains("takes no missing-value option", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("non-numeric", stderr, StringComparison.Ordinal);
        AssertNoStackTrace(stdout + stderr);
        Assert.False(File.Exists(json));
    }

    [Fact]
    public void Evaluate_MissingFile_BadAlpha_BadThresholds_UnknownMetric_MissingOption_Exit2()
    {
        var args = new[] { "evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"), "--out", Temp("r.json") };
        var missing = Crucible("evaluate", "--real", Temp("nope.csv"), "--synthetic", Fixture("synthetic.csv"), "--out", Temp("r.json"));
        Assert.Equal(2, missing.Exit);
        Assert.Contains("nope.csv: error [file-not-found]", missing.Stderr, StringComparison.Ordinal);

        var alpha = Crucible([.. args, "--alpha", "1.5"]);
        Assert.Equal(2, alpha.Exit);
        Assert.Contains("error [OPT-E]: --alpha", alpha.Stderr, StringComparison.Ordinal);

        var malformed = Crucible([.. args, "--thresholds", Write("t1.json", "{\"ks_max\": {\"max\": }")]);
        Assert.Equal(2, malformed.Exit);
        Assert.Contains("t1.json:1:", malformed.Stderr, StringComparison.Ordinal);
        Assert.Contains("[malformed-json]", malformed.Stderr, StringComparison.Ordinal);

        var unknown = Crucible([.. args, "--thresholds", Write("t2.json", """{"privacy.dcr_train_median": {"min": 0.1}}""")]);
        Assert.Equal(2, unknown.Exit);
        Assert.Contains("error [unknown-metric]", unknown.Stderr, StringComparison.Ordinal);

        var flagAlone = Crucible([.. args, "--fail-on-threshold"]);
        Assert.Equal(2, flagAlone.Exit);

        var noSynthetic = Crucible("evaluate", "--real", Fixture("real.csv"), "--out", Temp("r.json"));
        Assert.Equal(2, noSynthetic.Exit);
        Assert.Contains("--synthetic", noSynthetic.Stderr, StringComparison.Ordinal);

        foreach (var r in new[] { missing, alpha, malformed, unknown, flagAlone, noSynthetic }) AssertNoStackTrace(r.Stdout + r.Stderr);
        Assert.False(File.Exists(Temp("r.json")));
    }
    /// <summary>RELIABILITY.md MRM-2: verify-run --recompute evaluates an evaluate run's recorded inputs again; the report
    /// and the page come out byte-identical, and a report rewritten together with its recorded hash is caught.</summary>
    [Fact]
    public void VerifyRunRecompute_EvaluatesTheRecordedInputsAgain_AndCatchesARewrittenReport()
    {
        var (json, html) = (Temp("r/report.json"), Temp("r/report.html"));
        var thresholds = Write("thresholds.json", """{"ks_mean": {"max": 0.5}}""");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--train", Fixture("train.csv"), "--thresholds", thresholds, "--alpha", "0.95", "--out", json, "--html", html);
        Assert.True(code == 0, stderr);
        string manifest = stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();
        var ok = Crucible("verify-run", manifest, "--recompute");
        Assert.True(ok.Exit == 0, ok.Stdout + ok.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", ok.Stdout, StringComparison.Ordinal);

        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!;
        node["ks_mean"] = 0.0001;
        File.WriteAllText(json, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        var m = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
        foreach (var output in m["outputs"]!.AsArray())
        {
            if ((string?)output!["path"] == json)
            {
                output["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(json)));
                output["bytes"] = new FileInfo(json).Length;
            }
        }

        File.WriteAllText(manifest, m.ToJsonString());
        Assert.Equal(0, Crucible("verify-run", manifest).Exit);
        var forged = Crucible("verify-run", manifest, "--recompute");
        Assert.Equal(3, forged.Exit);
        Assert.Contains($"MISMATCH  recomputed {json}", forged.Stdout, StringComparison.Ordinal);
        Assert.Contains($"recomputed {html}: identical", forged.Stdout, StringComparison.Ordinal);
    }

    /// <summary>--privacy-rows N: the privacy section on at most N drawn rows of each set, said in report.json, the page,
    /// the summary, the run manifest and the audit entry; verify-run --recompute draws the same rows again.</summary>
    [Fact]
    public void Evaluate_PrivacyRows_RecordsTheSubsampleEverywhere_AndVerifyRunRecomputesIt()
    {
        // the fixtures: train 300 rows, holdout (real) 400, synthetic 500
        var (json, html) = (Temp("s/report.json"), Temp("s/report.html"));
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--train", Fixture("train.csv"), "--privacy-rows", "150", "--out", json, "--html", html);
        Assert.True(code == 0, stderr);
        Assert.Contains("subsample:  privacy measured on 150 of 300 train, 150 of 400 holdout and 150 of 500 synthetic rows (at most 150 each, drawn with seed 0)", stdout, StringComparison.Ordinal);
        Assert.Contains("split:      DCR share", stdout, StringComparison.Ordinal);
        Assert.Contains("on 150 synthetic / 150+150 reference rows", stdout, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            var privacy = doc.RootElement.GetProperty("privacy");
            var sub = privacy.GetProperty("subsample");
            Assert.Equal(150, sub.GetProperty("limit").GetInt32());
            Assert.Equal(0, sub.GetProperty("seed").GetInt32());
            Assert.Equal(300, sub.GetProperty("train").GetProperty("rows").GetInt32());
            Assert.Equal(150, sub.GetProperty("holdout").GetProperty("drawn").GetInt32());
            Assert.Equal(500, sub.GetProperty("synthetic").GetProperty("rows").GetInt32());
            Assert.Equal(150, privacy.GetProperty("dcr_share").GetProperty("n").GetInt32());
            // the other sections keep every row
            Assert.Equal(300, doc.RootElement.GetProperty("rows").GetProperty("train").GetInt32());
            var entries = global::Crucible.Governance.Audit.AuditLog.Read(global::Crucible.Governance.CrucibleHome.Resolve(Home).AuditDatabase);
            var evaluated = JsonDocument.Parse(entries.Single(e => e.Kind == "evaluation.completed").Payload).RootElement;
            var recorded = evaluated.GetProperty("privacy").GetProperty("subsample");
            Assert.Equal(150, recorded.GetProperty("limit").GetInt32());
            Assert.Equal("0", recorded.GetProperty("seed").GetString());
            Assert.Equal(150, recorded.GetProperty("train").GetProperty("drawn").GetInt32());
        }
        Assert.Contains("id=\"privacy-subsample\">Measured on a subsample (at most 150 rows of each set", File.ReadAllText(html), StringComparison.Ordinal);

        string manifest = stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();
        Assert.Equal(150, System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!["config"]!["privacy_rows"]!.GetValue<int>());
        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    /// <summary>A limit no smaller than any set draws nothing: the report is the one without the option, byte for byte,
    /// and the run without it records no privacy_rows.</summary>
    [Fact]
    public void Evaluate_PrivacyRowsAtLeastEverySet_WritesTheReportOfNoOption()
    {
        var args = new[] { "evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"), "--train", Fixture("train.csv") };
        var plain = Crucible([.. args, "--out", Temp("plain/report.json")]);
        var wide = Crucible([.. args, "--privacy-rows", "500", "--out", Temp("wide/report.json")]);
        Assert.True(plain.Exit == 0 && wide.Exit == 0, plain.Stderr + wide.Stderr);
        Assert.Equal(File.ReadAllBytes(Temp("plain/report.json")), File.ReadAllBytes(Temp("wide/report.json")));
        Assert.DoesNotContain("subsample:", wide.Stdout, StringComparison.Ordinal);
        string manifest = plain.Stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();
        Assert.Null(System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!["config"]!["privacy_rows"]);
    }

    [Theory]
    [InlineData("1", "error [OPT-E]: --privacy-rows takes a number of rows of at least 2 (a nearest other row and a standard deviation need two), got 1")]
    [InlineData("0", "error [OPT-E]: --privacy-rows takes a number of rows of at least 2 (a nearest other row and a standard deviation need two), got 0")]
    [InlineData("-40", "error [OPT-E]: --privacy-rows takes a number of rows of at least 2 (a nearest other row and a standard deviation need two), got -40")]
    [InlineData("1e5", "Cannot parse argument '1e5' for option '--privacy-rows'")]
    [InlineData("many", "Cannot parse argument 'many' for option '--privacy-rows'")]
    public void Evaluate_BadPrivacyRows_Exit2_NothingWritten(string value, string message)
    {
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--train", Fixture("train.csv"), "--privacy-rows", value, "--out", Temp("bad/report.json"));
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        AssertNoStackTrace(stdout + stderr);
        Assert.False(Directory.Exists(Temp("bad")));
    }

    [Fact]
    public void Evaluate_PrivacyRowsWithoutTrain_Exit2()
    {
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--privacy-rows", "100", "--out", Temp("bad/report.json"));
        Assert.Equal(2, code);
        Assert.Contains("error [OPT-E]: --privacy-rows needs --train FILE (without it there is no privacy section)", stderr, StringComparison.Ordinal);
        AssertNoStackTrace(stdout + stderr);
        Assert.False(Directory.Exists(Temp("bad")));
    }

    /// <summary>The linkability attack's two datasets as given: in the report, the summary and the run manifest, which
    /// verify-run --recompute follows; singling out runs both modes by default.</summary>
    // RELIABILITY PRIV-6
    [Fact]
    public void Evaluate_LinkabilitySeries_AreAttacked_Recorded_AndRecomputed()
    {
        var json = Temp("link/report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--train", Fixture("train.csv"), "--linkability-series", " RATES_10Y | EQ_US ,EQ_EU", "--out", json);
        Assert.True(code == 0, stderr);
        Assert.Contains("linkable:   300 records, k 1: success train", stdout, StringComparison.Ordinal);
        Assert.Contains("singling:   univariate:", stdout, StringComparison.Ordinal);
        Assert.Contains("singling:   multivariate:", stdout, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            var link = doc.RootElement.GetProperty("privacy").GetProperty("linkability");
            Assert.Equal(["RATES_10Y"], link.GetProperty("first_series").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["EQ_US", "EQ_EU"], link.GetProperty("second_series").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(2, doc.RootElement.GetProperty("privacy").GetProperty("singling_out").GetArrayLength());
        }
        string manifest = stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();
        var recorded = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!["config"]!["linkability_series"]!;
        Assert.Equal("{\"first\":[\"RATES_10Y\"],\"second\":[\"EQ_US\",\"EQ_EU\"]}", recorded.ToJsonString());
        var again = Crucible("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("1/1 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("A,B", "error [OPT-E]: --linkability-series takes two comma-separated lists of series joined by '|', e.g. 'SPY,QQQ|TLT,HYG'; got 'A,B'")]
    [InlineData("A|B|C", "error [OPT-E]: --linkability-series takes two comma-separated lists of series joined by '|'")]
    [InlineData("A,B|", "error [OPT-E]: --linkability-series takes two comma-separated lists of series joined by '|'")]
    [InlineData("EQ_US|Z", "error [OPT-E]: --linkability-series: 'Z' is not a series of the data (EQ_US, EQ_EU, EQ_JP, RATES_10Y, CREDIT_HY)")]
    [InlineData("EQ_US,EQ_EU|EQ_EU", "error [OPT-E]: --linkability-series: series 'EQ_EU' is named twice; the attacker's two datasets hold disjoint series")]
    public void Evaluate_BadLinkabilitySeries_Exit2_NothingWritten(string value, string message)
    {
        var (code, stdout, stderr) = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--train", Fixture("train.csv"), "--linkability-series", value, "--out", Temp("bad/report.json"));
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        AssertNoStackTrace(stdout + stderr);
        Assert.False(Directory.Exists(Temp("bad")));
        var noTrain = Crucible("evaluate", "--real", Fixture("real.csv"), "--synthetic", Fixture("synthetic.csv"),
            "--linkability-series", "EQ_US|EQ_EU", "--out", Temp("bad/report.json"));
        Assert.Equal(2, noTrain.Exit);
        Assert.Contains("error [OPT-E]: --linkability-series needs --train FILE", noTrain.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Temp("bad")));
    }

    /// <summary>A holdout the train-fitted forecaster predicts exactly (every return 0) has no MSE ratio, and its constant
    /// series no correlation distance or importance ρ: report.json writes null (with a warning), and the summary says
    /// n/a instead of printing "NaN".</summary>
    [Fact]
    public void Evaluate_AnExactRealForecaster_SummarisesTheMseRatioAsNotApplicable_NotNaN()
    {
        var flat = new System.Text.StringBuilder("date,A,B\n");
        for (var t = 0; t < 300; t++) flat.Append(System.Globalization.CultureInfo.InvariantCulture, $"{new DateOnly(2015, 1, 1).AddDays(t):yyyy-MM-dd},0,0\n");
        var real = Write("flat.csv", flat.ToString());
        var synthetic = new System.Text.StringBuilder("A,B\n");
        for (var t = 0; t < 400; t++) synthetic.Append(System.Globalization.CultureInfo.InvariantCulture, $"{Math.Sin(t * 0.7) * 0.01:R},{Math.Cos(t * 1.3) * 0.02:R}\n");
        var json = Temp("report.json");
        var (code, stdout, stderr) = Crucible("evaluate", "--real", real, "--synthetic", Write("syn.csv", synthetic.ToString()), "--train", real, "--out", json);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("utility").GetProperty("return").GetProperty("mse_ratio").ValueKind);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("corr_distance").ValueKind);
        Assert.Contains("MSE ratio n/a;", stdout, StringComparison.Ordinal);
        Assert.Contains("corr_distance n/a", stdout, StringComparison.Ordinal);
        Assert.Contains("mse_ratio is undefined (null)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", stdout, StringComparison.Ordinal);
    }
}
