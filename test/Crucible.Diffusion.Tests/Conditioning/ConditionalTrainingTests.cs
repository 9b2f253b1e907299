using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Conditioning;

public class ConditionalTrainingTests
{
    /// <summary>
    /// Windows (1, 4) of independent N(0, s²) values with s = 0.5 when the condition is −1 and s = 2 when it is +1:
    /// after a short training run, guided samples have the condition's spread and unconditional ones the mixture's.
    /// </summary>
    [Fact]
    public void ConditionalTraining_LearnsTheConditionedScale_AndGuidanceSelectsIt()
    {
        const int rows = 2048, w = 4;
        var rng = new Philox(1);
        var data = new float[rows * w];
        var conditions = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            conditions[r] = r % 2 == 0 ? -1f : 1f;
            double s = r % 2 == 0 ? 0.5 : 2.0;
            for (int j = 0; j < w; j++) data[(r * w) + j] = (float)(s * rng.NextNormal());
        }

        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(200), 1);
        var net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(Series: 1, Window: w, ConditionFeatures: 1, Hidden: 16, Layers: 2, Heads: 2, TimeEmbedding: 16), new Philox(2));
        var denoiser = new ConditionalTcnDenoiserAdapter(net, schedule.Steps);
        var trainer = new DiffusionTrainer(denoiser, schedule, Objective.Epsilon,
            new TrainerOptions(Steps: 600, BatchSize: 128, LearningRate: 3e-3, WarmupSteps: 30, EmaDecay: 0.99, Seed: 3))
        {
            Conditions = new ConditionDropout(conditions, rows, 1, unconditional: 0.2, subset: 0),
        };
        trainer.Fit(data, rows);
        trainer.Ema!.CopyTo();

        double Spread(float[] c, double scale)
        {
            var cfg = new ClassifierFreeGuidance(denoiser, c, scale);
            var x = DiffusionSampler.Sample(cfg, schedule, Objective.Epsilon, 1000, seed: 4, new SamplerOptions(SamplerKind.Ddim, Steps: 40, MaxDegreeOfParallelism: 1));
            return Math.Sqrt(x.Average(v => (double)v * v));
        }

        double low = Spread([-1f], 1.0), high = Spread([1f], 1.0), none = Spread([float.NaN], 1.0);
        Assert.InRange(low, 0.3, 0.8);
        Assert.InRange(high, 1.5, 2.6);
        Assert.InRange(none, 1.0, 1.8);                                   // mixture: √((0.25 + 4) / 2) ≈ 1.46
        Assert.True(Spread([1f], 2.0) > high - 0.05, "a guidance scale above 1 does not shrink the conditioned spread");
    }

    [Fact]
    public void ConditionalTraining_ResumedFromACheckpoint_IsBitIdentical()
    {
        const int rows = 64, w = 4;
        var rng = new Philox(8);
        var data = new float[rows * w];
        rng.FillNormal(data);
        var conditions = new float[rows * 2];
        rng.FillNormal(conditions);
        conditions[5] = float.NaN;
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(50), 1);
        var options = new TrainerOptions(Steps: 8, BatchSize: 8, WarmupSteps: 2, Seed: 4);
        DiffusionTrainer Trainer(out ConditionalTcnDenoiser net)
        {
            net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(Series: 1, Window: w, ConditionFeatures: 2, Hidden: 8, Layers: 2, Heads: 2, TimeEmbedding: 8), new Philox(1));
            return new DiffusionTrainer(new ConditionalTcnDenoiserAdapter(net, schedule.Steps), schedule, Objective.V, options)
            {
                Conditions = new ConditionDropout(conditions, rows, 2),
            };
        }

        var straight = Trainer(out var a);
        straight.Fit(data, rows);
        string path = Path.Combine(Path.GetTempPath(), "crucible-cond-ckpt-" + Guid.NewGuid().ToString("N") + ".safetensors");
        try
        {
            var first = Trainer(out _);
            for (int i = 0; i < 3; i++) first.Step(data, rows);
            first.SaveCheckpoint(path);
            var resumed = Trainer(out var b);
            resumed.LoadCheckpoint(path);
            resumed.Fit(data, rows);
            Assert.Equal(straight.Losses, resumed.Losses);
            foreach (var ((name, p), (_, q)) in a.NamedParameters().Zip(b.NamedParameters())) Assert.True(p.Data.SequenceEqual(q.Data), name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Trainer_RejectsConditions_ForAnUnconditionalDenoiser()
    {
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(10), 2);
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 2, Hidden: 8, Blocks: 1, TimeEmbedding: 8), new Philox(1));
        var trainer = new DiffusionTrainer(new MlpDenoiserAdapter(net, 10), schedule, Objective.Epsilon, new TrainerOptions(Steps: 2, BatchSize: 2))
        {
            Conditions = new ConditionDropout([0f, 1f], 2, 1),
        };
        Assert.Throws<ArgumentException>(() => trainer.Step([1f, 2f, 3f, 4f], 2));
    }
}
