using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Crucible.Data;

namespace Crucible.Evaluation.Tests;

/// <summary>
/// <see cref="SeriesSetCsv.Read(string, IReadOnlyList{string}?)"/> of scenario files with the price columns of <c>generate --prices</c>: the metadata
/// beside the file (<see cref="ScenarioSidecar"/>) is the only source of truth; it is trusted when its <c>csv_sha256</c>
/// is the file's and the header ends with the columns it declares. The files are written here by hand (prices as
/// P_0 · exp of the summed returns), independently of the generator.
/// </summary>
public sealed class ScenarioPriceColumnsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-pricecols-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // 3 scenarios × 2 steps of series A, B
    private static readonly double[][] Returns =
    [
        [0.01, -0.02], [0.005, 0.0125], [-0.03, 0.002], [0.0, -0.001], [0.02, 0.017], [-0.0075, -0.04],
    ];

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    // the CSV text: scenario,step,<header series…> with returns and, for each name in prices, its P_0·exp(Σ r) path
    private static string Csv(string[] series, string[] prices)
    {
        var text = new StringBuilder("scenario,step," + string.Join(',', series.Concat(prices)) + "\n");
        var sum = new double[2];
        for (int r = 0; r < Returns.Length; r++)
        {
            if (r % 2 == 0) Array.Clear(sum);
            for (int j = 0; j < 2; j++) sum[j] += Returns[r][j];
            var cells = new List<string> { F((r / 2) + 1), F((r % 2) + 1) };
            cells.AddRange(Returns[r].Select(F));
            foreach (var p in prices) cells.Add(F((p.StartsWith('A') ? 470.25 : 92.5) * Math.Exp(sum[p.StartsWith('A') ? 0 : 1])));
            text.Append(string.Join(',', cells)).Append('\n');
        }

        return text.ToString();
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    // the sidecar generate writes (the members the reader uses, plus some it ignores), csv_sha256 given
    private string Meta(string csvPath, string sha, string? priceColumns)
    {
        var prices = priceColumns is null ? "" : $"\"prices\": {{\"source\": \"unit\", \"start\": {{\"A\": 1, \"B\": 1}}, \"columns\": {priceColumns}}},\n  ";
        var meta = ScenarioSidecar.MetadataPath(csvPath);
        File.WriteAllText(meta, $"{{\n  \"format\": \"crucible-scenarios/1\",\n  \"units\": \"log_returns\",\n  {prices}\"rows\": 6,\n  \"csv_file\": \"{Path.GetFileName(csvPath)}\",\n  \"csv_sha256\": \"{sha}\"\n}}\n");
        return meta;
    }

    private static void AssertSame(SeriesSet expected, SeriesSet actual)
    {
        Assert.Equal(expected.Names, actual.Names);
        Assert.Equal(expected.ScenarioIds, actual.ScenarioIds);
        Assert.Equal(expected.Columns.Length, actual.Columns.Length);
        for (int i = 0; i < expected.Columns.Length; i++) Assert.Equal(expected.Columns[i], actual.Columns[i]);
    }

    [Fact]
    public void PricedFileWithItsMetadata_ReadsAsTheUnpricedFile()
    {
        var plain = Write("plain.csv", Csv(["A", "B"], []));
        var priced = Write("priced.csv", Csv(["A", "B"], ["A_price", "B_price"]));
        Meta(priced, Sha(priced), """["A_price", "B_price"]""");
        var expected = SeriesSetCsv.Read(plain);
        Assert.Equal(["A", "B"], expected.Names);
        Assert.Equal(Returns.Select(r => r[1]), expected.Columns[1]);
        AssertSame(expected, SeriesSetCsv.Read(priced));
        AssertSame(expected, SeriesSetCsv.Read(priced, ["A", "B"]));
        // an upper-case hash is the same hash
        Meta(priced, Sha(priced).ToUpperInvariant(), """["A_price", "B_price"]""");
        AssertSame(expected, SeriesSetCsv.Read(priced));
    }

    [Fact]
    public void NamesAloneNeverMakePriceColumns_AMetadataWithoutPricesReadsEveryColumn()
    {
        // a model may have series X and X_price: without a sidecar declaring prices, both are series
        var both = Write("both.csv", Csv(["A", "B"], ["A_price"]));
        Assert.Equal(["A", "B", "A_price"], SeriesSetCsv.Read(both).Names);
        Meta(both, Sha(both), null);
        Assert.Equal(["A", "B", "A_price"], SeriesSetCsv.Read(both).Names);
        // a sidecar without prices changes nothing, so its hash is not checked (files as read before)
        Meta(both, new string('0', 64), null);
        Assert.Equal(["A", "B", "A_price"], SeriesSetCsv.Read(both, ["A", "B", "A_price"]).Names);
        // a non-scenario file never consults a sidecar
        var dated = Write("dated.csv", "date,A,A_price\n2020-01-02,0.01,101\n");
        Meta(dated, new string('0', 64), """["A_price"]""");
        Assert.Equal(["A", "A_price"], SeriesSetCsv.Read(dated).Names);
    }

    [Fact]
    public void MetadataOfAnotherFile_IsRefused()
    {
        var priced = Write("priced.csv", Csv(["A", "B"], ["A_price", "B_price"]));
        var other = new string('a', 64);
        Meta(priced, other, """["A_price", "B_price"]""");
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(priced));
        Assert.Equal(ScenarioSidecar.HashRule, e.Rule);
        Assert.Equal(priced, e.Location!.File);
        Assert.Contains(other, e.Message, StringComparison.Ordinal);
        Assert.Contains(Sha(priced), e.Message, StringComparison.Ordinal);
        Assert.Contains("priced.meta.json", e.Message, StringComparison.Ordinal);

        // one byte changed after generation: the metadata no longer describes the file
        Meta(priced, Sha(priced), """["A_price", "B_price"]""");
        File.WriteAllText(priced, File.ReadAllText(priced).Replace("0.01,", "0.02,", StringComparison.Ordinal));
        Assert.Equal(ScenarioSidecar.HashRule, Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(priced)).Rule);

        // no recorded hash: nothing ties the metadata to the file
        File.WriteAllText(ScenarioSidecar.MetadataPath(priced), """{"prices": {"columns": ["A_price", "B_price"]}}""");
        Assert.Equal(ScenarioSidecar.HashRule, Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(priced)).Rule);
    }

    [Theory]
    [InlineData(new[] { "A", "A_price", "B", "B_price" }, """["A_price", "B_price"]""", 5, "B")] // not at the end
    [InlineData(new[] { "A", "B", "B_price", "A_price" }, """["A_price", "B_price"]""", 5, "B_price")] // another order
    [InlineData(new[] { "A", "B", "A_price", "B_price" }, """["A_price", "C_price"]""", 6, "B_price")] // a column not in the header
    [InlineData(new[] { "A_price", "B_price" }, """["A_price", "B_price"]""", 3, "A_price")] // no return column left
    public void PriceColumnsNotEndingTheHeaderAsDeclared_AreRefusedNamingTheColumn(string[] header, string declared, int column, string name)
    {
        var series = header.Where(h => !h.EndsWith("_price", StringComparison.Ordinal)).ToArray();
        var prices = header.Where(h => h.EndsWith("_price", StringComparison.Ordinal)).ToArray();
        var text = Csv(series.Length == 0 ? ["A", "B"] : series, prices);
        // put the header in the order asked (the cells are numbers; only the names' places matter here)
        text = "scenario,step," + string.Join(',', header) + text[text.IndexOf('\n', StringComparison.Ordinal)..];
        if (series.Length == 0) text = string.Join('\n', text.Split('\n').Select((l, i) => i == 0 || l.Length == 0 ? l : string.Join(',', l.Split(',').Where((_, c) => c < 2 || c >= 4))));
        var path = Write("bad.csv", text);
        Meta(path, Sha(path), declared);
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(path));
        Assert.Equal(ScenarioSidecar.PriceColumnsRule, e.Rule);
        Assert.Equal(path, e.Location!.File);
        Assert.Equal(1, e.Location.Line);
        Assert.Equal(column, e.Location.Column);
        Assert.Equal(name, e.Location.ColumnName);
    }

    [Fact]
    public void Warning_ReadsTheHeaderAsTheCsvReaderDoes_QuotedNamesIncluded()
    {
        // the header was split on commas, quotes and all: "A" (quoted) was not A, and "x,A_price" was two names
        var quoted = Write("quoted.csv", "scenario,step,\"A\",A_price\n1,1,0.01,100\n");
        Assert.Contains("has columns A_price beside A", ScenarioSidecar.Warning(quoted), StringComparison.Ordinal);
        Assert.Null(ScenarioSidecar.Warning(Write("comma.csv", "scenario,step,A,\"x,A_price\"\n1,1,0.01,100\n")));
    }

    [Fact]
    public void PriceMetadataOf_NamesTheSidecarAReadDependsOn_WarningOnlyWithoutIt()
    {
        var priced = Write("priced.csv", Csv(["A", "B"], ["A_price", "B_price"]));
        Assert.Null(ScenarioSidecar.PriceMetadataOf(priced));
        var warning = ScenarioSidecar.Warning(priced);
        Assert.NotNull(warning);
        Assert.Contains("has columns A_price, B_price beside A, B", warning, StringComparison.Ordinal);
        Assert.Contains("priced.meta.json", warning, StringComparison.Ordinal);

        var meta = Meta(priced, Sha(priced), """["A_price", "B_price"]""");
        Assert.Equal(meta, ScenarioSidecar.PriceMetadataOf(priced));
        Assert.Null(ScenarioSidecar.Warning(priced));

        // a sidecar without prices: nothing depends on it, and the suspicion stays
        Meta(priced, Sha(priced), null);
        Assert.Null(ScenarioSidecar.PriceMetadataOf(priced));
        Assert.NotNull(ScenarioSidecar.Warning(priced));

        // nothing to say about a file without X_price beside X, nor about a missing file
        Assert.Null(ScenarioSidecar.Warning(Write("plain.csv", Csv(["A", "B"], []))));
        Assert.Null(ScenarioSidecar.Warning(Path.Combine(_dir, "none.csv")));
        Assert.Equal(Path.Combine(_dir, "x.meta.json"), ScenarioSidecar.MetadataPath(Path.Combine(_dir, "x.CSV")));
        Assert.Equal(Path.Combine(_dir, "x.txt.meta.json"), ScenarioSidecar.MetadataPath(Path.Combine(_dir, "x.txt")));
    }

    [Fact]
    public void UnreadableMetadata_IsRefusedWithItsLine()
    {
        var priced = Write("priced.csv", Csv(["A", "B"], ["A_price", "B_price"]));
        var meta = ScenarioSidecar.MetadataPath(priced);
        File.WriteAllText(meta, "{\n  \"format\": \"crucible-scenarios/1\",\n  \"prices\": {\"columns\": [\"A_price\",]}\n}\n");
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(priced));
        Assert.Equal(ScenarioSidecar.MetadataRule, e.Rule);
        Assert.Equal(meta, e.Location!.File);
        Assert.Equal(3, e.Location.Line);

        File.WriteAllText(meta, """{"prices": {"columns": "A_price"}, "csv_sha256": "x"}""");
        Assert.Equal(ScenarioSidecar.MetadataRule, Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(priced)).Rule);
    }

    [Fact]
    public void PricedFileWithoutMetadata_ReadsAsBefore_AndAMismatchSaysItMayHavePriceColumns()
    {
        var priced = Write("s.csv", Csv(["A", "B"], ["A_price", "B_price"]));
        Assert.Equal(["A", "B", "A_price", "B_price"], SeriesSetCsv.Read(priced).Names);
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(priced, ["A", "B"]));
        Assert.Equal("column-mismatch", e.Rule);
        Assert.Equal(5, e.Location!.Column);
        Assert.Contains("series 'A_price', 'B_price' are not in the real data", e.Message, StringComparison.Ordinal);
        Assert.Contains("may have price columns (A_price, B_price", e.Message, StringComparison.Ordinal);
        Assert.Contains("s.meta.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("without --prices", e.Message, StringComparison.Ordinal);

        // no X_price beside an X: the message is today's
        var plain = Write("p.csv", Csv(["A", "B"], []));
        var m = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(plain, ["A", "C"]));
        Assert.DoesNotContain("price", m.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"8\"", "1e-5")]
    [InlineData("8", "null")]
    [InlineData("true", "1e-5")]
    [InlineData("8", "[1e-5]")]
    public void DpStatementWhoseEpsilonOrDeltaIsNotANumber_IsAWarning_NotACrash(string epsilon, string delta)
    {
        // JsonElement.TryGetDouble throws InvalidOperationException on a string, null, bool or array: the statement must be
        // reported unusable (a warning), as one without the numbers is, not crash the evaluation
        var csv = Write("s.csv", Csv(["A", "B"], []));
        File.WriteAllText(ScenarioSidecar.MetadataPath(csv),
            $"{{\"privacy\": {{\"epsilon\": {epsilon}, \"delta\": {delta}}}, \"csv_sha256\": \"{Sha(csv)}\"}}");
        var statement = ScenarioSidecar.DpStatementOf(csv);
        Assert.NotNull(statement);
        Assert.Null(statement.Dp);
        Assert.Contains("without numbers 'epsilon' and 'delta'", statement.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void MetadataWithAUtf8ByteOrderMark_IsReadAsWithout()
    {
        // a sidecar saved by an editor that writes a UTF-8 BOM (the CSV and the thresholds file may have one) was refused
        // as "not valid JSON": JsonDocument.Parse of bytes does not skip it
        var plain = Write("plain.csv", Csv(["A", "B"], []));
        var priced = Write("priced.csv", Csv(["A", "B"], ["A_price", "B_price"]));
        var meta = Meta(priced, Sha(priced), """["A_price", "B_price"]""");
        File.WriteAllBytes(meta, [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(meta)]);
        AssertSame(SeriesSetCsv.Read(plain), SeriesSetCsv.Read(priced));
        Assert.Equal(meta, ScenarioSidecar.PriceMetadataOf(priced));

        File.WriteAllBytes(ScenarioSidecar.MetadataPath(plain),
            [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($"{{\"privacy\": {{\"epsilon\": 8, \"delta\": 1e-5}}, \"csv_sha256\": \"{Sha(plain)}\"}}")]);
        var statement = ScenarioSidecar.DpStatementOf(plain);
        Assert.NotNull(statement);
        Assert.Null(statement.Warning);
        Assert.Equal(8, statement.Dp!.Epsilon);
    }
}
