using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Steering;
using Xunit.Abstractions;

namespace Crucible.Diffusion.Tests.Steering;

public class ConstraintGuidanceTests(ITestOutputHelper output)
{
    private static readonly string[] Names = ["SPY", "HYG", "TLT"];

    [Fact]
    public void OneStep_OnOneViolatedConstraint_IsTheEuclideanProjectionInModelSpace()
    {
        // r = offset + scale · x; constraint SPY cumulative ≤ ln 0.8 over W = 3
        double[] offset = [0.001, 0.0, -0.002], scale = [0.02, 0.01, 0.015];
        var set = new LinearConstraintSet(Names, 3).WithCumulativeBounds(0, null, Math.Log(0.8));
        var guidance = new ConstraintGuidance(set, offset, scale, new ConstraintGuidanceOptions(Weight: 1, Iterations: 1));
        double[] x = [0.5, -1.0, 2.0, 0.3, 0.1, -0.2, 1.0, 1.5, -0.5];
        var projected = (double[])x.Clone();
        Assert.True(guidance.Descend(projected, 1.0));

        // closed form: ã = 0.02 on SPY's three elements, β = ln 0.8 − 3·0.001; x ← x − (ã·x − β)/‖ã‖² ã
        double dot = 0.02 * (0.5 - 1.0 + 2.0), beta = Math.Log(0.8) - 0.003, step = (dot - beta) / (3 * 0.02 * 0.02);
        for (int j = 0; j < 9; j++) Assert.Equal(j < 3 ? x[j] - (step * 0.02) : x[j], projected[j], 12);
        var r = Enumerable.Range(0, 9).Select(j => offset[j / 3] + (scale[j / 3] * projected[j])).ToArray();
        Assert.Equal(Math.Log(0.8), r[0] + r[1] + r[2], 12);

        // a feasible window does not move; weight ½ halves the violation
        Assert.False(guidance.Descend(projected, 1.0));
        var half = (double[])x.Clone();
        guidance.Descend(half, 0.5);
        Assert.Equal(set.Excess(0, Enumerable.Range(0, 9).Select(j => offset[j / 3] + (scale[j / 3] * x[j])).ToArray()) / 2,
            set.Excess(0, Enumerable.Range(0, 9).Select(j => offset[j / 3] + (scale[j / 3] * half[j])).ToArray()), 12);
    }

    [Fact]
    public void Margin_MovesTheTargetInsideTheBound()
    {
        var set = new LinearConstraintSet(["A"], 4).WithCumulativeBounds(0, null, Math.Log(0.8));
        var guidance = new ConstraintGuidance(set, new ConstraintGuidanceOptions(Iterations: 1, Margin: 0.01));
        double[] x = [0.01, -0.02, 0.0, 0.03];
        Assert.True(guidance.Descend(x, 1.0));
        Assert.Equal(Math.Log(0.8) - 0.01, x.Sum(), 12);
        Assert.Equal(-0.01, set.Excess(0, x), 12);
    }

    [Fact]
    public void Iterations_NeverIncreaseThePenalty_AndDriveItToZero()
    {
        var set = new LinearConstraintSet(Names, 5)
            .WithSeriesBounds(0, -0.02, 0.02)
            .WithCumulativeBounds(0, null, Math.Log(0.95))
            .WithCrossSectionalBounds([1, 1, 1], -0.03, null)
            .WithPortfolioCumulativeBounds([0, 0.5, 0.5], null, -0.01);
        var one = new ConstraintGuidance(set, new ConstraintGuidanceOptions(Iterations: 1));
        var rng = new System.Random(4);
        for (int trial = 0; trial < 20; trial++)
        {
            var x = Enumerable.Range(0, 15).Select(_ => 0.03 * ((rng.NextDouble() * 2) - 1)).ToArray();
            double previous = set.Penalty(x);
            for (int i = 0; i < 200; i++)
            {
                one.Descend(x, 1.0);
                double p = set.Penalty(x);
                Assert.True(p <= (previous * (1 + 1e-12)) + 1e-30, $"trial {trial} iteration {i}: {previous} → {p}");
                previous = p;
            }

            Assert.True(previous < 1e-12, $"trial {trial}: penalty {previous} after 200 steps");
        }
    }

    [Fact]
    public void Guide_ChecksTheWindowSize_AndTheScheduleFollowsTheDocumentedWeights()
    {
        var set = new LinearConstraintSet(Names, 2).WithCumulativeBounds(0, null, 0);
        var guidance = new ConstraintGuidance(set, new ConstraintGuidanceOptions(Weight: 0.8, Power: 2));
        Assert.Throws<ArgumentException>(() => guidance.Guide(new float[7], 1, 0, 0.5));
        Assert.Equal(0.8 * 0.25, guidance.WeightAt(0.5), 15);
        Assert.Equal(0.8, guidance.WeightAt(1.0), 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConstraintGuidance(set, new ConstraintGuidanceOptions(Weight: 1.5)));
        Assert.Throws<ArgumentException>(() => new ConstraintGuidance(set, [0, 0, 0], [1, 0, 1]));
    }

