using Crucible.Data;
using Crucible.Diffusion.Sequence;
using Crucible.Stress.Generators;
using Crucible.Stress.Portfolios;
using Crucible.Stress.Reverse;

namespace Crucible.Stress.Tests.Reverse;

/// <summary>
/// Objective guidance and denoising-loss plausibility on a sequence model with the public-state volatility scaling
/// (<see cref="SequenceGeneratorOptions.StateScale"/>): both work on the log returns s · (offset + scale · x) of the
/// requested level's s (<see cref="SequenceGenerator.AffineFor(SequenceSampleRequest)"/>), not on the affine map alone.
/// </summary>
public sealed class StateScaledGuidanceTests
{
    private static readonly Portfolio SixtyForty = new("60/40", [new Holding("EQ", 0.6), new Holding("BD", 0.4)]);

    /// <summary>
    /// 400 days of two series whose daily volatility is VIXCLS / 1000 · 0.29 (uniform noise), VIXCLS alternating between
    /// about 20 and about 50 every 50 days, dated from the second return day on (a window takes its first day's level).
    /// </summary>
    private static (TimeSeriesFrame Returns, TimeSeriesFrame Conditions) Data()
    {
        var rng = new Random(8);
        int n = 400;
        var dates = Enumerable.Range(0, n).Select(i => new DateOnly(2020, 1, 1).AddDays(i)).ToArray();
        var vix = Enumerable.Range(0, n).Select(i => ((i / 50) % 2 == 0 ? 20.0 : 50.0) + rng.Next(4)).ToArray();
        var values = new double[n * 2];
        for (int k = 0; k < values.Length; k++) values[k] = vix[k / 2] / 1000 * (rng.NextDouble() - 0.5);
        return (new TimeSeriesFrame(dates, ["EQ", "BD"], values), new TimeSeriesFrame(dates[1..], ["VIXCLS"], vix[1..]));
    }

    private static SequenceGenerator Fit(int steps)
    {
        var (returns, conditions) = Data();
        var options = GuidedReverseStressTests.TinyOptions() with
        {
            StateScale = "VIXCLS", Training = GuidedReverseStressTests.TinyOptions().Training with { Steps = steps },
        };
        return new SequenceGenerator(options).Fit(returns, conditions);
    }

    private static SequenceSampleRequest At(double vix) =>
        GuidedReverseStressTests.FastRequest with { Conditions = new Dictionary<string, double> { ["VIXCLS"] = vix } };

    [Theory]
    [InlineData(2.0)]
    [InlineData(0.5)]
    public void GuidedReverseStress_ReachesTheTargetLoss_InReturnUnits_AtTheRequestedLevel(double s)
    {
        var model = Fit(40);
        double reference = model.Manifest.StateScale!.Reference;
        var fitted = new FittedSequenceDiffusion(model, At(s * reference));

        // the guidance's map is the affine map times s
        var affine = model.AffineFor(fitted.Request);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(s * model.Affine.Offset[i], affine.Offset[i], 1e-15);
            Assert.Equal(s * model.Affine.Scale[i], affine.Scale[i], 1e-15);
        }

        // the returned windows' 60/40 log loss over 10 days: every one at least the target (up to float rounding), and
        // on the target plus the margin rather than s times it (the guidance aimed in model units before: 2× the target at
        // s = 2, half of it, so no breach, at s = 0.5)
        double threshold = 0.12, target = -Math.Log(1 - threshold), margin = fitted.GuidanceOptions.Margin;
        var windows = fitted.SampleGuided(60, 10, new PortfolioLossObjective([0.6, 0.4]), target, 1.0, 3);
        var losses = new double[windows.Count];
        var gradient = new double[20];
        for (int c = 0; c < windows.Count; c++)
            losses[c] = new PortfolioLossObjective([0.6, 0.4]).Evaluate(windows.Values.AsSpan(c * 20, 20), 2, gradient);
        Assert.All(losses, l => Assert.True(l >= target - 1e-4, $"loss {l} < target {target}"));
        double median = losses.Order().ElementAt(losses.Length / 2);
        Assert.True(median <= target + (2 * margin), $"median loss {median} vs target {target} + margin {margin}");

