using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Crucible.Data;

namespace Crucible.Diffusion.Scenarios;

/// <summary>Where the start prices P_0 of price paths came from.</summary>
public enum PriceStartSource
{
    /// <summary>The last train price each series had, recorded in the model's manifest (<c>data.last_prices</c>).</summary>
    ModelManifest,

    /// <summary>A start-prices JSON file.</summary>
    File,

    /// <summary>The scenario service's request body.</summary>
    Request,

    /// <summary>Every P_0 = 1, asked for explicitly (paths relative to the start).</summary>
    Unit,
}

/// <summary>
/// What the metadata of a scenario CSV with price paths records (<c>generate --prices</c>): the price columns, where each
/// series' start P_0 came from, and the starts themselves.
/// </summary>
public sealed record PricesMetadata
{
    /// <summary>
    /// Where P_0 came from: <c>model_manifest</c> (the last train price the model recorded), <c>file</c> (a start-prices
    /// JSON file), <c>request</c> (the scenario service's request body) or <c>unit</c> (every P_0 = 1, asked for explicitly).
    /// </summary>
    public PriceStartSource Source { get; init; }

    /// <summary>The start-prices file's name (no folder), when <see cref="Source"/> is <c>file</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? File { get; init; }

    /// <summary>SHA-256 (hex) of the start-prices file's bytes, when <see cref="Source"/> is <c>file</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FileSha256 { get; init; }

    /// <summary>P_0 per series, in the CSV's series order.</summary>
    public IReadOnlyDictionary<string, double> Start { get; init; } = new Dictionary<string, double>();

    /// <summary>The price columns, in CSV order (<c>SERIES_price</c>, after the return columns).</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];
}

/// <summary>
/// The start prices P_0 of price paths, one per series, with where they came from. Build one with <see cref="FromModel"/>,
/// <see cref="FromFile"/>, <see cref="Parse"/> or <see cref="Unit"/>; each checks that every series has a finite P_0 &gt; 0.
/// </summary>
public sealed class StartPrices
{
    /// <summary>The rule of an unusable start price (missing, malformed, non-positive or non-finite).</summary>
    public const string Rule = "PRICES-E-START";

    /// <summary>The value of <c>--start-prices</c> that asks for every P_0 = 1 (paths relative to the start).</summary>
    public const string UnitName = "unit";

    private StartPrices(IReadOnlyDictionary<string, double> values, PriceStartSource source, string? file, string? fileSha256)
    {
        Values = values;
        Source = source;
        File = file;
        FileSha256 = fileSha256;
    }

    /// <summary>P_0 per series, in series order.</summary>
    public IReadOnlyDictionary<string, double> Values { get; }

    /// <summary>Where the starts came from (<see cref="PricesMetadata.Source"/>).</summary>
    public PriceStartSource Source { get; }

    /// <summary>The file's name (no folder) when read from a file.</summary>
    public string? File { get; }

    /// <summary>SHA-256 (hex) of the file's bytes when read from a file.</summary>
    public string? FileSha256 { get; }

