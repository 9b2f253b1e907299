using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Data.IO;
using Crucible.Diffusion.Scenarios;
using Crucible.Governance.Manifests;
using Crucible.Stress.Generators;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible baseline --data FILE --generator NAME [--input …] [--columns A,B] [--train-end DATE] [--count N] [--window W]
/// [--seed S] [--home DIR] --out FILE.csv</c>: scenarios from a baseline generator (bootstrap, FHS, GARCH copula, WGAN-GP,
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

        public readonly Option<string> Input = new("--input") { Description = "prices, returns, log-returns or percent", DefaultValueFactory = _ => "prices" };

        public readonly Option<string> Columns = new("--columns") { Description = "Series to use, comma-separated (default: all)" };

        public readonly Option<string> Generator = new("--generator") { Description = "One of " + string.Join(", ", GeneratorCatalog.Names), Required = true };

        public readonly Option<string> TrainEnd = new("--train-end") { Description = "Fit on rows up to this date (YYYY-MM-DD; default: all)" };

        public readonly Option<int> Count = new("--count") { Description = "Scenarios (default 1000)", DefaultValueFactory = _ => 1000 };

        public readonly Option<int> Window = new("--window") { Description = "Steps per scenario (default 20)", DefaultValueFactory = _ => 20 };

        public readonly Option<ulong> Seed = new("--seed") { Description = "Seed (default 0)" };

        public readonly Option<string> Out = new("--out") { Description = "Where to write the scenario CSV", Required = true };

        public readonly Option<string> Home = HomeOption.Create();
    }

    /// <summary>The <c>baseline</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        o.Input.AcceptOnlyFromAmong("prices", "returns", "log-returns", "percent");
        var command = new Command("baseline", "Generate scenarios with a baseline generator (bootstrap, FHS, GARCH copula, WGAN-GP, TimeVAE)")
        {
            o.Data, o.Input, o.Columns, o.Generator, o.TrainEnd, o.Count, o.Window, o.Seed, o.Out, o.Home,
        };
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Fits, samples and writes the scenario CSV.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        var (count, window) = (parse.GetValue(o.Count), parse.GetValue(o.Window));
        if (count < 1 || window < 1) throw new InvalidInputException("OPT-E", "--count and --window must be positive");
        var generator = GeneratorCatalog.Create(parse.GetValue(o.Generator)!);
        var input = TrainCommand.InputKindOf(parse.GetValue(o.Input));
        var frame = CsvSeriesReader.Load(parse.GetValue(o.Data)!, new CsvReadOptions { Input = input }).ToLogReturns(input);
        if (parse.GetValue(o.Columns) is { } columns) frame = frame.SelectColumns(columns.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        if (parse.GetValue(o.TrainEnd) is { } text)
        {
            if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var end))
                throw new InvalidInputException("OPT-E", "--train-end takes a date YYYY-MM-DD");
            frame = frame.Slice(0, frame.IndexAtOrBefore(end) + 1);
        }

        var seed = parse.GetValue(o.Seed);
        var home = HomeOption.Resolve(parse, o.Home);
        var run = RunManifests.Start(home, "baseline", new JsonObject
        {
            ["command"] = "baseline", ["generator"] = parse.GetValue(o.Generator), ["input"] = input.ToString(),
            ["columns"] = parse.GetValue(o.Columns), ["train_end"] = parse.GetValue(o.TrainEnd), ["count"] = count, ["window"] = window,
        }, seed).AddInput(parse.GetValue(o.Data)!);
        var windows = generator.Fit(frame, seed).Sample(count, window, seed + 1);
        var outPath = parse.GetValue(o.Out)!;
        AtomicFile.WriteAllBytes(outPath, ScenarioCsv.Format(windows.ToFrame(), window));
        var (manifest, _) = RunAudit.Complete(home, run.AddOutput(outPath),
            new JsonObject { ["command"] = "baseline", ["csv_sha256"] = Governance.FileHash.Sha256(outPath) });
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{generator.Name}: {count} scenarios of {window} steps over {windows.SeriesCount} series, fitted on {frame.RowCount} rows → {outPath}"));
        output.WriteLine($"manifest: {manifest}");
        return ExitCode.Success;
    }
}
