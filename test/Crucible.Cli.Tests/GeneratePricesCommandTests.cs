using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>crucible generate --prices [--start-prices FILE.json|unit]</c> end to end in child processes of the built CLI: the
/// price columns beside the returns, P_0 from the model's manifest, a file or 1, the metadata, byte-identical reruns,
/// <c>verify-run --recompute</c>, and each refusal (exit 2). Models are tiny, so the class runs in seconds.
/// </summary>
public sealed class GeneratePricesCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-prices-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Home => Path.Combine(_dir, "home");

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Home }, args);

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private string SmallConfig()
    {
        string path = Path.Combine(_dir, "small.json");
        File.WriteAllText(path, """{"hidden": 16, "blocks": 1, "time_embedding": 8, "diffusion_steps": 50, "training": {"batch_size": 32, "warmup_steps": 2}}""");
        return path;
    }

    private string Model(string name, params string[] args)
    {
        string model = Path.Combine(_dir, name);
        var t = Crucible(["train", .. args, "--steps", "10", "--config", SmallConfig(), "--seed", "2", "--out", model]);
        Assert.True(t.Exit == 0, t.Stderr);
        return model;
    }

    private string Json(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    // the CSV's rows as (scenario, step, cells)
    private static (string[] Header, List<double[]> Rows) Read(string csv)
    {
        var lines = File.ReadAllLines(csv);
        var rows = lines.Skip(1).Select(l => l.Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray()).ToList();
        return (lines[0].Split(','), rows);
    }

    // every price cell is P0 · exp(cumulative return) of its scenario (independent of the library: summed here)
    private static void AssertPricePaths(string csv, int series, double[] start)
    {
        var (header, rows) = Read(csv);
        Assert.Equal(2 + (2 * series), header.Length);
        var sum = new double[series];
        foreach (var row in rows)
        {
            if (row[1] == 1) Array.Clear(sum);
            for (int j = 0; j < series; j++)
            {
                sum[j] += row[2 + j];
                double expected = start[j] * Math.Exp(sum[j]);
                Assert.True(Math.Abs(row[2 + series + j] - expected) <= 1e-12 * expected, $"{row[2 + series + j]} vs {expected}");
            }
        }
    }

    [Fact]
    public void PricesModel_StartsAtItsLastTrainPrice_AFileWins_UnitIsExplicit_AndVerifyRunRecomputesIt()
    {
        string data = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 300);
        string model = Model("m", "--data", data, "--columns", "A,C", "--train-end", "2020-06-30");

        // the manifest records the last train price: the file's A and C on the last date ≤ 2020-06-30
        var lastRow = File.ReadAllLines(data).Skip(1).Select(l => l.Split(',')).Last(c => string.CompareOrdinal(c[0], "2020-06-30") <= 0);
        double a0 = double.Parse(lastRow[1], CultureInfo.InvariantCulture), c0 = double.Parse(lastRow[3], CultureInfo.InvariantCulture);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json"))))
        {
            var last = manifest.RootElement.GetProperty("data").GetProperty("last_prices");
            Assert.Equal(["A", "C"], last.EnumerateObject().Select(p => p.Name));
            Assert.Equal(a0, last.GetProperty("A").GetDouble());
            Assert.Equal(c0, last.GetProperty("C").GetDouble());
        }

        string s1 = Path.Combine(_dir, "s1.csv"), s2 = Path.Combine(_dir, "s2.csv"), plain = Path.Combine(_dir, "plain.csv");
        string[] draw = ["generate", "--model", model, "--count", "40", "--sampling-steps", "5", "--seed", "9"];
        var g = Crucible([.. draw, "--prices", "--out", s1]);
        Assert.True(g.Exit == 0, g.Stderr);
        Assert.Contains("2 series, price paths from P_0 of model_manifest", g.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, Crucible([.. draw, "--prices", "--out", s2]).Exit);
        Assert.Equal(0, Crucible([.. draw, "--out", plain]).Exit);
        Assert.Equal(File.ReadAllBytes(s1), File.ReadAllBytes(s2)); // same model, seed and options ⇒ the same bytes
        Assert.Equal("scenario,step,A,C,A_price,C_price", File.ReadLines(s1).First());
        // the return columns are those of a run without --prices
        Assert.Equal(File.ReadAllLines(plain).Skip(1), File.ReadAllLines(s1).Skip(1).Select(l => string.Join(',', l.Split(',')[..4])));
        AssertPricePaths(s1, 2, [a0, c0]);
        using (var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s1.meta.json"))))
        {
            var root = meta.RootElement;
            Assert.Equal(Sha(s1), root.GetProperty("csv_sha256").GetString());
            Assert.Equal("model_manifest", root.GetProperty("prices").GetProperty("source").GetString());
            Assert.Equal(a0, root.GetProperty("prices").GetProperty("start").GetProperty("A").GetDouble());
            Assert.Equal(["A_price", "C_price"], root.GetProperty("prices").GetProperty("columns").EnumerateArray().Select(e => e.GetString()));
        }

        Assert.False(File.ReadAllText(Path.Combine(_dir, "plain.meta.json")).Contains("\"prices\"", StringComparison.Ordinal));

        // a start-prices file wins over the manifest; extra instruments in it are ignored
        string start = Json("start.json", """{"A": 470.25, "C": 90.5, "SPY": 1}""");
        string s3 = Path.Combine(_dir, "s3.csv");
        var f = Crucible([.. draw, "--prices", "--start-prices", start, "--out", s3]);
        Assert.True(f.Exit == 0, f.Stderr);
        AssertPricePaths(s3, 2, [470.25, 90.5]);
        using (var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s3.meta.json"))))
        {
            var p = meta.RootElement.GetProperty("prices");
            Assert.Equal("file", p.GetProperty("source").GetString());
            Assert.Equal("start.json", p.GetProperty("file").GetString());
            Assert.Equal(Sha(start), p.GetProperty("file_sha256").GetString());
        }

        // unit, asked for explicitly
        string s4 = Path.Combine(_dir, "s4.csv");
        Assert.Equal(0, Crucible([.. draw, "--prices", "--start-prices", "unit", "--out", s4]).Exit);
        AssertPricePaths(s4, 2, [1, 1]);

        // verify-run --recompute draws each again, start file included, byte for byte
        foreach (var run in new[] { g, f })
        {
            string manifest = run.Stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();
            var again = Crucible("verify-run", manifest, "--recompute");
            Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
            Assert.Contains("2/2 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);
        }

        // the start file changed after the run: verify-run sees the recorded input differ
        string fManifest = f.Stdout.Split('\n').Single(l => l.StartsWith("manifest:", StringComparison.Ordinal))["manifest:".Length..].Trim();
        File.WriteAllText(start, """{"A": 1, "C": 1}""");
        Assert.NotEqual(0, Crucible("verify-run", fManifest).Exit);
    }

    [Fact]
    public void Refusals_Exit2_NamingTheRule()
    {
        // a model trained on log returns records no last prices
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 150);
        var lines = File.ReadAllLines(prices);
        var returns = new StringBuilder(lines[0]).Append('\n');
        for (int i = 2; i < lines.Length; i++)
        {
            var now = lines[i].Split(',');
            var before = lines[i - 1].Split(',');
            returns.Append(now[0]);
            for (int j = 1; j < now.Length; j++)
            {
                double r = Math.Log(double.Parse(now[j], CultureInfo.InvariantCulture) / double.Parse(before[j], CultureInfo.InvariantCulture));
                returns.Append(',').Append(r.ToString("R", CultureInfo.InvariantCulture));
            }

            returns.Append('\n');
        }

        string returnsFile = Json("returns.csv", returns.ToString());
        string model = Model("r", "--data", returnsFile, "--input", "log-returns");
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "manifest.json"))))
            Assert.False(manifest.RootElement.GetProperty("data").TryGetProperty("last_prices", out _));

        string csv = Path.Combine(_dir, "s.csv");
        void Refused(string expected, params string[] extra)
        {
            var g = Crucible(["generate", "--model", model, "--count", "8", "--sampling-steps", "3", .. extra, "--out", csv]);
            Assert.True(g.Exit == 2, $"exit {g.Exit}: {g.Stderr}");
            Assert.Contains(expected, g.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", g.Stderr, StringComparison.Ordinal); // no stack trace
            Assert.False(File.Exists(csv));
        }

        Refused("PRICES-E-START", "--prices");
        Refused("--start-prices unit", "--prices");
        Refused("no start price for series B", "--prices", "--start-prices", Json("missing.json", """{"A": 1, "C": 2}"""));
        Refused("finite number > 0, got 0", "--prices", "--start-prices", Json("zero.json", """{"A": 1, "B": 0, "C": 2}"""));
        Refused("finite number > 0, got -2", "--prices", "--start-prices", Json("negative.json", """{"A": 1, "B": 1, "C": -2}"""));
        Refused("start price of A", "--prices", "--start-prices", Json("infinite.json", """{"A": 1e999, "B": 1, "C": 1}"""));
        Refused("the start price of C must be at least 2.2250738585072014E-308", "--prices", "--start-prices", Json("subnormal.json", """{"A": 1, "B": 1, "C": 1e-320}"""));
        Refused("malformed.json:2:8", "--prices", "--start-prices", Json("malformed.json", "{\"A\": 1,\n  \"B\": ]\n}"));
        Refused("does not exist", "--prices", "--start-prices", Path.Combine(_dir, "nowhere.json"));
        // a folder is refused as a folder, as every other input file is (it was "the start-prices file … does not exist")
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "start-folder")).FullName;
        Refused($"{folder}: error [not-a-file]: a folder, not a file: name the file itself", "--prices", "--start-prices", folder);
        Refused("--start-prices applies with --prices only", "--start-prices", "unit");

        // the same model with an explicit start is fine
        var ok = Crucible("generate", "--model", model, "--count", "8", "--sampling-steps", "3", "--prices", "--start-prices",
            Json("ok.json", """{"A": 100, "B": 50, "C": 20}"""), "--out", csv);
        Assert.True(ok.Exit == 0, ok.Stderr);
        AssertPricePaths(csv, 3, [100, 50, 20]);
    }

    [Theory]
    [InlineData("tabular")]
    [InlineData("sequence")]
    public void WithheldPrices_LeaveNoLastPrice_TheSameWeights_AndGenerateNeedsAnExplicitStart(string kind)
    {
        string data = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 120);
        string[] args = kind == "sequence"
            ? ["--kind", "sequence", "--window", "5", "--config", Json("seq.json", """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 30, "training": {"batch_size": 16, "warmup_steps": 1}}""")]
            : ["--config", SmallConfig()];
        string plain = Path.Combine(_dir, "plain"), withheld = Path.Combine(_dir, "withheld");
        var p = CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "other-home") },
            ["train", "--data", data, .. args, "--steps", "4", "--seed", "2", "--out", plain]);
        Assert.True(p.Exit == 0, p.Stderr);
        var t = Crucible(["train", "--data", data, .. args, "--steps", "4", "--seed", "2", "--withhold-prices", "--out", withheld]);
        Assert.True(t.Exit == 0, t.Stderr);

        // the same weights (the model id); the manifest records no last price, and says they were withheld
        Assert.Equal(Sha(Path.Combine(plain, "weights.safetensors")), Sha(Path.Combine(withheld, "weights.safetensors")));
        using (var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(withheld, "manifest.json"))))
        {
            var d = m.RootElement.GetProperty("data");
            Assert.False(d.TryGetProperty("last_prices", out _));
            Assert.True(d.GetProperty("last_prices_withheld").GetBoolean());
        }

        using (var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(plain, "manifest.json"))))
        {
            Assert.True(m.RootElement.GetProperty("data").TryGetProperty("last_prices", out _));
            Assert.False(m.RootElement.GetProperty("data").TryGetProperty("last_prices_withheld", out _));
        }

        Assert.DoesNotContain(File.ReadAllLines(data)[^1].Split(',')[1], File.ReadAllText(Path.Combine(withheld, "manifest.json")), StringComparison.Ordinal);

        // generate --prices needs an explicit start, and says which flag took the default away
        string csv = Path.Combine(_dir, "s.csv");
        var g = Crucible("generate", "--model", withheld, "--count", "4", "--sampling-steps", "3", "--prices", "--out", csv);
        Assert.True(g.Exit == 2, $"exit {g.Exit}: {g.Stderr}");
        Assert.Contains("error [PRICES-E-START]: price paths need a start price per series: this model was trained with --withhold-prices", g.Stderr, StringComparison.Ordinal);
        Assert.Contains("--start-prices FILE.json", g.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(csv));
        var unit = Crucible("generate", "--model", withheld, "--count", "4", "--sampling-steps", "3", "--prices", "--start-prices", "unit", "--out", csv);
        Assert.True(unit.Exit == 0, unit.Stderr);

        // the run records the flag, and the recompute withholds them again
        string run = Directory.GetFiles(Path.Combine(Home, "runs"), "*.json").Single(f => File.ReadAllText(f).Contains("\"command\":\"train\"", StringComparison.Ordinal));
        Assert.Contains("\"withhold_prices\":true", File.ReadAllText(run), StringComparison.Ordinal);
        var again = Crucible("verify-run", run, "--recompute");
        Assert.True(again.Exit == 0, again.Stdout + again.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", again.Stdout, StringComparison.Ordinal);

        // session 21: the plain twin, trained where the withheld model is registered, is another model (answered as the
        // registered one it would lose its prices): left unregistered, and the warning names the keys and says why
        var twin = Crucible(["train", "--data", data, .. args, "--steps", "4", "--seed", "2", "--out", Path.Combine(_dir, "plain-twin")]);
        Assert.True(twin.Exit == 0, twin.Stderr);
        Assert.Contains("warning [REG-E-CONFLICT]: model ", twin.Stderr, StringComparison.Ordinal);
        Assert.Contains("they differ in data.last_prices, data.last_prices_withheld; data.last_prices is the train's last prices, which one of the two withholds (train --withhold-prices)",
            twin.Stderr, StringComparison.Ordinal);
        Assert.Contains($"this model is not registered: use it by its folder (--model {Path.Combine(_dir, "plain-twin")}), or train with another seed", twin.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SequenceModel_PricePathsRunOverEachWindow()
    {
        string data = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 120);
        string model = Path.Combine(_dir, "seq");
        var t = Crucible("train", "--data", data, "--kind", "sequence", "--window", "5", "--steps", "4", "--config",
            Json("seq.json", """{"hidden": 8, "layers": 2, "heads": 2, "time_embedding": 8, "diffusion_steps": 30, "training": {"batch_size": 16, "warmup_steps": 1}}"""),
            "--seed", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        var last = File.ReadAllLines(data)[^1].Split(',').Skip(1).Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();

        string csv = Path.Combine(_dir, "w.csv");
        var g = Crucible("generate", "--model", model, "--count", "6", "--sampling-steps", "3", "--seed", "4", "--prices", "--out", csv);
        Assert.True(g.Exit == 0, g.Stderr);
        Assert.Equal("scenario,step,A,B,C,A_price,B_price,C_price", File.ReadLines(csv).First());
        var (_, rows) = Read(csv);
        Assert.Equal(30, rows.Count);
        Assert.Equal([1.0, 2, 3, 4, 5], rows.Take(5).Select(r => r[1]));
        AssertPricePaths(csv, 3, last);
    }
}
