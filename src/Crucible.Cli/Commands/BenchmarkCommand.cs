using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Cli.Progress;
using Crucible.Data;
using Crucible.Diffusion.Windows;
using Crucible.Evaluation.Learned;
using Crucible.Tensors;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible benchmark stocks --data FILE [--runs R] [--steps N] [--seed S] [--threads N] [--pacf-weight λ]
/// [--no-context-fid] [--out FILE.json] [--json]</c>: the published Stocks protocol (METRICS.md) on windows of the unconditional
/// window generator: one training run on all 3,662 windows, then R metric runs (default 5) of the discriminative,
/// predictive and correlational scores, mean ± 95 % CI, and of the Context-FID (no target) unless
/// <c>--no-context-fid</c> skips it (the JSON then has no <c>context_fid</c> member). Exit 0 when every mean meets the issue's target, 3 when one does not (the
/// JSON is still written and, with <c>--json</c>, printed: the <c>--out</c> file's members plus <c>command</c> and <c>result</c>, its absolute path), 2 on bad input.
/// </summary>
internal static class BenchmarkCommand
{
    /// <summary>The most <c>--threads</c> taken.</summary>
    public const int MaxThreads = 1024;

    /// <summary>The options of one <c>benchmark stocks</c> command instance.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Data = new("--data") { Description = "stocks_goog_timegan.csv (a Date column and the six numeric columns)", Required = true };

        public readonly Option<int> Runs = new("--runs") { Description = "Metric runs per score (default 5)", DefaultValueFactory = _ => 5 };

        public readonly Option<int> Steps = new("--steps") { Description = "Training steps (default: the tuned setting)" };

        public readonly Option<ulong> Seed = new("--seed") { Description = "Seed of training, sampling and the metric runs (default 0)" };

        public readonly Option<int> Threads = new("--threads") { Description = "Threads for training, sampling and scoring, 1..1024 (default: all cores)" };

        public readonly Option<double> PacfWeight = new("--pacf-weight") { Description = "λ of the PACF regulariser (default: the tuned setting)" };

        public readonly Option<bool> NoContextFid = new("--no-context-fid")
        {
            Description = "Skip the Context-FID (its TS2Vec training takes about a minute on 2 cores): the result then has no context_fid score",
        };

        public readonly Option<string> Out = new("--out") { Description = "Write the result as JSON here (atomically)" };

