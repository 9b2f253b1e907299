using System.Text.Json;
using System.Text.Json.Nodes;

namespace Crucible.Data.Csv;

/// <summary>
/// A series CSV's dialect as a JSON object, the form a run manifest records it in (<c>config.csv</c>) and a training
/// job of the service takes it in (<c>csv</c>): <c>delimiter</c>, <c>decimal</c>, <c>thousands</c> (one character each;
/// <c>tab</c> for a tab), <c>date_format</c>, <c>date_column</c>, <c>na</c> (tokens), <c>missing</c>
/// (<c>reject</c>, <c>keep</c> or <c>ffill</c>), <c>ffill_limit</c>, <c>domain</c> (<c>NAME=any|nonneg|positive</c>).
/// The CLI's dialect options (<c>--delimiter</c>, …) write it and <see cref="Apply"/> reads it back, so
/// <c>verify-run --recompute</c> and a training job read a file as <c>crucible train</c> does.
/// </summary>
public static class CsvDialect
{
    /// <summary>The members of a dialect object, in the order the CLI records them.</summary>
    public static IReadOnlyList<string> Members { get; } =
        ["delimiter", "decimal", "thousands", "date_format", "date_column", "na", "missing", "ffill_limit", "domain"];

    /// <summary>
    /// <paramref name="options"/> with the dialect <paramref name="dialect"/> (unchanged where a member is absent, and
    /// wholly when it is null), checked by <see cref="CsvReadOptions.Validate(Func{string, string?}?)"/>. <paramref name="name"/> gives the name a
    /// message uses for a member (the CLI's flag, e.g. <c>--history-date-format</c>, or <c>csv.date_format</c>).
    /// </summary>
    /// <exception cref="InvalidInputException"><c>OPT-E</c> naming the member: an unknown member, a member of the wrong
    /// JSON type, a separator that is not one character, an unknown missing-value policy or domain, or what
    /// <see cref="CsvReadOptions.Validate(Func{string, string?}?)"/> refuses (an empty date format or column name, a negative forward-fill limit, …).</exception>
    public static CsvReadOptions Apply(JsonObject? dialect, CsvReadOptions options, Func<string, string> name)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(name);
        // the reader's properties that a member sets, by the member's name (the others keep their property name)
        string? Named(string property) => property switch
        {
            nameof(CsvReadOptions.DateFormat) => name("date_format"),
            nameof(CsvReadOptions.DateColumnName) => name("date_column"),
            nameof(CsvReadOptions.ForwardFillLimit) => name("ffill_limit"),
            _ => null,
        };
        if (dialect is null)
        {
            options.Validate(Named);
            return options;
        }

        foreach (var (key, _) in dialect)
        {
            if (!Members.Contains(key, StringComparer.Ordinal))
                throw new InvalidInputException("OPT-E", $"{name(key)} is not a CSV dialect member: the members are {string.Join(", ", Members)}");
        }

        string? S(string key) => dialect[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            _ => throw new InvalidInputException("OPT-E", $"{name(key)} must be a string"),
        };
        string[] A(string key) => dialect[key] switch
        {
            null => [],
            JsonArray a when a.All(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String) => [.. a.Select(x => x!.GetValue<string>())],
            _ => throw new InvalidInputException("OPT-E", $"{name(key)} must be an array of strings"),
        };
        int? I(string key) => dialect[key] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i) => i,
            _ => throw new InvalidInputException("OPT-E", $"{name(key)} must be a whole number"),
        };

        // what is not given keeps options' own value (the reader's defaults)
        var na = new HashSet<string>(options.MissingTokens, StringComparer.Ordinal);
        foreach (var token in A("na")) na.Add(token);
        var result = options with
        {
            Delimiter = Char(S("delimiter"), options.Delimiter, name("delimiter")),
            DecimalSeparator = Char(S("decimal"), options.DecimalSeparator, name("decimal")),
            ThousandsSeparator = S("thousands") is { } t ? Char(t, ',', name("thousands")) : options.ThousandsSeparator,
            DateFormat = S("date_format") ?? options.DateFormat,
            DateColumnName = S("date_column") ?? options.DateColumnName,
            MissingTokens = na,
            Missing = S("missing") switch
            {
                null => options.Missing,
                "reject" => MissingValuePolicy.Reject,
                "keep" => MissingValuePolicy.Keep,
                "ffill" => MissingValuePolicy.ForwardFill,
                var other => throw new InvalidInputException("OPT-E", $"{name("missing")} must be reject, keep or ffill, got '{other}'"),
            },
            ForwardFillLimit = I("ffill_limit") ?? options.ForwardFillLimit,
            ColumnDomains = dialect["domain"] is null ? options.ColumnDomains : Domains(A("domain"), name("domain")),
        };
        result.Validate(Named);
        return result;
    }

    private static Dictionary<string, ColumnDomain> Domains(string[] specs, string member)
    {
        var domains = new Dictionary<string, ColumnDomain>(StringComparer.Ordinal);
        foreach (var spec in specs.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries)))
        {
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            var domain = eq <= 0 ? (ColumnDomain?)null : spec[(eq + 1)..] switch
            {
                "any" => ColumnDomain.AnyFinite,
                "nonneg" => ColumnDomain.NonNegative,
                "positive" => ColumnDomain.Positive,
                _ => null,
            };
            domains[eq <= 0 ? spec : spec[..eq]] = domain
                ?? throw new InvalidInputException("OPT-E", $"{member} takes NAME=any|nonneg|positive, got '{spec}'");
        }

        return domains;
    }

    private static char Char(string? value, char fallback, string member) => value switch
    {
        null => fallback,
        "tab" or "\\t" => '\t',
        { Length: 1 } => value[0],
        _ => throw new InvalidInputException("OPT-E", $"{member} takes one character, got '{value}'"),
    };
}
