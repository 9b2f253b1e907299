using System.Diagnostics;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Windows;

/// <summary>Settings of <see cref="WindowDiffusion.TrainAndSample"/>.</summary>
public sealed record WindowDiffusionOptions
{
    /// <summary>Hidden channels of the <see cref="TcnDenoiser"/>.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>Residual dilated convolutions (dilation 2^i).</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Width of the sinusoidal timestep embedding.</summary>
    public int TimeEmbedding { get; init; } = 128;

    /// <summary>The ᾱ_t schedule.</summary>
    public BetaScheduleKind Schedule { get; init; } = BetaScheduleKind.Linear;

    /// <summary>T, the diffusion steps.</summary>
    public int DiffusionSteps { get; init; } = 1000;

    /// <summary>What the network predicts.</summary>
    public Objective Objective { get; init; } = Objective.Epsilon;

    /// <summary>The training run (its <see cref="TrainerOptions.Seed"/> is replaced by the call's seed).</summary>
    public TrainerOptions Training { get; init; } = new(Steps: 4000, BatchSize: 128, LearningRate: 1e-3, WarmupSteps: 200, EmaDecay: 0.999);

    /// <summary>The sampler (−1 threads: <see cref="EngineThreads.MaxDegreeOfParallelism"/>).</summary>
    public SamplerOptions Sampler { get; init; } = new(SamplerKind.Ddim, Steps: 50);

    /// <summary>Clamp each generated value to its series' range in the training windows (as the tabular generator's <c>clamp</c> tails).</summary>
    public bool Clamp { get; init; } = true;

    /// <summary>
    /// Series modelled on a log scale: y = ln(x − lo + δ) with lo the series' minimum over the training windows and
    /// δ = <see cref="LogOffset"/> × (hi − lo); samples map back by x = lo + e^y − δ. For positive, right-skewed series
    /// (traded volume) whose spikes are multiplicative. Empty: every series as given.
    /// </summary>
    public IReadOnlyList<int> LogSeries { get; init; } = [];

    /// <summary>δ of <see cref="LogSeries"/> as a fraction of the series' training range (must be &gt; 0).</summary>
    public double LogOffset { get; init; } = 0.01;
}

/// <summary>The generated windows and how the run went.</summary>
/// <param name="Samples">count × D × W values, window-major, row i of a window = series i, in the input's units.</param>
/// <param name="Losses">The training loss of every step.</param>
/// <param name="TrainSeconds">Wall time of training.</param>
/// <param name="SampleSeconds">Wall time of sampling.</param>
/// <param name="Parameters">The network's parameter count.</param>
public sealed record WindowDiffusionResult(float[] Samples, IReadOnlyList<float> Losses, double TrainSeconds, double SampleSeconds, long Parameters);

/// <summary>
/// A trained window generator (<see cref="WindowDiffusion.Train"/>): the denoiser with its EMA weights, the schedule and
/// the model-space map; <see cref="Sample"/> draws windows with any sampler.
/// </summary>
public sealed class TrainedWindowDiffusion
{
    private readonly TcnDenoiserAdapter _denoiser;
    private readonly double[] _mean;
    private readonly float[] _lo;
    private readonly float[] _hi;
    private readonly double[] _logDelta;

    internal TrainedWindowDiffusion(
        TcnDenoiserAdapter denoiser, VolatilityAdaptiveSchedule schedule, WindowDiffusionOptions options, int series, int length,
        double[] mean, float[] lo, float[] hi, double[] logDelta, IReadOnlyList<float> losses, double trainSeconds, long parameters)
    {
        _denoiser = denoiser;
        Schedule = schedule;
        Options = options;
        Series = series;
        Length = length;
        _mean = mean;
        _lo = lo;
        _hi = hi;
        _logDelta = logDelta;
        Losses = losses;
        TrainSeconds = trainSeconds;
        Parameters = parameters;
    }

    /// <summary>The settings it was trained with.</summary>
    public WindowDiffusionOptions Options { get; }

    /// <summary>The fitted volatility-adaptive schedule (model space).</summary>
    public VolatilityAdaptiveSchedule Schedule { get; }

    /// <summary>D, the series per window.</summary>
    public int Series { get; }

    /// <summary>W, the steps per window.</summary>
    public int Length { get; }

    /// <summary>The training loss of every step.</summary>
    public IReadOnlyList<float> Losses { get; }

    /// <summary>Wall time of training.</summary>
    public double TrainSeconds { get; }

    /// <summary>The network's parameter count.</summary>
    public long Parameters { get; }

    /// <summary>
    /// <paramref name="samples"/> windows (count × D × W, window-major) in the input's units, drawn with
    /// <paramref name="sampler"/> from Philox stream 2 of <paramref name="seed"/>, clamped to each series' training range
    /// when <paramref name="clamp"/>.
    /// </summary>
    public float[] Sample(int samples, ulong seed, SamplerOptions sampler, bool clamp)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        if (sampler.MaxDegreeOfParallelism == -1) sampler = sampler with { MaxDegreeOfParallelism = EngineThreads.MaxDegreeOfParallelism };
        var z = DiffusionSampler.Sample(_denoiser, Schedule, Options.Objective, samples, new Philox(seed, stream: 2).NextUInt64(), sampler);
        int size = Series * Length;
        for (int k = 0; k < z.Length; k++)
        {
            int i = k % size / Length;
            double y = z[k] + _mean[i];
            float v = (float)(_logDelta[i] > 0 ? _lo[i] + Math.Exp(y) - _logDelta[i] : y);
            z[k] = clamp ? Math.Clamp(v, _lo[i], _hi[i]) : v;
        }

