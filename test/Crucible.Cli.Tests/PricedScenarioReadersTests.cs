using System.Text.Json.Nodes;

namespace Crucible.Cli.Tests;

/// <summary>
/// Scenario files of <c>generate --prices</c> read by <c>evaluate</c>, <c>stress</c> and <c>ensemble</c> in child
/// processes of the built CLI: with the FILE.meta.json written beside them, every report equals that of the same draw
/// generated without <c>--prices</c>; a portfolio cannot hold a price column; without the metadata, or with another
/// file's, the file is refused with a message that says why (exit 2). One tiny model, so the class runs in seconds.
/// </summary>
public sealed class PricedScenarioReadersTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-pricedread-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    private string P(params string[] parts) => Path.Combine([_dir, .. parts]);

    private string Write(string name, string text)
    {
        string path = P(name);
        File.WriteAllText(path, text);
        return path;
    }

    // a tiny tabular model on prices of A and C (so its manifest records last train prices)
    private string Model()
    {
        string data = TestPrices.Write(P("prices.csv"), 300);
        string config = Write("small.json", """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        string model = P("m");
        var t = Crucible("train", "--data", data, "--columns", "A,C", "--train-end", "2020-06-30", "--steps", "10", "--config", config, "--seed", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        return model;
    }

    // plain/NAME.csv and priced/NAME.csv: the same draw (seed) without and with --prices
    private (string Plain, string Priced) Draw(string model, string name, string seed)
    {
        string plain = P("plain", name + ".csv"), priced = P("priced", name + ".csv");
        Directory.CreateDirectory(P("plain"));
        Directory.CreateDirectory(P("priced"));
        string[] draw = ["generate", "--model", model, "--count", "300", "--sampling-steps", "5", "--seed", seed];
        var g = Crucible([.. draw, "--out", plain]);
        Assert.True(g.Exit == 0, g.Stderr);
        g = Crucible([.. draw, "--prices", "--out", priced]);
        Assert.True(g.Exit == 0, g.Stderr);
        Assert.Equal("scenario,step,A,C,A_price,C_price", File.ReadLines(priced).First());
        return (plain, priced);
    }

    // a stress report without the scenario file's path and hash (the only members that name the file)
    private static string WithoutSource(string reportPath)
    {
        var root = JsonNode.Parse(File.ReadAllText(reportPath))!.AsObject();
        var scenarios = root["scenarios"]!.AsObject();
        Assert.True(scenarios.Remove("file") && scenarios.Remove("sha256"));
        return root.ToJsonString();
    }

    // the run manifest path a command printed
    private static string ManifestOf(string stdout) =>
        stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();

    [Fact]
    public void PricedFilesWithTheirMetadata_GiveTheReportsOfTheUnpricedFiles_AndWithoutItAreRefusedWithAReason()
    {
        string model = Model();
        var (plain, priced) = Draw(model, "s", "9");
        var (plainT, pricedT) = Draw(model, "t", "10");
        var real = Draw(model, "real", "3").Plain;
        string portfolio = Write("p.json", """{"name": "60/40", "weights": {"A": 0.6, "C": 0.4}}""");

        // evaluate: the same report.json, byte for byte
        var e1 = Crucible("evaluate", "--real", real, "--synthetic", plain, "--out", P("e-plain.json"));
        Assert.True(e1.Exit == 0, e1.Stderr);
        var e2 = Crucible("evaluate", "--real", real, "--synthetic", priced, "--out", P("e-priced.json"));
        Assert.True(e2.Exit == 0, e2.Stderr);
        Assert.Equal(File.ReadAllBytes(P("e-plain.json")), File.ReadAllBytes(P("e-priced.json")));
        // the metadata is an input of the run (role synthetic_metadata), and verify-run --recompute reads the file as evaluate did
        string evalManifest = ManifestOf(e2.Stdout);
        Assert.Contains("synthetic_metadata", File.ReadAllText(evalManifest), StringComparison.Ordinal);
        Assert.DoesNotContain("synthetic_metadata", File.ReadAllText(ManifestOf(e1.Stdout)), StringComparison.Ordinal);
        var again = Crucible("verify-run", evalManifest, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("recomputed identically", again.Stdout, StringComparison.Ordinal);

        // stress (with the reverse stress over the file's scenarios): the same report but for the file's path and hash
        string history = TestPrices.Write(P("history.csv"), 300);
        foreach (var (file, report) in new[] { (plain, "s-plain.json"), (priced, "s-priced.json") })
        {
            var s = Crucible("stress", "--scenarios", file, "--portfolio", portfolio, "--alpha", "0.95", "--alpha", "0.99",
                "--reverse", "--loss-threshold", "0.001", "--history", history, "--out", P(report));
            Assert.True(s.Exit == 0, s.Stderr);
            Assert.Equal(file == priced, File.ReadAllText(ManifestOf(s.Stdout)).Contains("s.meta.json", StringComparison.Ordinal));
            Assert.DoesNotContain("warning", s.Stderr, StringComparison.Ordinal);
            // the metadata has its role among the inputs, and verify-run --recompute reads the file as stress did
            var rs = Crucible("verify-run", ManifestOf(s.Stdout), "--recompute");
            Assert.True(rs.Exit == 0, rs.Stdout + rs.Stderr);
        }

        string stressPlain = WithoutSource(P("s-plain.json"));
        Assert.Equal(stressPlain, WithoutSource(P("s-priced.json")));
        Assert.DoesNotContain("A_price", File.ReadAllText(P("s-priced.json")), StringComparison.Ordinal);

        // ensemble: members named after their files (s, t) in both folders, so the JSON is the same bytes
        var n1 = Crucible("ensemble", "--scenarios", plain, "--scenarios", plainT, "--portfolio", portfolio, "--out", P("n-plain.json"));
        var n2 = Crucible("ensemble", "--scenarios", priced, "--scenarios", pricedT, "--portfolio", portfolio, "--out", P("n-priced.json"));
        Assert.Equal(n1.Exit, n2.Exit);
        Assert.True(n1.Exit is 0 or 3, n1.Stderr);
        Assert.Equal(File.ReadAllBytes(P("n-plain.json")), File.ReadAllBytes(P("n-priced.json")));
        var rn = Crucible("verify-run", ManifestOf(n2.Stdout), "--recompute");
        Assert.True(rn.Exit == 0, rn.Stdout + rn.Stderr);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(File.ReadAllText(ManifestOf(n2.Stdout)), "\"scenarios_metadata\""));

        // a portfolio cannot hold a price column: with the metadata, A_price is no series of the file
        string pricePortfolio = Write("pp.json", """{"name": "prices", "weights": {"A_price": 1}}""");
        var pp = Crucible("stress", "--scenarios", priced, "--portfolio", pricePortfolio, "--out", P("pp.json.out"));
        Assert.Equal(2, pp.Exit);
        Assert.Contains("unknown-series", pp.Stderr, StringComparison.Ordinal);
        Assert.Contains("series: A, C)", pp.Stderr, StringComparison.Ordinal);

        // the same bytes without their metadata: evaluate refuses, saying the file may have price columns
        Directory.CreateDirectory(P("bare"));
        string bare = P("bare", "s.csv");
        File.Copy(priced, bare);
        var b = Crucible("evaluate", "--real", real, "--synthetic", bare, "--out", P("e-bare.json"));
        Assert.Equal(2, b.Exit);
        Assert.Contains("column-mismatch", b.Stderr, StringComparison.Ordinal);
        Assert.Contains("may have price columns (A_price, C_price", b.Stderr, StringComparison.Ordinal);
        Assert.Contains("s.meta.json", b.Stderr, StringComparison.Ordinal);

        // stress reads them as series (a model may have X and X_price), and warns
        var w = Crucible("stress", "--scenarios", bare, "--portfolio", portfolio, "--out", P("s-bare-nometa.json"));
        Assert.True(w.Exit == 0, w.Stderr);
        Assert.Contains("warning: ", w.Stderr, StringComparison.Ordinal);
        Assert.Contains("has columns A_price, C_price beside A, C and no metadata declaring price columns", w.Stderr, StringComparison.Ordinal);

        // another draw's metadata beside it (its csv_sha256 is not this file's): refused, not trusted
        File.Copy(P("priced", "t.meta.json"), P("bare", "s.meta.json"));
        foreach (var args in new[]
        {
            new[] { "evaluate", "--real", real, "--synthetic", bare, "--out", P("e-bare.json") },
            ["stress", "--scenarios", bare, "--portfolio", portfolio, "--out", P("s-bare.json")],
        })
        {
            var r = Crucible(args);
            Assert.True(r.Exit == 2, r.Stdout + r.Stderr);
            Assert.Contains("scenario-metadata-sha256", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(P("e-bare.json")));
        Assert.False(File.Exists(P("s-bare.json")));
    }
}
