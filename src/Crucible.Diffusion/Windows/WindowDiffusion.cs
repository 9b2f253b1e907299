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
}

/// <summary>The generated windows and how the run went.</summary>
/// <param name="Samples">count × D × W values, window-major, row i of a window = series i, in the input's units.</param>
/// <param name="Losses">The training loss of every step.</param>
/// <param name="TrainSeconds">Wall time of training.</param>
/// <param name="SampleSeconds">Wall time of sampling.</param>
/// <param name="Parameters">The network's parameter count.</param>
public sealed record WindowDiffusionResult(float[] Samples, IReadOnlyList<float> Losses, double TrainSeconds, double SampleSeconds, long Parameters);

/// <summary>
/// Unconditional diffusion over windows (D, W): centre each series on its mean over the training windows, fit the
/// volatility-adaptive schedule (σ_i the series' standard deviation), train a <see cref="TcnDenoiser"/> with
/// <see cref="DiffusionTrainer"/>, sample with the EMA weights, and map back (add the means, optionally clamp to the
/// training range). The library form of <c>crucible benchmark stocks</c>'s generator.
/// </summary>
public static class WindowDiffusion
{
    /// <summary>
    /// Trains on <paramref name="count"/> windows (<paramref name="windows"/>: count × series × length, row i of a window
    /// = series i) and returns <paramref name="samples"/> generated windows. Network initialisation, training draws and
    /// sampling are Philox streams of <paramref name="seed"/>: the same inputs give the same windows.
    /// </summary>
    public static WindowDiffusionResult TrainAndSample(
        float[] windows, int count, int series, int length, int samples, ulong seed, WindowDiffusionOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        int size = series * length;
        if (windows.Length != (long)count * size) throw new ArgumentException($"expected {count} × {series} × {length} values, got {windows.Length}", nameof(windows));

        // model space: each series centred on its mean (the prior N(0, σ²) is then centred on the data)
        var mean = new double[series];
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
                    mean[i] += v;
                    lo[i] = Math.Min(lo[i], v);
                    hi[i] = Math.Max(hi[i], v);
                }
            }
        }

        for (int i = 0; i < series; i++) mean[i] /= (double)count * length;
        var x0 = new float[windows.Length];
        for (int k = 0; k < x0.Length; k++) x0[k] = (float)(windows[k] - mean[k % size / length]);

        var schedule = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Create(options.Schedule, options.DiffusionSteps), x0, count, series, length);
        var network = new TcnDenoiser(new TcnDenoiserConfig(series, length, options.Hidden, options.Layers, options.TimeEmbedding), new Philox(seed, stream: 0));
        var denoiser = new TcnDenoiserAdapter(network, schedule.Steps);
        var trainer = new DiffusionTrainer(denoiser, schedule, options.Objective, options.Training with { Seed = seed });
        var clock = Stopwatch.StartNew();
        trainer.Fit(x0, count, progress, reportEvery: Math.Max(1, Math.Min(50, options.Training.Steps / 20)), cancellationToken: cancellationToken);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        trainer.Ema?.CopyTo();

        clock.Restart();
        var sampler = options.Sampler.MaxDegreeOfParallelism == -1 ? options.Sampler with { MaxDegreeOfParallelism = EngineThreads.MaxDegreeOfParallelism } : options.Sampler;
        var z = DiffusionSampler.Sample(denoiser, schedule, options.Objective, samples, new Philox(seed, stream: 2).NextUInt64(), sampler);
        for (int k = 0; k < z.Length; k++)
        {
            int i = k % size / length;
            float v = (float)(z[k] + mean[i]);
            z[k] = options.Clamp ? Math.Clamp(v, lo[i], hi[i]) : v;
        }

        double sampleSeconds = clock.Elapsed.TotalSeconds;
        long parameters = network.ParameterCount();
        return new WindowDiffusionResult(z, trainer.Losses, trainSeconds, sampleSeconds, parameters);
    }
}
