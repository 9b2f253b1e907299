using System.Diagnostics;
using System.Globalization;
using Crucible.Data;
using Crucible.Evaluation.Learned;
using Crucible.Stress.Generators.Neural;

namespace Crucible.Benchmarks;

/// <summary>
/// The Stocks protocol's four scores for the TimeVAE-like baseline of <c>crucible baseline</c> (Crucible.Stress), a check
/// of the scores' scale against the published TimeVAE row (PEERS.md b1: discriminative 0.145, predictive 0.039,
/// correlational 0.095, Context-FID 0.215). The baseline is fitted on the min–max-scaled Stocks series (the days behind
/// the windows, 3,685 rows of 6 columns) with windows of 24 and samples as many windows as the real set has.
/// Usage: <c>stocks-baseline [--data FILE] [--steps N] [--hidden H] [--latent Z] [--runs R] [--seed S]</c>. Prints one
/// JSON line with every run, the means and 95 % CI half-widths, and the seconds taken.
/// </summary>
public sealed class StocksBaselineBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "stocks-baseline";

    /// <inheritdoc />
    public string Description => "Stocks protocol for the TimeVAE-like baseline (the scores' scale against the published TimeVAE row)";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var inv = CultureInfo.InvariantCulture;
        string data = Args.String(args, "--data") ?? "/work/shared/data/stocks_goog_timegan.csv";
        int steps = Args.Int(args, "--steps", 3000), hidden = Args.Int(args, "--hidden", 64), latent = Args.Int(args, "--latent", 8);
        int runs = Args.Int(args, "--runs", 5);
        ulong seed = ulong.Parse(Args.String(args, "--seed") ?? "0", inv);
        var sw = Stopwatch.StartNew();
        var real = StocksProtocol.Load(data);
        int n = real.Count, length = real.Length, features = real.Features, rows = n + length - 1;

        // the scaled days behind the stride-1 windows: window w holds days w .. w + L − 1
        var values = new double[rows * features];
        for (int r = 0; r < rows; r++)
        {
            int w = Math.Min(r, n - 1), t = r - w;
            for (int f = 0; f < features; f++) values[(r * features) + f] = real[w, t, f];
        }

        var dates = Enumerable.Range(0, rows).Select(i => new DateOnly(2000, 1, 1).AddDays(i)).ToArray();
        var frame = new TimeSeriesFrame(dates, [.. Enumerable.Range(0, features).Select(i => "f" + i.ToString(inv))], values);
        var fitted = new TimeVae(new TimeVaeOptions { Window = length, Steps = steps, Hidden = hidden, Latent = latent }).Fit(frame, seed);
        var sample = fitted.Sample(n, length, seed + 1);
        double fitSeconds = sw.Elapsed.TotalSeconds;
        var scores = StocksProtocol.Evaluate(real, new WindowSet(sample.Values, n, length, features), new StocksOptions { Runs = runs, Seed = seed });
        Console.WriteLine(string.Create(inv,
            $"{{\"generator\": \"timevae-like baseline\", \"steps\": {steps}, \"hidden\": {hidden}, \"latent\": {latent}, \"windows\": {n}, \"discriminative\": {StocksFloorBenchmark.Json(scores.Discriminative)}, \"predictive\": {StocksFloorBenchmark.Json(scores.Predictive)}, \"correlational\": {StocksFloorBenchmark.Json(scores.Correlational)}, \"context_fid\": {StocksFloorBenchmark.Json(scores.ContextFid!)}, \"fit_seconds\": {fitSeconds:F1}, \"seconds\": {sw.Elapsed.TotalSeconds:F1}, \"cores\": {Environment.ProcessorCount}}}"));
        return 0;
    }
}
