using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Evaluation.Risk;
using Crucible.Governance.Manifests;
using Crucible.Stress.Backtesting;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reporting;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible backtest --data FILE --portfolio FILE.json [--input prices|returns|log-returns|percent] [--generator NAME …]
/// [--first-year Y] [--last-year Y] [--samples N] [--alpha A] [--seed S] [--home DIR] [--store sqlite:DIR|postgres:CONNSTRING] --out FILE.json</c>: walk-forward VaR
/// backtests (expanding windows, yearly refits, 250 test days, Kupiec POF, Christoffersen's independence and conditional
/// coverage, the Basel traffic light) of each generator;
/// the run manifest goes to <c>HOME/runs/RUN_ID.json</c>, pinned by a <c>run.completed</c> audit entry.
/// </summary>
internal static class BacktestCommand
{
    /// <summary>The options of one <c>backtest</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "Dated CSV of the series (prices unless --input says otherwise)", Required = true };

        public readonly Option<string> Input = SeriesOptions.Input("What the values are: prices, returns, log-returns or percent");

        public readonly Option<string> Portfolio = new("--portfolio") { Description = "Portfolio JSON", Required = true };

        public readonly Option<string[]> Generator = SeriesOptions.Generators("backtest");

        public readonly Option<int> FirstYear = new("--first-year") { Description = "First test year (default 2012)", DefaultValueFactory = _ => 2012 };

        public readonly Option<int> LastYear = new("--last-year") { Description = "Last test year (default 2019)", DefaultValueFactory = _ => 2019 };

        public readonly Option<int> Samples = new("--samples") { Description = "One-day scenarios per refit (default 5000)", DefaultValueFactory = _ => 5000 };

        public readonly Option<double> Alpha = new("--alpha") { Description = "VaR confidence (default 0.99)", DefaultValueFactory = _ => 0.99 };

        public readonly Option<ulong> Seed = new("--seed") { Description = "Seed (default 0)" };

        public readonly Option<bool> YearlyVar = new("--yearly-var")
        {
            Description = "Keep each refit's VaR for its whole year even for generators that follow the data (default: re-estimate daily)",
        };

        public readonly Option<string> Out = new("--out") { Description = "Where to write the backtest JSON", Required = true };

        public readonly Option<string> Home = HomeOption.Create();

        /// <summary><c>--store</c>: the audit log that records the run.</summary>
        public readonly Option<string> Store = StoreOption.Create();

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();

