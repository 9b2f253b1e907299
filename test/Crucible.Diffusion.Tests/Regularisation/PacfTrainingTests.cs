using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Regularisation;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Diffusion.Windows;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Regularisation;

public class PacfTrainingTests
{
    private const int Series = 2;
    private const int Window = 12;

    /// <summary>AR(1) windows, φ = 0.6, series-major (D, W).</summary>
    private static float[] ArWindows(int count, ulong seed)
    {
        var rng = new Philox(seed);
        var data = new float[count * Series * Window];
        for (int r = 0; r < count * Series; r++)
        {
            double x = rng.NextNormal();
            for (int t = 0; t < Window; t++)
            {
                x = (0.6 * x) + (0.8 * rng.NextNormal());
                data[(r * Window) + t] = (float)(0.1 * x);
            }
        }

        return data;
    }

    private static (DiffusionTrainer Trainer, TcnDenoiser Network, VolatilityAdaptiveSchedule Schedule) Build(float[] data, int rows, Objective objective, double lambda)
    {
        var schedule = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Linear(100), data, rows, Series, Window);
        var network = new TcnDenoiser(new TcnDenoiserConfig(Series, Window, Hidden: 8, Layers: 2, TimeEmbedding: 16), new Philox(1));
        var trainer = new DiffusionTrainer(new TcnDenoiserAdapter(network, schedule.Steps), schedule, objective,
            new TrainerOptions(Steps: 5, BatchSize: 16, WarmupSteps: 1, Seed: 4, PacfWeight: lambda, PacfLags: 4));
        return (trainer, network, schedule);
    }

    [Theory]
    [InlineData(Objective.Epsilon)]
    [InlineData(Objective.X0)]
    [InlineData(Objective.V)]
    public void TheFirstLossIsTheMsePlusLambdaTimesThePenaltyOfThePredictedCleanWindows(Objective objective)
    {
        const int rows = 40;
        var data = ArWindows(rows, 2);
        var (plain, _, _) = Build(data, rows, objective, 0);
        var (regularised, network, schedule) = Build(data, rows, objective, 0.5);
        float mse = plain.Step(data, rows);
        float total = regularised.Step(data, rows);

        // the trainer's batch, redrawn: Philox stream 1 of the seed, per window a row, a timestep and ε
        var rng = new Philox(4, stream: 1);
        var scale = schedule.ElementScales([Series, Window]);
        int size = Series * Window, b = 16;
        var xt = new float[b * size];
        var times = new int[b];
        var eps = new float[size];
        for (int i = 0; i < b; i++)
        {
            int row = rng.NextInt(rows);
            times[i] = rng.NextInt(schedule.Steps);
            rng.FillNormal(eps);
            schedule.AddNoise(data.AsSpan(row * size, size), eps, times[i], scale, xt.AsSpan(i * size, size));
            for (int j = 0; j < size; j++) xt[(i * size) + j] = (float)(xt[(i * size) + j] / scale[j]);
        }

        // the network before the first update (a fresh copy of the same initialisation)
        var fresh = new TcnDenoiser(network.Config, new Philox(1));
        var output = fresh.Forward(new Tensor(xt, [b, Series, Window]), [.. times.Select(t => (float)t / schedule.Steps)]);
        var x0 = new float[b * size];
        var unused = new float[b * size];
        var weights = new double[b];
        for (int i = 0; i < b; i++)
        {
            double abar = schedule.Base.AlphasCumprod[times[i]];
            weights[i] = abar;
            var raw = new float[size];
            for (int j = 0; j < size; j++) raw[j] = (float)(xt[(i * size) + j] * scale[j]);
            ObjectiveMath.ToX0AndEpsilon(objective, abar, raw, output.Data.AsSpan(i * size, size), scale, x0.AsSpan(i * size, size), unused.AsSpan(i * size, size));
        }

        double epsilon = 1e-6 * scale.Average(s => s * s);
        var penalty = PacfPenalty.FromWindows(data, rows, Series, Window, 4, epsilon: (float)epsilon).Evaluate(new Tensor(x0, [b, Series, Window]), weights).Item();
        Assert.True(penalty > 0);
        Assert.Equal(mse + (0.5 * penalty), total, 1e-4 * Math.Max(1, total));
    }

    [Fact]
    public void TheRegulariserChangesTheUpdateAndZeroLeavesTrainingUnchanged()
    {
        const int rows = 40;
        var data = ArWindows(rows, 3);
        var (a, netA, _) = Build(data, rows, Objective.Epsilon, 0);
        var (b, netB, _) = Build(data, rows, Objective.Epsilon, 0);
        var (c, netC, _) = Build(data, rows, Objective.Epsilon, 2.0);
        a.Fit(data, rows);
        b.Fit(data, rows);
        c.Fit(data, rows);
        Assert.Equal(a.Losses, b.Losses);
        Assert.Equal(netA.Parameters().SelectMany(p => p.Data), netB.Parameters().SelectMany(p => p.Data));
        Assert.NotEqual(netA.Parameters().SelectMany(p => p.Data), netC.Parameters().SelectMany(p => p.Data));
    }

    [Fact]
    public void TheRegulariserNeedsWindowsAndFewerLagsThanSteps()
    {
        var schedule = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Linear(100), ArWindows(10, 1), 10, Series, Window);
        var adapter = new TcnDenoiserAdapter(new TcnDenoiser(new TcnDenoiserConfig(Series, Window, Hidden: 8, Layers: 1, TimeEmbedding: 16), new Philox(1)), 100);
        Assert.Throws<ArgumentException>(() => new DiffusionTrainer(adapter, schedule, Objective.Epsilon, new TrainerOptions(PacfWeight: 1, PacfLags: Window)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiffusionTrainer(adapter, schedule, Objective.Epsilon, new TrainerOptions(PacfWeight: -1)));
        var mlp = new MlpDenoiser(new MlpDenoiserConfig(Features: 2, Hidden: 8, Blocks: 1, TimeEmbedding: 16), new Philox(1));
        Assert.Throws<ArgumentException>(() => new DiffusionTrainer(mlp, NoiseSchedule.Linear(100), Objective.Epsilon, new TrainerOptions(PacfWeight: 1)));
    }

    [Fact]
    public void WindowDiffusionIsDeterministicAndStaysInTheTrainingRange()
    {
        const int rows = 30;
        var data = ArWindows(rows, 5);
        var options = new WindowDiffusionOptions
        {
            Hidden = 8, Layers = 2, TimeEmbedding = 16, DiffusionSteps = 100,
            Training = new TrainerOptions(Steps: 10, BatchSize: 8, WarmupSteps: 1, PacfWeight: 0.1, PacfLags: 3),
            Sampler = new Samplers.SamplerOptions(Samplers.SamplerKind.Ddim, Steps: 5, MaxDegreeOfParallelism: 1),
        };
        var first = WindowDiffusion.TrainAndSample(data, rows, Series, Window, 7, seed: 3, options);
        var second = WindowDiffusion.TrainAndSample(data, rows, Series, Window, 7, seed: 3, options);
        Assert.Equal(7 * Series * Window, first.Samples.Length);
        Assert.Equal(first.Samples, second.Samples);
        Assert.Equal(10, first.Losses.Count);
        for (int s = 0; s < Series; s++)
        {
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            for (int r = 0; r < rows; r++)
            {
                foreach (float v in data.AsSpan(((r * Series) + s) * Window, Window)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            }

            for (int r = 0; r < 7; r++)
            {
                foreach (float v in first.Samples.AsSpan(((r * Series) + s) * Window, Window)) Assert.InRange(v, lo, hi);
            }
        }

        var other = WindowDiffusion.TrainAndSample(data, rows, Series, Window, 7, seed: 4, options);
        Assert.NotEqual(first.Samples, other.Samples);
    }
}
