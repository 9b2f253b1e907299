using System.Text;

namespace Crucible.Cli.Tests;

/// <summary>
/// <c>train</c> reads its --data with the options <c>data check</c> takes (one shared definition): a file that
/// <c>data check --delimiter ';' --decimal ',' --na NA --missing ffill</c> accepts trains with the same options, and
/// <c>verify-run --recompute</c> reads it again the same way. The reader's hints ("declare that delimiter") used to name
/// options train did not have.
/// </summary>
public sealed class TrainCsvDialectTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-cli-dialect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Exit, string Stdout, string Stderr) Crucible(params string[] args) =>
        CliProcess.Run(new Dictionary<string, string> { ["CRUCIBLE_HOME"] = Path.Combine(_dir, "home") }, args);

    // the TestPrices walk written with ';' fields, ',' decimals and one "NA" in B
    private string SemicolonPrices()
    {
        var lines = File.ReadAllLines(TestPrices.Write(Path.Combine(_dir, "prices.csv"), 80));
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',').Select(c => c.Replace('.', ',')).ToArray();
            if (i == 30) cells[2] = "NA";
            sb.Append(string.Join(';', cells)).Append('\n');
        }

        string path = Path.Combine(_dir, "semi.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    // the home's one run manifest records the dialect options as its config's csv, and verify-run --recompute reads the
    // file again the same way: exit 0, `recomputed` in its output
    private void AssertTheRunRecordsTheDialect_AndRecomputes(string recomputed)
    {
        string manifest = Directory.GetFiles(Path.Combine(_dir, "home", "runs"), "*.json").Single();
        Assert.Contains("\"csv\":{\"decimal\":\",\",\"delimiter\":\";\",\"missing\":\"ffill\",\"na\":[\"NA\"]}", File.ReadAllText(manifest), StringComparison.Ordinal);
        var v = Crucible("verify-run", manifest, "--recompute");
        Assert.True(v.Exit == 0, v.Stdout + v.Stderr);
        Assert.Contains(recomputed, v.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tabular")]
    [InlineData("sequence")]
    public void AFileDataCheckAcceptsWithDialectOptions_TrainsWithTheSameOptions_AndRecomputes(string kind)
    {
        string semi = SemicolonPrices();
        string[] dialect = ["--delimiter", ";", "--decimal", ",", "--na", "NA", "--missing", "ffill"];
        string[] kindArgs = kind == "sequence" ? ["--kind", "sequence", "--window", "5"] : [];

        var bare = Crucible(["train", "--data", semi, "--steps", "2", .. kindArgs, "--out", Path.Combine(_dir, "m0")]);
        Assert.True(bare.Exit == 2, bare.Stderr);
        Assert.Contains("the file looks ';'-delimited; declare that delimiter", bare.Stderr, StringComparison.Ordinal);
        Assert.Contains("--delimiter", Crucible("train", "--help").Stdout, StringComparison.Ordinal); // the hint names an option train has

        var check = Crucible(["data", "check", "--data", semi, .. dialect]);
        Assert.True(check.Exit == 0, check.Stdout + check.Stderr);

        string model = Path.Combine(_dir, "m");
        var t = Crucible(["train", "--data", semi, "--steps", "2", .. kindArgs, .. dialect, "--out", model]);
        Assert.True(t.Exit == 0, t.Stderr);
        AssertTheRunRecordsTheDialect_AndRecomputes("2/2 outputs recomputed identically");

        // the model trained on numbers read with the decimal comma: it generates
        var g = Crucible("generate", "--model", model, "--count", "2", "--out", Path.Combine(_dir, "s.csv"));
        Assert.True(g.Exit == 0, g.Stderr);
    }

    [Theory]
    [InlineData("baseline")]
    [InlineData("compare")]
    public void TheOtherCommandsThatReadAPriceCsv_TakeTheSameOptions_AndRecompute(string command)
    {
        string semi = SemicolonPrices();
        string portfolio = Path.Combine(_dir, "p.json");
        File.WriteAllText(portfolio, """{"name": "p", "weights": {"A": 0.5, "B": 0.5}}""");
        string[] dialect = ["--delimiter", ";", "--decimal", ",", "--na", "NA", "--missing", "ffill"];
        string[] args = command == "baseline"
            ? ["baseline", "--data", semi, "--generator", "bootstrap", "--count", "5", "--window", "2", "--out", Path.Combine(_dir, "b.csv")]
            : ["compare", "--data", semi, "--portfolio", portfolio, "--train-end", "2020-03-13", "--generator", "bootstrap", "--window", "3", "--count", "20",
                "--out", Path.Combine(_dir, "c.json")];
        var bare = Crucible(args);
        Assert.True(bare.Exit == 2, bare.Stderr);
        Assert.Contains("declare that delimiter", bare.Stderr, StringComparison.Ordinal);

        var r = Crucible([.. args, .. dialect]);
        Assert.True(r.Exit == 0, r.Stderr);
        AssertTheRunRecordsTheDialect_AndRecomputes("recomputed identically");
    }

    [Theory]
    [InlineData("tabular")]
    [InlineData("sequence")]
    public void ASeriesThatStartsLater_KeptMissing_IsRefusedAtItsFirstBlankCell_SayingWhatWorks(string kind)
    {
        // an analyst's file where C starts 10 rows after A and B: data check --missing keep accepts it (NaN kept), but no
        // generator trains on a NaN; the fit's refusal named a row of returns ("training value at row 0") and no file
        var lines = File.ReadAllLines(TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60));
        for (int i = 1; i <= 10; i++) lines[i] = lines[i][..(lines[i].LastIndexOf(',') + 1)];
        string later = Path.Combine(_dir, "later.csv");
        File.WriteAllLines(later, lines);
        string[] kindArgs = kind == "sequence" ? ["--kind", "sequence", "--window", "5"] : [];

        Assert.Equal(0, Crucible("data", "check", "--data", later, "--missing", "keep").Exit);
        string model = Path.Combine(_dir, "m");
        var kept = Crucible(["train", "--data", later, "--missing", "keep", "--steps", "2", .. kindArgs, "--out", model]);
        Assert.True(kept.Exit == 2, kept.Stderr);
        Assert.Contains($"{later}:2:4: error [CSV-E-MISSING]: missing value kept as NaN (--missing keep), but train needs every value of the series it trains on (missing: C 10)",
            kept.Stderr, StringComparison.Ordinal);
        Assert.Contains("drop the rows before the first value of a series that starts later", kept.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(model));

        // the series it trains on have every value: trained
        var without = Crucible(["train", "--data", later, "--missing", "keep", "--columns", "A,B", "--steps", "2", .. kindArgs, "--out", model]);
        Assert.True(without.Exit == 0, without.Stderr);
    }

    [Fact]
    public void ADateColumnNamedOtherwise_Elsewhere_IsReadWithDateColumn_AndTheRunRecomputes()
    {
        // the TestPrices walk with its date as the last column, named Datum: refused at the header before --date-column
        var lines = File.ReadAllLines(TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60));
        string datum = Path.Combine(_dir, "datum.csv");
        File.WriteAllLines(datum, lines.Select((line, i) =>
        {
            var comma = line.IndexOf(',', StringComparison.Ordinal);
            return line[(comma + 1)..] + "," + (i == 0 ? "Datum" : line[..comma]);
        }));

        var bare = Crucible("data", "check", "--data", datum);
        Assert.True(bare.Exit == 2, bare.Stdout + bare.Stderr);
        Assert.Contains("no column is named 'Date', expected as the date column (the first column is 'A')", bare.Stdout + bare.Stderr, StringComparison.Ordinal);

        var check = Crucible("data", "check", "--data", datum, "--date-column", "datum");
        Assert.True(check.Exit == 0, check.Stdout + check.Stderr);
        var both = Crucible("data", "check", "--data", datum, "--date-column", "Datum", "--no-date");
        Assert.True(both.Exit == 2, both.Stdout + both.Stderr);
        Assert.Contains("error [OPT-E]: --date-column names the file's date column and --no-date says it has none", both.Stderr, StringComparison.Ordinal);

        // the model trained on it is the model trained on the file with the date first
        string model = Path.Combine(_dir, "m"), reference = Path.Combine(_dir, "ref");
        var t = Crucible("train", "--data", datum, "--date-column", "Datum", "--steps", "2", "--out", model);
        Assert.True(t.Exit == 0, t.Stderr);
        string manifest = Directory.GetFiles(Path.Combine(_dir, "home", "runs"), "*.json").Single();
        Assert.Contains("\"csv\":{\"date_column\":\"Datum\"}", File.ReadAllText(manifest), StringComparison.Ordinal);
        var v = Crucible("verify-run", manifest, "--recompute");
        Assert.True(v.Exit == 0, v.Stdout + v.Stderr);
        Assert.Contains("2/2 outputs recomputed identically", v.Stdout, StringComparison.Ordinal);
        var r = Crucible("train", "--data", Path.Combine(_dir, "prices.csv"), "--steps", "2", "--out", reference);
        Assert.True(r.Exit == 0, r.Stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "weights.safetensors")), File.ReadAllBytes(Path.Combine(model, "weights.safetensors")));
    }

    [Fact]
    public void ADialectOptionWithABadValue_ExitsTwoNamingIt()
    {
        string semi = SemicolonPrices();
        var r = Crucible("train", "--data", semi, "--delimiter", ";;", "--steps", "2", "--out", Path.Combine(_dir, "m"));
        Assert.True(r.Exit == 2, r.Stderr);
        Assert.Contains("error [OPT-E]: --delimiter takes one character, got ';;'", r.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
    }

    [Theory]
    [InlineData("--date-format", "", "--date-format is empty: give an exact .NET date format such as yyyy-MM-dd")]
    [InlineData("--date-format", "  ", "--date-format is empty")]
    [InlineData("--ffill-limit", "-1", "--ffill-limit must be at least 0, got -1")]
    [InlineData("--date-column", " ", "--date-column is empty: give the date column's header name")]
    public void AnEmptyDateFormatOrANegativeFillLimit_IsRefusedUpFront_NamingTheOption(string option, string value, string message)
    {
        // an empty date format used to be accepted and then fail every date; a negative limit said "a limit in the CSV
        // options is out of range" without naming which
        string prices = TestPrices.Write(Path.Combine(_dir, "prices.csv"), 60);
        var check = Crucible("data", "check", "--data", prices, option, value);
        Assert.True(check.Exit == 2, check.Stdout + check.Stderr);
        Assert.Contains("error [OPT-E]: " + message, check.Stderr, StringComparison.Ordinal);
        var t = Crucible("train", "--data", prices, option, value, "--steps", "2", "--out", Path.Combine(_dir, "m"));
        Assert.True(t.Exit == 2, t.Stderr);
        Assert.Contains("error [OPT-E]: " + message, t.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "m")));
    }
}
