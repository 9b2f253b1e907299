using System.CommandLine;
using System.Globalization;
using Crucible.Data;
using Crucible.Data.Csv;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible data check --data FILE [--input prices|returns|log-returns|percent] [--no-date] [--show-values] [--json] …</c>:
/// validates a file and prints its data-quality report; exit 0 when the file can be used, 2 when it cannot.
/// </summary>
internal static class DataCheckCommand
{
    /// <summary>The options of one <c>check</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "The CSV file to check", Required = true };

        public readonly Option<string> Input = new("--input")
        {
            Description = "What the values are: prices, returns (simple, as fractions), log-returns, or percent (simple returns in %)",
            DefaultValueFactory = _ => "prices",
        };

        public readonly Option<bool> NoDate = new("--no-date") { Description = "The file has no date column" };

        public readonly Option<bool> ShowValues = new("--show-values")
        {
            Description = "Include raw cell values in messages (off by default: data may be confidential)",
        };

        public readonly Option<bool> Json = new("--json") { Description = "Print the report as JSON" };

        public readonly Option<string> Delimiter = new("--delimiter") { Description = "Field delimiter (default ','; use 'tab' for tabs)" };

        public readonly Option<string> DecimalSeparator = new("--decimal") { Description = "Decimal separator: '.' (default) or ','" };

        public readonly Option<string> Thousands = new("--thousands") { Description = "Thousands separator, if values use one" };

        public readonly Option<string> DateFormat = new("--date-format") { Description = "Exact date format (default yyyy-MM-dd)" };

        public readonly Option<string[]> Na = new("--na")
        {
            Description = "Tokens that mean 'missing' (the empty field always does); e.g. --na NA --na null",
            AllowMultipleArgumentsPerToken = true,
        };

        public readonly Option<string> Missing = new("--missing")
        {
            Description = "Missing-value policy: reject (default), keep (as NaN), ffill (forward-fill, counted)",
            DefaultValueFactory = _ => "reject",
        };

        public readonly Option<int> FfillLimit = new("--ffill-limit")
        {
            Description = "Most consecutive rows to forward-fill (default 5)",
            DefaultValueFactory = _ => 5,
        };

        public readonly Option<bool> Sort = new("--sort") { Description = "Repair: sort rows by date (counted)" };

        public readonly Option<bool> Dedupe = new("--dedupe") { Description = "Repair: drop exact duplicate rows (counted)" };

        public readonly Option<string[]> Domain = new("--domain")
        {
            Description = "A column's allowed values: NAME=any|nonneg|positive (repeatable), e.g. --domain DFF=any for rates",
            AllowMultipleArgumentsPerToken = true,
        };

