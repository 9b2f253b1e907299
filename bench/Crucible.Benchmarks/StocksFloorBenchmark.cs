using System.Diagnostics;
using System.Globalization;
using Crucible.Evaluation.Learned;
using Crucible.Evaluation.Reporting;

namespace Crucible.Benchmarks;

/// <summary>
/// The floor of the published Stocks scores: the Stocks windows split at random into two halves, one scored as
/// "synthetic" against the other as "real" with the full protocol (5 runs, 2,000 / 5,000 iterations).
/// Usage: <c>stocks-floor [--data FILE] [--runs R] [--seed S] [--correlational-of-copy] [--context-fid-only | --no-context-fid]</c>;
/// <c>--correlational-of-copy</c> scores only the correlational score of all windows against an exact copy of themselves
/// (the score's sampling floor); <c>--context-fid-only</c> runs only the Context-FID of the two halves (an extra score with
/// no pass/fail target), <c>--no-context-fid</c> the three other scores without it (the line then has no
/// <c>context_fid</c>). Prints one JSON line with every run, the means and the 95 % CI half-widths, and the seconds taken.
/// </summary>
public sealed class StocksFloorBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "stocks-floor";

    /// <inheritdoc />
    public string Description => "Stocks protocol, real vs real (two random halves): discriminative, predictive, correlational, Context-FID";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var data = "../shared/data/stocks_goog_timegan.csv";
        var runs = 5;
        ulong seed = 0;
        var correlationalOfCopy = false;
        var contextFidOnly = false;
        var noContextFid = false;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--data": data = args[++i]; break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seed": seed = ulong.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--correlational-of-copy": correlationalOfCopy = true; break;
                case "--context-fid-only": contextFidOnly = true; break;
                case "--no-context-fid": noContextFid = true; break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}");
                    return 2;
            }
        }

        if (contextFidOnly && noContextFid)
        {
            Console.Error.WriteLine("--context-fid-only and --no-context-fid exclude each other");
            return 2;
        }

        var sw = Stopwatch.StartNew();
        var windows = StocksProtocol.Load(data);
        if (correlationalOfCopy)
        {
            // the correlational score of an exact copy of all windows (as the protocol runs it: independent draws of N/5)
            var copy = CorrelationalScore.Runs(windows, windows, new Tensors.Random.Philox(seed, (ulong)runs).NextUInt64(), runs);
            var summary = StocksProtocol.Summarise(copy);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"windows\": {windows.Count}, \"correlational_of_copy\": {Json(summary)}}}"));
            return 0;
        }

        var (synthetic, real) = StocksProtocol.RandomHalves(windows, seed);
        if (contextFidOnly)
        {
            // the same runs and seeds as Evaluate gives the Context-FID
            var fid = StocksProtocol.Summarise(ContextFid.Runs(real, synthetic, seed, runs));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"windows\": {windows.Count}, \"real\": {real.Count}, \"synthetic\": {synthetic.Count}, \"context_fid\": {Json(fid)}, \"seconds\": {sw.Elapsed.TotalSeconds:F1}, \"cores\": {Environment.ProcessorCount}}}"));
            return 0;
        }

        var options = new StocksOptions { Runs = runs, Seed = seed };
        var scores = StocksProtocol.Evaluate(real, synthetic, noContextFid ? options with { ContextFid = null } : options);
        var seconds = sw.Elapsed.TotalSeconds;
        var fidMember = scores.ContextFid is { } f ? $", \"context_fid\": {Json(f)}" : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"windows\": {windows.Count}, \"real\": {real.Count}, \"synthetic\": {synthetic.Count}, \"discriminative\": {Json(scores.Discriminative)}, \"predictive\": {Json(scores.Predictive)}, \"correlational\": {Json(scores.Correlational)}{fidMember}, \"seconds\": {seconds:F1}, \"cores\": {Environment.ProcessorCount}}}"));
        return 0;
    }

    /// <summary>A score's runs as the benchmarks print them: <c>{"mean": …, "ci95": …, "runs": […]}</c>.</summary>
    internal static string Json(ScoreSummary s) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"mean\": {ReportJson.FormatNumber(s.Mean)}, \"ci95\": {ReportJson.FormatNumber(s.HalfWidth)}, \"runs\": [{string.Join(", ", s.Runs.Select(ReportJson.FormatNumber))}]}}");
}