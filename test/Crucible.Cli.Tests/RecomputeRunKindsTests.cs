using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Crucible.Governance.Audit;

namespace Crucible.Cli.Tests;

/// <summary>
/// RELIABILITY.md MRM-2 for the run kinds beyond train, generate and evaluate: each command is run, then
/// <c>verify-run --recompute</c> does it again from its manifest and the outputs come out byte-identical (exit 0); an output
/// rewritten together with its recorded hash is caught (exit 3); an input that no longer hashes as recorded is refused
/// before anything is run (exit 2, VERIFY-E-RECOMPUTE); a manifest written before the keys recompute needs is refused
/// naming the missing key. Inputs are copies in a temporary folder (the fixtures are never edited).
/// </summary>
public sealed class RecomputeRunKindsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("crucible-recompute-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Temp(string name) => Path.Combine(_dir.FullName, name);

    private static string StressFixture(string name) => Fixture("Crucible.Stress.Tests", name);

    private static string Fixture(string project, string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Crucible.slnx")))
                return Path.Combine(dir.FullName, "test", project, "TestData", name);
        }

        throw new InvalidOperationException("Crucible.slnx not found above " + AppContext.BaseDirectory);
    }

    // a copy of a fixture in the test's folder, so that the input-edit cases edit only the copy
    private string Copy(string fixture, string name)
    {
        var path = Temp(name);
        File.Copy(StressFixture(fixture), path);
        return path;
    }

    private static string ManifestOf(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();

    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        var r = CliProcess.Run(args);
        Assert.True(r.Exit == 0, $"crucible {string.Join(' ', args)}: exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
        return r;
    }

    // done again: every output identical
    private static void AssertRecomputedIdentically(string manifest, int outputs)
    {
        var again = CliProcess.Run("verify-run", manifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{outputs}/{outputs} outputs recomputed identically"), again.Stdout, StringComparison.Ordinal);
    }

    // a forger edits the output and rewrites its recorded hash: the file checks pass, the recomputation does not
    private static void AssertForgedOutputCaught(string manifest, string output)
    {
        File.AppendAllText(output, output.EndsWith(".csv", StringComparison.Ordinal) ? "0,0,0\n" : " ");
        var m = JsonNode.Parse(File.ReadAllText(manifest))!;
        foreach (var o in m["outputs"]!.AsArray())
        {
            if ((string?)o!["path"] == output)
            {
                o["sha256"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(output)));
                o["bytes"] = new FileInfo(output).Length;
            }
        }

        File.WriteAllText(manifest, m.ToJsonString());
        Assert.Equal(0, CliProcess.Run("verify-run", manifest).Exit);
        var forged = CliProcess.Run("verify-run", manifest, "--recompute");
        Assert.True(forged.Exit == 3, forged.Stdout + forged.Stderr);
        Assert.Contains($"MISMATCH  recomputed {output}", forged.Stdout, StringComparison.Ordinal);
    }

    // an input edited after the run: refused before anything is run again
    private static void AssertEditedInputRefused(string manifest, string input)
    {
        var original = File.ReadAllBytes(input);
        File.AppendAllText(input, "\n");
        var refused = CliProcess.Run("verify-run", manifest, "--recompute");
        File.WriteAllBytes(input, original);
        Assert.True(refused.Exit == 2, refused.Stdout + refused.Stderr);
        Assert.Contains("VERIFY-E-RECOMPUTE", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("no longer hashes as recorded", refused.Stderr, StringComparison.Ordinal);
    }

    // a manifest of an earlier version, without the config key <paramref name="key"/> (its config hash rewritten to match)
    private static void AssertRefusedWithout(string manifest, string key)
    {
        var m = JsonNode.Parse(File.ReadAllText(manifest))!;
        var config = m["config"]!.AsObject();
        Assert.True(config.Remove(key), key);
        m["config_sha256"] = Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Serialize(config)));
        var old = manifest[..^".json".Length] + ".old.json";
        File.WriteAllText(old, m.ToJsonString());
        Assert.Equal(0, CliProcess.Run("verify-run", old).Exit);
        var refused = CliProcess.Run("verify-run", old, "--recompute");
        Assert.True(refused.Exit == 2, refused.Stdout + refused.Stderr);
        Assert.Contains("VERIFY-E-RECOMPUTE", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains(key, refused.Stderr, StringComparison.Ordinal);
    }

    // a price history over the fixture scenarios' first 600 one-step returns (series A, B, C)
    private string HistoryFile() => StressHistoryFixture.Write(StressFixture("scenarios.csv"), Temp("history.csv"));

    [Fact]
    public void Stress_PlainAndReverseOverTheFile_RecomputedIdentically_ForgedReportCaught_EditedInputRefused()
    {
        string home = Temp("home"), scenarios = Copy("scenarios.csv", "scenarios.csv"), portfolio = Copy("portfolio.json", "portfolio.json");
        var plainOut = Temp("plain.json");
        var plain = ManifestOf(Run("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--alpha", "0.9", "0.99", "--home", home, "--out", plainOut).Stdout);
        AssertRecomputedIdentically(plain, 1);

        var history = HistoryFile();
        var reverseOut = Temp("reverse.json");
        var reverse = ManifestOf(Run("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.04",
            "--history", history, "--top", "5", "--home", home, "--out", reverseOut).Stdout);
        AssertRecomputedIdentically(reverse, 1);
        AssertRefusedWithout(reverse, "scenarios_file");
        AssertRefusedWithout(reverse, "history_input");
        AssertEditedInputRefused(reverse, history);
        AssertEditedInputRefused(plain, portfolio);
        AssertForgedOutputCaught(plain, plainOut);
        AssertForgedOutputCaught(reverse, reverseOut);
    }

    [Fact]
    public void Stress_AHistoryInAnotherDialect_IsReadWithTheHistoryDialectOptions_AndRecomputedIdentically()
    {
        // the CSV reader's hint "declare that delimiter" named an option stress did not have for --history
        string home = Temp("home"), scenarios = Copy("scenarios.csv", "scenarios.csv"), portfolio = Copy("portfolio.json", "portfolio.json");
        string semi = Temp("history-semi.csv");
        File.WriteAllLines(semi, File.ReadAllLines(HistoryFile()).Select(l => string.Join(';', l.Split(',').Select(c => c.Replace('.', ',')))));
        string[] args = ["stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.04", "--history", semi, "--top", "5",
            "--home", home, "--out", Temp("reverse.json")];
        var bare = CliProcess.Run(args);
        Assert.True(bare.Exit == 2, bare.Stderr);
        Assert.Contains("declare that delimiter", bare.Stderr, StringComparison.Ordinal);

        var reverse = ManifestOf(Run([.. args, "--history-delimiter", ";", "--history-decimal", ","]).Stdout);
        Assert.Contains("\"history_csv\":{\"decimal\":\",\",\"delimiter\":\";\"}", File.ReadAllText(reverse), StringComparison.Ordinal);
        AssertRecomputedIdentically(reverse, 1);

        var orphan = CliProcess.Run("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--history-delimiter", ";", "--home", home, "--out", Temp("plain.json"));
        Assert.True(orphan.Exit == 2, orphan.Stderr);
        Assert.Contains("error [OPT-E]: --history-delimiter, --history-decimal, … say how --history is read: give --history FILE", orphan.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stress_ReverseAndAdversarialFromAModel_RecomputedIdentically_EditedModelRefused()
    {
        string home = Temp("home"), history = HistoryFile(), config = Temp("small.json"), model = Temp("m");
        File.WriteAllText(config, """{"hidden": 8, "layers": 1, "heads": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 16, "warmup_steps": 2}}""");
        Run("train", "--data", history, "--kind", "sequence", "--window", "5", "--steps", "5", "--config", config, "--seed", "1", "--home", home, "--out", model);
        string scenarios = Copy("scenarios.csv", "scenarios.csv"), portfolio = Copy("portfolio.json", "portfolio.json");
        var reverseOut = Temp("reverse.json");
        var reverse = ManifestOf(Run("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--reverse", "--loss-threshold", "0.04",
            "--history", history, "--model", model, "--candidates", "20", "--top", "3", "--seed", "2", "--guidance-scale", "0.5", "--min-breach-rate", "0.9",
            "--home", home, "--out", reverseOut).Stdout);
        AssertRecomputedIdentically(reverse, 1);

        var adversarialOut = Temp("adversarial.json");
        var adversarial = ManifestOf(Run("stress", "--scenarios", scenarios, "--portfolio", portfolio, "--adversarial", "--history", history,
            "--history-input", "prices", "--model", model, "--candidates", "50", "--top", "3", "--seed", "3", "--home", home, "--out", adversarialOut).Stdout);
        AssertRecomputedIdentically(adversarial, 1);
        AssertRefusedWithout(adversarial, "candidates");
        AssertEditedInputRefused(adversarial, Path.Combine(model, "manifest.json"));
        AssertForgedOutputCaught(adversarial, adversarialOut);
    }

    [Fact]
    public void Ensemble_RecomputedIdentically_ForgedReportCaught_EditedMemberRefused()
    {
        string home = Temp("home"), portfolio = Copy("portfolio.json", "portfolio.json");
        string a = Copy("scenarios.csv", "a.csv"), b = Temp("b.csv"), report = Temp("ensemble.json");
        // the second member: the first one's scenarios with every return halved (a calmer generator, so they disagree)
        File.WriteAllLines(b, File.ReadAllLines(a).Select((l, i) => i == 0 ? l : string.Join(',', l.Split(',').Select((x, j) => j < 2 ? x
            : (double.Parse(x, CultureInfo.InvariantCulture) / 2).ToString("R", CultureInfo.InvariantCulture)))));
        var e = CliProcess.Run("ensemble", "--scenarios", a, b, "--portfolio", portfolio, "--alpha", "0.95", "--home", home, "--out", report);
        Assert.True(e.Exit is 0 or 3, e.Stdout + e.Stderr); // 3: flagged, the report and manifest are written all the same
        var manifest = ManifestOf(e.Stdout);
        AssertRecomputedIdentically(manifest, 1);
        AssertEditedInputRefused(manifest, b);
        AssertForgedOutputCaught(manifest, report);
    }

    [Fact]
    public void BacktestBaselineCompare_RecomputedIdentically_ForgedOutputsCaught_EditedInputsRefused()
    {
        string home = Temp("home"), prices = TestPrices.Write(Temp("prices.csv"), 400); // weekdays 2020-01-01 .. mid 2021
        string portfolio = Temp("portfolio.json");
        File.WriteAllText(portfolio, """{"name": "ab", "weights": {"A": 0.6, "B": 0.4}}""");

        string backtestOut = Temp("backtest.json");
        var backtest = ManifestOf(Run("backtest", "--data", prices, "--portfolio", portfolio, "--generator", "bootstrap", "--first-year", "2021", "--last-year", "2021",
            "--samples", "100", "--seed", "3", "--home", home, "--out", backtestOut).Stdout);
        AssertRecomputedIdentically(backtest, 1);

        string baselineOut = Temp("baseline.csv");
        var baseline = ManifestOf(Run("baseline", "--data", prices, "--generator", "bootstrap", "--columns", "A,C", "--train-end", "2020-12-31",
            "--count", "20", "--window", "5", "--seed", "4", "--home", home, "--out", baselineOut).Stdout);
        AssertRecomputedIdentically(baseline, 1);
        var plainBaseline = ManifestOf(Run("baseline", "--data", prices, "--generator", "bootstrap", "--count", "10", "--window", "3",
            "--home", home, "--out", Temp("plain.csv")).Stdout);
        AssertRecomputedIdentically(plainBaseline, 1); // no --columns, no --train-end: recorded as null, run again as absent

        string table = Temp("compare.json"), page = Temp("compare.html");
        var compare = ManifestOf(Run("compare", "--data", prices, "--portfolio", portfolio, "--train-end", "2020-12-31", "--generator", "bootstrap",
            "--count", "10", "--window", "5", "--seed", "5", "--home", home, "--out", table, "--html", page).Stdout);
        AssertRecomputedIdentically(compare, 2);

        AssertRefusedWithout(baseline, "train_end");
        AssertEditedInputRefused(backtest, portfolio);
        AssertEditedInputRefused(baseline, prices);
        AssertEditedInputRefused(compare, prices);
        AssertForgedOutputCaught(backtest, backtestOut);
        AssertForgedOutputCaught(baseline, baselineOut);
        AssertForgedOutputCaught(compare, page);
    }

    [Fact]
    public void ModelCard_RecomputedIdentically_WithTheRecordedStatus_ForgedPageCaught_EditedReportRefused()
    {
        string home = Temp("home"), model = Temp("model"), real = TestPrices.Returns(Temp("returns.csv"), 200), config = Temp("small.json");
        File.WriteAllText(config, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        Run("train", "--data", real, "--input", "returns", "--steps", "5", "--config", config, "--seed", "2", "--home", home, "--out", model); // registered: a candidate
        // the card takes a report of the model's own series (CARD-E-REPORT otherwise)
        string synthetic = Temp("synthetic.csv"), report = Temp("report.json");
        Run("generate", "--model", model, "--count", "200", "--sampling-steps", "10", "--seed", "3", "--out", synthetic);
        Run("evaluate", "--real", real, "--synthetic", synthetic, "--out", report);

        string card = Temp("card.md"), page = Temp("card.html");
        var made = Run("model-card", "--model", model, "--report", report, "--home", home, "--out", card, "--html", page);
        Assert.Contains("| registry status | candidate |", File.ReadAllText(card), StringComparison.Ordinal);
        var manifest = ManifestOf(made.Stdout);
        AssertRecomputedIdentically(manifest, 2);
        var bare = ManifestOf(Run("model-card", "--model", model, "--out", Temp("bare.md")).Stdout); // no report, no registry status
        AssertRecomputedIdentically(bare, 1);

        AssertRefusedWithout(manifest, "registry_status");
        AssertEditedInputRefused(manifest, report);
        AssertForgedOutputCaught(manifest, page);
    }
}