        return z;
    }
}

/// <summary>
/// Unconditional diffusion over windows (D, W): optionally take logs of some series, centre each series on its mean
/// over the training windows, fit the volatility-adaptive schedule (σ_i the series' standard deviation), train a
/// <see cref="TcnDenoiser"/> with <see cref="DiffusionTrainer"/>, sample with the EMA weights, and map back (add the
/// means, undo the logs, optionally clamp to the training range). The library form of <c>crucible benchmark stocks</c>'s
/// generator.
/// </summary>
public static class WindowDiffusion
{
    /// <summary>
    /// Trains on <paramref name="count"/> windows (<paramref name="windows"/>: count × series × length, row i of a window
    /// = series i) and returns <paramref name="samples"/> generated windows with the options' sampler. Network
    /// initialisation, training draws and sampling are Philox streams of <paramref name="seed"/>: the same inputs give
    /// the same windows.
    /// </summary>
    public static WindowDiffusionResult TrainAndSample(
        float[] windows, int count, int series, int length, int samples, ulong seed, WindowDiffusionOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        var model = Train(windows, count, series, length, seed, options, progress, cancellationToken);
        var clock = Stopwatch.StartNew();
        var z = model.Sample(samples, seed, options.Sampler, options.Clamp);
        return new WindowDiffusionResult(z, model.Losses, model.TrainSeconds, clock.Elapsed.TotalSeconds, model.Parameters);
    }

    /// <summary>
    /// Trains on <paramref name="count"/> windows (count × series × length, row i of a window = series i); network
    /// initialisation and training draws are Philox streams of <paramref name="seed"/>. The EMA weights are in place
    /// in the returned model.
    /// </summary>
    public static TrainedWindowDiffusion Train(
        float[] windows, int count, int series, int length, ulong seed, WindowDiffusionOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        int size = series * length;
        if (windows.Length != (long)count * size) throw new ArgumentException($"expected {count} × {series} × {length} values, got {windows.Length}", nameof(windows));
        if (options.LogSeries.Any(i => i < 0 || i >= series)) throw new ArgumentException($"a log series is outside 0..{series - 1}", nameof(options));
        if (options.LogSeries.Count > 0 && !(options.LogOffset > 0)) throw new ArgumentException("the log offset must be > 0", nameof(options));

        var lo = new float[series];
        var hi = new float[series];
        Array.Fill(lo, float.PositiveInfinity);
        Array.Fill(hi, float.NegativeInfinity);
        for (int w = 0; w < count; w++)
        {
            for (int i = 0; i < series; i++)
            {
                foreach (float v in windows.AsSpan(((w * series) + i) * length, length))
                {
                    lo[i] = Math.Min(lo[i], v);
                    hi[i] = Math.Max(hi[i], v);
                }
            }
        }

        // log scale for the chosen series: y = ln(x − lo + δ), δ = offset × range (0: the series as given)
        var logDelta = new double[series];
        foreach (int i in options.LogSeries) logDelta[i] = options.LogOffset * Math.Max(hi[i] - lo[i], 1e-12);
        var y = new double[windows.Length];
        for (int k = 0; k < y.Length; k++)
        {
            int i = k % size / length;
            y[k] = logDelta[i] > 0 ? Math.Log(windows[k] - lo[i] + logDelta[i]) : windows[k];
        }

        // model space: each series centred on its mean (the prior N(0, σ²) is then centred on the data)
        var mean = new double[series];
        for (int k = 0; k < y.Length; k++) mean[k % size / length] += logDelta[k % size / length] > 0 ? y[k] : windows[k];
        for (int i = 0; i < series; i++) mean[i] /= (double)count * length;
        var x0 = new float[windows.Length];
        for (int k = 0; k < x0.Length; k++)
        {
            int i = k % size / length;
            x0[k] = logDelta[i] > 0 ? (float)(y[k] - mean[i]) : (float)(windows[k] - mean[i]);
        }

        var schedule = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Create(options.Schedule, options.DiffusionSteps), x0, count, series, length);
        var network = new TcnDenoiser(new TcnDenoiserConfig(series, length, options.Hidden, options.Layers, options.TimeEmbedding), new Philox(seed, stream: 0));
        var denoiser = new TcnDenoiserAdapter(network, schedule.Steps);
        var trainer = new DiffusionTrainer(denoiser, schedule, options.Objective, options.Training with { Seed = seed });
        var clock = Stopwatch.StartNew();
        trainer.Fit(x0, count, progress, reportEvery: Math.Max(1, Math.Min(50, options.Training.Steps / 20)), cancellationToken: cancellationToken);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        trainer.Ema?.CopyTo();
        return new TrainedWindowDiffusion(denoiser, schedule, options, series, length, mean, lo, hi, logDelta, trainer.Losses, trainSeconds, network.ParameterCount());
    }
}