        // the reverse stress test built on it breaches the threshold
        var request = new ReverseStressRequest { Portfolio = SixtyForty, LossThreshold = threshold, Horizon = 10, Candidates = 60, Top = 5, Seed = 3, GuidanceScale = 1.0 };
        var result = ReverseStress.Run(fitted, request, new NearestWindowPlausibility(Data().Returns));
        Assert.True(result.BreachRate >= 0.95, $"breach rate {result.BreachRate}");
        Assert.All(result.Top, t => Assert.True(t.Loss >= threshold - 1e-4 && t.Loss <= 1 - Math.Exp(-(target + (3 * margin))), $"loss {t.Loss}"));
    }

    [Fact]
    public void Guidance_AndDenoisingLossPlausibility_WithoutALevel_AreRefused_UnderTheStateScaleRule()
    {
        var model = Fit(40);
        var unconditional = new FittedSequenceDiffusion(model, GuidedReverseStressTests.FastRequest);
        var e = Assert.Throws<InvalidInputException>(() => unconditional.SampleGuided(4, 10, new PortfolioLossObjective([0.6, 0.4]), 0.1, 1.0, 3));
        Assert.Equal(SequenceGenerator.StateScaleRule, e.Rule);
        Assert.Contains("VIXCLS", e.Message, StringComparison.Ordinal);
        Assert.Equal(SequenceGenerator.StateScaleRule, Assert.Throws<InvalidInputException>(() => new DenoisingLossPlausibility(model)).Rule);
        Assert.Equal(SequenceGenerator.StateScaleRule, Assert.Throws<InvalidInputException>(() => model.AffineFor(At(-3))).Rule);

        // unguided sampling still draws a level per window; a stress specification's level counts as the request's
        Assert.All(unconditional.Sample(4, 10, 3).Values, v => Assert.True(double.IsFinite(v)));
        double reference = model.Manifest.StateScale!.Reference;
        var viaSpec = model.AffineFor(new SequenceSampleRequest(Stress: FormattableString.Invariant($"VIXCLS = {2 * reference:R}")));
        Assert.Equal(2 * model.Affine.Scale[0], viaSpec.Scale[0], 1e-12);

        // a model without the scaling: the affine map itself, with or without conditions
        var plain = new SequenceGenerator(GuidedReverseStressTests.TinyOptions()).Fit(Data().Returns, Data().Conditions);
        Assert.Same(plain.Affine, plain.AffineFor((IReadOnlyDictionary<string, double>?)null));
        Assert.Same(plain.Affine, plain.AffineFor(At(40)));
    }

    [Fact]
    public void DenoisingLossPlausibility_AtALevel_ScoresTheWindowsDividedByItsScale_AsTheSameNetworkWithoutTheScaling()
    {
        // the same network and affine map with the scaling stripped from the manifest: x_0 = (r − offset)/scale. The
        // state-scaled model at level v must score r as that one scores r / s (s = v / v̄) under the same conditions;
        // the unscaled map scored r itself.
        var model = Fit(40);
        double reference = model.Manifest.StateScale!.Reference, s = 2;
        string dir = Directory.CreateTempSubdirectory("crucible-state-scaled-plausibility-").FullName;
        try
        {
            model.Save(dir);
            string path = Path.Combine(dir, "manifest.json");
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            Assert.True(json.Remove("state_scale"));
            File.WriteAllText(path, json.ToJsonString());
            var plain = SequenceGenerator.Load(dir);
            Assert.Null(plain.Manifest.StateScale);

            var level = new Dictionary<string, double> { ["VIXCLS"] = s * reference };
            var drawn = new FittedSequenceDiffusion(model, At(s * reference)).Sample(12, 10, 5);
            var scaled = new DenoisingLossPlausibility(model, level, timesteps: 6, draws: 2).Score(drawn);
            var plainScore = new DenoisingLossPlausibility(plain, level, timesteps: 6, draws: 2);
            var expected = plainScore.Score(drawn with { Values = [.. drawn.Values.Select(v => v / s)] });
            var unscaled = plainScore.Score(drawn);
            for (int c = 0; c < drawn.Count; c++)
            {
                Assert.Equal(expected[c], scaled[c], 1e-5 * Math.Abs(expected[c]));
                Assert.True(Math.Abs(unscaled[c] - scaled[c]) > 1e-3 * Math.Abs(expected[c]), $"window {c}: {unscaled[c]} vs {scaled[c]}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void StressFiles_GuidedReverseStressAndAdversarial_OnAStateScaledModelFolder_AreRefusedNamingTheManifest_RejectionRuns()
    {
        // crucible stress --reverse/--adversarial --model sample without conditions: no level, so no single scale to guide by
        var model = Fit(40);
        string dir = Directory.CreateTempSubdirectory("crucible-state-scaled-stress-").FullName;
        try
        {
            model.Save(dir);
            var history = Data().Returns;
            var guided = new ReverseOptions(0.1, history, Top: 3, Model: dir, Candidates: 20, GuidanceScale: 1.0, Seed: 1);
            var e = Assert.Throws<InvalidInputException>(() => StressFiles.RunModel(guided, SixtyForty));
            Assert.Equal(SequenceGenerator.StateScaleRule, e.Rule);
            Assert.Equal(Path.Combine(dir, "manifest.json"), e.Location?.File);
            Assert.Contains("--guidance-scale 0", e.Message, StringComparison.Ordinal);
            var adversarial = Assert.Throws<InvalidInputException>(() => StressFiles.RunAdversarial(dir, history, SixtyForty, 10, 3, 1.0, 1));
            Assert.Equal(SequenceGenerator.StateScaleRule, adversarial.Rule);

            // rejection sampling draws a level per window and runs
            var rejection = StressFiles.RunModel(guided with { GuidanceScale = 0 }, SixtyForty);
            Assert.Equal("rejection", rejection.Sampling);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    public void StressFiles_RunModel_NamesABadGuidanceScaleOrBreachRateInvariantly_WhateverTheCulture(string culture)
    {
        // both messages formatted the number in the current culture: "1,5" under de-DE (the CLI runs under CRUCIBLE_CULTURE)
        string dir = Directory.CreateTempSubdirectory("crucible-stress-culture-").FullName;
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            Fit(2).Save(dir);
            var history = Data().Returns;
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo(culture);
            var options = new ReverseOptions(0.1, history, Top: 3, Model: dir, Candidates: 20, GuidanceScale: 1.5, Seed: 1);
            var guidance = Assert.Throws<InvalidInputException>(() => StressFiles.RunModel(options with { GuidanceScale = -1.5 }, SixtyForty));
            Assert.Equal("guidance", guidance.Rule);
            Assert.Contains("scale -1.5 must", guidance.Message, StringComparison.Ordinal);
            var rate = Assert.Throws<InvalidInputException>(() => StressFiles.RunModel(options with { GuidanceScale = 0, MinBreachRate = 1.5 }, SixtyForty));
            Assert.Equal("min-breach-rate", rate.Rule);
            Assert.Contains("rate 1.5 must", rate.Message, StringComparison.Ordinal);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
            Directory.Delete(dir, recursive: true);
        }
    }
}
