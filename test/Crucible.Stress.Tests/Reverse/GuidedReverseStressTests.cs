using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;
using Crucible.Stress.Audit;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reverse;
using Crucible.Stress.Tests.Generators;

namespace Crucible.Stress.Tests.Reverse;

public sealed class GuidedReverseStressTests
{
    private static readonly Portfolio SixtyForty = new("60/40", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);

    // f(r) = a·r, gradient a
    private sealed class LinearObjective(double[] a) : IScenarioObjective
    {
        public double Evaluate(ReadOnlySpan<double> window, int series, Span<double> gradient)
        {
            double f = 0;
            for (int k = 0; k < window.Length; k++)
            {
                f += a[k] * window[k];
                gradient[k] = a[k];
            }

            return f;
        }
    }

    internal static SequenceGeneratorOptions TinyOptions(int window = 10) => new()
    {
        Window = window, DiffusionSteps = 50, Hidden = 8, Layers = 1, Heads = 1, TimeEmbedding = 8,
        Training = new TrainerOptions(Steps: 40, BatchSize: 32, LearningRate: 2e-3, WarmupSteps: 5),
    };

    internal static SequenceSampleRequest FastRequest => new(Sampler: new SamplerOptions(Steps: 10, MaxDegreeOfParallelism: 1));

    [Fact]
    public void OneFullStep_OnALinearObjective_IsTheMinimumMetricNormMoveOntoTheTarget_AndLeavesLaterDaysAlone()
    {
        // D = 2, W = 4, horizon 3; r = offset + scale·x; metric σ²
        double[] offset = [0.01, -0.02], scale = [2.0, 0.5], sigma = [1.5, 0.4];
        double[] diagonal = [sigma[0] * sigma[0], sigma[1] * sigma[1]];
        var rng = new System.Random(4);
        var a = Enumerable.Range(0, 6).Select(_ => rng.NextDouble() - 0.3).ToArray();
        var guidance = new ObjectiveGuidance(new LinearObjective(a), 2, 4, 3, target: 1.0, offset, scale, diagonal,
            new ObjectiveGuidanceOptions(Iterations: 1, Margin: 0.1));
        var x = Enumerable.Range(0, 8).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var before = (double[])x.Clone();
        var f0 = guidance.ObjectiveAt(x);
        Assert.True(guidance.Ascend(x, 1.0));
        Assert.Equal(1.1, guidance.ObjectiveAt(x), 1e-12);

        // Δx_{i,t} = e · σ_i² g_{i,t} / Σ σ² g², g_{i,t} = scale_i a_{t,i}
        double norm = 0;
        for (int t = 0; t < 3; t++)
        {
            for (int i = 0; i < 2; i++) norm += sigma[i] * sigma[i] * Math.Pow(scale[i] * a[(t * 2) + i], 2);
        }

        for (int i = 0; i < 2; i++)
        {
            for (int t = 0; t < 4; t++)
            {
                double expected = t < 3 ? (1.1 - f0) * sigma[i] * sigma[i] * scale[i] * a[(t * 2) + i] / norm : 0;
                Assert.Equal(expected, x[(i * 4) + t] - before[(i * 4) + t], 1e-12);
            }
        }

        // already past the target: nothing moves
        Assert.False(guidance.Ascend(x, 1.0));
    }

    [Fact]
    public void PartialWeight_ClosesThatShareOfTheGap_AndTheScheduleFollowsLambdaAlphaBarPower()
    {
        double[] a = [1, 1, 1, 1];
        var guidance = new ObjectiveGuidance(new LinearObjective(a), 2, 2, 2, 0.5, [0, 0], [1, 1], [1, 1], new ObjectiveGuidanceOptions(Scale: 2, Iterations: 1, Margin: 0));
        var x = new double[4];
        guidance.Ascend(x, 0.25);
        Assert.Equal(0.125, guidance.ObjectiveAt(x), 1e-12);
        Assert.Equal(Math.Min(1, 2 * Math.Sqrt(0.09)), guidance.WeightAt(0.09), 1e-12);
        Assert.Equal(1.0, guidance.WeightAt(0.5));
        Assert.Equal(0.0, new ObjectiveGuidance(new LinearObjective(a), 2, 2, 2, 0.5, [0, 0], [1, 1], [1, 1], new ObjectiveGuidanceOptions(Scale: 0)).WeightAt(1));
    }

