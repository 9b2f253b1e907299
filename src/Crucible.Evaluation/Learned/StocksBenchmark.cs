using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Crucible.Data.IO;

namespace Crucible.Evaluation.Learned;

/// <summary>One score of the benchmark against its target and Diffusion-TS's published value.</summary>
/// <param name="Summary">The runs, mean and 95 % CI half-width.</param>
/// <param name="Target">The target for the mean (passed when mean ≤ target).</param>
/// <param name="Published">Diffusion-TS's published mean on Stocks.</param>
public sealed record BenchmarkScore(ScoreSummary Summary, double Target, double Published)
{
    /// <summary>Whether the mean is at or below the target.</summary>
    public bool Passed => Summary.Mean <= Target;
}

/// <summary>The outcome of <see cref="StocksBenchmark.Run"/>.</summary>
/// <param name="Windows">N, the real windows (and the synthetic windows scored).</param>
/// <param name="Runs">Metric runs per score.</param>
/// <param name="Seed">The root seed of the metric runs.</param>
/// <param name="Discriminative">|accuracy − 0.5| of a GRU classifier (target 0.05; Diffusion-TS 0.067).</param>
/// <param name="Predictive">MAE of a GRU trained on synthetic, tested on real (target 0.037; Diffusion-TS 0.036).</param>
/// <param name="Correlational">Cross-correlation gap (target 0.004; Diffusion-TS 0.004).</param>
/// <param name="GenerateSeconds">Wall time of the generator (training and sampling).</param>
/// <param name="EvaluateSeconds">Wall time of the metric runs.</param>
/// <param name="Generator">The generator's own description (settings, training time), written into the JSON as given.</param>
/// <param name="ContextFid">Context-FID of a TS2Vec re-implementation (Diffusion-TS 0.147, TimeGAN 0.103), reported without
/// a target; null when not computed.</param>
public sealed record StocksBenchmarkResult(
    int Windows, int Runs, ulong Seed, BenchmarkScore Discriminative, BenchmarkScore Predictive, BenchmarkScore Correlational,
    double GenerateSeconds, double EvaluateSeconds, IReadOnlyList<KeyValuePair<string, object>> Generator, ScoreSummary? ContextFid = null)
{
    /// <summary>Whether the three targeted means meet their targets (the Context-FID has none).</summary>
    public bool Passed => Discriminative.Passed && Predictive.Passed && Correlational.Passed;
}

/// <summary>
/// The Stocks benchmark of issue #7 (METRICS.md "The published Stocks protocol"): load and window the data
/// (<see cref="StocksProtocol.Load"/>), hand all windows to a generator once (one training run), then score its
/// windows with <see cref="StocksProtocol.Evaluate"/> over several metric runs. The generator is a delegate, so this
/// library knows nothing of how windows are made.
/// </summary>
public static class StocksBenchmark
{
    /// <summary>The targets: discriminative ≤ 0.05, predictive ≤ 0.037, correlational ≤ 0.004.</summary>
    public static (double Discriminative, double Predictive, double Correlational) Targets => (0.05, 0.037, 0.004);

    /// <summary>Diffusion-TS on Stocks (Yuan &amp; Qiao 2024, Table 1): 0.067 / 0.036 / 0.004.</summary>
    public static (double Discriminative, double Predictive, double Correlational) Published => (0.067, 0.036, 0.004);

    /// <summary>Context-FID on Stocks in the same table: Diffusion-TS 0.147 ± .025, TimeGAN 0.103 ± .013 (no target here).</summary>
    public static (double DiffusionTs, double TimeGan) PublishedContextFid => (0.147, 0.103);

    /// <summary>
    /// Runs the benchmark on <paramref name="real"/>: <paramref name="generate"/> receives all real windows and must
    /// return at least as many synthetic windows of the same length and features (the first N are scored).
    /// <paramref name="describe"/> is called after generation for the generator's description in the result.
    /// </summary>
    public static StocksBenchmarkResult Run(
        WindowSet real, Func<WindowSet, WindowSet> generate, StocksOptions options,
        Func<IReadOnlyList<KeyValuePair<string, object>>>? describe = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(generate);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var synthetic = generate(real);
        double generateSeconds = clock.Elapsed.TotalSeconds;
        if (synthetic.Length != real.Length || synthetic.Features != real.Features)
            throw new InvalidOperationException($"the generator returned windows of {synthetic.Length} × {synthetic.Features}, the data has {real.Length} × {real.Features}");
        progress?.Report(string.Create(CultureInfo.InvariantCulture, $"generated {synthetic.Count} windows in {generateSeconds:F1} s; scoring {options.Runs} runs"));
        clock.Restart();
        var scores = StocksProtocol.Evaluate(real, synthetic, options);
        double evaluateSeconds = clock.Elapsed.TotalSeconds;
        var (td, tp, tc) = Targets;
        var (pd, pp, pc) = Published;
        return new StocksBenchmarkResult(
            real.Count, options.Runs, options.Seed,
            new BenchmarkScore(scores.Discriminative, td, pd), new BenchmarkScore(scores.Predictive, tp, pp), new BenchmarkScore(scores.Correlational, tc, pc),
            generateSeconds, evaluateSeconds, describe?.Invoke() ?? [], scores.ContextFid);
    }

