using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Training;

public class DiffusionTrainerTests
{
    /// <summary>x1 ~ N(0, 1), x2 = 0.8 x1 + 0.6 z: unit variances, correlation 0.8.</summary>
    private static float[] CorrelatedRows(int n, ulong seed)
    {
        var rng = new Philox(seed);
        var data = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            double a = rng.NextNormal(), z = rng.NextNormal();
            data[2 * i] = (float)a;
            data[(2 * i) + 1] = (float)((0.8 * a) + (0.6 * z));
        }

        return data;
    }

    private static (float[] Samples, IReadOnlyList<float> Losses) TrainAndSample(int threads)
    {
        using var limit = EngineThreads.Limit(threads);
        var schedule = NoiseSchedule.Linear();
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 2, Hidden: 64, Blocks: 2, TimeEmbedding: 32), new Philox(3));
        var trainer = new DiffusionTrainer(net, schedule, Objective.Epsilon,
            new TrainerOptions(Steps: 1500, BatchSize: 256, LearningRate: 2e-3, WarmupSteps: 50, EmaDecay: 0.995, Seed: 5));
        var losses = trainer.Fit(CorrelatedRows(4096, 11), 4096);
        trainer.Ema!.CopyTo();
        var samples = DiffusionSampler.Sample(new MlpDenoiserAdapter(net, schedule.Steps), schedule, Objective.Epsilon, 4000, seed: 9,
            new SamplerOptions(SamplerKind.Ddim, Steps: 50, MaxDegreeOfParallelism: threads));
        return (samples, losses);
    }

    [Fact]
    public void ALossThatStopsBeingFinite_IsTrainingDiverged_NamingTheStepAndTheLearningRate()
    {
        // learning_rate 1e300 trained on to NaN weights; the run then failed writing the manifest ("positive and negative
        // infinity cannot be written as valid JSON … learn.microsoft.com"), an internal error in the CLI and the service
        var schedule = NoiseSchedule.Linear();
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 2, Hidden: 16, Blocks: 1, TimeEmbedding: 8), new Philox(3));
        var trainer = new DiffusionTrainer(net, schedule, Objective.Epsilon,
            new TrainerOptions(Steps: 50, BatchSize: 32, LearningRate: 1e300, WarmupSteps: 0, EmaDecay: 0.99, Seed: 5));
        var e = Assert.Throws<Crucible.Data.InvalidInputException>(() => trainer.Fit(CorrelatedRows(256, 11), 256));
        Assert.Equal(DiffusionTrainer.DivergedRule, e.Rule);
        Assert.Contains("learning rate 1E+300", e.Message, StringComparison.Ordinal);
        Assert.Contains(": lower training.learning_rate", e.Message, StringComparison.Ordinal);
        Assert.Matches(@"at step \d+ of 50", e.Message);
    }

    [Fact]
    public void Training_LearnsTheMarginalsAndTheCorrelation_AndIsBitIdenticalOnOneAndTwoThreads()
    {
        var (samples, losses) = TrainAndSample(threads: 2);

        // the ε-loss starts near 1 (predicting 0) and falls well below it
        Assert.InRange(losses.Take(20).Average(), 0.6, 1.5);
        Assert.InRange(losses.Skip(1400).Average(), 0.0, 0.45);

        int n = samples.Length / 2;
        double m1 = 0, m2 = 0;
        for (int i = 0; i < n; i++) { m1 += samples[2 * i]; m2 += samples[(2 * i) + 1]; }
        m1 /= n; m2 /= n;
        double v1 = 0, v2 = 0, c = 0;
        for (int i = 0; i < n; i++)
        {
            double a = samples[2 * i] - m1, b = samples[(2 * i) + 1] - m2;
            v1 += a * a; v2 += b * b; c += a * b;
        }

        double corr = c / Math.Sqrt(v1 * v2);
        Assert.InRange(m1, -0.1, 0.1);
        Assert.InRange(m2, -0.1, 0.1);
        Assert.InRange(Math.Sqrt(v1 / (n - 1)), 0.85, 1.15);
        Assert.InRange(Math.Sqrt(v2 / (n - 1)), 0.85, 1.15);
        Assert.InRange(corr, 0.72, 0.88);

        var (single, singleLosses) = TrainAndSample(threads: 1);
        Assert.Equal(losses.Select(BitConverter.SingleToInt32Bits), singleLosses.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(samples.Select(BitConverter.SingleToInt32Bits), single.Select(BitConverter.SingleToInt32Bits));
    }
}
