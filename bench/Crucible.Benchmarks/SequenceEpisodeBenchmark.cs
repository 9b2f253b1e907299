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
        var synthetic = new List<double>();   // the sampled windows laid end to end, row-major
        int first = -1, states = 0;
        for (int b = 0; b + window - 1 < returns.RowCount; b++)
        {
            if (returns.Dates[b] < from || returns.Dates[b + window - 1] > to) continue;
            int row = Array.IndexOf(features.Dates, returns.Dates[b]);
            if (row < 0) throw new ArgumentException($"no state for the window starting {returns.Dates[b]:yyyy-MM-dd}: every window of the episode needs one");
            if (first < 0) first = b;
            var conditions = new Dictionary<string, double>();
            for (int c = 0; c < features.ColumnCount; c++) conditions[features.Columns[c]] = features[row, c];
            var frame = generator.Sample(per, (ulong)(500 + b), new SequenceSampleRequest(conditions, GuidanceScale: w, RegimeGuidance: a,
                Sampler: new SamplerOptions(SamplerKind.DpmSolver2M, 50)));
            synthetic.AddRange(frame.Values);
            states++;
        }

        // the episode's windows are consecutive (stride 1) from `first`; the samples are windows laid end to end (stride W)
        int count = states * per;
        var pooled = new TimeSeriesFrame([], returns.Columns, [.. synthetic], count * window);
        var episode = returns.Slice(first, first + states + window - 1);
        double es = EconomicState.EqualWeightWindowExpectedShortfall(pooled, window, count, window, 0.975);
        double realEs = EconomicState.EqualWeightWindowExpectedShortfall(episode, window, states, 1, 0.975);
        double meanLoss = -EconomicState.EqualWeightPortfolio(pooled).Sum() / count;
        var realDaily = EconomicState.EqualWeightPortfolio(episode);
        double realMeanLoss = -Enumerable.Range(0, states).Average(b => realDaily.Skip(b).Take(window).Sum());

        Console.WriteLine(string.Create(inv,
            $"{{\"from\": \"{from:yyyy-MM-dd}\", \"to\": \"{to:yyyy-MM-dd}\", \"states\": {states}, \"per_state\": {per}, \"guidance\": {ReportJson.FormatNumber(w)}, \"regime_guidance\": {ReportJson.FormatNumber(a)}, \"es975\": {ReportJson.FormatNumber(es)}, \"mean_loss\": {ReportJson.FormatNumber(meanLoss)}, \"real_es975\": {ReportJson.FormatNumber(realEs)}, \"real_mean_loss\": {ReportJson.FormatNumber(realMeanLoss)}, \"seconds\": {sw.Elapsed.TotalSeconds:F1}}}"));
        return 0;
    }
}