        /// <summary>How --data is read, as <c>data check</c> reads it with the same options.</summary>
        public readonly CsvDialectOptions Dialect = new();
    }

    /// <summary>The <c>backtest</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("backtest", "Walk-forward VaR backtest of scenario generators (yearly refits, Kupiec, Christoffersen, Basel traffic light)")
        {
            o.Data, o.Input, o.Portfolio, o.Generator, o.FirstYear, o.LastYear, o.Samples, o.Alpha, o.Seed, o.YearlyVar, o.Out, o.Home, o.Store, o.Json,
        };
        foreach (var option in o.Dialect.All) command.Options.Add(option);
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Runs the backtests for a parsed command line, writing a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        // --json: stdout carries the document only, the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var document = output;
        output = JsonResult.SummaryWriter(json, output);
        var alpha = SeriesOptions.Alpha(parse, o.Alpha);
        var samples = parse.GetValue(o.Samples);
        if (samples < 100) throw new InvalidInputException("OPT-E", "--samples must be at least 100");
        var input = TrainCommand.InputKindOf(parse.GetValue(o.Input));
        var names = SeriesOptions.GeneratorNames(parse, o.Generator);
        var options = new WalkForwardOptions
        {
            FirstYear = parse.GetValue(o.FirstYear), LastYear = parse.GetValue(o.LastYear), Samples = samples, Alpha = alpha, Seed = parse.GetValue(o.Seed),
            UpdateDaily = !parse.GetValue(o.YearlyVar),
        };
        var dialect = o.Dialect.ToConfig(parse);
        var request = new BacktestRun(parse.GetValue(o.Data)!, input, parse.GetValue(o.Portfolio)!, names, options, dialect?.DeepClone());
        var store = StoreOption.ResolveForRun(parse, o.Home, o.Store);
        var home = store.Home;
        var config = new JsonObject
        {
            ["command"] = "backtest", ["input"] = input.ToString(), ["generators"] = new JsonArray([.. names.Select(n => (JsonNode?)n)]),
            ["first_year"] = options.FirstYear, ["last_year"] = options.LastYear, ["samples"] = options.Samples, ["alpha"] = options.Alpha,
            ["update_daily"] = options.UpdateDaily,
        };
        if (dialect is not null) config["csv"] = dialect; // only when given: earlier manifests' configs stay as they were
        var run = RunManifests.Start(home, RunKind.Backtest, config, options.Seed).AddInput(request.Data).AddInput(request.Portfolio).CheckOutput("--out", parse.GetValue(o.Out)!);
        var (results, text) = request.Compute();
        var outPath = parse.GetValue(o.Out)!;
        AtomicFile.WriteAllText(outPath, text);
        var (manifest, receipts) = RunAudit.Complete(store, run.AddOutput(outPath),
            new JsonObject { ["command"] = "backtest", ["report_sha256"] = Governance.FileHash.Sha256(outPath) });
        var inv = CultureInfo.InvariantCulture;
        foreach (var r in results)
        {
            output.WriteLine(string.Create(inv,
                $"{r.Generator}{(r.DailyUpdate ? " (daily VaR)" : "")}: {string.Join(" ", r.Years.Select(y => string.Create(inv, $"{y.Year}:{y.Result.Exceptions}/{y.Result.Zone.WireName()}")))}; pooled {r.Pooled.Exceptions}/{r.Pooled.Observations}, Kupiec p {r.Pooled.KupiecPValue:G4}, "
                + $"Christoffersen ind p {r.Pooled.Christoffersen?.IndependencePValue:G4}, cc p {r.Pooled.Christoffersen?.ConditionalCoveragePValue:G4}"));
        }

        // the Basel zones above are those of each year's test rows at --alpha (one line per distinct count of rows)
        var bounds = results.SelectMany(r => r.Years).Select(y => y.Result.Observations).Distinct().OrderDescending()
            .Select(n => Crucible.Evaluation.Risk.VarBacktest.Bounds(n, options.Alpha)).ToArray();
        output.WriteLine($"zones:      {string.Join("; ", bounds.Select(b => b.ToString()))}");
        output.WriteLine($"report:     {outPath}");
        output.WriteLine($"manifest:   {manifest}");
        if (json) JsonResult.Write(document, JsonResult.WithRun(BacktestResultJson(results, options, bounds, outPath), run.RunId, manifest, receipts[^1], store));
        return ExitCode.Success;
    }

    // backtest --json: the report and the summary's figures under the report's names (per generator each year's
    // exceptions and zone, the pooled counts, kupiec_p and christoffersen's p-values), and the Basel zones they were read from
    private static JsonObject BacktestResultJson(WalkForwardResult[] results, WalkForwardOptions options,
        Crucible.Evaluation.Risk.TrafficLightBounds[] bounds, string outPath)
    {
        static JsonObject? Christoffersen(Crucible.Evaluation.Risk.ChristoffersenResult? c) => c is null ? null : new JsonObject
        {
            ["independence_p"] = JsonResult.Number(c.IndependencePValue), ["conditional_coverage_p"] = JsonResult.Number(c.ConditionalCoveragePValue),
        };

        return new JsonObject
        {
            ["command"] = "backtest",
            ["report"] = JsonResult.Full(outPath),
            ["alpha"] = options.Alpha,
            ["generators"] = new JsonArray([.. results.Select(r => (JsonNode?)new JsonObject
            {
                ["name"] = r.Generator,
                ["daily_update"] = r.DailyUpdate,
                ["years"] = new JsonArray([.. r.Years.Select(y => (JsonNode?)new JsonObject
                {
                    ["year"] = y.Year, ["observations"] = y.Result.Observations, ["exceptions"] = y.Result.Exceptions,
                    ["zone"] = y.Result.Zone.WireName(),
                })]),
                ["pooled"] = new JsonObject
                {
                    ["observations"] = r.Pooled.Observations, ["exceptions"] = r.Pooled.Exceptions, ["kupiec_p"] = JsonResult.Number(r.Pooled.KupiecPValue),
                    ["christoffersen"] = Christoffersen(r.Pooled.Christoffersen),
                },
            })]),
            // the summary's zones line: one entry per distinct count of a year's days, most days first
            ["zone_bounds"] = new JsonArray([.. bounds.Select(b => (JsonNode?)new JsonObject
            {
                ["observations"] = b.Observations, ["yellow_from"] = b.YellowFrom, ["red_from"] = b.RedFrom, ["text"] = b.ToString(),
            })]),
        };
    }

    /// <summary>
    /// One walk-forward backtest as <c>backtest</c> runs it and <c>verify-run --recompute</c> runs it again: the data
    /// read as <see cref="Input"/>, each named generator backtested on the portfolio, and the report's JSON.
    /// </summary>
    internal sealed record BacktestRun(string Data, InputKind Input, string Portfolio, string[] Generators, WalkForwardOptions Options, JsonNode? Dialect = null)
    {
        /// <summary>Runs the backtests (the portfolio and every generator name are checked before any work).</summary>
        public (WalkForwardResult[] Results, string Json) Compute()
        {
            var portfolio = Crucible.Stress.Portfolios.Portfolio.Load(Portfolio);
            var returns = SeriesOptions.ReadLogReturns(Data, Input, Dialect);
            var generators = Generators.Select(GeneratorCatalog.Create).ToArray();
            var results = generators.Select(gen => WalkForward.Run(gen, returns, portfolio, Options)).ToArray();
            return (results, BacktestJson.ToJson(results, Options, portfolio.Name));
        }
    }

    /// <summary>
    /// A backtest run done again from its manifest: its data and portfolio (inputs 1 and 2), the recorded input kind,
    /// generators, years, samples, α, daily update and seed, through <see cref="BacktestRun"/>; the report's recomputed
    /// bytes against the recorded hash.
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "backtest" || m.Inputs.Count != 2)
            throw new InvalidInputException(RunRecompute.Rule, $"--recompute runs crucible backtest runs again; run {m.RunId} was not recorded by crucible backtest", where);
        var options = new WalkForwardOptions
        {
            FirstYear = RunRecompute.Required<int>(c, "first_year", where), LastYear = RunRecompute.Required<int>(c, "last_year", where),
            Samples = RunRecompute.Required<int>(c, "samples", where), Alpha = RunRecompute.Required<double>(c, "alpha", where), Seed = m.Seed,
            UpdateDaily = RunRecompute.Required<bool>(c, "update_daily", where),
        };
        var generators = RunRecompute.Strings(c, "generators") ?? throw new InvalidInputException(RunRecompute.Rule, "the manifest's config has no 'generators'", where);
        var input = Enum.Parse<InputKind>(RunRecompute.Required<string>(c, "input", where)!);
        var (_, text) = new BacktestRun(full(m.Inputs[0].Path), input, full(m.Inputs[1].Path), generators, options, c["csv"]?.DeepClone()).Compute();
        var results = m.Outputs.Where(o => o.IsFile).Select(o => RunRecompute.Compare(o, text)).ToList();
        return results.Count > 0 ? results : throw new InvalidInputException(RunRecompute.Rule, "the manifest names no backtest report to compare with", where);
    }
}
