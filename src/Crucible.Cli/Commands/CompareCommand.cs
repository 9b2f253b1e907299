using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Manifests;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reporting;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible compare --data FILE --portfolio FILE.json --train-end DATE [--input …] [--generator NAME …] [--window W]
/// [--count N] [--alpha A] [--seed S] [--home DIR] [--store sqlite:DIR|postgres:CONNSTRING] --out FILE.json [--html FILE.html]</c>: the generator comparison table
/// (fidelity, temporal, tail and risk metrics per generator, all fitted on the rows up to DATE and scored on the rows after
/// it); the run manifest goes to <c>HOME/runs/RUN_ID.json</c>, pinned by a <c>run.completed</c> audit entry.
/// </summary>
internal static class CompareCommand
{
    /// <summary>The options of one <c>compare</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "Dated CSV of the series", Required = true };

        public readonly Option<string> Input = SeriesOptions.Input("prices, returns, log-returns or percent");

        public readonly Option<string> Portfolio = new("--portfolio") { Description = "Portfolio JSON (its series are the ones compared)", Required = true };

        public readonly Option<string> TrainEnd = new("--train-end") { Description = "Last training date (YYYY-MM-DD); later rows are the holdout", Required = true };

        public readonly Option<string[]> Generator = SeriesOptions.Generators("compare");

        public readonly Option<int> Window = new("--window") { Description = "Steps per window (default 20)", DefaultValueFactory = _ => 20 };

        public readonly Option<int> Count = new("--count") { Description = "Windows per generator (default 2000)", DefaultValueFactory = _ => 2000 };

        public readonly Option<double> Alpha = new("--alpha") { Description = "Risk confidence (default 0.99)", DefaultValueFactory = _ => 0.99 };

        public readonly Option<ulong> Seed = new("--seed") { Description = "Seed (default 0)" };

        public readonly Option<string> Out = new("--out") { Description = "Where to write the table JSON", Required = true };

        public readonly Option<string> Html = new("--html") { Description = "Also write an HTML page with the comparison section" };

        public readonly Option<string> Home = HomeOption.Create();

        /// <summary><c>--store</c>: the audit log that records the run.</summary>
        public readonly Option<string> Store = StoreOption.Create();

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();

