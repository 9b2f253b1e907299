using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Governance.Manifests;
using Crucible.Stress.Backtesting;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reporting;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible backtest --data FILE --portfolio FILE.json [--input prices|returns|log-returns|percent] [--generator NAME …]
/// [--first-year Y] [--last-year Y] [--samples N] [--alpha A] [--seed S] [--home DIR] --out FILE.json</c>: walk-forward VaR
/// backtests (expanding windows, yearly refits, 250 test days, Kupiec POF and the Basel traffic light) of each generator;
/// the run manifest goes to <c>HOME/runs/RUN_ID.json</c>, pinned by a <c>run.completed</c> audit entry.
/// </summary>
internal static class BacktestCommand
{
    /// <summary>The options of one <c>backtest</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "Dated CSV of the series (prices unless --input says otherwise)", Required = true };

        public readonly Option<string> Input = new("--input")
        {
            Description = "What the values are: prices, returns, log-returns or percent",
            DefaultValueFactory = _ => "prices",
        };

        public readonly Option<string> Portfolio = new("--portfolio") { Description = "Portfolio JSON", Required = true };

        public readonly Option<string[]> Generator = new("--generator")
        {
            Description = "Generators to backtest, repeatable (default: all of " + string.Join(", ", GeneratorCatalog.Names) + ")",
            AllowMultipleArgumentsPerToken = true,
        };

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
    }

    /// <summary>The <c>backtest</c> command.</summary>
    public static Command Create()
    {
        var o = new Options();
        o.Input.AcceptOnlyFromAmong("prices", "returns", "log-returns", "percent");
        var command = new Command("backtest", "Walk-forward VaR backtest of scenario generators (yearly refits, Kupiec, Basel traffic light)")
        {
            o.Data, o.Input, o.Portfolio, o.Generator, o.FirstYear, o.LastYear, o.Samples, o.Alpha, o.Seed, o.YearlyVar, o.Out, o.Home,
        };
        command.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out)));
        return command;
    }

    /// <summary>Runs the backtests for a parsed command line, writing a summary to <paramref name="output"/>.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output)
    {
        var alpha = parse.GetValue(o.Alpha);
        if (!(alpha > 0 && alpha < 1)) throw new InvalidInputException("OPT-E", "--alpha takes a number in (0, 1)");
        var samples = parse.GetValue(o.Samples);
        if (samples < 100) throw new InvalidInputException("OPT-E", "--samples must be at least 100");
        var portfolio = Portfolio.Load(parse.GetValue(o.Portfolio)!);
        var input = TrainCommand.InputKindOf(parse.GetValue(o.Input));
        var returns = CsvSeriesReader.Load(parse.GetValue(o.Data)!, new CsvReadOptions { Input = input }).ToLogReturns(input);
        var names = parse.GetValue(o.Generator) is { Length: > 0 } g ? g.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray()
            : [.. GeneratorCatalog.Names];
        var generators = names.Select(GeneratorCatalog.Create).ToArray();
        var options = new WalkForwardOptions
        {
            FirstYear = parse.GetValue(o.FirstYear), LastYear = parse.GetValue(o.LastYear), Samples = samples, Alpha = alpha, Seed = parse.GetValue(o.Seed),
            UpdateDaily = !parse.GetValue(o.YearlyVar),
        };
        var home = HomeOption.Resolve(parse, o.Home);
        var run = RunManifests.Start(home, "backtest", new JsonObject
        {
            ["command"] = "backtest", ["input"] = input.ToString(), ["generators"] = new JsonArray([.. names.Select(n => (JsonNode?)n)]),
            ["first_year"] = options.FirstYear, ["last_year"] = options.LastYear, ["samples"] = options.Samples, ["alpha"] = options.Alpha,
            ["update_daily"] = options.UpdateDaily,
        }, options.Seed).AddInput(parse.GetValue(o.Data)!).AddInput(parse.GetValue(o.Portfolio)!);
        var results = generators.Select(gen => WalkForward.Run(gen, returns, portfolio, options)).ToArray();
        var outPath = parse.GetValue(o.Out)!;
        BacktestJson.Write(results, options, portfolio.Name, outPath);
        var (manifest, _) = RunAudit.Complete(home, run.AddOutput(outPath),
            new JsonObject { ["command"] = "backtest", ["report_sha256"] = Governance.FileHash.Sha256(outPath) });
        var inv = CultureInfo.InvariantCulture;
        foreach (var r in results)
        {
            output.WriteLine(string.Create(inv,
                $"{r.Generator}{(r.DailyUpdate ? " (daily VaR)" : "")}: {string.Join(" ", r.Years.Select(y => string.Create(inv, $"{y.Year}:{y.Result.Exceptions}/{y.Result.Zone.ToString().ToLowerInvariant()}")))}; pooled {r.Pooled.Exceptions}/{r.Pooled.Observations}, Kupiec p {r.Pooled.KupiecPValue:G4}"));
        }

        output.WriteLine($"report:     {outPath}");
        output.WriteLine($"manifest:   {manifest}");
        return ExitCode.Success;
    }
}