    /// <summary>Every P_0 = 1: price paths relative to the start (only when asked for explicitly).</summary>
    public static StartPrices Unit(IReadOnlyList<string> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var s in series) values[s] = 1.0;
        return new StartPrices(values, PriceStartSource.Unit, null, null);
    }

    /// <summary>
    /// The last train prices a model recorded in its manifest (<c>data.last_prices</c>, written when it was trained on
    /// prices). A model without them (trained on returns, or by an older version) is an input error naming the rule: a
    /// start must then be given explicitly; one whose prices were withheld at training (<paramref name="withheld"/>,
    /// <c>train --withhold-prices</c>) says so.
    /// </summary>
    public static StartPrices FromModel(IReadOnlyList<string> series, IReadOnlyDictionary<string, double>? lastPrices, string modelFolder, bool withheld = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        var where = new InputLocation(modelFolder, 0, 0);
        if (withheld)
        {
            throw new InvalidInputException(Rule,
                "price paths need a start price per series: this model was trained with --withhold-prices (data.last_prices_withheld), so it records no last train price; give --start-prices FILE.json ({\"SERIES\": price, …}) or --start-prices unit (every path starts at 1)",
                where);
        }

        if (lastPrices is null)
        {
            throw new InvalidInputException(Rule,
                "price paths need a start price per series: this model records none (it was not trained on prices, was trained with DP-SGD, which withholds the private last prices, or by an older version); give --start-prices FILE.json ({\"SERIES\": price, …}) or --start-prices unit (every path starts at 1)",
                where);
        }

        return new StartPrices(Checked(series, lastPrices, modelFolder, "the model's manifest"), PriceStartSource.ModelManifest, null, null);
    }

    /// <summary>Reads a start-prices JSON file (<see cref="Parse"/>), recording its name and SHA-256.</summary>
    public static StartPrices FromFile(string path, IReadOnlyList<string> series)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Crucible.Data.IO.InputFile.ThrowIfFolder(path, Crucible.Data.IO.InputFile.NotAFileRule); // as every input file: not "does not exist"
        if (!System.IO.File.Exists(path)) throw new InvalidInputException(Rule, $"the start-prices file {path} does not exist", new InputLocation(path, 0, 0));
        byte[] bytes = Crucible.Data.IO.InputFile.ReadAllBytes(path);
        var parsed = Parse(bytes, path, series);
        return new StartPrices(parsed.Values, PriceStartSource.File, Path.GetFileName(path), Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>
    /// Parses a start-prices JSON object <c>{"SPY": 470.2, …}</c> read from <paramref name="path"/>: every series in
    /// <paramref name="series"/> must be there with a finite number &gt; 0; other keys are ignored (a risk system's file
    /// may price more instruments than the model has). Malformed JSON, a key given twice, a value that is not a number
    /// and a missing, non-positive or non-finite price are input errors naming the file (and line and column where
    /// there is one).
    /// </summary>
    public static StartPrices Parse(ReadOnlyMemory<byte> json, string path, IReadOnlyList<string> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            int column = (int)(e.BytePositionInLine ?? 0) + 1;
            throw new InvalidInputException(Rule, $"the start-prices file is not valid JSON: {FirstSentence(e.Message)}", new InputLocation(path, line, column));
        }

        using (document) return FromObject(document.RootElement, path, series, "the start-prices file", PriceStartSource.File);
    }

    /// <summary>
    /// The start prices of a request body's JSON object <c>{"SPY": 470.2, …}</c> (the scenario service's
    /// <c>start_prices</c>), under the rules of <see cref="Parse"/>; <paramref name="field"/> names it in errors.
    /// </summary>
    public static StartPrices FromRequest(JsonElement prices, IReadOnlyList<string> series, string field)
    {
        ArgumentNullException.ThrowIfNull(series);
        return FromObject(prices, field, series, field, PriceStartSource.Request);
    }

    private static StartPrices FromObject(JsonElement root, string path, IReadOnlyList<string> series, string what, PriceStartSource source)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException(Rule, $"{what} must be a JSON object {{\"SERIES\": price, …}}", new InputLocation(path, 0, 0));
        var given = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in root.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetDouble(out double v))
                throw new InvalidInputException(Rule, $"the start price of {p.Name} is not a number: {p.Value.GetRawText()}", new InputLocation(path, 0, 0));
            if (!given.TryAdd(p.Name, v)) throw new InvalidInputException(Rule, $"{what} names {p.Name} twice", new InputLocation(path, 0, 0));
        }

        return new StartPrices(Checked(series, given, path, what), source, null, null);
    }

    /// <summary>The metadata of price columns <paramref name="columns"/> started from these prices.</summary>
    public PricesMetadata Describe(IReadOnlyList<string> columns) =>
        new() { Source = Source, File = File, FileSha256 = FileSha256, Start = Values, Columns = columns };

    // every series' price, in series order, each finite, > 0 and normal: a subnormal double (below 2.2250738585072014E-308)
    // keeps fewer significant digits than the returns it starts, so every price of its path would be rounded away
    private static Dictionary<string, double> Checked(IReadOnlyList<string> series, IReadOnlyDictionary<string, double> given, string file, string what)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var s in series)
        {
            if (!given.TryGetValue(s, out double v))
                throw new InvalidInputException(Rule, $"{what} has no start price for series {s}", new InputLocation(file, 0, 0, s));
            if (!double.IsFinite(v) || v <= 0)
            {
                throw new InvalidInputException(Rule,
                    $"the start price of {s} must be a finite number > 0, got {v.ToString("R", CultureInfo.InvariantCulture)}", new InputLocation(file, 0, 0, s));
            }

            if (!double.IsNormal(v))
            {
                throw new InvalidInputException(Rule,
                    $"the start price of {s} must be at least 2.2250738585072014E-308 (the smallest normal double: below it a price keeps fewer digits than the returns), got {v.ToString("R", CultureInfo.InvariantCulture)}; "
                    + "rescale the prices (e.g. another unit)", new InputLocation(file, 0, 0, s));
            }

            values[s] = v;
        }

        return values;
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(" Path:", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message;
    }
}

/// <summary>
/// Price paths from scenarios of log returns (ARCHITECTURE.md "Scenario CSV": <c>--prices</c> adds price paths): for
/// each scenario and series, P_t = P_0 · exp(r_1 + … + r_t) over the scenario's steps, the cumulative sum restarting at
/// every scenario.
/// </summary>
public static class PricePaths
{
    /// <summary>The suffix of a price column: series <c>SPY</c> gets <c>SPY_price</c>.</summary>
    public const string Suffix = "_price";

    /// <summary>The rule of a price column whose name is already a series' name.</summary>
    public const string CollisionRule = "PRICES-E-COLUMN";

    /// <summary>The rule of a price path that overflows (a return sum too large for a finite price).</summary>
    public const string OverflowRule = "PRICES-E-OVERFLOW";