        public readonly Option<bool> WarnJumps = new("--warn-jumps")
        {
            Description = "Report suspected unadjusted splits / 100x errors as warnings instead of errors",
        };
    }

    /// <summary>The <c>data</c> command with its <c>check</c> sub-command.</summary>
    public static Command Create()
    {
        var o = new Options();
        o.Input.AcceptOnlyFromAmong("prices", "returns", "log-returns", "percent");
        o.Missing.AcceptOnlyFromAmong("reject", "keep", "ffill");
        var check = new Command("check", "Validate a CSV of time series and print its data-quality report (exit 2 when it cannot be used)")
        {
            o.Data, o.Input, o.NoDate, o.ShowValues, o.Json, o.Delimiter, o.DecimalSeparator, o.Thousands, o.DateFormat, o.Na, o.Missing,
            o.FfillLimit, o.Sort, o.Dedupe, o.Domain, o.WarnJumps,
        };
        check.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out, Console.Error)));
        return new Command("data", "Inspect and validate input data") { check };
    }

    /// <summary>Runs the check for a parsed command line, writing the report to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output, TextWriter error)
    {
        var options = BuildOptions(parse, o);
        var path = parse.GetValue(o.Data)!;
        var report = CsvSeriesReader.Validate(path, options);
        if (parse.GetValue(o.Json)) output.WriteLine(report.ToJson());
        else WriteText(report, output);
        if (report.Usable) return ExitCode.Success;
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.Errors[0]}\n{path}: cannot be used ({report.IssueCounts.Where(kv => kv.Key.Contains("-E-", StringComparison.Ordinal)).Sum(kv => kv.Value)} errors)"));
        return ExitCode.BadInput;
    }

    private static CsvReadOptions BuildOptions(ParseResult parse, Options o)
    {
        var na = new HashSet<string>(StringComparer.Ordinal) { "" };
        foreach (var token in parse.GetValue(o.Na) ?? []) na.Add(token);
        var options = new CsvReadOptions
        {
            Input = parse.GetValue(o.Input) switch
            {
                "returns" => InputKind.SimpleReturns,
                "log-returns" => InputKind.LogReturns,
                "percent" => InputKind.PercentReturns,
                _ => InputKind.Prices,
            },
            HasDateColumn = !parse.GetValue(o.NoDate),
            ShowValues = parse.GetValue(o.ShowValues),
            Delimiter = Char(parse.GetValue(o.Delimiter), ',', "--delimiter"),
            DecimalSeparator = Char(parse.GetValue(o.DecimalSeparator), '.', "--decimal"),
            ThousandsSeparator = parse.GetValue(o.Thousands) is { } t ? Char(t, ',', "--thousands") : null,
            DateFormat = parse.GetValue(o.DateFormat) ?? "yyyy-MM-dd",
            MissingTokens = na,
            Missing = parse.GetValue(o.Missing) switch
            {
                "keep" => MissingValuePolicy.Keep,
                "ffill" => MissingValuePolicy.ForwardFill,
                _ => MissingValuePolicy.Reject,
            },
            ForwardFillLimit = parse.GetValue(o.FfillLimit),
            SortByDate = parse.GetValue(o.Sort),
            DropExactDuplicates = parse.GetValue(o.Dedupe),
            Jumps = parse.GetValue(o.WarnJumps) ? JumpPolicy.Warn : JumpPolicy.Reject,
            ColumnDomains = Domains(parse.GetValue(o.Domain) ?? []),
        };
        options.Validate();
        return options;
    }

    private static Dictionary<string, ColumnDomain> Domains(string[] specs)
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
                ?? throw new InvalidInputException("OPT-E", $"--domain takes NAME=any|nonneg|positive, got '{spec}'");
        }

        return domains;
    }

    private static char Char(string? value, char fallback, string option) => value switch
    {
        null => fallback,
        "tab" or "\\t" => '\t',
        { Length: 1 } => value[0],
        _ => throw new InvalidInputException("OPT-E", $"{option} takes one character, got '{value}'"),
    };

    private static void WriteText(DataQualityReport r, TextWriter o)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"file:      {r.File}");
        o.WriteLine($"input:     {r.Input}");
        o.WriteLine(string.Create(inv, $"columns:   {r.Columns.Count} ({string.Join(", ", r.Columns)})"));
        o.WriteLine(string.Create(inv,
            $"rows in:   {r.RowsIn} = accepted {r.Accepted} + rejected {r.Rejected} (errors {r.RejectedByError}, dropped by repair {r.DroppedByRepair})"));
        if (r.BlankLines > 0) o.WriteLine(string.Create(inv, $"blank lines skipped: {r.BlankLines}"));
        if (r.FirstDate is { } first && r.LastDate is { } last)
            o.WriteLine($"dates:     {first.ToString("yyyy-MM-dd", inv)} .. {last.ToString("yyyy-MM-dd", inv)}");
        var missing = r.MissingByColumn.Where(kv => kv.Value > 0).Select(kv => string.Create(inv, $"{kv.Key}={kv.Value}")).ToArray();
        o.WriteLine($"missing:   {(missing.Length == 0 ? "none" : string.Join(", ", missing))}");
        o.WriteLine($"repairs:   {(r.Repairs.Count == 0 ? "none" : string.Join(", ", r.Repairs.Select(x => string.Create(inv, $"{x.Repair}={x.Count}"))))}");
        if (r.IssueCounts.Count > 0)
            o.WriteLine($"issues:    {string.Join(", ", r.IssueCounts.Select(kv => string.Create(inv, $"{kv.Key}={kv.Value}")))}");
        foreach (var w in r.Warnings) o.WriteLine(w.ToString());
        foreach (var e in r.Errors) o.WriteLine(e.ToString());
        o.WriteLine(r.Usable ? "result:    usable" : "result:    NOT usable");
    }
}
