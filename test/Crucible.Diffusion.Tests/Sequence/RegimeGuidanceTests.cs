using Crucible.Data;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tests.Sequence;

public class RegimeGuidanceTests
{
    private static readonly SequenceGeneratorOptions Tiny = new()
    {
        Window = 5, DiffusionSteps = 50, Hidden = 8, Layers = 2, Heads = 2, TimeEmbedding = 8, GuidanceScale = 2, ConditionNoise = 0,
        Training = new TrainerOptions(Steps: 300, BatchSize: 16, LearningRate: 5e-3, WarmupSteps: 5), Seed = 5,
    };

    /// <summary>
    /// 90 weekdays of 2 series whose volatility follows a VIX-like close (calm, then a ramp to 60 on day 55), and the
    /// state lagged one day as <see cref="EconomicState"/> builds it: the row dated d holds the close of d − 1.
    /// </summary>
    private static (TimeSeriesFrame Returns, TimeSeriesFrame Conditions) Data()
    {
        var rng = new Random(4);
        var dates = TestDates.Weekdays(new DateOnly(2021, 1, 4), 90);

        var close = dates.Select((_, i) => i is >= 40 and <= 55 ? 30.0 + (2.0 * (i - 40)) : 14.0 + (i % 5)).ToArray();
        var values = new double[90 * 2];
        for (int r = 0; r < 90; r++)
        {
            double sd = 0.0006 * close[Math.Max(0, r - 1)];
            values[2 * r] = (rng.NextDouble() - 0.5) * 3.4 * sd;
            values[(2 * r) + 1] = (rng.NextDouble() - 0.5) * 3.4 * sd * 0.5;
        }

        return (new TimeSeriesFrame([.. dates], ["SPY", "TLT"], values), new TimeSeriesFrame([.. dates.Skip(1)], ["VIXCLS"], close[..^1]));
    }

    [Fact]
    public void MeanLogScale_IsTheMeanOfHalfTheLogMeanSquare_OfEachWindowInSeriesUnits()
    {
        // 2 windows of D = 2 series × W = 3 days
        float[] x = [1, -2, 2, 0.5f, 0.5f, -0.5f, 3, 0, 0, 1, 1, 1];
        double[] scale = [2, 0.5];
        double NaiveWindow(int b)
        {
            double s = 0;
            for (int i = 0; i < 2; i++)
            {
                for (int t = 0; t < 3; t++) s += Math.Pow(x[(((b * 2) + i) * 3) + t] / scale[i], 2);
            }

            return 0.5 * Math.Log(s / 6);
        }

        Assert.Equal(0.5 * (NaiveWindow(0) + NaiveWindow(1)), RegimeGuidance.MeanLogScale(x, 2, 3, scale), 14);
        Assert.Throws<ArgumentException>(() => RegimeGuidance.MeanLogScale(x, 3, 3, scale));
        Assert.Throws<ArgumentException>(() => RegimeGuidance.MeanLogScale(x, 2, 3, [2, 0]));
        Assert.Equal(Math.Exp(1.5 * (0.7 - 0.2)), RegimeGuidance.Factor(1.5, 0.7, 0.2), 15);
        var y = (float[])x.Clone();
        RegimeGuidance.Apply(y, 1.25);
        Assert.Equal(x.Select(v => (float)(1.25 * v)), y);
    }

    [Fact]
    public void Sampling_ScalesConditionalWindowsByTheFactorOfThePilotDraws_AndLeavesTheRestBitIdentical()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var stress = new Dictionary<string, double> { ["VIXCLS"] = 55 };
        var sampler = new SamplerOptions(SamplerKind.Ddim, 10);
        var plain = g.SampleModelSpace(30, 9, new SequenceSampleRequest(stress, Sampler: sampler));
        Assert.Equal(plain, g.SampleModelSpace(30, 9, new SequenceSampleRequest(stress, Sampler: sampler, RegimeGuidance: 0)));

