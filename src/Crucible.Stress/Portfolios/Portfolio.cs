using System.Globalization;
using System.Text.Json;
using Crucible.Data;
using Crucible.Data.IO;

namespace Crucible.Stress.Portfolios;

/// <summary>One holding of a portfolio: a series name and its weight (a fraction of capital; negative for a short).</summary>
/// <param name="Series">The series (column) name.</param>
/// <param name="Weight">Exposure as a fraction of capital.</param>
/// <param name="Location">Where the holding was declared (for error messages); null when built in code.</param>
public sealed record Holding(string Series, double Weight, InputLocation? Location = null);

/// <summary>A named group of series (a risk factor) that the ES allocation also reports, summed.</summary>
public sealed record FactorGroup(string Name, IReadOnlyList<string> Series, InputLocation? Location = null);

/// <summary>
/// A portfolio (ARCHITECTURE.md "Portfolio JSON"): weights per series, which sum to 1 unless a leverage says otherwise;
/// series not named have weight 0. Built from positions, the weights are position / capital. The leverage is the
/// declared net exposure Σ w_i; the rest, 1 − Σ w_i, is cash earning nothing.
/// </summary>
public sealed partial class Portfolio
{
    /// <summary>How far Σ w_i may be from the declared leverage (relative to max(1, |leverage|)).</summary>
    public const double WeightSumTolerance = 1e-6;

    /// <summary>Creates a portfolio from weights, checking that they are finite, unique and sum to <paramref name="leverage"/>.</summary>
    public Portfolio(string name, IReadOnlyList<Holding> holdings, double leverage = 1.0, double? capital = null,
        IReadOnlyList<FactorGroup>? groups = null, string source = "")
    {
        ArgumentNullException.ThrowIfNull(holdings);
        Name = name;
        Holdings = holdings;
        Leverage = leverage;
        Capital = capital;
        Groups = groups ?? [];
        Source = source;
        Validate();
    }

    /// <summary>The portfolio's name.</summary>
    public string Name { get; }

    /// <summary>The holdings, in declaration order.</summary>
    public IReadOnlyList<Holding> Holdings { get; }

    /// <summary>The declared net exposure Σ w_i (1 unless declared).</summary>
    public double Leverage { get; }

    /// <summary>The capital the weights are fractions of, when the portfolio was given as positions (or with a capital).</summary>
    public double? Capital { get; }

    /// <summary>Factor groups for the ES allocation (may be empty).</summary>
    public IReadOnlyList<FactorGroup> Groups { get; }

    /// <summary>The file it was read from, or empty.</summary>
    public string Source { get; }

    /// <summary>
    /// The weight vector aligned with <paramref name="columns"/> (0 for series the portfolio does not name). Throws
    /// <see cref="InvalidInputException"/> (rule <c>unknown-series</c>) when a holding or a group names a series that
    /// is not among the columns.
    /// </summary>
    public double[] WeightsFor(IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var weights = new double[columns.Count];
        foreach (var h in Holdings)
        {
            var i = IndexOf(columns, h.Series);
            if (i < 0)
                throw new InvalidInputException("unknown-series",
                    $"portfolio series '{h.Series}' is not in the scenarios (series: {string.Join(", ", columns)})", h.Location);
            weights[i] = h.Weight;
        }

        foreach (var g in Groups)
        {
            foreach (var s in g.Series)
            {
                if (IndexOf(columns, s) < 0)
                    throw new InvalidInputException("unknown-series", $"group '{g.Name}' names series '{s}', which is not in the scenarios", g.Location);
            }
        }

        return weights;
    }

    /// <summary>
    /// The weight vector aligned with <paramref name="columns"/> for the held series only (non-zero weights; 0 elsewhere):
    /// what a generator fitted on the held series needs (the backtest, the generator comparison), where a zero-weight
    /// holding or a group's series need not be among the columns (only the stress report uses groups). Throws
    /// <see cref="InvalidInputException"/> (rule <c>unknown-series</c>) when a held series is not among the columns.
    /// </summary>
    public double[] HeldWeightsFor(IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var weights = new double[columns.Count];
        foreach (var h in Holdings.Where(h => h.Weight != 0))
        {
            var i = IndexOf(columns, h.Series);
            if (i < 0)
                throw new InvalidInputException("unknown-series",
                    $"portfolio series '{h.Series}' is not in the data (series: {string.Join(", ", columns)})", h.Location);
            weights[i] = h.Weight;
        }

        return weights;
    }

