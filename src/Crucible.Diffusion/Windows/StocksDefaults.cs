using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Windows;

/// <summary>
/// The generator settings <c>crucible benchmark stocks</c> uses on the Stocks windows (6 series × 24 steps), chosen by
/// the tuning runs recorded in <c>bench/stocks/README.md</c>, and the description written into the benchmark's JSON.
/// </summary>
public static class StocksDefaults
{
    /// <summary>The tuned settings.</summary>
    public static WindowDiffusionOptions Options { get; } = new()
    {
        Hidden = 128,
        Layers = 4,
        Schedule = BetaScheduleKind.Linear,
        Objective = Objective.V,
        Training = new TrainerOptions(Steps: 8000, BatchSize: 128, LearningRate: 1e-3, WarmupSteps: 200, EmaDecay: 0.999),
        Sampler = new SamplerOptions(SamplerKind.DpmSolver2M, Steps: 50),
    };

    /// <summary>Key/value description of a run: settings, seed, training time and parameters.</summary>
    public static IReadOnlyList<KeyValuePair<string, object>> Describe(WindowDiffusionOptions options, ulong seed, WindowDiffusionResult result)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(result);
        var t = options.Training;
        return
        [
            new("model", "TcnDenoiser, volatility-adaptive schedule, series centred"),
            new("seed", seed),
            new("hidden", options.Hidden),
            new("layers", options.Layers),
            new("parameters", result.Parameters),
            new("schedule", options.Schedule.ToString().ToLowerInvariant()),
            new("diffusion_steps", options.DiffusionSteps),
            new("objective", options.Objective.ToString().ToLowerInvariant()),
            new("train_steps", t.Steps),
            new("batch_size", t.BatchSize),
            new("learning_rate", t.LearningRate),
            new("ema_decay", t.EmaDecay),
            new("pacf_weight", t.PacfWeight),
            new("pacf_lags", t.PacfLags),
            new("sampler", options.Sampler.Kind.WireName()), // as generate --sampler and the metadata name it
            new("sampler_steps", options.Sampler.Steps),
            new("sampler_spacing", options.Sampler.Spacing.ToString().ToLowerInvariant()),
            new("clamp", options.Clamp),
            new("log_series", string.Join(",", options.LogSeries)),
            new("log_offset", options.LogOffset),
            new("train_seconds", Math.Round(result.TrainSeconds, 1)),
            new("sample_seconds", Math.Round(result.SampleSeconds, 1)),
            new("final_loss", result.Losses.Count == 0 ? double.NaN : result.Losses.Skip(Math.Max(0, result.Losses.Count - 200)).Average(x => (double)x)),
            new("threads", Tensors.EngineThreads.MaxDegreeOfParallelism),
        ];
    }
}
