using System.Globalization;
using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Tabular;
using FsCheck;
using FsCheck.Fluent;

namespace Crucible.Diffusion.Tests.Scenarios;

/// <summary>
/// <see cref="PricePaths"/> against a naive oracle (each price from its own sum of returns, summed from the scenario's
/// first step), the property ln(P_t / P_{t−1}) = r_t, the CSV and metadata of a set with prices, and every refusal of
/// <see cref="StartPrices"/>.
/// </summary>
public sealed class PricePathsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-prices-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // the naive oracle: P[s, t, j] = P0[j] · exp(r[s, 1, j] + … + r[s, t, j]), each sum computed afresh
    private static double[] Oracle(double[] returns, int series, int steps, double[] start)
    {
        var prices = new double[returns.Length];
        int scenarios = returns.Length / (series * steps);
        for (int s = 0; s < scenarios; s++)
        {
            for (int t = 0; t < steps; t++)
            {
                for (int j = 0; j < series; j++)
                {
                    double sum = 0;
                    for (int k = 0; k <= t; k++) sum += returns[((s * steps) + k) * series + j];
                    prices[((s * steps) + t) * series + j] = start[j] * Math.Exp(sum);
                }
            }
        }

        return prices;
    }

    private static double[] Returns(System.Random rng, int n, double scale)
    {
        var r = new double[n];
        for (int i = 0; i < n; i++) r[i] = (rng.NextDouble() - 0.5) * scale;
        return r;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 3, 1)]
    [InlineData(5, 2, 20)]
    [InlineData(3, 300, 4)] // more series than the stack buffer holds
    public void Compute_EqualsTheNaiveOracle_BitForBit(int scenarios, int series, int steps)
    {
        var rng = new System.Random(20261121 + (scenarios * 1000) + (series * 10) + steps);
        var returns = Returns(rng, scenarios * steps * series, 0.2);
        var start = Enumerable.Range(0, series).Select(j => 1 + (rng.NextDouble() * 500)).ToArray();
        var prices = new double[returns.Length];
        PricePaths.Compute(returns, series, steps, start, prices);
        Assert.Equal(Oracle(returns, series, steps, start), prices);
    }

    [Fact]
    public void Compute_RestartsAtEveryScenario_AndRefusesBadShapes()
    {
        // two 2-step scenarios of one series: the second starts again at P0
        double[] returns = [Math.Log(2), Math.Log(3), Math.Log(5), Math.Log(0.5)];
        var prices = new double[4];
        PricePaths.Compute(returns, 1, 2, [10.0], prices);
        Assert.Equal(20, prices[0], 12);
        Assert.Equal(60, prices[1], 12);
        Assert.Equal(50, prices[2], 12);
        Assert.Equal(25, prices[3], 12);

        Assert.Throws<ArgumentException>(() => PricePaths.Compute(returns, 1, 3, [10.0], new double[4]));
        Assert.Throws<ArgumentException>(() => PricePaths.Compute(returns, 1, 2, [10.0, 1.0], new double[4]));
        Assert.Throws<ArgumentException>(() => PricePaths.Compute(returns, 1, 2, [10.0], new double[3]));
    }

    private static readonly Arbitrary<(int Seed, int Scenarios, int Series, int Steps)> Shapes =
        (from seed in Gen.Choose(0, int.MaxValue)
         from scenarios in Gen.Choose(1, 6)
         from series in Gen.Choose(1, 5)
         from steps in Gen.Choose(1, 40)
         select (seed, scenarios, series, steps)).ToArbitrary();

    [Fact]
    public void LogOfPriceRatios_IsTheReturns() =>
        Prop.ForAll(Shapes, c =>
        {
            var rng = new System.Random(c.Seed);
            var returns = Returns(rng, c.Scenarios * c.Steps * c.Series, 0.3);
            var start = Enumerable.Range(0, c.Series).Select(_ => Math.Exp((rng.NextDouble() - 0.5) * 12)).ToArray();
            var prices = new double[returns.Length];
            PricePaths.Compute(returns, c.Series, c.Steps, start, prices);
            for (int row = 0; row < c.Scenarios * c.Steps; row++)
            {
                for (int j = 0; j < c.Series; j++)
                {
                    double previous = row % c.Steps == 0 ? start[j] : prices[((row - 1) * c.Series) + j];
                    double ratio = Math.Log(prices[(row * c.Series) + j] / previous);
                    // the cumulative sum's rounding grows with t: |Σ| ≤ 40 · 0.15, so 1e-12 absolute is ample and still tight
                    if (!(Math.Abs(ratio - returns[(row * c.Series) + j]) < 1e-12) || !(prices[(row * c.Series) + j] > 0)) return false;
                }
            }

            return true;
        }).QuickCheckThrowOnFailure();

    private static ScenarioSet Set(int scenarios, int steps, params string[] columns)
    {
        var rng = new System.Random(3);
        var values = Returns(rng, scenarios * steps * columns.Length, 0.1);
        return new ScenarioSet(new TimeSeriesFrame([], columns, values, scenarios * steps), new ScenarioMetadata { Kind = ModelKind.Sequence, StepsPerScenario = steps, Seed = 1 });
    }

    [Fact]
    public void Append_RefusesAPricePathThatOverflows_NamingSeriesStepAndScenario()
    {
        // a return sum past ln(double.MaxValue) ≈ 709.8 (returns far outside anything trained, under an extreme
        // condition): the price is +∞, which neither the CSV nor the JSON answer can hold as a number
        var set = Set(3, 4, "SPY", "TLT");
        set.Values.Values[(5 * 2) + 1] = 400; // scenario 2, step 2, TLT
        set.Values.Values[(6 * 2) + 1] = 400; // scenario 2, step 3: the sum is past 709.8 here
        var e = Assert.Throws<InvalidInputException>(() => PricePaths.Append(set, StartPrices.Unit(["SPY", "TLT"])));
        Assert.Equal(PricePaths.OverflowRule, e.Rule);
        Assert.Contains("series TLT overflows at step 3 of scenario 2", e.Message, StringComparison.Ordinal);

        // an enormous start price with a positive sum of returns overflows as well
        var small = Set(2, 3, "SPY");
        for (int i = 0; i < small.Values.Values.Length; i++) small.Values.Values[i] = 0.01;
        var huge = StartPrices.Parse(Encoding.UTF8.GetBytes("""{"SPY": 1.7976931348623157e308}"""), "start.json", ["SPY"]);
        Assert.Equal(PricePaths.OverflowRule, Assert.Throws<InvalidInputException>(() => PricePaths.Append(small, huge)).Rule);
        set.Values.Values[(6 * 2) + 1] = 300; // 700: finite
        Assert.All(PricePaths.Append(set, StartPrices.Unit(["SPY", "TLT"])).Values.Values, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Append_AddsOnePriceColumnPerSeries_AfterTheReturns_AndRecordsTheStart()
    {
        var set = Set(3, 4, "SPY", "TLT");
        var start = StartPrices.Parse(Encoding.UTF8.GetBytes("""{"TLT": 90.5, "SPY": 470.2, "GLD": 180}"""), "start.json", ["SPY", "TLT"]);
        var with = PricePaths.Append(set, start);
        Assert.Equal(["SPY", "TLT", "SPY_price", "TLT_price"], with.Values.Columns);
        Assert.Equal(12, with.Values.RowCount);
        var expected = Oracle(set.Values.Values, 2, 4, [470.2, 90.5]);
        for (int r = 0; r < 12; r++)
        {
            var row = with.Values.Row(r).ToArray();
            Assert.Equal(set.Values.Row(r).ToArray(), row[..2]);
            Assert.Equal(expected.AsSpan(r * 2, 2).ToArray(), row[2..]);
        }

        var prices = with.Metadata.Prices!;
        Assert.Equal(PriceStartSource.File, prices.Source);
        Assert.Equal(["SPY_price", "TLT_price"], prices.Columns);
        Assert.Equal(["SPY", "TLT"], prices.Start.Keys); // in series order; GLD, not a series of the model, is not used
        Assert.Equal(470.2, prices.Start["SPY"]);
        Assert.Null(set.Metadata.Prices);

        // the CSV: header and the first row's price cells in "R" form, streamed as ever
        var csv = Encoding.UTF8.GetString(ScenarioCsv.Format(with.Values, 4)).Split('\n');
        Assert.Equal("scenario,step,SPY,TLT,SPY_price,TLT_price", csv[0]);
        var cells = csv[1].Split(',');
        Assert.Equal(expected[0].ToString("R", CultureInfo.InvariantCulture), cells[4]);
        Assert.StartsWith("3,4,", csv[12], StringComparison.Ordinal);
    }

    [Fact]
    public void Append_RefusesAPriceColumnNamedLikeASeries()
    {
        var set = Set(2, 1, "SPY", "SPY_price");
        var e = Assert.Throws<InvalidInputException>(() => PricePaths.Append(set, StartPrices.Unit(["SPY", "SPY_price"])));
        Assert.Equal(PricePaths.CollisionRule, e.Rule);
        // session 29: in words for every shell (it named crucible generate's --prices; a scenario request's is "prices": true)
        Assert.Equal("the price column of series SPY would be SPY_price, which is already a series of this model; rename the series before training, "
            + "or generate without price paths", e.Message);
    }

    [Fact]
    public void Metadata_WithPrices_RoundTrips_AndWithoutThemIsUnchanged()
    {
        var set = Set(2, 1, "A");
        string plain = ScenarioCsv.ToJson(ScenarioCsv.Describe(set, [1, 2], "s.csv", DateTimeOffset.UnixEpoch));
        Assert.DoesNotContain("prices", plain, StringComparison.Ordinal);
        var with = PricePaths.Append(set, StartPrices.Unit(["A"]));
        var meta = ScenarioCsv.Describe(with, [1, 2], "s.csv", DateTimeOffset.UnixEpoch);
        string json = ScenarioCsv.ToJson(meta);
        using var doc = JsonDocument.Parse(json);
        var p = doc.RootElement.GetProperty("prices");
        Assert.Equal("unit", p.GetProperty("source").GetString());
        Assert.Equal(1.0, p.GetProperty("start").GetProperty("A").GetDouble());
        Assert.False(p.TryGetProperty("file", out _));
        Assert.Equal(["A", "A_price"], doc.RootElement.GetProperty("columns").EnumerateArray().Select(e => e.GetString()));
        var back = JsonSerializer.Deserialize<ScenarioMetadata>(json, DiffusionJson.Options)!;
        Assert.Equal(json, ScenarioCsv.ToJson(back));
    }

    [Fact]
    public void LastTrainPrices_IsThePriceRowThatEndsTheLastTrainReturn()
    {
        // prices rows 0..4 give returns rows 0..3; a train split of 2 returns ends at price row 2
        var prices = new TimeSeriesFrame([], ["A", "B"], [1, 10, 2, 20, 3, 30, 4, 40, 5, 50], 5);
        var last = PricePaths.LastTrainPrices(prices, 2)!;
        Assert.Equal(["A", "B"], last.Keys);
        Assert.Equal([3.0, 30.0], last.Values);
        Assert.Equal([5.0, 50.0], PricePaths.LastTrainPrices(prices, 4)!.Values);
        Assert.Null(PricePaths.LastTrainPrices(new TimeSeriesFrame([], ["A"], [1, double.NaN], 2), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PricePaths.LastTrainPrices(prices, 5));
    }

    private static InvalidInputException Refused(string json, params string[] series) =>
        Assert.Throws<InvalidInputException>(() => StartPrices.Parse(Encoding.UTF8.GetBytes(json), "start.json", series));

    [Fact]
    public void StartPrices_RefusesWhatCannotStartAPath()
    {
        var malformed = Refused("{\n  \"A\": 1,\n  \"B\": 2,,\n}", "A", "B");
        Assert.Equal(StartPrices.Rule, malformed.Rule);
        Assert.Equal(3, malformed.Location!.Line);
        Assert.Equal(10, malformed.Location.Column); // the second comma of `  "B": 2,,`
        Assert.Equal("start.json", malformed.Location.File);

        Assert.Contains("no start price for series B", Refused("""{"A": 1}""", "A", "B").Message, StringComparison.Ordinal);
        Assert.Equal("B", Refused("""{"A": 1}""", "A", "B").Location!.ColumnName);
        Assert.Contains("finite number > 0, got 0", Refused("""{"A": 0}""", "A").Message, StringComparison.Ordinal);
        Assert.Contains("finite number > 0, got -3", Refused("""{"A": -3}""", "A").Message, StringComparison.Ordinal);
        Assert.Contains("A", Refused("""{"A": 1e999}""", "A").Message, StringComparison.Ordinal); // overflows to ∞
        Assert.Contains("not a number", Refused("""{"A": "NaN"}""", "A").Message, StringComparison.Ordinal);
        Assert.Contains("not a number", Refused("""{"A": null}""", "A").Message, StringComparison.Ordinal);
        Assert.Contains("twice", Refused("""{"A": 1, "A": 2}""", "A").Message, StringComparison.Ordinal);
        Assert.Contains("JSON object", Refused("[470.2]", "A").Message, StringComparison.Ordinal);
        Assert.Contains("no start price for series a", Refused("""{"A": 1}""", "a").Message, StringComparison.Ordinal); // names are exact

        var missing = Assert.Throws<InvalidInputException>(() => StartPrices.FromFile(Path.Combine(_dir, "none.json"), ["A"]));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        var none = Assert.Throws<InvalidInputException>(() => StartPrices.FromModel(["A"], null, "model"));
        Assert.Contains("--start-prices", none.Message, StringComparison.Ordinal);
        Assert.Contains("records none", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartPrices_FromFile_RecordsItsNameAndHash_FromModel_ItsSource()
    {
        string path = Path.Combine(_dir, "p0.json");
        File.WriteAllText(path, """{"A": 101.25}""");
        var file = StartPrices.FromFile(path, ["A"]);
        Assert.Equal((PriceStartSource.File, "p0.json"), (file.Source, file.File));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), file.FileSha256);
        Assert.Equal(101.25, file.Values["A"]);
        var model = StartPrices.FromModel(["A"], new Dictionary<string, double> { ["A"] = 7.5 }, "model");
        Assert.Equal(PriceStartSource.ModelManifest, model.Source);
        Assert.Null(model.File);
        Assert.Equal(7.5, model.Values["A"]);
    }
}