    /// <summary>
    /// Windows (N, T, D) as the series-major layout of window denoisers: N windows of D rows of T values
    /// (row d = feature d), float.
    /// </summary>
    public static float[] ToSeriesMajor(WindowSet windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        int n = windows.Count, t = windows.Length, d = windows.Features;
        var values = new float[windows.Values.Length];
        for (int i = 0; i < n; i++)
        {
            for (int s = 0; s < t; s++)
            {
                for (int f = 0; f < d; f++) values[(((i * d) + f) * t) + s] = (float)windows.Values[(((i * t) + s) * d) + f];
            }
        }

        return values;
    }

    /// <summary>The inverse of <see cref="ToSeriesMajor"/>: <paramref name="count"/> windows of D rows of T values → (N, T, D).</summary>
    public static WindowSet FromSeriesMajor(ReadOnlySpan<float> values, int count, int length, int features)
    {
        if (values.Length != (long)count * length * features) throw new ArgumentException($"expected {count} × {features} × {length} values, got {values.Length}", nameof(values));
        var result = new double[values.Length];
        for (int i = 0; i < count; i++)
        {
            for (int f = 0; f < features; f++)
            {
                for (int s = 0; s < length; s++) result[(((i * length) + s) * features) + f] = values[(((i * features) + f) * length) + s];
            }
        }

        return new WindowSet(result, count, length, features);
    }

    /// <summary>The result as indented JSON (invariant culture; CI half-widths of one run, and NaN scores, are null).</summary>
    public static string ToJson(StocksBenchmarkResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteString("benchmark", "stocks");
            w.WriteString("protocol", "stocks_goog_timegan.csv, 6 columns min-max over the file, windows of 24, stride 1, unconditional (METRICS.md)");
            w.WriteNumber("windows", result.Windows);
            w.WriteNumber("metric_runs", result.Runs);
            w.WriteNumber("metric_seed", result.Seed);
            Score(w, "discriminative", result.Discriminative);
            Score(w, "predictive", result.Predictive);
            Score(w, "correlational", result.Correlational);
            if (result.ContextFid is { } fid)
            {
                // no target: reported next to the published values; our TS2Vec is a re-implementation, its scale may differ
                w.WriteStartObject("context_fid");
                Summary(w, fid);
                w.WriteNumber("diffusion_ts", PublishedContextFid.DiffusionTs);
                w.WriteNumber("timegan", PublishedContextFid.TimeGan);
                w.WriteEndObject();
            }
            w.WriteBoolean("passed", result.Passed);
            w.WriteNumber("generate_seconds", Math.Round(result.GenerateSeconds, 1));
            w.WriteNumber("evaluate_seconds", Math.Round(result.EvaluateSeconds, 1));
            w.WriteNumber("cores", Environment.ProcessorCount);
            w.WriteStartObject("generator");
            foreach (var (key, value) in result.Generator)
            {
                switch (value)
                {
                    case string s: w.WriteString(key, s); break;
                    case bool b: w.WriteBoolean(key, b); break;
                    case int i: w.WriteNumber(key, i); break;
                    case long l: w.WriteNumber(key, l); break;
                    case ulong u: w.WriteNumber(key, u); break;
                    case double d when double.IsFinite(d): w.WriteNumber(key, d); break;
                    case float f when float.IsFinite(f): w.WriteNumber(key, f); break;
                    default: w.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
                }
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(StocksBenchmarkResult result, string path) => AtomicFile.WriteAllText(path, ToJson(result));

    private static void Score(Utf8JsonWriter w, string name, BenchmarkScore score)
    {
        w.WriteStartObject(name);
        Summary(w, score.Summary);
        w.WriteNumber("target", score.Target);
        w.WriteNumber("diffusion_ts", score.Published);
        w.WriteBoolean("passed", score.Passed);
        w.WriteEndObject();
    }

    private static void Summary(Utf8JsonWriter w, ScoreSummary summary)
    {
        // NaN (a score of a collapsed generator, e.g. a constant feature's 0/0 correlation) is null: JSON has no NaN
        if (double.IsFinite(summary.Mean)) w.WriteNumber("mean", summary.Mean);
        else w.WriteNull("mean");
        if (double.IsFinite(summary.HalfWidth)) w.WriteNumber("ci95", summary.HalfWidth);
        else w.WriteNull("ci95");
        w.WriteStartArray("runs");
        foreach (double v in summary.Runs)
        {
            if (double.IsFinite(v)) w.WriteNumberValue(v);
            else w.WriteNullValue();
        }

        w.WriteEndArray();
    }
}
