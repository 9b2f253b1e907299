using System.CommandLine;
using System.Globalization;
using Crucible.Data;
using Crucible.Data.Csv;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible data check --data FILE [--columns A,B] [--input prices|returns|log-returns|percent] [--no-date] [--show-values] [--json] …</c>:
/// validates a file and prints its data-quality report; exit 0 when the file can be used, 2 when it cannot.
/// </summary>
internal static class DataCheckCommand
{
    /// <summary>The options of one <c>check</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "The CSV file to check", Required = true };

        public readonly Option<string> Input =
            SeriesOptions.Input("What the values are: prices, returns (simple, as fractions), log-returns, or percent (simple returns in %)");

        public readonly Option<string> Columns = new("--columns")
        {
            Description = "The columns to check, comma-separated (default: all): the others (an ISIN, a rating beside the prices) are not read, as train --columns reads them",
        };

        public readonly Option<bool> NoDate = new("--no-date") { Description = "The file has no date column" };

        public readonly Option<bool> ShowValues = new("--show-values")
        {
            Description = "Include raw cell values in messages (off by default: data may be confidential)",
        };

        public readonly Option<bool> Json = new("--json") { Description = "Print the report as JSON" };

        /// <summary>The delimiter, separators, date format, missing values and domains (shared with <c>train</c>).</summary>
        public readonly CsvDialectOptions Dialect = new();

        public readonly Option<bool> Sort = new("--sort") { Description = "Repair: sort rows by date (counted)" };

        public readonly Option<bool> Dedupe = new("--dedupe") { Description = "Repair: drop exact duplicate rows (counted)" };

        public readonly Option<bool> WarnJumps = new("--warn-jumps")
        {
            Description = "Report suspected unadjusted splits / 100x errors as warnings instead of errors",
        };
    }

    /// <summary>The <c>data</c> command with its <c>check</c> sub-command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var check = new Command("check", "Validate a CSV of time series and print its data-quality report (exit 2 when it cannot be used)")
        {
            o.Data, o.Columns, o.Input, o.NoDate, o.ShowValues, o.Json, o.Sort, o.Dedupe, o.WarnJumps,
        };
        foreach (var option in o.Dialect.All) check.Options.Add(option);
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
        // the errors found, not the marker CSV-E-MAXERRORS that says reading stopped at the cap (nor a warning)
        var errors = report.IssueCounts.Where(kv => kv.Key.Contains("-E-", StringComparison.Ordinal) && kv.Key != CsvRules.TooManyErrors).Sum(kv => kv.Value);
        error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.Errors[0]}\n{path}: cannot be used ({errors} error{(errors == 1 ? "" : "s")}{(report.Truncated ? "; reading stopped there" : "")})"));
        return ExitCode.BadInput;
    }

    private static CsvReadOptions BuildOptions(ParseResult parse, Options o)
    {
        if (parse.GetValue(o.NoDate) && parse.GetValue(o.Dialect.DateColumn) is not null)
            throw new InvalidInputException("OPT-E", "--date-column names the file's date column and --no-date says it has none: give one of them");
        // the repairs that work by date: without a date column they would do nothing, silently
        var byDate = new List<string>();
        if (parse.GetValue(o.Sort)) byDate.Add("--sort");
        if (parse.GetValue(o.Dedupe)) byDate.Add("--dedupe");
        if (parse.GetValue(o.NoDate) && byDate.Count > 0)
        {
            throw new InvalidInputException("OPT-E", $"{string.Join(" and ", byDate)} {(byDate.Count == 1 ? "needs" : "need")} the file's date column " +
                "(rows are sorted and deduplicated by date) and --no-date says it has none: give one of them");
        }

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
            SortByDate = parse.GetValue(o.Sort),
            DropExactDuplicates = parse.GetValue(o.Dedupe),
            Jumps = parse.GetValue(o.WarnJumps) ? JumpPolicy.Warn : JumpPolicy.Reject,
            Columns = TrainCommand.ColumnNames(parse.GetValue(o.Columns)),
        };
        return o.Dialect.Apply(parse, options);
    }

    /// <summary>The widest line <see cref="WriteWrapped"/> writes, unless one item alone is wider.</summary>
    internal const int LineWidth = 100;

    /// <summary>
    /// <paramref name="head"/>, then the items joined by ", " and <paramref name="tail"/>, wrapped before an item that would
    /// pass <see cref="LineWidth"/>, each further line indented under the first item: a file of 500 series stays readable.
    /// </summary>
    private static void WriteWrapped(TextWriter o, string head, IReadOnlyList<string> items, string tail)
    {
        const string indent = "           "; // under the value column of "columns:   "
        var line = new System.Text.StringBuilder(head);
        for (var i = 0; i < items.Count; i++)
        {
            var piece = items[i] + (i < items.Count - 1 ? "," : tail);
            if (i > 0 && line.Length + 1 + piece.Length > LineWidth)
            {
                o.WriteLine(line.ToString());
                line.Clear().Append(indent);
            }
            else if (i > 0) line.Append(' ');
            line.Append(piece);
        }

        o.WriteLine(items.Count == 0 ? line.Append(tail).ToString() : line.ToString());
    }

    private static void WriteText(DataQualityReport r, TextWriter o)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"file:      {r.File}");
        o.WriteLine($"input:     {r.Input}");
        WriteWrapped(o, string.Create(inv, $"columns:   {r.Columns.Count} ("), r.Columns, ")");
        o.WriteLine(string.Create(inv,
            $"rows in:   {r.RowsIn} = accepted {r.Accepted} + rejected {r.Rejected} (errors {r.RejectedByError}, dropped by repair {r.DroppedByRepair})"));
        if (r.BlankLines > 0) o.WriteLine(string.Create(inv, $"blank lines skipped: {r.BlankLines}"));
        if (r.FirstDate is { } first && r.LastDate is { } last)
            o.WriteLine($"dates:     {first.ToString("yyyy-MM-dd", inv)} .. {last.ToString("yyyy-MM-dd", inv)}");
        var missing = r.MissingByColumn.Where(kv => kv.Value > 0).Select(kv => string.Create(inv, $"{kv.Key}={kv.Value}")).ToArray();
        WriteWrapped(o, "missing:   ", missing.Length == 0 ? ["none"] : missing, "");
        o.WriteLine($"repairs:   {(r.Repairs.Count == 0 ? "none" : string.Join(", ", r.Repairs.Select(x => string.Create(inv, $"{x.Repair}={x.Count}"))))}");
        if (r.IssueCounts.Count > 0)
            o.WriteLine($"issues:    {string.Join(", ", r.IssueCounts.Select(kv => string.Create(inv, $"{kv.Key}={kv.Value}")))}");
        foreach (var w in r.Warnings) o.WriteLine(w.ToString());
        foreach (var e in r.Errors) o.WriteLine(e.ToString());
        o.WriteLine(r.Usable ? "result:    usable" : "result:    NOT usable");
    }
}