        /// <summary><c>--json</c>: the result as one JSON document on stdout (<see cref="JsonResult"/>).</summary>
        public readonly Option<bool> Json = JsonResult.Create();
    }

    /// <summary>The <c>benchmark</c> command with its <c>stocks</c> sub-command.</summary>
    public static Command Create()
    {
        var o = new Options();
        var stocks = new Command("stocks", "The published Stocks protocol (TimeGAN / Diffusion-TS): train once, score R runs, mean ± 95% CI")
        {
            o.Data, o.Runs, o.Steps, o.Seed, o.Threads, o.PacfWeight, o.NoContextFid, o.Out, o.Json,
        };
        stocks.SetAction(parse => CliRunner.Run(parse, p => Execute(p, o, Console.Out, Console.Error)));
        return new Command("benchmark", "Reproduce published benchmarks") { stocks };
    }

    /// <summary>Runs the benchmark for a parsed command line.</summary>
    public static ExitCode Execute(ParseResult parse, Options o, TextWriter output, TextWriter errors)
    {
        var runs = parse.GetValue(o.Runs);
        if (runs < 1) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--runs takes a positive count, got {runs}"));
        var options = StocksDefaults.Options;
        if (parse.GetResult(o.Steps) is not null)
        {
            var steps = parse.GetValue(o.Steps);
            if (steps < 1) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--steps takes a positive count, got {steps}"));
            options = options with { Training = options.Training with { Steps = steps } };
        }

        if (parse.GetResult(o.PacfWeight) is not null)
        {
            var lambda = parse.GetValue(o.PacfWeight);
            if (!(lambda >= 0) || !double.IsFinite(lambda)) throw new InvalidInputException("OPT-E", $"--pacf-weight takes a number ≥ 0, got {lambda.ToString(CultureInfo.InvariantCulture)}");
            options = options with { Training = options.Training with { PacfWeight = lambda } };
        }

        var threads = parse.GetResult(o.Threads) is null ? EngineThreads.MaxDegreeOfParallelism : parse.GetValue(o.Threads);
        // a count no machine has cores for is a typo (1025 ran the whole training, each kernel call split that many ways)
        if (threads is < 1 or > MaxThreads) throw new InvalidInputException("OPT-E", string.Create(CultureInfo.InvariantCulture, $"--threads takes a count in 1..{MaxThreads}, got {threads}"));
        var seed = parse.GetValue(o.Seed);
        var skipContextFid = parse.GetValue(o.NoContextFid);
        var scoring = new StocksOptions { Runs = runs, Seed = seed, MaxDegreeOfParallelism = threads };
        var real = StocksProtocol.Load(parse.GetValue(o.Data)!);
        if (real.Count < 2) throw new InvalidInputException("too-short", string.Create(CultureInfo.InvariantCulture, $"{real.Count} windows of {StocksProtocol.WindowLength} rows: the file needs at least {StocksProtocol.WindowLength + 1} rows"));

        using var limit = EngineThreads.Limit(threads);
        var bar = TrainingProgressBar.ForStandardError();
        var status = Console.IsErrorRedirected ? null : new Progress<string>(errors.WriteLine);
        WindowDiffusionResult? generated = null;
        var result = StocksBenchmark.Run(
            real,
            windows =>
            {
                generated = WindowDiffusion.TrainAndSample(
                    StocksBenchmark.ToSeriesMajor(windows), windows.Count, windows.Features, windows.Length, windows.Count, seed, options, bar);
                return StocksBenchmark.FromSeriesMajor(generated.Samples, windows.Count, windows.Length, windows.Features);
            },
            skipContextFid ? scoring with { ContextFid = null } : scoring,
            () => StocksDefaults.Describe(options, seed, generated!),
            status);

        var outPath = parse.GetValue(o.Out);
        if (outPath is not null) StocksBenchmark.Write(result, outPath);
        // --json: stdout carries the document only (on exit 3 too), the summary lines go to stderr
        bool json = parse.GetValue(o.Json);
        var document = output;
        if (json) output = errors;
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"stocks:         {result.Windows} windows, {result.Runs} metric runs, seed {result.Seed}"));
        foreach (var (name, score) in new[] { ("discriminative", result.Discriminative), ("predictive", result.Predictive), ("correlational", result.Correlational) })
        {
            var ci = double.IsFinite(score.Summary.HalfWidth) ? string.Create(inv, $" ± {score.Summary.HalfWidth:F4}") : "";
            output.WriteLine(string.Create(inv,
                $"{name + ":",-15} {score.Summary.Mean:F4}{ci}  (target ≤ {score.Target:G3}, Diffusion-TS {score.Published:G3}) {(score.Passed ? "pass" : "FAIL")}"));
        }

        if (result.ContextFid is { } fid)
        {
            var ci = double.IsFinite(fid.HalfWidth) ? string.Create(inv, $" ± {fid.HalfWidth:F4}") : "";
            var (dts, tgan) = StocksBenchmark.PublishedContextFid;
            output.WriteLine(string.Create(inv,
                $"{"context-fid:",-15} {fid.Mean:F4}{ci}  (no target; Diffusion-TS {dts:G3}, TimeGAN {tgan:G3}; our TS2Vec re-implementation)"));
        }
        else
        {
            output.WriteLine($"{"context-fid:",-15} not computed (--no-context-fid)");
        }

        output.WriteLine(string.Create(inv, $"time:           generate {result.GenerateSeconds:F1} s (train {generated!.TrainSeconds:F1} s), score {result.EvaluateSeconds:F1} s"));
        if (outPath is not null) output.WriteLine($"result:         {outPath}");
        if (json)
        {
            // the --out file's members (the same serialisation, so the same figures), with the command and the file
            var printed = JsonNode.Parse(StocksBenchmark.ToJson(result))!.AsObject();
            printed["command"] = "benchmark stocks";
            printed["result"] = JsonResult.Full(outPath);
            JsonResult.Write(document, printed);
        }

        return result.Passed ? ExitCode.Success : ExitCode.ThresholdFailed;
    }
}
