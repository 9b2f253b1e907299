using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Training;

/// <summary>Stratified training: per-element loss weights scale each series' share of the loss and of the gradient.</summary>
public sealed class StratifiedLossTests
{
    private static float[] Rows(int n)
    {
        var rng = new Philox(11);
        var data = new float[n * 2];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextNormal();
        return data;
    }

    // one step from the same initial weights and the same draws; returns the loss and every parameter's gradient
    private static (float Loss, double[] Grad, float[] OutBiasGrad) OneStep(float[]? weights)
    {
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(), 2);
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 2, Hidden: 16, Blocks: 1, TimeEmbedding: 8), new Philox(3));
        var trainer = new DiffusionTrainer(new MlpDenoiserAdapter(net, schedule.Steps), schedule, Objective.Epsilon,
            new TrainerOptions(Steps: 5, BatchSize: 32, GradClipNorm: 0, EmaDecay: 0, Seed: 7)) { LossWeights = weights };
        float loss = trainer.Step(Rows(128), 128);
        var named = net.NamedParameters().ToArray();
        var grad = named.SelectMany(p => p.Parameter.Grad!.Select(g => (double)g)).ToArray();
        var outBias = named.Single(p => p.Name == "out.bias").Parameter.Grad!;
        return (loss, grad, [.. outBias]);
    }

    [Fact]
    public void LossWeights_ScaleEachSeriesShareOfTheLossAndGradient()
    {
        var plain = OneStep(null);
        var first = OneStep([1, 0]);
        var second = OneStep([0, 1]);
        var mixed = OneStep([1.5f, 0.5f]);

        // weight 0 on a series removes it from the gradient of the output layer's bias for that series, and only there
        Assert.Equal(0f, first.OutBiasGrad[1]);
        Assert.NotEqual(0f, first.OutBiasGrad[0]);
        Assert.Equal(0f, second.OutBiasGrad[0]);

        // the weighted loss is linear in the weights: L(w) = Σ_j w_j L_j, ∇L(w) = Σ_j w_j ∇L_j
        Assert.Equal(plain.Loss, first.Loss + second.Loss, 1e-5);
        Assert.Equal(mixed.Loss, (1.5 * first.Loss) + (0.5 * second.Loss), 1e-5);
        double scale = plain.Grad.Max(Math.Abs);
        for (int i = 0; i < plain.Grad.Length; i++)
        {
            Assert.Equal(plain.Grad[i], first.Grad[i] + second.Grad[i], 1e-5 * scale);
            Assert.Equal(mixed.Grad[i], (1.5 * first.Grad[i]) + (0.5 * second.Grad[i]), 1e-5 * scale);
        }

        // unit weights are the plain mean squared error
        var unit = OneStep([1, 1]);
        Assert.Equal(plain.Loss, unit.Loss, 1e-6);
        for (int i = 0; i < plain.Grad.Length; i++) Assert.Equal(plain.Grad[i], unit.Grad[i], 1e-6 * scale);
    }

    [Fact]
    public void LossWeights_AreChecked_AndExpandedPerSeries()
    {
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(), 2);
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 2, Hidden: 8, Blocks: 0, TimeEmbedding: 8), new Philox(3));
        Assert.Throws<ArgumentException>(() => new DiffusionTrainer(new MlpDenoiserAdapter(net, schedule.Steps), schedule, Objective.Epsilon, new TrainerOptions()) { LossWeights = [1, 1, 1] });
        Assert.Throws<ArgumentException>(() => new DiffusionTrainer(new MlpDenoiserAdapter(net, schedule.Steps), schedule, Objective.Epsilon, new TrainerOptions()) { LossWeights = [1, -1] });

        // (D, W) windows: every step of series i gets w_i
        Assert.Equal([2f, 2f, 2f, 0.5f, 0.5f, 0.5f], LossWeights.PerSeries([2, 0.5], [2, 3]));
        Assert.Equal([2f, 0.5f], LossWeights.PerSeries([2, 0.5], [2]));
        Assert.Throws<ArgumentException>(() => LossWeights.PerSeries([2, 0.5], [3]));
    }
}