    [Fact]
    public void Guide_OnThePortfolioLoss_PutsEveryWindowPastTheLogThreshold()
    {
        var rng = new System.Random(8);
        var objective = new PortfolioLossObjective([0.6, 0.4]);
        double target = -Math.Log(1 - 0.15);
        var guidance = new ObjectiveGuidance(objective, 2, 20, 20, target, [0.0003, 0.0002], [0.012, 0.009], [1, 1]);
        var x0 = Enumerable.Range(0, 5 * 40).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        guidance.Guide(x0, 5, 0, 1.0);
        var window = new double[40];
        for (int b = 0; b < 5; b++)
        {
            for (int j = 0; j < 40; j++) window[j] = x0[(b * 40) + j];
            Assert.True(guidance.ObjectiveAt(window) >= target, $"window {b}: {guidance.ObjectiveAt(window)} < {target}");
        }
    }

    [Fact]
    public void AModelWithFewerThan50DiffusionSteps_SamplesAndIsGuided_WithTheDefaultSampler_OverEveryStep()
    {
        // the default sampler was DDIM-50 whatever the model's T: a model trained with 20 steps failed with an internal
        // error ("Ddim steps must be in 1..20") in reverse stress (found by verify-run --recompute's tests)
        var history = GeneratorTests.Panel(300, 3);
        var fitted = (FittedSequenceDiffusion)new SequenceDiffusionGenerator(TinyOptions() with { DiffusionSteps = 20 }).Fit(history, 5);
        var plain = fitted.Sample(4, 10, 11);
        Assert.All(plain.Values, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(fitted.Model.Sample(4, 11, new SequenceSampleRequest(Sampler: new SamplerOptions(Steps: 20))).Values,
            fitted.Model.Sample(4, 11, new SequenceSampleRequest()).Values);          // the default is DDIM over all 20 steps
        var guided = fitted.SampleGuided(4, 10, new LinearObjective([.. Enumerable.Repeat(-0.5, 20)]), 0.01, 1.0, 3);
        Assert.All(guided.Values, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(SamplerOptions.DefaultSteps, SamplerOptions.DefaultFor(1000).Steps);
        Assert.Equal(new SamplerOptions(), SamplerOptions.DefaultFor(50));
        Assert.Throws<ArgumentOutOfRangeException>(() => SamplerOptions.DefaultFor(0));
    }

    [Fact]
    public void DiffusionAdapter_IsInTheCatalog_DeterministicPerSeed_AndCutsOrJoinsWindows()
    {
        Assert.Contains("diffusion", GeneratorCatalog.Names);
        Assert.IsType<SequenceDiffusionGenerator>(GeneratorCatalog.Create("diffusion"));
        var history = GeneratorTests.Panel(400, 3);
        var fitted = new SequenceDiffusionGenerator(TinyOptions(), FastRequest).Fit(history, 5);
        Assert.Equal(["EQ", "BD"], fitted.Columns);
        var a = fitted.Sample(6, 10, 11);
        Assert.Equal(a.Values, fitted.Sample(6, 10, 11).Values);
        Assert.NotEqual(a.Values, fitted.Sample(6, 10, 12).Values);
        Assert.All(a.Values, v => Assert.True(double.IsFinite(v)));

        // window 1 (walk-forward VaR) is each drawn window's first day
        var one = fitted.Sample(6, 1, 11);
        for (int c = 0; c < 6; c++)
        {
            for (int d = 0; d < 2; d++) Assert.Equal(a[c, 0, d], one[c, 0, d]);
        }

        // window 25 joins three drawn windows per scenario: scenario 0's first 10 days are draw 0's
        var joined = fitted.Sample(2, 25, 11);
        Assert.Equal(25, joined.Window);
        var draws = fitted.Sample(6, 10, 11);
        for (int t = 0; t < 10; t++) Assert.Equal(draws[0, t, 0], joined[0, t, 0]);
        for (int t = 0; t < 10; t++) Assert.Equal(draws[1, t, 1], joined[0, 10 + t, 1]);
        for (int t = 0; t < 10; t++) Assert.Equal(draws[3, t, 0], joined[1, t, 0]);

        // the same fit seed gives the same model
        var again = new SequenceDiffusionGenerator(TinyOptions(), FastRequest).Fit(history, 5);
        Assert.Equal(a.Values, again.Sample(6, 10, 11).Values);
    }

    [Fact]
    public void ReverseStress_WithTheDiffusionModel_GuidesAlmostEveryCandidateIntoTheBreach_WhereRejectionRarelyBreaches()
    {
        var history = GeneratorTests.Panel(400, 3);
        var fitted = (FittedSequenceDiffusion)new SequenceDiffusionGenerator(TinyOptions(), FastRequest).Fit(history, 5);
        var plausibility = new NearestWindowPlausibility(history);
        var request = new ReverseStressRequest { Portfolio = SixtyForty, LossThreshold = 0.06, Horizon = 10, Candidates = 200, Top = 5, Seed = 3 };
        var rejection = ReverseStress.Run(fitted, request, plausibility);
        Assert.Equal("rejection", rejection.Sampling);
        var guided = ReverseStress.Run(fitted, request with { GuidanceScale = 1.0 }, plausibility);
        Assert.Equal("guided", guided.Sampling);
        Assert.True(guided.BreachRate >= 0.9, $"guided breach rate {guided.BreachRate}");
        Assert.True(rejection.BreachRate < 0.2, $"rejection breach rate {rejection.BreachRate}");
        Assert.Equal(5, guided.Top.Count);
        Assert.All(guided.Top, s =>
        {
            Assert.True(s.Loss >= 0.06);
            Assert.Equal(-Math.Log(1 - s.Loss), s.AttributionLog.Sum(), 1e-9);
            Assert.Equal(s.Loss, s.Attribution.Sum(), 1e-12);
        });
        Assert.True(guided.Top[0].Plausibility >= guided.Top[^1].Plausibility);

        // a horizon longer than the model's window cannot be guided
        Assert.Throws<Crucible.Data.InvalidInputException>(() => fitted.SampleGuided(2, 11, new PortfolioLossObjective([0.6, 0.4]), 0.1, 1, 1));
    }

    [Fact]
    public void Adversarial_FindsTheWorstPlausibleScenarios_AboveTheFloor_LargestLossFirst_BeyondOrdinaryDraws()
    {
        var history = GeneratorTests.Panel(400, 3);
        var fitted = (FittedSequenceDiffusion)new SequenceDiffusionGenerator(TinyOptions(), FastRequest).Fit(history, 5);
        var plausibility = new NearestWindowPlausibility(history);
        var request = new AdversarialRequest { Portfolio = SixtyForty, Horizon = 10, CandidatesPerRung = 100, Top = 10, Seed = 2 };
        var result = AdversarialScenarios.Run(fitted, request, plausibility);

        // the floor is the unguided draws' 5% plausibility quantile: at least 95 of those 100 are plausible
        Assert.Equal(500, result.Candidates);
        Assert.True(result.Plausible >= 95, $"{result.Plausible} plausible");
        Assert.Equal(4, result.Targets.Count);
        Assert.Equal(10, result.Worst.Count);
        Assert.All(result.Worst, w =>
        {
            Assert.True(w.Plausibility >= result.Floor);
            Assert.Equal(-Math.Log(1 - w.Loss), w.AttributionLog.Sum(), 1e-9);
            Assert.Equal(w.Loss, w.Attribution.Sum(), 1e-12);
        });
        Assert.Equal(result.Worst.Select(w => w.Loss).OrderByDescending(l => l), result.Worst.Select(w => w.Loss));

        // the guided ladder reaches plausible losses beyond every ordinary draw
        var unguided = fitted.Sample(100, 10, 2);
        var weights = SixtyForty.WeightsFor(fitted.Columns);
        double worstOrdinary = Crucible.Stress.Risk.PortfolioPnl.Paths(unguided.ToSeriesSet(), weights).Max(p => -p.Sum());
        Assert.True(-Math.Log(1 - result.Worst[0].Loss) > worstOrdinary, $"worst plausible {result.Worst[0].Loss} vs worst ordinary log loss {worstOrdinary}");
        Assert.True(result.Worst[0].Index >= 100);
    }

    [Fact]
    public void AFullMetric_MovesEachDayAlongMg_SoANegativelyCorrelatedHedgeMovesAgainstTheGradient()
    {
        // f = -(r_eq + r_bd) over one day: both gradients push down; with corr -0.8 the minimum-Mahalanobis move lifts the bond
        double[] a = [-1, -1];
        double[] metric = [1.0, -0.8, -0.8, 1.0];
        var guidance = new ObjectiveGuidance(new LinearObjective(a), 2, 1, 1, 0.1, [0, 0], [1, 1], metric, new ObjectiveGuidanceOptions(Iterations: 1, Margin: 0));
        var x = new double[2];
        guidance.Ascend(x, 1.0);
        // Mg = (-1 + 0.8, 0.8 - 1) = (-0.2, -0.2); gᵀMg = 0.4; Δ = 0.1 · Mg / 0.4
        Assert.Equal(-0.05, x[0], 12);
        Assert.Equal(-0.05, x[1], 12);
        Assert.Equal(0.1, guidance.ObjectiveAt(x), 12);

        double[] weighted = [-0.6, -0.4];
        var hedge = new ObjectiveGuidance(new LinearObjective(weighted), 2, 1, 1, 0.1, [0, 0], [1, 1], metric, new ObjectiveGuidanceOptions(Iterations: 1, Margin: 0));
        var y = new double[2];
        hedge.Ascend(y, 1.0);
        Assert.True(y[0] < 0 && y[1] > 0, $"equity {y[0]}, bond {y[1]}");
        Assert.Equal(0.1, hedge.ObjectiveAt(y), 12);

        Assert.Throws<ArgumentException>(() => new ObjectiveGuidance(new LinearObjective(a), 2, 1, 1, 0.1, [0, 0], [1, 1], [1.0, 2.0, 2.0, 1.0]));
        Assert.Throws<ArgumentException>(() => new ObjectiveGuidance(new LinearObjective(a), 2, 1, 1, 0.1, [0, 0], [1, 1], [1.0, 0.5, 0.4, 1.0]));
    }

    [Fact]
    public void ModelCovariance_IsTheSampleCovarianceOfTheModelsOwnDays()
    {
        var history = GeneratorTests.Panel(400, 3);
        var fitted = (FittedSequenceDiffusion)new SequenceDiffusionGenerator(TinyOptions(), FastRequest).Fit(history, 5);
        fitted = new FittedSequenceDiffusion(fitted.Model, fitted.Request) { MetricSamples = 64 };
        var z = fitted.Model.SampleModelSpace(64, FittedSequenceDiffusion.MetricSeed, fitted.Request);
        var eq = new List<double>();
        var bd = new List<double>();
        for (int b = 0; b < 64; b++)
        {
            for (int t = 0; t < 10; t++)
            {
                eq.Add(z[(b * 2 * 10) + t]);
                bd.Add(z[(((b * 2) + 1) * 10) + t]);
            }
        }

        double me = eq.Average(), mb = bd.Average();
        double vee = eq.Sum(v => (v - me) * (v - me)) / 639, vbb = bd.Sum(v => (v - mb) * (v - mb)) / 639;
        double veb = eq.Zip(bd, (p, q) => (p - me) * (q - mb)).Sum() / 639;
        var cov = fitted.ModelCovariance;
        double ridge = 1e-6 * (vee + vbb) / 2;
        Assert.Equal(vee + ridge, cov[0], 1e-9 * vee);
        Assert.Equal(veb, cov[1], 1e-9 * vee);
        Assert.Equal(veb, cov[2], 1e-9 * vee);
        Assert.Equal(vbb + ridge, cov[3], 1e-9 * vbb);
    }

    [Fact]
    public void DenoisingLossPlausibility_IsDeterministic_PerWindow_AndScoresStrangeWindowsLower()
    {
        var history = GeneratorTests.Panel(400, 3);
        var options = TinyOptions() with { Training = TinyOptions().Training with { Steps = 150 } };
        var fitted = (FittedSequenceDiffusion)new SequenceDiffusionGenerator(options, FastRequest).Fit(history, 5);
        var score = new DenoisingLossPlausibility(fitted.Model, timesteps: 6, draws: 2);
        Assert.Equal("denoising-loss", score.Method);
        int n = 30;
        var values = new double[n * 10 * 2];
        for (int c = 0; c < n; c++) Array.Copy(history.Values, c * 10 * 2, values, c * 10 * 2, 10 * 2);
        var real = new ScenarioWindows(history.Columns, n, 10, values);
        var strange = real with { Values = values.Select(v => 6 * v).ToArray() };
        var a = score.Score(real);
        Assert.Equal(a, score.Score(real));
        Assert.All(a, v => Assert.True(double.IsFinite(v) && v < 0));

        // a window's score does not depend on the others in the call
        var single = score.Score(real with { Count = 1, Values = values.AsSpan(5 * 20, 20).ToArray() });
        Assert.Equal(a[5], single[0], 12);
        var b = score.Score(strange);
        Assert.True(b.Average() < a.Average() - 0.1, $"strange {b.Average()} vs real {a.Average()}");
    }

    [Fact]
    public void Recalibration_RaisesTheScaleUntilTheDeclaredBreachRateHolds_AndRecordsEveryAttempt()
    {
        var history = GeneratorTests.Panel(400, 3);
        var fitted = (FittedSequenceDiffusion)new SequenceDiffusionGenerator(TinyOptions(), FastRequest).Fit(history, 5);
        var request = new ReverseStressRequest { Portfolio = SixtyForty, LossThreshold = 0.06, Horizon = 10, Candidates = 100, Top = 5, Seed = 3, GuidanceScale = 0.02 };
        var calibrated = Recalibration.Run(fitted, request, new NearestWindowPlausibility(history), minBreachRate: 0.9, factor: 50, maxAttempts: 3);
        Assert.True(calibrated.Attempts.Count >= 2, $"{calibrated.Attempts.Count} attempts");
        Assert.False(calibrated.Attempts[0].Passed);
        Assert.True(calibrated.Attempts[0].BreachRate < 0.9);
        Assert.Equal(0.02, calibrated.Attempts[0].GuidanceScale);
        Assert.Equal(1.0, calibrated.Attempts[1].GuidanceScale, 12);
        Assert.True(calibrated.Passed);
        Assert.Equal(calibrated.Attempts[^1].BreachRate, calibrated.Result.BreachRate);
    }

    [Fact]
    public void ModelReferenceProfile_FlagsABenignSet_AndPassesTheModelsOwnDraws()
    {
        var history = GeneratorTests.Panel(400, 3);
        var fitted = (FittedSequenceDiffusion)new SequenceDiffusionGenerator(TinyOptions(), FastRequest).Fit(history, 5);
        var source = new ModelReferenceProfile(fitted.Model, samples: 300, sampler: FastRequest.Sampler);
        var empty = new Dictionary<string, double>();
        var reference = source.For(empty, SixtyForty, 10, 0.95);
        var again = source.For(empty, SixtyForty, 10, 0.95);
        Assert.Equal(reference.Volatility, again.Volatility);
        Assert.Equal(reference.ExpectedShortfall, again.ExpectedShortfall);
        var own = fitted.Sample(300, 10, 77).ToSeriesSet();
        Assert.Empty(ScenarioSetAudit.Compare(RiskProfile.Of(own, SixtyForty, 0.95), reference, fitted.Columns, new AuditThresholds()));
        var calm = fitted.Sample(300, 10, 77);
        var benign = (calm with { Values = calm.Values.Select(v => 0.3 * v).ToArray() }).ToSeriesSet();
        var findings = ScenarioSetAudit.Compare(RiskProfile.Of(benign, SixtyForty, 0.95), reference, fitted.Columns, new AuditThresholds());
        Assert.Contains(findings, f => f.Metric == "es" && f.Verdict is "benign" or "out-of-support");
        Assert.Equal("condition-name", Assert.Throws<Crucible.Data.InvalidInputException>(() => source.For(new Dictionary<string, double> { ["VIX"] = 40 }, SixtyForty, 10, 0.95)).Rule);
    }
}