        // ℓ_c and ℓ_∅: the fixed pilot draws, DDIM-50 with seed 4000 + the model's seed, in the series' noise scales
        double Pilot(IReadOnlyDictionary<string, double>? c, double w) => RegimeGuidance.MeanLogScale(
            g.SampleModelSpace(1000, 4005, c is null
                ? new SequenceSampleRequest(Sampler: new SamplerOptions(SamplerKind.Ddim, 50))          // guidance without a condition is refused: it changes nothing
                : new SequenceSampleRequest(c, w, new SamplerOptions(SamplerKind.Ddim, 50), RegimeGuidance: 0)), 1000, 5, g.Schedule.NoiseScale);
        double lc = Pilot(stress, 2), lu = Pilot(null, 1);
        Assert.Equal(lc, g.PilotLogScale(stress, 2, 0), 14);
        Assert.Equal(lu, g.PilotLogScale(null, 7, 0), 14);                       // the unconditional model whatever w
        double k = Math.Exp(1.5 * (lc - lu));
        Assert.Equal(k, g.RegimeFactor(stress, 2, 0, 1.5), 14);

        var amplified = g.SampleModelSpace(30, 9, new SequenceSampleRequest(stress, Sampler: sampler, RegimeGuidance: 1.5));
        Assert.Equal(plain.Select(v => (float)(k * v)), amplified);
        Assert.NotEqual(1.0, k);

        // the factor depends on the conditions, w and σ_g only: another count, seed and sampler get the same k
        var other = g.SampleModelSpace(7, 3, new SequenceSampleRequest(stress, Sampler: new SamplerOptions(SamplerKind.DpmSolver2M, 8), RegimeGuidance: 1.5));
        var otherPlain = g.SampleModelSpace(7, 3, new SequenceSampleRequest(stress, Sampler: new SamplerOptions(SamplerKind.DpmSolver2M, 8)));
        Assert.Equal(otherPlain.Select(v => (float)(k * v)), other);

