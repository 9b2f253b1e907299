using System.Diagnostics;
using System.Globalization;
using Crucible.Evaluation.Learned;
using Crucible.Evaluation.Reporting;

namespace Crucible.Benchmarks;

/// <summary>
/// The floor of the published Stocks scores: the Stocks windows split at random into two halves, one scored as
/// "synthetic" against the other as "real" with the full protocol (5 runs, 2,000 / 5,000 iterations).
/// Usage: <c>stocks-floor [--data FILE] [--runs R] [--seed S]</c>. Prints one JSON line with every run, the means and
/// the 95 % CI half-widths, and the seconds taken.
/// </summary>
public sealed class StocksFloorBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "stocks-floor";

    /// <inheritdoc />
    public string Description => "Stocks protocol, real vs real (two random halves): discriminative, predictive, correlational";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var data = "../shared/data/stocks_goog_timegan.csv";
        var runs = 5;
        ulong seed = 0;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--data": data = args[++i]; break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seed": seed = ulong.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}");
                    return 2;
            }
        }

        var sw = Stopwatch.StartNew();
        var windows = StocksProtocol.Load(data);
        var (synthetic, real) = StocksProtocol.RandomHalves(windows, seed);
        var scores = StocksProtocol.Evaluate(real, synthetic, new StocksOptions { Runs = runs, Seed = seed });
        var seconds = sw.Elapsed.TotalSeconds;
        static string Json(ScoreSummary s) => string.Create(CultureInfo.InvariantCulture,
            $"{{\"mean\": {ReportJson.FormatNumber(s.Mean)}, \"ci95\": {ReportJson.FormatNumber(s.HalfWidth)}, \"runs\": [{string.Join(", ", s.Runs.Select(ReportJson.FormatNumber))}]}}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"windows\": {windows.Count}, \"real\": {real.Count}, \"synthetic\": {synthetic.Count}, \"discriminative\": {Json(scores.Discriminative)}, \"predictive\": {Json(scores.Predictive)}, \"correlational\": {Json(scores.Correlational)}, \"seconds\": {seconds:F1}, \"cores\": {Environment.ProcessorCount}}}"));
        return 0;
    }
}
