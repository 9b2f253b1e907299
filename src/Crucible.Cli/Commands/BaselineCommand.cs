using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Diffusion.Scenarios;
using Crucible.Governance.Manifests;
using Crucible.Stress.Generators;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible baseline --data FILE --generator NAME [--input …] [--columns A,B] [--train-end DATE] [--count N] [--window W]
/// [--seed S] [--home DIR] [--store sqlite:DIR|postgres:CONNSTRING] --out FILE.csv</c>: scenarios from a baseline generator (bootstrap, FHS, GARCH copula, WGAN-GP,
/// TimeVAE) fitted on the data, as a scenario CSV (scenario,step,&lt;series…&gt; log returns) that <c>crucible stress</c> and
/// <c>crucible evaluate</c> read; the run manifest goes to <c>HOME/runs/RUN_ID.json</c>, pinned by a <c>run.completed</c>
/// audit entry.
/// </summary>
internal static class BaselineCommand
{
    /// <summary>The options of one <c>baseline</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "Dated CSV of the series", Required = true };

        public readonly Option<string> Input = SeriesOptions.Input("prices, returns, log-returns or percent");

        public readonly Option<string> Columns = new("--columns") { Description = "Series to use, comma-separated (default: all)" };

        public readonly Option<string> Generator = new("--generator") { Description = "One of " + string.Join(", ", GeneratorCatalog.Names), Required = true };

        public readonly Option<string> TrainEnd = new("--train-end") { Description = "Fit on rows up to this date (YYYY-MM-DD; default: all)" };

        public readonly Option<int> Count = new("--count") { Description = "Scenarios (default 1000)", DefaultValueFactory = _ => 1000 };

        public readonly Option<int> Window = new("--window") { Description = "Steps per scenario (default 20)", DefaultValueFactory = _ => 20 };

        public readonly Option<ulong> Seed = new("--seed") { Description = "Seed (default 0)" };

        public readonly Option<string> Out = new("--out") { Description = "Where to write the scenario CSV", Required = true };

        public readonly Option<string> Home = HomeOption.Create();

        /// <summary><c>--store</c>: the audit log that records the run.</summary>
        public readonly Option<string> Store = StoreOption.Create();

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();