        // unconditional requests and w = 0 are not scaled (so a request naming no condition may not ask for regime guidance)
        Assert.Equal(1.0, g.RegimeFactor(null, 2, 0, 3));
        Assert.Equal(SequenceGenerator.GuidanceWithoutConditionsRule,
            Assert.Throws<InvalidInputException>(() => g.SampleModelSpace(10, 2, new SequenceSampleRequest(Sampler: sampler, RegimeGuidance: 3))).Rule);
        Assert.Equal(1.0, g.RegimeFactor(stress, 0, 0, 3));
        Assert.Throws<SequenceOptionException>(() => g.SampleModelSpace(2, 1, new SequenceSampleRequest(stress, Sampler: sampler, RegimeGuidance: -0.5)));
        Assert.Throws<SequenceOptionException>(() => g.SampleModelSpace(2, 1, new SequenceSampleRequest(stress, Sampler: sampler, RegimeGuidance: double.NaN)));
    }

    [Fact]
    public void Sampling_RefusesANegativeOrNonFiniteGuidanceOption_NamingTheOption()
    {
        // a w, σ_g or a < 0 or not finite was refused as plain "guidance", "guidance-min-noise" or "regime-guidance" naming no
        // option (so crucible generate checked them itself to name its flag), or on a model without condition inputs as
        // GUIDANCE-E-UNCONDITIONAL: now OPT-E naming the option, before whether it applies, as the regime factor's refusal
        var (returns, conditions) = Data();
        var fast = Tiny with { Training = Tiny.Training with { Steps = 2 } };
        var g = new SequenceGenerator(fast).Fit(returns, conditions);
        var unconditional = new SequenceGenerator(fast).Fit(returns);
        var sampler = new SamplerOptions(SamplerKind.Ddim, 5);
        var spike = new Dictionary<string, double> { ["VIXCLS"] = 55 };
        foreach (var (request, option, named, message) in new[]
        {
            (new SequenceSampleRequest(spike, -1, sampler), SequenceOption.Guidance, "<Guidance>", "guidance takes the classifier-free guidance weight w, finite and ≥ 0; got -1"),
            (new SequenceSampleRequest(spike, Sampler: sampler, GuidanceMinNoise: double.NaN), SequenceOption.GuidanceMinNoise, "<GuidanceMinNoise>",
                "guidance_min_noise takes the guidance's minimum noise level, finite and ≥ 0; got NaN"),
            (new SequenceSampleRequest(spike, Sampler: sampler, RegimeGuidance: -0.5), SequenceOption.RegimeGuidance, "<RegimeGuidance>",
                "regime_guidance takes the regime guidance a, finite and ≥ 0; got -0.5"),
        })
        {
            foreach (var refused in new Action[] { () => g.Generate(2, 1, request), () => g.SampleModelSpace(2, 1, request), () => g.CheckRequest(request),
                () => unconditional.Generate(2, 1, request with { Conditions = null }) })
            {
                var e = Assert.Throws<SequenceOptionException>(refused);
                Assert.Equal("OPT-E", e.Rule);
                Assert.Equal(option, e.Option);
                Assert.Equal(message, e.Message);
                Assert.Equal(named + message[message.IndexOf(' ', StringComparison.Ordinal)..], e.Worded(MarkedOptionNames.Instance).Message);
            }
        }
    }

    [Fact]
    public void Sampling_RefusesARegimeGuidanceWhoseFactorUnderflowsOrOverflows_NamingIt()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var sampler = new SamplerOptions(SamplerKind.Ddim, 10);
        var spike = new Dictionary<string, double> { ["VIXCLS"] = 55 };
        var calm = new Dictionary<string, double> { ["VIXCLS"] = 14 };
        double Shift(IReadOnlyDictionary<string, double> c) => g.PilotLogScale(c, 2, 0) - g.PilotLogScale(null, 1, 0);
        Assert.True(Shift(spike) > 0, $"the spike should widen the windows: ℓ_c − ℓ_∅ = {Shift(spike)}");
        Assert.True(Shift(calm) < 0, $"the calm should narrow them: ℓ_c − ℓ_∅ = {Shift(calm)}");

        foreach (var (c, why) in new[] { (spike, "which overflows"), (calm, "which underflows to 0") })
        {
            // |a·(ℓ_c − ℓ_∅)| = 1000: exp gives +∞ or 0, refused before anything is drawn, naming the request's regime guidance
            double d = Shift(c);
            var request = new SequenceSampleRequest(c, Sampler: sampler, RegimeGuidance: 1000 / Math.Abs(d));
            var e = Assert.Throws<SequenceOptionException>(() => g.SampleModelSpace(3, 1, request));
            Assert.Equal("OPT-E", e.Rule);
            Assert.Equal(SequenceOption.RegimeGuidance, e.Option);
            Assert.StartsWith("regime_guidance ", e.Message, StringComparison.Ordinal);
            Assert.Contains(why, e.Message, StringComparison.Ordinal);
            Assert.Contains("give a smaller regime_guidance", e.Message, StringComparison.Ordinal);
            var worded = e.Worded(MarkedOptionNames.Instance);
            Assert.StartsWith("<RegimeGuidance> ", worded.Message, StringComparison.Ordinal);
            Assert.Equal("OPT-E", Assert.Throws<SequenceOptionException>(() => g.Generate(3, 1, request)).Rule);
            Assert.Equal("OPT-E", Assert.Throws<SequenceOptionException>(() => g.Sample(3, 1, request)).Rule);

            // a k that is finite and > 0 samples as before: the plain windows times k
            double k = Math.Exp(20 / Math.Abs(d) * d);
            var plain = g.SampleModelSpace(3, 1, new SequenceSampleRequest(c, Sampler: sampler, RegimeGuidance: 0));
            Assert.Equal(plain.Select(v => (float)(k * v)), g.SampleModelSpace(3, 1, request with { RegimeGuidance = 20 / Math.Abs(d) }));
        }

        // the model's own regime guidance, when the request gives none: named as the model's, the advice the request's option
        var strong = new SequenceGenerator(Tiny with { RegimeGuidance = 1e300 }).Fit(returns, conditions);
        var own = Assert.Throws<SequenceOptionException>(() => strong.SampleModelSpace(3, 1, new SequenceSampleRequest(spike, Sampler: sampler)));
        Assert.Equal("OPT-E", own.Rule);
        Assert.StartsWith("the model's regime_guidance (its manifest's config) 1E+300 scales", own.Message, StringComparison.Ordinal);
        Assert.Contains("give a smaller <RegimeGuidance>", own.Worded(MarkedOptionNames.Instance).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sampling_RefusesARegimeGuidanceWhoseFactorIsPositiveButRoundsTheWindowsToZero_NamingIt()
    {
        // k = 1e-50 is finite and > 0, so it passed the underflow check, and every window (model space, of order 1) times k
        // rounded to 0 in float: a scenario set of zeros
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var sampler = new SamplerOptions(SamplerKind.Ddim, 10);
        var calm = new Dictionary<string, double> { ["VIXCLS"] = 14 };
        double d = g.PilotLogScale(calm, 2, 0) - g.PilotLogScale(null, 1, 0);
        Assert.True(d < 0, $"the calm should narrow the windows: ℓ_c − ℓ_∅ = {d}");
        double a = Math.Log(1e-50) / d;
        Assert.InRange(g.RegimeFactor(calm, 2, 0, a), 1e-51, 1e-49);
        var request = new SequenceSampleRequest(calm, Sampler: sampler, RegimeGuidance: a);
        var e = Assert.Throws<SequenceOptionException>(() => g.SampleModelSpace(3, 1, request));
        Assert.Equal("OPT-E", e.Rule);
        Assert.StartsWith("regime_guidance ", e.Message, StringComparison.Ordinal);
        Assert.Contains("every window would be 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("give a smaller regime_guidance", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("<RegimeGuidance> ", e.Worded(MarkedOptionNames.Instance).Message, StringComparison.Ordinal);
        Assert.Equal("OPT-E", Assert.Throws<SequenceOptionException>(() => g.Generate(3, 1, request)).Rule);

        // k = 1e-20 still scales the windows to normal floats: sampled as before, the plain windows times k
        double small = Math.Log(1e-20) / d, k = g.RegimeFactor(calm, 2, 0, small);
        var plain = g.SampleModelSpace(3, 1, new SequenceSampleRequest(calm, Sampler: sampler, RegimeGuidance: 0));
        Assert.Equal(plain.Select(v => (float)(k * v)), g.SampleModelSpace(3, 1, request with { RegimeGuidance = small }));
        Assert.Contains(plain, v => v != 0);
    }

    [Fact]
    public void Generate_RecordsRegimeGuidanceAndItsFactor_OnlyWhenUsed()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny with { RegimeGuidance = 0.75 }).Fit(returns, conditions);
        var stress = new Dictionary<string, double> { ["VIXCLS"] = 50 };
        var sampler = new SamplerOptions(SamplerKind.Ddim, 10);
        var meta = g.Generate(4, 1, new SequenceSampleRequest(stress, Sampler: sampler)).Metadata;
        Assert.Equal(0.75, meta.RegimeGuidance);
        Assert.Equal(g.RegimeFactor(stress, 2, 0, 0.75), meta.RegimeFactor);
        var none = g.Generate(4, 1, new SequenceSampleRequest(stress, Sampler: sampler, RegimeGuidance: 0)).Metadata;
        Assert.Null(none.RegimeGuidance);
        Assert.Null(none.RegimeFactor);
        var json = Crucible.Diffusion.Scenarios.ScenarioCsv.ToJson(none);
        Assert.DoesNotContain("regime", json, StringComparison.Ordinal);

        // a model with the default (0) writes no regime_guidance key in its config, so older manifests keep their bytes
        var plain = new SequenceGenerator(Tiny).Fit(returns, conditions);
        Assert.DoesNotContain("regime_guidance", System.Text.Encoding.UTF8.GetString(plain.ManifestBytes()), StringComparison.Ordinal);
        Assert.Contains("\"regime_guidance\": 0.75", System.Text.Encoding.UTF8.GetString(g.ManifestBytes()), StringComparison.Ordinal);
    }

    [Fact]
    public void CalibrateGuidance_Regime_FitsTheAmplificationToTheRealisedEs_AndSamplingReproducesIt()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var episode = new CrisisEpisode("spike", returns.Dates[38], returns.Dates[60], "the test's volatility spike");
        var options = new GuidanceCalibrationOptions { Episode = episode, Samples = 200, RegimeGuidanceScale = 1.5, Sampler = SamplerKind.Ddim };
        var c = g.CalibrateGuidance(returns, conditions, options);

        Assert.Equal(GuidanceCalibrationRule.Regime, c.Rule);
        Assert.Equal(1.5, c.Chosen);
        Assert.Single(c.Points);
        Assert.Equal(g.PilotLogScale(new Dictionary<string, double>(c.State), 1.5, 0), c.ConditionalLogScale!.Value, 14);
        Assert.Equal(g.PilotLogScale(null, 1, 0), c.UnconditionalLogScale!.Value, 14);
        Assert.True(c.ConditionalLogScale > c.UnconditionalLogScale, $"the spike's state should widen the windows: {c.ConditionalLogScale} vs {c.UnconditionalLogScale}");
        Assert.True(c.Points[0].ExpectedShortfall < c.RealisedEs, "without amplification the tiny model is milder than the spike");

        // a solves ES(k(a)) = realised, and the model now samples at w and a by default
        Assert.InRange(c.RegimeGuidance, 1e-6, options.MaxRegimeGuidance - 1e-6);
        Assert.Equal(c.RealisedEs, c.RegimeExpectedShortfall!.Value, 6);
        Assert.True(c.WithinTolerance);
        Assert.Equal((1.5, c.RegimeGuidance), (g.Manifest.Config.GuidanceScale, g.Manifest.Config.RegimeGuidance));
        Assert.Equal(Math.Exp(c.RegimeGuidance * (c.ConditionalLogScale!.Value - c.UnconditionalLogScale!.Value)), c.RegimeFactor!.Value, 12);
        var frame = g.Sample(200, 2005, new SequenceSampleRequest(new Dictionary<string, double>(c.State), Sampler: new SamplerOptions(SamplerKind.Ddim, 50)));
        Assert.Equal(c.RegimeExpectedShortfall.Value, EconomicState.EqualWeightWindowExpectedShortfall(frame, 5, 200, stride: 5, 0.975), 12);

        // a cap below the solution: the cap, outside the band
        var capped = g.CalibrateGuidance(returns, conditions, options with { MaxRegimeGuidance = c.RegimeGuidance / 10 });
        Assert.Equal(c.RegimeGuidance / 10, capped.RegimeGuidance);
        Assert.True(capped.RegimeExpectedShortfall < c.RealisedEs);

        // the other rules draw with no regime scaling and set a back to 0
        var again = g.CalibrateGuidance(returns, conditions, new GuidanceCalibrationOptions { Episode = episode, Samples = 200, MaxScale = 2, Rule = GuidanceCalibrationRule.SmallestWithinTolerance, Sampler = SamplerKind.Ddim });
        Assert.Equal(0.0, g.Manifest.Config.RegimeGuidance);
        Assert.Null(again.RegimeFactor);
        var unscaled = g.Sample(200, 2005, new SequenceSampleRequest(new Dictionary<string, double>(c.State), 1, new SamplerOptions(SamplerKind.Ddim, 50)));
        Assert.Equal(again.Points[0].ExpectedShortfall, EconomicState.EqualWeightWindowExpectedShortfall(unscaled, 5, 200, stride: 5, 0.975), 12);
    }
}
