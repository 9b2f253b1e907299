using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Tests.Training;

public sealed class SamplerDistillationTests
{
    /// <summary>
    /// The exact ε-predictor for data x_0 ~ N(0, λ) per element: E[ε | x_t] = √(1−ᾱ_t) x_t / (ᾱ_t λ + 1 − ᾱ_t).
    /// </summary>
    private sealed class ExactGaussianDenoiser(NoiseSchedule schedule, int features, double lambda) : IDenoiser
    {
        public IReadOnlyList<int> SampleShape => [features];

        public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output)
        {
            for (int b = 0; b < batch; b++)
            {
                double abar = schedule.AlphasCumprod[timesteps[b]];
                double c = Math.Sqrt(1.0 - abar) / ((abar * lambda) + 1.0 - abar);
                for (int j = 0; j < features; j++) output[(b * features) + j] = (float)(c * x[(b * features) + j]);
            }
        }
    }

    private static double Variance(float[] x)
    {
        double m = x.Average(v => (double)v);
        return x.Sum(v => (v - m) * (v - m)) / (x.Length - 1);
    }

    [Fact]
    public void FewStepDdimWithTheStudent_MatchesTheTeachersFineTrajectory_WhichFewStepDdimWithTheTeacherShrinks()
    {
        // 1-D Gaussian data with variance λ = 0.3 (a direction that few-step DDIM contracts strongly), T = 100 and K = 5:
        // each DDIM interval spans 20 timesteps that the teacher walks one by one
        const double lambda = 0.3;
        var schedule = NoiseSchedule.Linear(100, 1e-3, 0.2);
        var process = VolatilityAdaptiveSchedule.Isotropic(schedule, 1);
        var teacher = new ExactGaussianDenoiser(schedule, 1, lambda);
        var rng = new Philox(3);
        var data = new float[4000];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(Math.Sqrt(lambda) * rng.NextNormal());

        var ddim5 = new SamplerOptions(SamplerKind.Ddim, 5, ChunkSize: 4096);
        var ddimAll = new SamplerOptions(SamplerKind.Ddim, 100, ChunkSize: 4096);
        double teacherFew = Variance(DiffusionSampler.Sample(teacher, process, Objective.Epsilon, 20_000, 11, ddim5)) / lambda;
        double teacherFine = Variance(DiffusionSampler.Sample(teacher, process, Objective.Epsilon, 20_000, 11, ddimAll)) / lambda;
        Assert.InRange(teacherFine, 0.92, 1.04); // the fine trajectory nearly keeps the variance (its own steps are first order too)
        Assert.True(teacherFew < teacherFine - 0.1, $"5-step DDIM with the exact denoiser should contract, got {teacherFew:F3} against {teacherFine:F3}");

        var student = new MlpDenoiserAdapter(new MlpDenoiser(new MlpDenoiserConfig(1, 32, 1, 16), new Philox(4)), schedule.Steps);
        var losses = SamplerDistillation.Distill(
            teacher, student, process, Objective.Epsilon, data, data.Length,
            new SamplerDistillationOptions(Steps: 1500, SamplingSteps: 5, BatchSize: 128, LearningRate: 3e-3, EmaDecay: 0.99, Seed: 5));
        Assert.Equal(1500, losses.Count);
        Assert.True(losses.Skip(1400).Average() < losses.Take(100).Average() / 10, "the student's loss should fall");

        double studentFew = Variance(DiffusionSampler.Sample(student, process, Objective.Epsilon, 20_000, 11, ddim5)) / lambda;
        Assert.True(Math.Abs(studentFew - teacherFine) < 0.03,
            $"5-step DDIM with the student: variance ratio {studentFew:F3}, the teacher's fine trajectory {teacherFine:F3}, its 5 steps {teacherFew:F3}");
    }

    [Fact]
    public void Distill_IsDeterministic_AndValidatesItsOptions()
    {
        var schedule = NoiseSchedule.Linear(50, 1e-3, 0.3);
        var process = VolatilityAdaptiveSchedule.Isotropic(schedule, 2);
        var teacher = new ExactGaussianDenoiser(schedule, 2, 1.0);
        var data = new float[200];
        var rng = new Philox(1);
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextNormal();
        byte[] Run()
        {
            var net = new MlpDenoiser(new MlpDenoiserConfig(2, 16, 1, 8), new Philox(2));
            SamplerDistillation.Distill(teacher, new MlpDenoiserAdapter(net, 50), process, Objective.V, data, 100,
                new SamplerDistillationOptions(Steps: 20, SamplingSteps: 5, BatchSize: 16, Seed: 9));
            return net.SerializeSafeTensors();
        }

        Assert.Equal(Run(), Run());
        var student = new MlpDenoiserAdapter(new MlpDenoiser(new MlpDenoiserConfig(2, 16, 1, 8), new Philox(2)), 50);
        Assert.Throws<ArgumentOutOfRangeException>(() => SamplerDistillation.Distill(teacher, student, process, Objective.V, data, 100,
            new SamplerDistillationOptions(SamplingSteps: 51)));
        Assert.Throws<ArgumentException>(() => SamplerDistillation.Distill(teacher, student, process, Objective.V, data, 99,
            new SamplerDistillationOptions(Steps: 1)));
    }

    // reports synchronously, on the distillation's own thread, between its steps
    private sealed class EveryReport(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>
    /// The student's gradient buffers are zeroed in place and reused from step to step (as DiffusionTrainer's): run A keeps
    /// the buffers it had at step 50 to step 100; run B drops them at step 50 (what every step did before), so its step 51
    /// allocates them anew; weights agree bit for bit.
    /// </summary>
    [Fact]
    public void Distill_ReusesTheGradientBuffers_AndComputesTheSameBits()
    {
        var schedule = NoiseSchedule.Linear(50, 1e-3, 0.3);
        var process = VolatilityAdaptiveSchedule.Isotropic(schedule, 2);
        var teacher = new ExactGaussianDenoiser(schedule, 2, 1.0);
        var data = new float[200];
        new Philox(1).FillNormal(data);
        var options = new SamplerDistillationOptions(Steps: 100, SamplingSteps: 5, BatchSize: 16, LearningRate: 1e-3, EmaDecay: 0, Seed: 3);

        var netA = new MlpDenoiser(new MlpDenoiserConfig(2, 16, 1, 8), new Philox(2));
        float[][]? atFifty = null, atHundred = null;
        SamplerDistillation.Distill(teacher, new MlpDenoiserAdapter(netA, schedule.Steps), process, Objective.Epsilon, data, 100, options,
            new EveryReport(p =>
            {
                var grads = netA.Parameters().Select(q => q.Grad!).ToArray();
                if (p.Step == 50) atFifty = grads;
                else atHundred = grads;
            }));
        Assert.NotNull(atFifty);
        Assert.All(atHundred!.Zip(atFifty), pair => Assert.Same(pair.Second, pair.First));

        var netB = new MlpDenoiser(new MlpDenoiserConfig(2, 16, 1, 8), new Philox(2));
        SamplerDistillation.Distill(teacher, new MlpDenoiserAdapter(netB, schedule.Steps), process, Objective.Epsilon, data, 100, options,
            new EveryReport(p =>
            {
                if (p.Step == 50)
                {
                    foreach (var q in netB.Parameters()) q.Grad = null;
                }
            }));
        Assert.Equal(netB.Parameters().SelectMany(q => q.Data).Select(BitConverter.SingleToInt32Bits),
            netA.Parameters().SelectMany(q => q.Data).Select(BitConverter.SingleToInt32Bits));
    }
}
