using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Training;
using Crucible.Diffusion.Windows;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Windows;

public class WindowDiffusionTests
{
    private const int Series = 2;
    private const int Window = 8;
    private const int Rows = 30;

    /// <summary>Series 0 Gaussian, series 1 positive and right-skewed (lognormal, as traded volume), series-major (D, W).</summary>
    private static float[] Windows(ulong seed)
    {
        var rng = new Philox(seed);
        var data = new float[Rows * Series * Window];
        for (int r = 0; r < Rows; r++)
        {
            for (int t = 0; t < Window; t++)
            {
                data[(((r * Series) + 0) * Window) + t] = (float)(0.2 * rng.NextNormal());
                data[(((r * Series) + 1) * Window) + t] = (float)Math.Exp(1.5 * rng.NextNormal());
            }
        }

        return data;
    }

    private static WindowDiffusionOptions Options(IReadOnlyList<int> log, bool clamp) => new()
    {
        Hidden = 8, Layers = 2, TimeEmbedding = 16, DiffusionSteps = 100, LogSeries = log, Clamp = clamp,
        Training = new TrainerOptions(Steps: 6, BatchSize: 8, WarmupSteps: 1),
        Sampler = new SamplerOptions(SamplerKind.Ddim, Steps: 5, MaxDegreeOfParallelism: 1),
    };

    [Fact]
    public void TrainThenSampleIsTrainAndSample()
    {
        var data = Windows(1);
        var options = Options([], clamp: true);
        var whole = WindowDiffusion.TrainAndSample(data, Rows, Series, Window, 9, seed: 5, options);
        var model = WindowDiffusion.Train(data, Rows, Series, Window, seed: 5, options);
        Assert.Equal(whole.Samples, model.Sample(9, 5, options.Sampler, clamp: true));
        Assert.Equal(whole.Losses, model.Losses);
        // the same trained model with another sampler: same prior draw, other windows, still finite
        var dpm = model.Sample(9, 5, options.Sampler with { Kind = SamplerKind.DpmSolver2M }, clamp: false);
        Assert.NotEqual(whole.Samples, dpm);
        Assert.All(dpm, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void LogSeriesAreModelledOnTheLogScale()
    {
        var data = Windows(2);
        const double offset = 0.05;
        var model = WindowDiffusion.Train(data, Rows, Series, Window, seed: 3, Options([1], clamp: false) with { LogOffset = offset });
        // the schedule's σ of the log series is the sample sd of ln(x − lo + δ); the other series keeps its own sd
        double Sd(int series, Func<double, double> f)
        {
            var v = Enumerable.Range(0, Rows).SelectMany(r => data.AsSpan(((r * Series) + series) * Window, Window).ToArray()).Select(x => f(x)).ToArray();
            var m = v.Average();
            return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Length - 1));
        }

        var values1 = Enumerable.Range(0, Rows).SelectMany(r => data.AsSpan(((r * Series) + 1) * Window, Window).ToArray()).ToArray();
        double lo = values1.Min(), hi = values1.Max(), delta = offset * (hi - lo);
        Assert.Equal(Sd(1, x => Math.Log(x - lo + delta)), model.Schedule.NoiseScale[1], 4);
        Assert.Equal(Sd(0, x => x), model.Schedule.NoiseScale[0], 5);
        // unclamped samples of a log series cannot fall below lo − δ (e^y > 0); the plain series can go anywhere
        var z = model.Sample(50, 3, model.Options.Sampler, clamp: false);
        for (int r = 0; r < 50; r++)
        {
            foreach (float v in z.AsSpan(((r * Series) + 1) * Window, Window)) Assert.True(v > lo - delta - 1e-6, $"{v} below {lo - delta}");
        }

        Assert.Throws<ArgumentException>(() => WindowDiffusion.Train(data, Rows, Series, Window, 3, Options([2], clamp: false)));
        Assert.Throws<ArgumentException>(() => WindowDiffusion.Train(data, Rows, Series, Window, 3, Options([1], clamp: false) with { LogOffset = 0 }));
    }
}
