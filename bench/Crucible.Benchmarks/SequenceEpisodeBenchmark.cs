using System.Diagnostics;
using System.Globalization;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Evaluation.Reporting;

namespace Crucible.Benchmarks;

/// <summary>
/// A sequence model's stressed ES over an episode's own states: for every 20-day window inside the episode (the windows
/// whose realised ES the guidance calibration matches), <c>--per-state</c> windows conditioned on the state of that
/// window's first day (w = 2 or <c>--guidance</c>, regime guidance <c>--regime-guidance</c>, DPM-Solver++(2M)-50), pooled;
/// prints the pooled ES 97.5% of the equal-weight buy-and-hold 20-day return, its mean, and the same for the episode's
/// real windows. Usage: <c>sequence-episode --model DIR [--data FILE] [--state FILE] [--from DATE] [--to DATE]
/// [--per-state N] [--guidance W] [--regime-guidance A] [--threads N]</c> (defaults: the gfc-2008 episode, 40, 2, the
/// model's own a).
/// </summary>
public sealed class SequenceEpisodeBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "sequence-episode";

    /// <inheritdoc />
    public string Description => "a sequence model's stressed ES pooled over an episode's own window-start states";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var inv = CultureInfo.InvariantCulture;
        var generator = SequenceGenerator.Load(Args.String(args, "--model") ?? throw new ArgumentException("--model DIR is required"));
        string data = Args.String(args, "--data") ?? "/work/shared/data/multi_asset_daily_prices.csv";
        string statePath = Args.String(args, "--state") ?? "/work/shared/data/us_conditioning_daily.csv";
        var from = DateOnly.ParseExact(Args.String(args, "--from") ?? "2008-09-15", "yyyy-MM-dd", inv);
        var to = DateOnly.ParseExact(Args.String(args, "--to") ?? "2009-03-09", "yyyy-MM-dd", inv);
        int per = Args.Int(args, "--per-state", 40);
        double w = double.Parse(Args.String(args, "--guidance") ?? "2", inv);
        double a = Args.String(args, "--regime-guidance") is { } ra ? double.Parse(ra, inv) : generator.Options.RegimeGuidance;
        using var limit = Tensors.EngineThreads.Limit(Args.Int(args, "--threads", Environment.ProcessorCount));
        var sw = Stopwatch.StartNew();
        var returns = CsvSeriesReader.Load(data, new CsvReadOptions { Input = InputKind.Prices }).ToLogReturns(InputKind.Prices);
        var features = EconomicState.Build(CsvSeriesReader.Load(statePath, new CsvReadOptions { Input = InputKind.LogReturns }), returns);
        int window = generator.Window;
        var synthetic = new List<double>();
        var real = new List<double>();
        for (int b = 0; b + window - 1 < returns.RowCount; b++)
        {
            if (returns.Dates[b] < from || returns.Dates[b + window - 1] > to) continue;
            int row = Array.IndexOf(features.Dates, returns.Dates[b]);
            if (row < 0) continue;
            var conditions = new Dictionary<string, double>();
            for (int c = 0; c < features.ColumnCount; c++) conditions[features.Columns[c]] = features[row, c];
            var frame = generator.Sample(per, (ulong)(500 + b), new SequenceSampleRequest(conditions, GuidanceScale: w, RegimeGuidance: a,
                Sampler: new SamplerOptions(SamplerKind.DpmSolver2M, 50)));
            for (int s = 0; s < per; s++) synthetic.Add(Loss(frame, s * window, window));
            real.Add(Loss(returns, b, window));
        }

        Console.WriteLine(string.Create(inv,
            $"{{\"from\": \"{from:yyyy-MM-dd}\", \"to\": \"{to:yyyy-MM-dd}\", \"states\": {real.Count}, \"per_state\": {per}, \"guidance\": {ReportJson.FormatNumber(w)}, \"regime_guidance\": {ReportJson.FormatNumber(a)}, \"es975\": {ReportJson.FormatNumber(Es(synthetic))}, \"mean_loss\": {ReportJson.FormatNumber(synthetic.Average())}, \"real_es975\": {ReportJson.FormatNumber(Es(real))}, \"real_mean_loss\": {ReportJson.FormatNumber(real.Average())}, \"seconds\": {sw.Elapsed.TotalSeconds:F1}}}"));
        return 0;
    }

    // the loss of the equal-weight buy-and-hold portfolio over rows start .. start + W − 1: −log(mean_i exp(Σ_t r_it))
    private static double Loss(TimeSeriesFrame frame, int start, int window)
    {
        double sum = 0;
        for (int c = 0; c < frame.ColumnCount; c++)
        {
            double cumulative = 0;
            for (int t = 0; t < window; t++) cumulative += frame[start + t, c];
            sum += Math.Exp(cumulative);
        }

        return -Math.Log(sum / frame.ColumnCount);
    }

    // mean of the losses at or beyond the ⌈0.975·n⌉-th smallest
    private static double Es(List<double> losses)
    {
        var sorted = losses.Order().ToArray();
        return sorted.Skip((int)Math.Ceiling(0.975 * sorted.Length)).DefaultIfEmpty(sorted[^1]).Average();
    }
}