    /// <summary>
    /// The last train price of each series of <paramref name="prices"/> (the price file as read, columns selected) whose
    /// first <paramref name="trainReturnRows"/> log returns are the train split: row <paramref name="trainReturnRows"/>
    /// (return row i ends at price row i + 1), in column order, for the model manifest's <c>data.last_prices</c>. Null
    /// when one is not a finite number &gt; 0 (no start can be taken from it).
    /// </summary>
    public static IReadOnlyDictionary<string, double>? LastTrainPrices(TimeSeriesFrame prices, int trainReturnRows)
    {
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentOutOfRangeException.ThrowIfLessThan(trainReturnRows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(trainReturnRows, prices.RowCount);
        var last = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int j = 0; j < prices.ColumnCount; j++)
        {
            double v = prices.Values[(trainReturnRows * prices.ColumnCount) + j];
            if (!double.IsFinite(v) || v <= 0) return null;
            last[prices.Columns[j]] = v;
        }

        return last;
    }

    /// <summary>The price column of <paramref name="series"/>.</summary>
    public static string ColumnName(string series) => series + Suffix;

    /// <summary>
    /// The price paths of <paramref name="returns"/> (rows × series, row-major, <paramref name="steps"/> consecutive rows per
    /// scenario) started at <paramref name="start"/> (one P_0 per series): <c>destination[r, j] = start[j] · exp(Σ returns[k, j])</c>
    /// over the rows k of r's scenario up to r, summed in step order.
    /// </summary>
    public static void Compute(ReadOnlySpan<double> returns, int series, int steps, ReadOnlySpan<double> start, Span<double> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(series, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (start.Length != series) throw new ArgumentException($"{start.Length} start prices for {series} series", nameof(start));
        if (returns.Length % (series * steps) != 0)
            throw new ArgumentException($"{returns.Length} values are not a whole number of {steps}-step scenarios of {series} series", nameof(returns));
        if (destination.Length != returns.Length) throw new ArgumentException("the destination must have the returns' length", nameof(destination));
        Span<double> sum = series <= 256 ? stackalloc double[series] : new double[series];
        int rows = returns.Length / series;
        for (int r = 0; r < rows; r++)
        {
            if (r % steps == 0) sum.Clear();
            for (int j = 0; j < series; j++)
            {
                sum[j] += returns[(r * series) + j];
                destination[(r * series) + j] = start[j] * Math.Exp(sum[j]);
            }
        }
    }

    /// <summary>
    /// <paramref name="set"/> with one price column per series after its return columns (<see cref="ColumnName"/>) and
    /// its metadata's <see cref="ScenarioMetadata.Prices"/> saying where P_0 came from. A price column named like an
    /// existing column (a series already called <c>SPY_price</c> beside <c>SPY</c>) is refused, never renamed silently.
    /// </summary>
    /// <exception cref="InvalidInputException">A price column that collides with a series (<see cref="CollisionRule"/>), or a
    /// price that is not finite (<see cref="OverflowRule"/>: returns too large, e.g. under an extreme condition).</exception>
    public static ScenarioSet Append(ScenarioSet set, StartPrices start)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(start);
        var values = set.Values;
        int d = values.ColumnCount, steps = set.Metadata.StepsPerScenario;
        var priceColumns = values.Columns.Select(ColumnName).ToArray();
        var existing = new HashSet<string>(values.Columns, StringComparer.Ordinal);
        foreach (var (series, column) in values.Columns.Zip(priceColumns))
        {
            if (existing.Contains(column))
            {
                throw new InvalidInputException(CollisionRule,
                    $"the price column of series {series} would be {column}, which is already a series of this model; rename the series before training, or generate without price paths");
            }
        }

        var p0 = new double[d];
        for (int j = 0; j < d; j++)
        {
            if (!start.Values.TryGetValue(values.Columns[j], out p0[j]))
                throw new ArgumentException($"no start price for series {values.Columns[j]}", nameof(start));
        }

        var prices = new double[values.RowCount * d];
        Compute(values.Values.AsSpan(0, values.RowCount * d), d, steps, p0, prices);
        for (int i = 0; i < prices.Length; i++)
        {
            // a price that is not finite (the sum of the returns beyond ~709 above the start) cannot be written as a number
            if (double.IsFinite(prices[i])) continue;
            int r = i / d, j = i % d;
            throw new InvalidInputException(OverflowRule, string.Create(CultureInfo.InvariantCulture,
                $"the price path of series {values.Columns[j]} overflows at step {(r % steps) + 1} of scenario {(r / steps) + 1}: start price {p0[j]:G6} times exp of the summed log returns is not a finite number (the returns are too large)"));
        }
        var both = new double[values.RowCount * 2 * d];
        for (int r = 0; r < values.RowCount; r++)
        {
            Array.Copy(values.Values, r * d, both, r * 2 * d, d);
            Array.Copy(prices, r * d, both, (r * 2 * d) + d, d);
        }

        var frame = new TimeSeriesFrame(values.Dates, [.. values.Columns, .. priceColumns], both, values.RowCount);
        return new ScenarioSet(frame, set.Metadata with { Prices = start.Describe(priceColumns) });
    }
}
