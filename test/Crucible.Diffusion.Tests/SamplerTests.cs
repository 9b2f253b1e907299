using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;

namespace Crucible.Diffusion.Tests;

public class SamplerTests
{
    /// <summary>
    /// The exact denoiser for data x_0 ~ N(m_d, s_d²) per dimension: with x_t = √ᾱ x_0 + √(1−ᾱ) ε,
    /// E[ε | x_t] = √(1−ᾱ) (x_t − √ᾱ m) / (ᾱ s² + 1 − ᾱ). A correct sampler driven by it reproduces N(m, s²).
    /// </summary>
    private sealed class GaussianOracle(NoiseSchedule schedule, float[] mean, float[] std, Objective objective) : IDenoiser
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
                    double xt = x[(b * d) + j], m = mean[j], s2 = (double)std[j] * std[j];
                    double eps = Math.Sqrt(1 - abar) * (xt - (Math.Sqrt(abar) * m)) / ((abar * s2) + 1 - abar);
                    double x0 = (xt - (Math.Sqrt(1 - abar) * eps)) / Math.Sqrt(abar);
                    output[(b * d) + j] = objective switch
                    {
                        Objective.Epsilon => (float)eps,
                        Objective.X0 => (float)x0,
                        _ => (float)((Math.Sqrt(abar) * eps) - (Math.Sqrt(1 - abar) * x0)),
                    };
                }
            }
        }
    }

    [Fact]
    public void LinearSchedule_MatchesPyTorch()
    {
        // torch.cumprod(1 − torch.linspace(1e-4, 0.02, 1000, dtype=float64)): ᾱ_999 and ᾱ_499
        var s = NoiseSchedule.Linear();
        Assert.Equal(1e-4, s.Betas[0], 15);
        Assert.Equal(0.02, s.Betas[^1], 15);
        Assert.Equal(4.035829765375676e-05, s.AlphasCumprod[999], 15);
        Assert.Equal(0.07858724288177824, s.AlphasCumprod[499], 13);
    }

    [Fact]
    public void CosineSchedule_IsMonotone_AndClipped()
    {
        var s = NoiseSchedule.Cosine(1000);
        for (int t = 1; t < s.Steps; t++) Assert.True(s.AlphasCumprod[t] < s.AlphasCumprod[t - 1]);
        Assert.All(s.Betas, b => Assert.InRange(b, 0.0, 0.999));
        Assert.Equal(0.999, s.Betas[^1], 12);
        Assert.InRange(s.AlphasCumprod[0], 0.9999, 1.0);
    }

    [Fact]
    public void DdimTimesteps_MatchTorchLinspaceLong()
    {
        // torch.linspace(999, 0, 50).long() and torch.linspace(999, 0, 7).long()
        var t50 = DiffusionSampler.DdimTimesteps(1000, 50);
        Assert.Equal([999, 978, 958, 937, 917, 897], t50[..6]);
        Assert.Equal([40, 20, 0], t50[^3..]);
        Assert.Equal([999, 832, 666, 499, 333, 166, 0], DiffusionSampler.DdimTimesteps(1000, 7));
    }

    [Fact]
    public void DdimTimesteps_OneStep_StartsFromTheLastTimestep()
    {
        // torch.linspace(999, 0, 1) is [999.]: one step denoises pure noise from t = T − 1. It gave [0], so DDIM-1 and
        // DPM-Solver-1 asked the network for x̂_0 of pure noise at the least noisy timestep and returned that noise
        Assert.Equal([999], DiffusionSampler.DdimTimesteps(1000, 1));
        Assert.Equal([9], DiffusionSampler.DdimTimesteps(NoiseSchedule.Linear(10), 1, DdimSpacing.Linear));
        Assert.Equal(DiffusionSampler.DdimTimesteps(NoiseSchedule.Linear(10), 1, DdimSpacing.UniformAngle),
            DiffusionSampler.DdimTimesteps(NoiseSchedule.Linear(10), 1, DdimSpacing.Linear));
    }

    public static TheoryData<SamplerOptions> InvalidOptions() => new()
    {
        new SamplerOptions(SamplerKind.Ddim, 10, Eta: double.NaN),
        new SamplerOptions(SamplerKind.Ddim, 10, Eta: -0.5),
        new SamplerOptions(SamplerKind.Ddim, 10, Eta: 1.5),
        new SamplerOptions(SamplerKind.Ddim, 10, Eta: double.PositiveInfinity),
        new SamplerOptions((SamplerKind)99, 10),
        new SamplerOptions(SamplerKind.Ddim, 10, Spacing: (DdimSpacing)99),
        new SamplerOptions(SamplerKind.Ddpm, 10, Variance: (DdpmVariance)99),
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Sample_RefusesAnEtaOutsideZeroOne_AndUndefinedKinds(SamplerOptions options)
    {
        // η = NaN gave NaN rows, η > 1 a spread beyond the prior's, an unknown kind silently ran DPM-Solver++
        var schedule = NoiseSchedule.Linear(100);
        var oracle = new GaussianOracle(schedule, [0f, 1f], [1f, 2f], Objective.Epsilon);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DiffusionSampler.Sample(oracle, schedule, Objective.Epsilon, 4, 1, options));
        Assert.Equal("options", e.ParamName);
    }

    [Theory]
    [InlineData(SamplerKind.Ddpm, 1000, 0.0, Objective.Epsilon)]
    [InlineData(SamplerKind.Ddim, 50, 0.0, Objective.Epsilon)]
    [InlineData(SamplerKind.Ddim, 50, 1.0, Objective.Epsilon)]
    [InlineData(SamplerKind.Ddim, 100, 0.0, Objective.X0)]
    [InlineData(SamplerKind.Ddim, 100, 0.0, Objective.V)]
    public void ExactDenoiser_RecoversTheDataDistribution(SamplerKind kind, int steps, double eta, Objective objective)
    {
        var schedule = NoiseSchedule.Linear();
        float[] mean = [0.5f, -1.0f, 0f];
        float[] std = [0.2f, 1.5f, 1f];
        var oracle = new GaussianOracle(schedule, mean, std, objective);
        const int n = 20_000;
        var x = DiffusionSampler.Sample(oracle, schedule, objective, n, seed: 7, new SamplerOptions(kind, steps, eta));
        for (int j = 0; j < mean.Length; j++)
        {
            double m = 0, v = 0;
            for (int i = 0; i < n; i++) m += x[(i * 3) + j];
            m /= n;
            for (int i = 0; i < n; i++) v += Math.Pow(x[(i * 3) + j] - m, 2);
            double sd = Math.Sqrt(v / (n - 1));

            // DDPM-1000 recovers s; DDIM's coarse steps shrink the spread by a factor we can compute exactly
            double expectedSd = kind == SamplerKind.Ddpm ? std[j] : DdimExpectedStd(schedule, steps, eta, std[j]);

            // sampling error of the mean is s/√n ≈ 0.011·s; allow 4 standard errors, and 3% on the std
            Assert.InRange(m, mean[j] - (4 * std[j] / Math.Sqrt(n)), mean[j] + (4 * std[j] / Math.Sqrt(n)));
            Assert.InRange(sd, expectedSd * 0.97, expectedSd * 1.03);
        }
    }

    /// <summary>
    /// For Gaussian data and the exact denoiser, DDIM is affine in y_t = x_t − √ᾱ_t m:
    /// y_prev = c · y_t + σ z with c = (√(ᾱ_p ᾱ) s² + √(1 − ᾱ_p − σ²) √(1 − ᾱ)) / (ᾱ s² + 1 − ᾱ), so
    /// Var(y_prev) = c² Var(y_t) + σ², starting from Var(y_T) = 1. (By Cauchy–Schwarz c &lt; σ_p/σ_t: coarse
    /// deterministic steps shrink the spread, most for small s.)
    /// </summary>
    private static double DdimExpectedStd(NoiseSchedule schedule, int steps, double eta, double s)
    {
        var ts = DiffusionSampler.DdimTimesteps(schedule.Steps, steps);
        double var = 1.0;
        for (int i = 0; i < ts.Length; i++)
        {
            double a = schedule.AlphasCumprod[ts[i]];
            double ap = i + 1 < ts.Length ? schedule.AlphasCumprod[ts[i + 1]] : 1.0;
            double sigma = eta * Math.Sqrt((1 - ap) / (1 - a)) * Math.Sqrt(1 - (a / ap));
            double c = ((Math.Sqrt(ap * a) * s * s) + (Math.Sqrt(Math.Max(0, 1 - ap - (sigma * sigma))) * Math.Sqrt(1 - a))) / ((a * s * s) + 1 - a);
            var = (c * c * var) + (sigma * sigma);
        }

        return Math.Sqrt(var);
    }

    [Fact]
    public void Ddim_WithManySteps_ApproachesTheDataStd()
    {
        // the shrinkage vanishes as K → T: DDIM-1000 keeps s = 0.2 within 1%
        Assert.InRange(DdimExpectedStd(NoiseSchedule.Linear(), 1000, 0.0, 0.2), 0.198, 0.2);
        Assert.InRange(DdimExpectedStd(NoiseSchedule.Linear(), 1000, 0.0, 1.0), 0.995, 1.0);
    }

    [Fact]
    public void Sampling_IsIdenticalOnOneAndTwoThreads_AndSeedsDiffer()
    {
        var schedule = NoiseSchedule.Linear();
        var oracle = new GaussianOracle(schedule, [0f, 1f], [1f, 2f], Objective.Epsilon);
        var one = DiffusionSampler.Sample(oracle, schedule, Objective.Epsilon, 5000, 42, new SamplerOptions(ChunkSize: 512, MaxDegreeOfParallelism: 1));
        var two = DiffusionSampler.Sample(oracle, schedule, Objective.Epsilon, 5000, 42, new SamplerOptions(ChunkSize: 512, MaxDegreeOfParallelism: 2));
        Assert.Equal(one, two);
        var other = DiffusionSampler.Sample(oracle, schedule, Objective.Epsilon, 5000, 43, new SamplerOptions(ChunkSize: 512, MaxDegreeOfParallelism: 2));
        Assert.NotEqual(one, other);
    }

    [Fact]
    public void UniformAngleSpacing_RunsFromTheLastToTheFirstStep_AndShrinksAUnitGaussianLessThanLinear()
    {
        var schedule = NoiseSchedule.Linear();
        var ts = DiffusionSampler.DdimTimesteps(schedule, 50, DdimSpacing.UniformAngle);
        Assert.Equal(50, ts.Length);
        Assert.Equal(999, ts[0]);
        Assert.Equal(0, ts[^1]);
        for (int i = 1; i < ts.Length; i++) Assert.True(ts[i] < ts[i - 1]);
        Assert.Equal(DiffusionSampler.DdimTimesteps(1000, 50), DiffusionSampler.DdimTimesteps(schedule, 50, DdimSpacing.Linear));

        // for N(0, 1) data a DDIM step from φ to φ' maps x to cos(φ − φ') x: equal angles give the least total shrinkage
        static double Shrink(NoiseSchedule s, int[] t)
        {
            double c = 1;
            for (int i = 0; i < t.Length; i++)
            {
                double phi = Math.Acos(Math.Sqrt(s.AlphasCumprod[t[i]])), next = i + 1 < t.Length ? Math.Acos(Math.Sqrt(s.AlphasCumprod[t[i + 1]])) : 0;
                c *= Math.Cos(phi - next);
            }

            return c;
        }

        double linear = Shrink(schedule, DiffusionSampler.DdimTimesteps(1000, 50)), angle = Shrink(schedule, ts);
        Assert.InRange(linear, 0.960, 0.966);   // the exact-denoiser DDIM-50 std of unit-variance data (DdimExpectedStd)
        Assert.InRange(angle, 0.973, 0.978);
        Assert.Equal(DdimExpectedStd(schedule, 50, 0, 1.0), linear, 10);

        // the sampler with the exact denoiser follows the same law
        var oracle = new GaussianOracle(schedule, [0f], [1f], Objective.Epsilon);
        var x = DiffusionSampler.Sample(oracle, schedule, Objective.Epsilon, 20_000, 3, new SamplerOptions(SamplerKind.Ddim, 50, Spacing: DdimSpacing.UniformAngle));
        double sd = Math.Sqrt(x.Select(v => (double)v * v).Sum() / x.Length);
        Assert.InRange(sd, angle * 0.98, angle * 1.02);
    }

    public static TheoryData<string, int> AngleGrids() => new()
    {
        { "linear", 1000 }, { "cosine", 1000 }, { "linear", 10 }, { "cosine", 10 }, { "linear", 50 }, { "cosine", 50 },
    };

    [Theory, MemberData(nameof(AngleGrids))]
    public void UniformAngleSpacing_VisitsExactlyKDistinctTimesteps_AndKeepsTheNearestOnesWhenTheyDoNotCollide(string kind, int t)
    {
        // the nearest timestep to each of K equally spaced angles: where two angles share one (e.g. 497 of 500 on the linear
        // schedule of 1000 steps) the sampler ran fewer steps than the K that sampling_steps records
        var schedule = kind == "linear" ? NoiseSchedule.Linear(t) : NoiseSchedule.Cosine(t);
        var angle = schedule.AlphasCumprod.Select(a => Math.Acos(Math.Sqrt(a))).ToArray();
        int Nearest(double target)
        {
            int best = 0;
            for (int i = 1; i < t; i++) if (Math.Abs(angle[i] - target) < Math.Abs(angle[best] - target)) best = i;
            return best;
        }

        int collided = 0;
        foreach (int k in Enumerable.Range(1, t).Where(k => t <= 50 || k % 7 == 0 || k is 1 or 2 or 50 or 500 or 999 or 1000))
        {
            var ts = DiffusionSampler.DdimTimesteps(schedule, k, DdimSpacing.UniformAngle);
            Assert.True(ts.Length == k, $"{kind} T = {t}, K = {k}: {ts.Length} timesteps");
            Assert.Equal(t - 1, ts[0]);
            if (k > 1) Assert.Equal(0, ts[^1]);
            for (int i = 1; i < k; i++) Assert.True(ts[i] < ts[i - 1], $"{kind} T = {t}, K = {k}: step {i} is {ts[i]} after {ts[i - 1]}");
            var nearest = Enumerable.Range(0, k).Select(i => Nearest(k == 1 ? angle[t - 1] : angle[t - 1] + ((angle[0] - angle[t - 1]) * i / (k - 1)))).ToArray();
            if (nearest.Distinct().Count() == k) Assert.Equal(nearest, ts);         // no collision: the grid it always was
            else collided++;
        }

        if (t == 1000) Assert.True(collided > 0, "the sweep should meet grids whose nearest timesteps collide");
    }

    [Theory]
    [InlineData(Objective.Epsilon)]
    [InlineData(Objective.V)]
    [InlineData(Objective.X0)]
    public void DpmSolver2M_WithTheExactDenoiser_IsCloserToTheDataStdThanDdim(Objective objective)
    {
        // Gaussian data: DDIM-50 contracts a unit-variance component by ~2.4% (uniform angles), the second-order
        // multistep update by ~0.2%: simulate both laws exactly, then check the sampler against them
        var schedule = NoiseSchedule.Linear();
        var ts = DiffusionSampler.DdimTimesteps(schedule, 50, DdimSpacing.UniformAngle);
        double Law(bool second, double s)
        {
            double x = 1, previousD = 0, previousLambda = 0;
            for (int i = 0; i < ts.Length; i++)
            {
                double a = schedule.AlphasCumprod[ts[i]], lambda = 0.5 * Math.Log(a / (1 - a));
                double d = Math.Sqrt(a) * s * s * x / ((a * s * s) + 1 - a);
                if (i + 1 == ts.Length) return Math.Abs(d) / s;
                double an = schedule.AlphasCumprod[ts[i + 1]], h = (0.5 * Math.Log(an / (1 - an))) - lambda;
                double dc = d;
                if (second && i > 0)
                {
                    double r = (lambda - previousLambda) / h;
                    dc = ((1 + (1 / (2 * r))) * d) - (previousD / (2 * r));
                }

                x = (Math.Sqrt((1 - an) / (1 - a)) * x) - (Math.Sqrt(an) * (Math.Exp(-h) - 1) * dc);
                previousD = d;
                previousLambda = lambda;
            }

            return x;
        }

        double ddim = Law(false, 1), dpm = Law(true, 1);
        Assert.InRange(ddim, 0.97, 0.98);
        Assert.InRange(dpm, 0.995, 1.006);
        var oracle = new GaussianOracle(schedule, [0.5f, 0f], [1f, 0.3f], objective);
        var x = DiffusionSampler.Sample(oracle, schedule, objective, 20_000, 5,
            new SamplerOptions(SamplerKind.DpmSolver2M, 50, Spacing: DdimSpacing.UniformAngle));
        for (int j = 0; j < 2; j++)
        {
            double m = 0, v = 0;
            for (int i = 0; i < 20_000; i++) m += x[(2 * i) + j] / 20_000.0;
            for (int i = 0; i < 20_000; i++) v += Math.Pow(x[(2 * i) + j] - m, 2) / 19_999.0;
            double expected = j == 0 ? dpm : Law(true, 0.3) * 0.3;
            Assert.InRange(Math.Sqrt(v), expected * 0.98, expected * 1.02);
            Assert.InRange(m, (j == 0 ? 0.5 : 0) - 0.03, (j == 0 ? 0.5 : 0) + 0.03);
        }

        // with one step it is DDIM: the first update is first order and the last returns x̂_0
        var one = DiffusionSampler.Sample(oracle, schedule, objective, 100, 5, new SamplerOptions(SamplerKind.DpmSolver2M, 2));
        var two = DiffusionSampler.Sample(oracle, schedule, objective, 100, 5, new SamplerOptions(SamplerKind.Ddim, 2));
        for (int i = 0; i < one.Length; i++) Assert.Equal(two[i], one[i], 1e-5f);
    }
}