    [Theory]
    [InlineData(SamplerKind.Ddim, 50)]
    [InlineData(SamplerKind.DpmSolver2M, 25)]
    [InlineData(SamplerKind.Ddpm, 0)]
    public void Guidance_CutsTheViolationRate_AndTheModelCarriesTheMoveToCorrelatedSeries(SamplerKind kind, int steps)
    {
        // SPY down at least 10% over 10 days (2.8 sd of its window sum), TLT never below −2% a day, the equal-weight
        // average never below −1.5% a day: a crash most unguided windows do not show
        var schedule = NoiseSchedule.Linear(kind == SamplerKind.Ddpm ? 200 : 1000);
        var model = new CorrelatedWindows(schedule);
        var set = new LinearConstraintSet(Names, 10)
            .WithCumulativeBounds(0, null, Math.Log(0.9))
            .WithSeriesBounds(2, -0.02, null)
            .WithCrossSectionalBounds([1 / 3.0, 1 / 3.0, 1 / 3.0], -0.015, null);
        var guidance = new ConstraintGuidance(set, CorrelatedWindows.Mean, CorrelatedWindows.Sd);
        const int n = 1000;
        var plain = CorrelatedWindows.ToReturns(DiffusionSampler.Sample(model, schedule, Objective.Epsilon, n, 21, new SamplerOptions(kind, steps, ChunkSize: 250)));
        var guided = CorrelatedWindows.ToReturns(DiffusionSampler.Sample(model, schedule, Objective.Epsilon, n, 21, new SamplerOptions(kind, steps, ChunkSize: 250, Guidance: guidance)));

        const double tolerance = 1e-5;   // log-return units: 0.001%, above float32 rounding of 1e-2-sized sums
        double before = set.ViolationRate(plain, n, tolerance), after = set.ViolationRate(guided, n, tolerance);
        double[] Cumulative(float[] r, int series) => [.. Enumerable.Range(0, n).Select(b => Enumerable.Range(0, 10).Sum(t => (double)r[(b * 30) + (series * 10) + t]))];
        double hygBefore = Cumulative(plain, 1).Average(), hygAfter = Cumulative(guided, 1).Average();
        double spyAfter = Cumulative(guided, 0).Average(), tltAfter = Cumulative(guided, 2).Average();
        output.WriteLine($"{kind} {steps}: violation rate {before:P2} unguided → {after:P2} guided; mean cumulative HYG {hygBefore:F4} → {hygAfter:F4}, SPY {spyAfter:F4}, TLT {tltAfter:F4}");

        Assert.InRange(before, 0.95, 1.0);
        Assert.InRange(after, 0.0, 0.01);   // measured: DDIM 0%, DDPM 0%, DPM-Solver++ 0.4% (coupled constraints left after 16 steps)
        Assert.InRange(spyAfter, -0.125, Math.Log(0.9));

        // HYG is not constrained; the model's SPY–HYG correlation 0.7 carries part of the fall into it (the HYG window
        // sum has sd 0.019, so its mean over 1000 windows has a standard error of 0.0006). Exact conditioning on a 10%
        // SPY fall would give E[HYG sum] ≈ 0.7 · (0.006/0.012) · (ln 0.9 − 0.004) ≈ −0.038: guidance on x̂_0 moves x_t
        // only a little per step, so it carries a third to a half of that (measured: DDIM −0.012, DDPM −0.018, DPM −0.012)
        Assert.InRange(hygBefore, -0.002, 0.006);
        Assert.InRange(hygAfter, -0.03, -0.006);
    }

    [Fact]
    public void GuidedSampling_IsIdenticalOnOneAndTwoThreads()
    {
        var schedule = NoiseSchedule.Linear();
        var model = new CorrelatedWindows(schedule);
        var set = new LinearConstraintSet(Names, 10).WithCumulativeBounds(0, null, Math.Log(0.9)).WithCrossSectionalBounds([1, 1, 1], -0.03, null);
        var guidance = new ConstraintGuidance(set, CorrelatedWindows.Mean, CorrelatedWindows.Sd);
        SamplerOptions Options(int threads) => new(SamplerKind.Ddim, 20, 0.5, ChunkSize: 50, MaxDegreeOfParallelism: threads, Guidance: guidance);
        var one = DiffusionSampler.Sample(model, schedule, Objective.Epsilon, 300, 4, Options(1));
        var two = DiffusionSampler.Sample(model, schedule, Objective.Epsilon, 300, 4, Options(2));
        Assert.Equal(one, two);
    }
}