    private static int IndexOf(IReadOnlyList<string> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (string.Equals(columns[i], name, StringComparison.Ordinal)) return i;
        }

        return -1;
    }

    private void Validate()
    {
        var file = new InputLocation(Source, 0, 0);
        if (Holdings.Count == 0) throw new InvalidInputException("empty-holdings", "the portfolio holds no series", file);
        if (!double.IsFinite(Leverage) || Leverage == 0)
            throw new InvalidInputException("leverage", "leverage must be a finite non-zero number", file);
        if (Capital is { } c && !(c > 0 && double.IsFinite(c)))
            throw new InvalidInputException("capital", "capital must be a finite positive number", file);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        double sum = 0;
        foreach (var h in Holdings)
        {
            if (!seen.Add(h.Series)) throw new InvalidInputException("duplicate-series", $"series '{h.Series}' is held twice", h.Location);
            if (!double.IsFinite(h.Weight)) throw new InvalidInputException("non-finite", $"the weight of '{h.Series}' is not finite", h.Location);
            sum += h.Weight;
        }

        if (Math.Abs(sum - Leverage) > WeightSumTolerance * Math.Max(1, Math.Abs(Leverage)))
        {
            // the hint names a leverage only when one could be declared (finite and non-zero, the leverage rule above)
            string hint = sum == 0 ? "; weights summing to 0 (a dollar-neutral book) cannot be declared: the leverage must be a finite non-zero number"
                : !double.IsFinite(sum) ? "; the weights are too large to add up"
                : string.Create(CultureInfo.InvariantCulture,
                    $"; declare \"leverage\": {sum:R} if that is intended (weights are fractions of capital), or give amounts of money as \"positions\" (with a \"capital\" when it is not their sum)");
            throw new InvalidInputException("weight-sum", string.Create(CultureInfo.InvariantCulture,
                $"the weights sum to {sum:R}, not {Leverage:R}{hint}"), Holdings[0].Location ?? file);
        }

        var grouped = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in Groups)
        {
            if (!names.Add(g.Name)) throw new InvalidInputException("duplicate-group", $"group '{g.Name}' is declared twice", g.Location);
            if (g.Series.Count == 0) throw new InvalidInputException("empty-group", $"group '{g.Name}' names no series", g.Location);
            // a series named twice in its one group is no overlap of groups
            if (g.Series.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(x => x.Count() > 1) is { } twice)
                throw new InvalidInputException("duplicate-series", $"group '{g.Name}' names series '{twice.Key}' twice", g.Location);
            foreach (var s in g.Series)
            {
                if (!grouped.Add(s)) throw new InvalidInputException("group-overlap", $"series '{s}' is in more than one group", g.Location);
            }
        }
    }

    /// <summary>Reads a portfolio JSON file; every problem is an <see cref="InvalidInputException"/> naming file, line, column and rule.</summary>
    public static Portfolio Load(string path)
    {
        Data.IO.InputFile.ThrowIfFolder(path, "not-a-file");
        if (!File.Exists(path)) throw new InvalidInputException("file-not-found", "file not found", new InputLocation(path, 0, 0));
        return Parse(Data.IO.InputFile.ReadAllBytes(path), path);
    }

    /// <summary>
    /// Parses portfolio JSON: <c>{"name": …, "weights": {SERIES: w, …}}</c> or <c>{"positions": {SERIES: value, …},
    /// "capital": C}</c> (capital defaults to Σ positions), with optional <c>"leverage"</c> (the declared Σ w) and
    /// <c>"groups": {NAME: [SERIES, …], …}</c>. Rules: <c>portfolio-json</c>, <c>unknown-key</c>, <c>type</c>,
    /// <c>duplicate-key</c>, <c>missing-holdings</c>, <c>both-holdings</c>, <c>empty-holdings</c>,
    /// <c>duplicate-series</c>, <c>non-finite</c>, <c>weight-sum</c>, <c>leverage</c>, <c>capital</c>,
    /// <c>duplicate-group</c>, <c>empty-group</c>, <c>group-overlap</c>.
    /// </summary>
    public static Portfolio Parse(ReadOnlySpan<byte> json, string source = "portfolio.json")
    {
        // a UTF-8 byte-order mark (what some editors save) is no JSON, and no column: skipped, as the CSV readers skip it
        json = json[Data.IO.InputFile.Utf8BomLength(json)..];
        var lines = new Utf8LineIndex(json);
        // the reader does not check the bytes of a string, which GetString then refuses with an InvalidOperationException
        if (InvalidUtf8Index(json) is var bad and >= 0)
            throw new InvalidInputException("portfolio-json", "invalid UTF-8: a portfolio file is UTF-8 text", lines.Locate(source, bad));
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        InputLocation At(in Utf8JsonReader r) => lines.Locate(source, r.TokenStartIndex);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new InvalidInputException("type", "a portfolio is a JSON object", At(reader));
            string? name = null;
            List<Holding>? weights = null, positions = null;
            InputLocation? weightsAt = null, positionsAt = null, leverageAt = null, capitalAt = null;
            double? leverage = null, capital = null;
            var groups = new List<FactorGroup>();
            var keys = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var keyAt = At(reader);
                var key = Text(ref reader, At);
                if (!keys.Add(key)) throw new InvalidInputException("duplicate-key", $"key '{key}' appears twice", keyAt);
                reader.Read();
                switch (key)
                {
                    case "name":
                        if (reader.TokenType != JsonTokenType.String) throw new InvalidInputException("type", "\"name\" must be a string", At(reader));
                        name = Text(ref reader, At);
                        break;
                    case "weights":
                        weightsAt = keyAt;
                        weights = ReadHoldings(ref reader, key, At);
                        break;
                    case "positions":
                        positionsAt = keyAt;
                        positions = ReadHoldings(ref reader, key, At);
                        break;
                    case "leverage":
                        leverageAt = At(reader);
                        leverage = ReadNumber(ref reader, key, At);
                        break;
                    case "capital":
                        capitalAt = At(reader);
                        capital = ReadNumber(ref reader, key, At);
                        break;
                    case "groups":
                        groups = ReadGroups(ref reader, At);
                        break;
                    default:
                        throw new InvalidInputException("unknown-key",
                            $"unknown key '{key}' (expected name, weights, positions, capital, leverage, groups)", keyAt);
                }
            }

            if (reader.Read()) throw new InvalidInputException("portfolio-json", "text after the portfolio object", At(reader));
            var file = new InputLocation(source, 0, 0);
            if (weights is null && positions is null)
                throw new InvalidInputException("missing-holdings", "the portfolio needs \"weights\" or \"positions\"", file);
            if (weights is not null && positions is not null)
                throw new InvalidInputException("both-holdings", "give \"weights\" or \"positions\", not both", positionsAt);
            if (positions is not null)
            {
                if (positions.Count == 0) throw new InvalidInputException("empty-holdings", "\"positions\" is empty", positionsAt);
                var c = capital ?? positions.Sum(p => p.Weight);
                if (!(c > 0 && double.IsFinite(c)))
                    throw new InvalidInputException("capital", "capital (Σ positions unless declared) must be positive", capitalAt ?? positionsAt);
                weights = positions.Select(p => p with { Weight = p.Weight / c }).ToList();
                capital = c;
                leverage ??= weights.Sum(w => w.Weight);
            }
            else if (weights!.Count == 0)
            {
                throw new InvalidInputException("empty-holdings", "\"weights\" is empty", weightsAt);
            }

            // the constructor's leverage and capital rules, located where the file gives them (a leverage from positions
            // that sum to 0: at "positions")
            if (leverage == 0)
                throw new InvalidInputException("leverage", "leverage must be a finite non-zero number", leverageAt ?? positionsAt);
            if (capital is { } declared && !(declared > 0))
                throw new InvalidInputException("capital", "capital must be a finite positive number", capitalAt);
            return new Portfolio(name ?? Path.GetFileNameWithoutExtension(source), weights, leverage ?? 1.0, capital, groups, source);
        }
        catch (JsonException e)
        {
            var line = (e.LineNumber ?? 0) + 1;
            var column = (int)(e.BytePositionInLine ?? 0) + 1;
            if (json.Trim(" \t\r\n"u8).IsEmpty)
                throw new InvalidInputException("portfolio-json", "the file is empty: a portfolio is a JSON object", new InputLocation(source, 0, 0));
            // NaN, Infinity (Python's json.dumps writes them): named, not the reader's "'N' is an invalid start of a value"
            if (Crucible.Data.IO.JsonNonFinite.At(json, e) is var (literal, start) && literal is not null)
            {
                throw new InvalidInputException("non-finite", $"{literal} is not a JSON number (JSON has no NaN or Infinity): give a finite number",
                    new InputLocation(source, line, (int)start + 1));
            }

            throw new InvalidInputException("portfolio-json", "malformed JSON: " + FirstSentence(e.Message), new InputLocation(source, line, column));
        }
    }

    private delegate InputLocation Locator(in Utf8JsonReader reader);

    // a string token's text: JSON lets a string escape half a UTF-16 surrogate pair ("\ud800"), which GetString refuses
    // with an InvalidOperationException; an input error where the string stands instead
    private static string Text(ref Utf8JsonReader reader, Locator at)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new InvalidInputException("portfolio-json", "a string escapes an unpaired UTF-16 surrogate (\\uD800 to \\uDFFF without its pair)", at(reader));
        }
    }

    // the offset of the first byte that does not start a valid UTF-8 sequence, or −1
    private static int InvalidUtf8Index(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return -1;
        for (var i = 0; i < bytes.Length;)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[i..], out _, out var consumed) != System.Buffers.OperationStatus.Done) return i;
            i += consumed;
        }

        return -1;
    }

    private static string FirstSentence(string message)
    {
        var i = message.IndexOf(" LineNumber", StringComparison.Ordinal);
        return (i > 0 ? message[..i] : message).Trim();
    }

    private static double ReadNumber(ref Utf8JsonReader reader, string key, Locator at)
    {
        if (reader.TokenType != JsonTokenType.Number) throw new InvalidInputException("type", $"\"{key}\" must be a number", at(reader));
        var v = reader.GetDouble();
        if (!double.IsFinite(v)) throw new InvalidInputException("non-finite", $"\"{key}\" is not a finite number", at(reader));
        return v;
    }

    private static List<Holding> ReadHoldings(ref Utf8JsonReader reader, string key, Locator at)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new InvalidInputException("type", $"\"{key}\" must be an object of SERIES: number", at(reader));
        var list = new List<Holding>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var where = at(reader);
            var series = Text(ref reader, at);
            if (!seen.Add(series)) throw new InvalidInputException("duplicate-series", $"series '{series}' appears twice in \"{key}\"", where);
            reader.Read();
            var v = ReadNumber(ref reader, $"{key}.{series}", at);
            list.Add(new Holding(series, v, where));
        }

        return list;
    }

    private static List<FactorGroup> ReadGroups(ref Utf8JsonReader reader, Locator at)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new InvalidInputException("type", "\"groups\" must be an object of NAME: [SERIES, …]", at(reader));
        var groups = new List<FactorGroup>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var where = at(reader);
            var name = Text(ref reader, at);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
                throw new InvalidInputException("type", $"group '{name}' must be an array of series names", at(reader));
            var members = new List<string>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.String)
                    throw new InvalidInputException("type", $"group '{name}' must hold series names (strings)", at(reader));
                members.Add(Text(ref reader, at));
            }

            groups.Add(new FactorGroup(name, members, where));
        }

        return groups;
    }
}
