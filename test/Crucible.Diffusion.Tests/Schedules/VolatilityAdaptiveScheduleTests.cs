using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Schedules;

public class VolatilityAdaptiveScheduleTests
{
    /// <summary>
    /// The exact denoiser for x_0 ~ N(m_d, s_d²) per dimension under x_t = √ᾱ x_0 + √(1−ᾱ) σ_d ε:
    /// x_t ~ N(√ᾱ m, ᾱ s² + (1−ᾱ) σ²), so E[ε | x_t] = √(1−ᾱ) σ (x_t − √ᾱ m) / (ᾱ s² + (1−ᾱ) σ²),
    /// E[x_0 | x_t] = (x_t − √(1−ᾱ) σ E[ε | x_t]) / √ᾱ and v = √ᾱ ε − √(1−ᾱ) x_0 / σ. Its input is x_t / σ.
    /// </summary>
    private sealed class GaussianOracle(NoiseSchedule schedule, double[] noiseScale, double[] mean, double[] std, Objective objective) : IDenoiser
    {
        public IReadOnlyList<int> SampleShape => [mean.Length];

        public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output)
        {
            int d = mean.Length;
            for (int b = 0; b < batch; b++)
            {
                double abar = schedule.AlphasCumprod[timesteps[b]];
                for (int j = 0; j < d; j++)
                {
                    double sg = noiseScale[j], xt = x[(b * d) + j] * sg, m = mean[j], s2 = std[j] * std[j]; // the network sees x_t / σ
                    double eps = Math.Sqrt(1 - abar) * sg * (xt - (Math.Sqrt(abar) * m)) / ((abar * s2) + ((1 - abar) * sg * sg));
                    double x0 = (xt - (Math.Sqrt(1 - abar) * sg * eps)) / Math.Sqrt(abar);
                    output[(b * d) + j] = objective switch
                    {
                        Objective.Epsilon => (float)eps,
                        Objective.X0 => (float)x0,
                        _ => (float)((Math.Sqrt(abar) * eps) - (Math.Sqrt(1 - abar) * x0 / sg)),
                    };
                }
            }
        }
    }

    private static (double Mean, double Std) Moments(float[] x, int d, int j)
    {
        int n = x.Length / d;
        double m = 0, v = 0;
        for (int i = 0; i < n; i++) m += x[(i * d) + j];
        m /= n;
        for (int i = 0; i < n; i++) v += Math.Pow(x[(i * d) + j] - m, 2);
        return (m, Math.Sqrt(v / (n - 1)));
    }

    [Fact]
    public void Isotropic_HasUnitScales_AndTheBaseSignalToNoise()
    {
        var schedule = NoiseSchedule.Linear();
        var iso = VolatilityAdaptiveSchedule.Isotropic(schedule, 3);
        Assert.False(iso.IsAdaptive);
        Assert.Equal([1.0, 1.0, 1.0], iso.NoiseScale);
        foreach (int t in new[] { 0, 10, 499, 999 })
        {
            double abar = schedule.AlphasCumprod[t];
            Assert.Equal(Math.Sqrt(1 - abar), iso.NoiseStd(t, 1), 15);
            Assert.Equal(abar / (1 - abar), iso.SignalToNoise(t, 2, 1.0), 12);
        }
    }

    [Fact]
    public void Fit_ScalesEachSeriesByItsSampleStd_AndFloorsConstantSeries()
    {
        // rows of (a, b, c): a has std 0.02, b is 100× smaller, c is constant
        var rng = new Philox(5);
        const int n = 4000;
        var x = new float[n * 3];
        for (int i = 0; i < n; i++)
        {
            x[3 * i] = (float)(0.02 * rng.NextNormal());
            x[(3 * i) + 1] = (float)(0.0002 * rng.NextNormal() + 0.001);
            x[(3 * i) + 2] = 7f;
        }

        var fitted = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Cosine(), x, n, 3, floor: 1e-6);
        Assert.True(fitted.IsAdaptive);
        for (int j = 0; j < 2; j++)
        {
            // naive reference: the n − 1 sample standard deviation
            var col = Enumerable.Range(0, n).Select(i => (double)x[(3 * i) + j]).ToArray();
            double mean = col.Average();
            double sd = Math.Sqrt(col.Sum(v => (v - mean) * (v - mean)) / (n - 1));
            Assert.Equal(sd, fitted.NoiseScale[j], 1e-12 * sd);
        }

        Assert.Equal(1e-6, fitted.NoiseScale[2]);

        // with σ_i² = the data variance every series has the base SNR ᾱ/(1 − ᾱ)
        double abar = fitted.Base.AlphasCumprod[300];
        for (int j = 0; j < 2; j++)
        {
            Assert.Equal(abar / (1 - abar), fitted.SignalToNoise(300, j, fitted.NoiseScale[j] * fitted.NoiseScale[j]), 9);
        }
    }

    [Fact]
    public void Fit_OnWindowsCutWhenRead_GivesTheScalesOfTheWindowsHeldWhole_BitForBit()
    {
        // the reference: each series' two-pass sums in double, series by series over the windows held whole, in window
        // order then step order (Fit's loop before it read one sample at a time); both overloads must give its bits
        const int steps = 300, d = 4, w = 20, count = steps - w + 1;
        var series = Training.SeriesWindowsTests.Series(steps, d, seed: 17);
        // values near 1000 among values near 1e-5 in every series: the sums in double round, the mean's last bits move the
        // squared deviations', and another summation order (e.g. by window, then over windows) gives other bits
        for (int k = 0; k < series.Length; k++) series[k] = k % 3 == 0 ? 1000 + series[k] : series[k] * 1e-5f;
        var whole = Training.SeriesWindowsTests.NaiveWindows(series, d, w);
        var expected = new double[d];
        long n = (long)count * w;
        for (int i = 0; i < d; i++)
        {
            double sum = 0, squares = 0;
            for (int r = 0; r < count; r++) foreach (float v in whole.AsSpan(((r * d) + i) * w, w)) sum += v;
            double mean = sum / n;
            for (int r = 0; r < count; r++) foreach (float v in whole.AsSpan(((r * d) + i) * w, w)) squares += (v - mean) * (v - mean);
            expected[i] = Math.Sqrt(squares / (n - 1));
        }

        var onArray = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Linear(), whole, count, d, w);
        var onWindows = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Linear(), new SeriesWindows(series, d, w), d);
        Assert.Equal(expected, onArray.NoiseScale);
        Assert.Equal(expected, onWindows.NoiseScale);
        Assert.Equal(onArray, onWindows);
        Assert.Throws<ArgumentException>(() => VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Linear(), new SeriesWindows(series, d, w), 3));
    }

    [Fact]
    public void Fit_OnWindows_PoolsEachSeriesRowOverTime_AndElementScalesFollowTheLayout()
    {
        // two samples of (D = 2, W = 3): series 0 holds 1..6, series 1 holds 10·(1..6)
        float[] x = [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60];
        var fitted = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Linear(), x, rows: 2, series: 2, length: 3);
        double sd = Math.Sqrt(17.5 / 5); // std of 1..6 with n − 1
        Assert.Equal(sd, fitted.NoiseScale[0], 12);
        Assert.Equal(10 * sd, fitted.NoiseScale[1], 11);
        double[] expected = [sd, sd, sd, 10 * sd, 10 * sd, 10 * sd];
        var scales = fitted.ElementScales([2, 3]);
        Assert.Equal(expected.Length, scales.Length);
        for (int k = 0; k < expected.Length; k++) Assert.Equal(expected[k], scales[k], 11);
        Assert.Throws<ArgumentException>(() => fitted.ElementScales([3, 2]));
        Assert.Throws<ArgumentException>(() => VolatilityAdaptiveSchedule.FromVolatility(NoiseSchedule.Linear(), [1.0, 0.0]));
    }

    [Fact]
    public void AddNoise_IsTheClosedForm_AndHasTheForwardMoments()
    {
        var schedule = VolatilityAdaptiveSchedule.FromVolatility(NoiseSchedule.Linear(), [0.5, 3.0]);
        var scales = schedule.ElementScales([2]);
        float[] x0 = [0.25f, -1f], noise = [1.5f, -0.5f];
        var xt = new float[2];
        schedule.AddNoise(x0, noise, 400, scales, xt);
        double abar = NoiseSchedule.Linear().AlphasCumprod[400];
        Assert.Equal((float)((Math.Sqrt(abar) * 0.25) + (Math.Sqrt(1 - abar) * 0.5 * 1.5)), xt[0]);
        Assert.Equal((float)((Math.Sqrt(abar) * -1.0) + (Math.Sqrt(1 - abar) * 3.0 * -0.5)), xt[1]);

        // over many draws of ε: mean √ᾱ x_0 and standard deviation √(1 − ᾱ) σ per series
        var rng = new Philox(11);
        const int n = 50_000;
        var all = new float[2 * n];
        var eps = new float[2];
        for (int i = 0; i < n; i++)
        {
            rng.FillNormal(eps);
            schedule.AddNoise(x0, eps, 400, scales, all.AsSpan(2 * i, 2));
        }

        for (int j = 0; j < 2; j++)
        {
            var (m, sd) = Moments(all, 2, j);
            double expectedSd = schedule.NoiseStd(400, j);
            Assert.InRange(m, (Math.Sqrt(abar) * x0[j]) - (4 * expectedSd / Math.Sqrt(n)), (Math.Sqrt(abar) * x0[j]) + (4 * expectedSd / Math.Sqrt(n)));
            Assert.InRange(sd, expectedSd * 0.98, expectedSd * 1.02);
        }
    }

    [Theory]
    [InlineData(SamplerKind.Ddpm, 1000, 0.0, Objective.Epsilon)]
    [InlineData(SamplerKind.Ddim, 50, 0.0, Objective.Epsilon)]
    [InlineData(SamplerKind.Ddim, 50, 1.0, Objective.X0)]
    [InlineData(SamplerKind.Ddim, 100, 0.0, Objective.V)]
    public void Sampling_IsTheIsotropicSamplerOnWhitenedData_ScaledBack(SamplerKind kind, int steps, double eta, Objective objective)
    {
        // the process on x with scales σ is the isotropic process on y = x / σ: with the same draws, x = σ ⊙ y
        var schedule = NoiseSchedule.Linear();
        double[] sigma = [0.01, 2.0, 0.3], mean = [0.002, -1.0, 0.0], std = [0.012, 1.5, 0.1];
        var adaptive = VolatilityAdaptiveSchedule.FromVolatility(schedule, sigma);
        var x = DiffusionSampler.Sample(new GaussianOracle(schedule, sigma, mean, std, objective), adaptive, objective, 600, seed: 3,
            new SamplerOptions(kind, steps, eta, ChunkSize: 256));
        double[] ones = [1, 1, 1];
        var y = DiffusionSampler.Sample(
            new GaussianOracle(schedule, ones, [.. mean.Zip(sigma, (m, s) => m / s)], [.. std.Zip(sigma, (s, g) => s / g)], objective),
            schedule, objective, 600, seed: 3, new SamplerOptions(kind, steps, eta, ChunkSize: 256));
        for (int i = 0; i < x.Length; i++)
        {
            double expected = sigma[i % 3] * y[i];
            Assert.True(Math.Abs(x[i] - expected) <= 2e-4 * sigma[i % 3], $"element {i}: {x[i]} vs σ·y = {expected}");
        }
    }

    [Theory]
    [InlineData(SamplerKind.Ddpm, 1000)]
    [InlineData(SamplerKind.Ddim, 1000)]
    public void ExactDenoiser_RecoversSmallScaleData(SamplerKind kind, int steps)
    {
        // returns-like scales: the adaptive process recovers N(m, s²) at s = 0.3% as well as at s = 2%
        var schedule = NoiseSchedule.Linear();
        double[] mean = [0.0005, -0.001], std = [0.003, 0.02];
        var adaptive = VolatilityAdaptiveSchedule.FromVolatility(schedule, std);
        var x = DiffusionSampler.Sample(new GaussianOracle(schedule, std, mean, std, Objective.Epsilon), adaptive, Objective.Epsilon, 20_000, seed: 8,
            new SamplerOptions(kind, steps));
        for (int j = 0; j < 2; j++)
        {
            var (m, sd) = Moments(x, 2, j);
            Assert.InRange(m, mean[j] - (4 * std[j] / Math.Sqrt(20_000)), mean[j] + (4 * std[j] / Math.Sqrt(20_000)));
            Assert.InRange(sd, std[j] * 0.97, std[j] * 1.03);
        }
    }

    [Fact]
    public void UnitScales_GiveTheIsotropicSamplerBitForBit()
    {
        // FromVolatility(1, 1) is adaptive in name only: every formula multiplies or divides by exactly 1
        var schedule = NoiseSchedule.Cosine();
        var oracle = new GaussianOracle(schedule, [1, 1], [0.3, -0.2], [0.5, 1.2], Objective.V);
        var a = DiffusionSampler.Sample(oracle, VolatilityAdaptiveSchedule.FromVolatility(schedule, [1.0, 1.0]), Objective.V, 300, 4,
            new SamplerOptions(SamplerKind.Ddim, 20, 0.5));
        var b = DiffusionSampler.Sample(oracle, schedule, Objective.V, 300, 4, new SamplerOptions(SamplerKind.Ddim, 20, 0.5));
        Assert.Equal(b.Select(BitConverter.SingleToInt32Bits), a.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void FirstStepWithNoiseLevel_IsTheFirstStepWhoseSigmaReachesIt()
    {
        var s = NoiseSchedule.Linear();
        // σ_t = √((1 − ᾱ_t)/ᾱ_t), from the cumulative product in double
        double abar = 1;
        for (int t = 0; t < s.Steps; t++)
        {
            abar *= 1 - s.Betas[t];
            Assert.Equal(Math.Sqrt((1 - abar) / abar), s.NoiseLevel(t), 12);
        }

        Assert.Equal(0, s.FirstStepWithNoiseLevel(0));
        int t12 = s.FirstStepWithNoiseLevel(12);
        Assert.True(s.NoiseLevel(t12) >= 12 && s.NoiseLevel(t12 - 1) < 12);
        Assert.Equal(700, t12);                                   // the last 300 of the 1,000 linear steps (bench/sequence/README.md)
        Assert.Equal(s.Steps, s.FirstStepWithNoiseLevel(s.NoiseLevel(s.Steps - 1) + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.FirstStepWithNoiseLevel(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.FirstStepWithNoiseLevel(double.NaN));
    }
}