        /// <summary>How --data is read, as <c>data check</c> reads it with the same options.</summary>
        public readonly CsvDialectOptions Dialect = new();
    }

    /// <summary>The <c>baseline</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var command = new Command("baseline", "Generate scenarios with a baseline generator (bootstrap, FHS, GARCH copula, WGAN-GP, TimeVAE)")
        {
            o.Data, o.Input, o.Columns, o.Generator, o.TrainEnd, o.Count, o.Window, o.Seed, o.Out, o.Home, o.Store, o.Json,
        };
        foreach (var option in o.Dialect.All) command.Options.Add(option);
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Fits, samples and writes the scenario CSV.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        // --json: stdout carries the document only, the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var document = output;
        output = JsonResult.SummaryWriter(json, output);
        var (count, window) = (parse.GetValue(o.Count), parse.GetValue(o.Window));
        if (count < 1 || window < 1) throw new InvalidInputException("OPT-E", "--count and --window must be positive");
        var input = TrainCommand.InputKindOf(parse.GetValue(o.Input));
        var seed = parse.GetValue(o.Seed);
        var dialect = o.Dialect.ToConfig(parse);
        var request = new BaselineRun(parse.GetValue(o.Data)!, input, parse.GetValue(o.Generator)!, parse.GetValue(o.Columns), parse.GetValue(o.TrainEnd), count, window, seed,
            dialect?.DeepClone());
        var store = StoreOption.ResolveForRun(parse, o.Home, o.Store);
        var home = store.Home;
        var config = new JsonObject
        {
            ["command"] = "baseline", ["generator"] = request.Generator, ["input"] = input.ToString(),
            ["columns"] = request.Columns, ["train_end"] = request.TrainEnd, ["count"] = count, ["window"] = window,
        };
        if (dialect is not null) config["csv"] = dialect; // only when given: earlier manifests' configs stay as they were
        var run = RunManifests.Start(home, RunKind.Baseline, config, seed).AddInput(request.Data).CheckOutput("--out", parse.GetValue(o.Out)!);
        var (generator, fitRows, windows, csv) = request.Compute();
        var outPath = parse.GetValue(o.Out)!;
        AtomicFile.WriteAllBytes(outPath, csv);
        var csvSha256 = Governance.FileHash.Sha256(outPath);
        var (manifest, receipts) = RunAudit.Complete(store, run.AddOutput(outPath), new JsonObject { ["command"] = "baseline", ["csv_sha256"] = csvSha256 });
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{generator.Name}: {count} scenarios of {window} steps over {windows.SeriesCount} series, fitted on {fitRows} rows → {outPath}"));
        output.WriteLine($"manifest: {manifest}");
        if (json)
        {
            // the summary's figures: the generator's name, count × window over the series, the rows it was fitted on
            JsonResult.Write(document, JsonResult.WithRun(new JsonObject
            {
                ["command"] = "baseline",
                ["csv"] = JsonResult.Full(outPath),
                ["csv_sha256"] = csvSha256,
                ["generator"] = generator.Name,
                ["count"] = count,
                ["window"] = window,
                ["series"] = JsonResult.Strings(windows.Columns),
                ["fit_rows"] = fitRows,
            }, run.RunId, manifest, receipts[^1], store));
        }

        return ExitCode.Success;
    }

    /// <summary>
    /// One baseline draw as <c>baseline</c> runs it and <c>verify-run --recompute</c> runs it again: the data read as
    /// <see cref="Input"/>, its columns and rows up to <see cref="TrainEnd"/>, the generator fitted with the seed and
    /// sampled with seed + 1, and the scenario CSV's bytes.
    /// </summary>
    internal sealed record BaselineRun(string Data, InputKind Input, string Generator, string? Columns, string? TrainEnd, int Count, int Window, ulong Seed,
        JsonNode? Dialect = null)
    {
        /// <summary>Fits and draws; bad options or data are input errors (exit 2).</summary>
        public (IScenarioGenerator Generator, int FitRows, ScenarioWindows Windows, byte[] Csv) Compute()
        {
            var generator = GeneratorCatalog.Create(Generator);
            GeneratorCatalog.CheckWindow(generator, Window); // before the data is read and the generator trained
            var selected = Columns?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            // a series named scenario or step wrote a scenario file that names that column twice, which every reader refuses:
            // refused as train refuses it (reserved-column, at its header cell), unless --columns leaves it out
            var reserved = ScenarioCsv.ReservedColumns.Where(r => selected is null || selected.Contains(r.Key, StringComparer.Ordinal))
                .ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
            var frame = SeriesOptions.ReadLogReturns(Data, Input, Dialect, reserved);
            if (selected is not null) frame = frame.SelectColumns(selected);
            if (TrainEnd is { } text)
            {
                int end = frame.IndexAtOrBefore(SeriesOptions.TrainEnd(text)) + 1;
                // no row up to it: the generator's "needs at least 2 rows to fit, got 0" did not say why
                if (end == 0 && frame.RowCount > 0)
                {
                    throw new InvalidInputException("OPT-E", frame.HasDates
                        ? string.Create(CultureInfo.InvariantCulture, $"--train-end {text} precedes the data's first return ({frame.Dates[0]:yyyy-MM-dd}): no rows to fit on")
                        : $"--train-end {text} needs dated rows; the data has no dates");
                }

                frame = frame.Slice(0, end);
            }

            var windows = generator.Fit(frame, Seed).Sample(Count, Window, Seed + 1);
            return (generator, frame.RowCount, windows, ScenarioCsv.Format(windows.ToFrame(), Window));
        }
    }

    /// <summary>
    /// A baseline run done again from its manifest: its data (the one input), the recorded generator, input kind, columns,
    /// train end, count, window and seed, through <see cref="BaselineRun"/>; the CSV's recomputed bytes against the recorded hash.
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (RunRecompute.Value<string>(c, "command") != "baseline" || m.Inputs.Count != 1)
            throw new InvalidInputException(RunRecompute.Rule, $"--recompute runs crucible baseline runs again; run {m.RunId} was not recorded by crucible baseline", where);
        var request = new BaselineRun(full(m.Inputs[0].Path), Enum.Parse<InputKind>(RunRecompute.Required<string>(c, "input", where)!),
            RunRecompute.Required<string>(c, "generator", where)!, RunRecompute.Required<string>(c, "columns", where), RunRecompute.Required<string>(c, "train_end", where),
            RunRecompute.Required<int>(c, "count", where), RunRecompute.Required<int>(c, "window", where), m.Seed, c["csv"]?.DeepClone());
        var csv = request.Compute().Csv;
        var results = m.Outputs.Where(o => o.IsFile).Select(o => new Recomputed(o.Path, o.Sha256, RunRecompute.Sha256(csv))).ToList();
        return results.Count > 0 ? results : throw new InvalidInputException(RunRecompute.Rule, "the manifest names no scenario CSV to compare with", where);
    }
}