        /// <summary>How --data is read, as <c>data check</c> reads it with the same options.</summary>
        public readonly CsvDialectOptions Dialect = new();
    }

    /// <summary>The <c>compare</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("compare", "Compare scenario generators on the same train set and holdout (fidelity, temporal, tail, risk)")
        {
            o.Data, o.Input, o.Portfolio, o.TrainEnd, o.Generator, o.Window, o.Count, o.Alpha, o.Seed, o.Out, o.Html, o.Home, o.Store, o.Json,
        };
        foreach (var option in o.Dialect.All) command.Options.Add(option);
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Builds the table for a parsed command line, writing a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        // --json: stdout carries the document only, the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var document = output;
        output = JsonResult.SummaryWriter(json, output);
        var alpha = SeriesOptions.Alpha(parse, o.Alpha);
        var (window, count) = (parse.GetValue(o.Window), parse.GetValue(o.Count));
        if (window < 1 || count < 10) throw new InvalidInputException("OPT-E", "--window must be ≥ 1 and --count ≥ 10");
        var input = TrainCommand.InputKindOf(parse.GetValue(o.Input));
        var names = SeriesOptions.GeneratorNames(parse, o.Generator);
        var dialect = o.Dialect.ToConfig(parse);
        var request = new CompareRun(parse.GetValue(o.Data)!, input, parse.GetValue(o.Portfolio)!, parse.GetValue(o.TrainEnd)!, names, window, count, alpha, parse.GetValue(o.Seed),
            dialect?.DeepClone());
        var store = StoreOption.ResolveForRun(parse, o.Home, o.Store);
        var home = store.Home;
        var config = new JsonObject
        {
            ["command"] = "compare", ["input"] = input.ToString(), ["train_end"] = request.TrainEnd,
            ["generators"] = new JsonArray([.. names.Select(n => (JsonNode?)n)]), ["window"] = window, ["count"] = count, ["alpha"] = alpha,
        };
        if (dialect is not null) config["csv"] = dialect; // only when given: earlier manifests' configs stay as they were
        var run = RunManifests.Start(home, RunKind.Compare, config, request.Seed).AddInput(request.Data).AddInput(request.Portfolio).CheckOutput("--out", parse.GetValue(o.Out)!);
        if (parse.GetValue(o.Html) is { } html)
        {
            DistinctOutputs.Check("--html", html, "--out", parse.GetValue(o.Out)!);
            run.CheckOutput("--html", html);
        }
        var table = request.Compute();
        var outPath = parse.GetValue(o.Out)!;
        var htmlPath = parse.GetValue(o.Html);
        GeneratorComparison.Write(table, outPath, htmlPath);
        run.AddOutput(outPath);
        if (htmlPath is not null) run.AddOutput(htmlPath);
        var (manifest, receipts) = RunAudit.Complete(store, run,
            new JsonObject { ["command"] = "compare", ["report_sha256"] = Governance.FileHash.Sha256(outPath) });
        var inv = CultureInfo.InvariantCulture;
        foreach (var r in table.Rows)
        {
            output.WriteLine(string.Create(inv,
                $"{r.Generator,-22} ks {r.KsMean:F4}  corr {r.CorrDistance:F4}  acf|r| err {r.AcfAbsError:F4}  kurt err {r.KurtosisError:F3}  ES real {r.Es.Real:F4} synth {r.Es.Synthetic:F4}"));
        }

        output.WriteLine($"report:     {outPath}{(htmlPath is null ? "" : ", " + htmlPath)}");
        output.WriteLine($"manifest:   {manifest}");
        if (json)
        {
            // the summary's figures per generator, under the table's names (fidelity.ks_mean, … risk.es as [real, synthetic] there)
            JsonResult.Write(document, JsonResult.WithRun(new JsonObject
            {
                ["command"] = "compare",
                ["report"] = JsonResult.Full(outPath),
                ["html"] = JsonResult.Full(htmlPath),
                ["portfolio"] = table.Portfolio,
                ["alpha"] = table.Alpha,
                ["generators"] = new JsonArray([.. table.Rows.Select(r => (JsonNode?)new JsonObject
                {
                    ["name"] = r.Generator,
                    ["ks_mean"] = JsonResult.Number(r.KsMean),
                    ["corr_distance"] = JsonResult.Number(r.CorrDistance),
                    ["acf_abs_error"] = JsonResult.Number(r.AcfAbsError),
                    ["excess_kurtosis_error"] = JsonResult.Number(r.KurtosisError),
                    ["es"] = new JsonObject { ["real"] = JsonResult.Number(r.Es.Real), ["synthetic"] = JsonResult.Number(r.Es.Synthetic) },
                })]),
            }, run.RunId, manifest, receipts[^1], store));
        }

        return ExitCode.Success;
    }

    /// <summary>
    /// One generator comparison as <c>compare</c> runs it and <c>verify-run --recompute</c> runs it again: the data read
    /// as <see cref="Input"/> over the portfolio's held series, split after <see cref="TrainEnd"/>, each generator fitted
    /// on the train rows and compared with the holdout.
    /// </summary>
    internal sealed record CompareRun(string Data, InputKind Input, string Portfolio, string TrainEnd, string[] Generators, int Window, int Count, double Alpha, ulong Seed,
        JsonNode? Dialect = null)
    {
        /// <summary>The comparison table; bad options or data are input errors (exit 2).</summary>
        public GeneratorComparisonTable Compute()
        {
            var trainEnd = SeriesOptions.TrainEnd(TrainEnd);
            var portfolio = Crucible.Stress.Portfolios.Portfolio.Load(Portfolio);
            var returns = SeriesOptions.ReadLogReturns(Data, Input, Dialect);
            portfolio.HeldWeightsFor(returns.Columns); // a held series the data lacks: unknown-series at its holding in the portfolio file
            var held = portfolio.Holdings.Where(h => h.Weight != 0).Select(h => h.Series).ToArray();
            var frame = returns.SelectColumns(held);
            var split = frame.IndexAtOrBefore(trainEnd) + 1;
            if (split <= 0 || split >= frame.RowCount) throw new InvalidInputException("OPT-E", "--train-end leaves no train or no holdout rows");
            var generators = Generators.Select(GeneratorCatalog.Create).ToArray();
            return GeneratorComparison.Build(generators, frame.Slice(0, split), frame.Slice(split, frame.RowCount), portfolio, Count, Window, Alpha, Seed);
        }
    }

    /// <summary>
    /// A compare run done again from its manifest: its data and portfolio (inputs 1 and 2), the recorded input kind, train
    /// end, generators, window, count, α and seed, through <see cref="CompareRun"/>; the table's JSON and, when recorded,
    /// its HTML page against the recorded hashes.
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "compare" || m.Inputs.Count != 2)
            throw new InvalidInputException(RunRecompute.Rule, $"--recompute runs crucible compare runs again; run {m.RunId} was not recorded by crucible compare", where);
        var generators = RunRecompute.Strings(c, "generators") ?? throw new InvalidInputException(RunRecompute.Rule, "the manifest's config has no 'generators'", where);
        var request = new CompareRun(full(m.Inputs[0].Path), Enum.Parse<InputKind>(RunRecompute.Required<string>(c, "input", where)!), full(m.Inputs[1].Path),
            RunRecompute.Required<string>(c, "train_end", where)!, generators, RunRecompute.Required<int>(c, "window", where), RunRecompute.Required<int>(c, "count", where),
            RunRecompute.Required<double>(c, "alpha", where), m.Seed, c["csv"]?.DeepClone());
        var table = request.Compute();
        // the command writes the JSON first, then the page when asked
        var outputs = m.Outputs.Where(o => o.IsFile).ToArray();
        var results = outputs.Select((o, i) => RunRecompute.Compare(o, i == 0 ? GeneratorComparison.ToJson(table) : GeneratorComparison.ToHtmlPage(table))).ToList();
        return results.Count > 0 ? results : throw new InvalidInputException(RunRecompute.Rule, "the manifest names no comparison to compare with", where);
    }
}
