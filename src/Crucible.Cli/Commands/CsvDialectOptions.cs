using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;

namespace Crucible.Cli.Commands;

/// <summary>
/// How a series CSV is read beyond its input kind: the delimiter, decimal and thousands separators, the date column's
/// name and format, missing-value tokens and policy, and column domains. One definition shared by <c>data check</c> and the commands that
/// train on a file (<c>train</c>), so that a file <c>data check</c> accepts with some of these options is read the same
/// way by them (the reader's messages name these options: "declare that delimiter", "declare Keep or ForwardFill", "declare
/// the column's domain"). The values given are recorded as given (<see cref="ToConfig"/>) and read back by
/// <see cref="Apply(JsonNode?, CsvReadOptions, string?)"/>, so that <c>verify-run --recompute</c> reads the file as the run did.
/// </summary>
internal sealed class CsvDialectOptions
{
    private readonly string? _prefix;

    public readonly Option<string> Delimiter;

    public readonly Option<string> DecimalSeparator;

    public readonly Option<string> Thousands;

    public readonly Option<string> DateFormat;

    public readonly Option<string> DateColumn;

    public readonly Option<string[]> Na;

    public readonly Option<string> Missing;

    public readonly Option<int> FfillLimit;

    public readonly Option<string[]> Domain;

    /// <summary>
    /// The options <c>--delimiter</c>, … for a command's one series file; with <paramref name="prefix"/> (e.g.
    /// <c>history</c>) <c>--history-delimiter</c>, …, for a file beside others that a command reads (<paramref name="file"/>
    /// names it in the descriptions).
    /// </summary>
    public CsvDialectOptions(string? prefix = null, string? file = null)
    {
        _prefix = prefix;
        string Name(string name) => FlagName(prefix, name);
        string Of(string text) => file is null ? text : $"{file}: {text}";
        Delimiter = new(Name("delimiter")) { Description = Of("Field delimiter (default ','; use 'tab' for tabs)") };
        DecimalSeparator = new(Name("decimal")) { Description = Of("Decimal separator: '.' (default) or ','") };
        Thousands = new(Name("thousands")) { Description = Of("Thousands separator, if values use one") };
        DateFormat = new(Name("date-format")) { Description = Of("Exact date format (default yyyy-MM-dd)") };
        DateColumn = new(Name("date-column"))
        {
            Description = Of($"The date column's header name, wherever it stands (default {CsvReadOptions.Default.DateColumnName}; case-insensitive)"),
        };
        Na = new(Name("na"))
        {
            Description = Of($"Tokens that mean 'missing' (the empty field always does); e.g. {Name("na")} NA {Name("na")} null"),
            AllowMultipleArgumentsPerToken = true,
        };
        Missing = new(Name("missing"))
        {
            Description = Of("Missing-value policy: reject (default), keep (as NaN), ffill (forward-fill, counted)"),
            DefaultValueFactory = _ => "reject",
        };
        FfillLimit = new(Name("ffill-limit"))
        {
            Description = Of(string.Create(CultureInfo.InvariantCulture, $"Most consecutive rows to forward-fill (default {CsvReadOptions.Default.ForwardFillLimit})")),
            DefaultValueFactory = _ => CsvReadOptions.Default.ForwardFillLimit,
        };
        Domain = new(Name("domain"))
        {
            Description = Of($"A column's allowed values: NAME=any|nonneg|positive (repeatable), e.g. {Name("domain")} DFF=any for rates"),
            AllowMultipleArgumentsPerToken = true,
        };
        Missing.AcceptOnlyFromAmong("reject", "keep", "ffill");
    }

    /// <summary>The options, to add to a command.</summary>
    public IEnumerable<Option> All => [Delimiter, DecimalSeparator, Thousands, DateFormat, DateColumn, Na, Missing, FfillLimit, Domain];

    /// <summary><paramref name="options"/> with the dialect <paramref name="parse"/> gives (unchanged where none is given).</summary>
    public CsvReadOptions Apply(ParseResult parse, CsvReadOptions options) => Apply(ToConfig(parse), options, _prefix);

    /// <summary>The values given on the command line, as given (null when none is: a run manifest then records nothing).</summary>
    public JsonObject? ToConfig(ParseResult parse)
    {
        var o = new JsonObject();
        if (parse.GetValue(Delimiter) is { } d) o["delimiter"] = d;
        if (parse.GetValue(DecimalSeparator) is { } dec) o["decimal"] = dec;
        if (parse.GetValue(Thousands) is { } t) o["thousands"] = t;
        if (parse.GetValue(DateFormat) is { } f) o["date_format"] = f;
        if (parse.GetValue(DateColumn) is { } dc) o["date_column"] = dc;
        if (parse.GetValue(Na) is { Length: > 0 } na) o["na"] = new JsonArray([.. na.Select(x => (JsonNode?)x)]);
        if (parse.GetValue(Missing) is { } m && m != "reject") o["missing"] = m;
        if (parse.GetValue(FfillLimit) is var limit && limit != CsvReadOptions.Default.ForwardFillLimit) o["ffill_limit"] = limit;
        if (parse.GetValue(Domain) is { Length: > 0 } domain) o["domain"] = new JsonArray([.. domain.Select(x => (JsonNode?)x)]);
        return o.Count == 0 ? null : o;
    }

    /// <summary>
    /// <paramref name="options"/> with a dialect recorded by <see cref="ToConfig"/> (unchanged when null), checked by the
    /// library's reading of it (<see cref="CsvDialect.Apply"/>); a value out of range is refused naming its option
    /// (<c>--ffill-limit</c>, or <c>--PREFIX-ffill-limit</c> with <paramref name="prefix"/>).
    /// </summary>
    public static CsvReadOptions Apply(JsonNode? config, CsvReadOptions options, string? prefix = null) =>
        CsvDialect.Apply(config as JsonObject, options, member => FlagName(prefix, member.Replace('_', '-'))); // date_format: --date-format

    private static string FlagName(string? prefix, string name) => prefix is null ? "--" + name : $"--{prefix}-{name}";
}
