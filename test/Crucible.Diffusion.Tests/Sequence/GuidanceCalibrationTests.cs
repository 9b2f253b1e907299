using Crucible.Data;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tests.Sequence;

public class GuidanceCalibrationTests
{
    private static readonly SequenceGeneratorOptions Tiny = new()
    {
        Window = 5, DiffusionSteps = 50, Hidden = 8, Layers = 2, Heads = 2, TimeEmbedding = 8, GuidanceScale = 7,
        Training = new TrainerOptions(Steps: 25, BatchSize: 16, LearningRate: 2e-3, WarmupSteps: 5), Seed = 3,
    };

    /// <summary>80 weekdays of 2 series from 2021-01-04 and a VIX-like state (one known maximum) from day 3 on.</summary>
    private static (TimeSeriesFrame Returns, TimeSeriesFrame Conditions) Data()
    {
        var rng = new Random(9);
        var dates = TestDates.Weekdays(new DateOnly(2021, 1, 4), 80);

        var values = new double[80 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = (rng.NextDouble() - 0.5) * 0.03;
        var vix = dates.Skip(3).Select((_, i) => i == 30 ? 60.0 : 15.0 + (i % 9)).ToArray();
        return (new TimeSeriesFrame([.. dates], ["SPY", "TLT"], values), new TimeSeriesFrame([.. dates.Skip(3)], ["VIXCLS"], vix));
    }

    private static double Es(double[] totals, double alpha)
    {
        var sorted = totals.Order().ToArray();
        int k = Math.Max(1, (int)Math.Ceiling((sorted.Length * (1 - alpha)) - 1e-9));
        return -sorted.Take(k).Average();
    }

    // the W-day equal-weight portfolio log returns of windows starting every `stride` rows
    private static double[] Totals(TimeSeriesFrame r, int w, int count, int stride)
    {
        var totals = new double[count];
        for (int b = 0; b < count; b++)
        {
            for (int t = 0; t < w; t++)
            {
                int row = (b * stride) + t;
                totals[b] += Math.Log(0.5 * (Math.Exp(r[row, 0]) + Math.Exp(r[row, 1])));
            }
        }

        return totals;
    }

    [Fact]
    public void Choose_TakesTheSmallestScaleWithinTheBand_ElseTheClosest()
    {
        CalibrationPoint[] table = [new(1, 0.10), new(2, 0.14), new(3, 0.17), new(4, 0.19)];
        Assert.Equal((3.0, true), GuidanceCalibration.Choose(table, 0.20, 0.25));       // 0.17 is −15%; 0.14 is −30%
        Assert.Equal((2.0, true), GuidanceCalibration.Choose(table, 0.16, 0.25));
        Assert.Equal((4.0, false), GuidanceCalibration.Choose(table, 0.50, 0.25));      // none within: the closest
        Assert.Equal((1.0, false), GuidanceCalibration.Choose(table, 0.01, 0.25));
        Assert.Throws<ArgumentException>(() => GuidanceCalibration.Choose([], 0.2, 0.25));
    }

    [Fact]
    public void Choose_Closest_TakesTheScaleNearestTheRealisedEs_WhateverTheBand()
    {
        CalibrationPoint[] table = [new(1, 0.10), new(2, 0.14), new(3, 0.17), new(4, 0.19)];
        const GuidanceCalibrationRule Closest = GuidanceCalibrationRule.ClosestToRealised;
        Assert.Equal((4.0, true), GuidanceCalibration.Choose(table, 0.20, 0.25, Closest));   // the smallest-within rule takes 3
        Assert.Equal((2.0, true), GuidanceCalibration.Choose(table, 0.145, 0.25, Closest));
        Assert.Equal((4.0, false), GuidanceCalibration.Choose(table, 0.50, 0.25, Closest));
        Assert.Equal((1.0, true), GuidanceCalibration.Choose(table, 0.09, 0.25, Closest));
        CalibrationPoint[] tied = [new(1, 0.10), new(2, 0.14), new(3, 0.18)];
        Assert.Equal((2.0, true), GuidanceCalibration.Choose(tied, 0.16, 0.25, Closest));       // |0.14 − 0.16| = |0.18 − 0.16|: the smaller w
        Assert.Throws<ArgumentException>(() => GuidanceCalibration.Choose(table, 0.2, 0.25, GuidanceCalibrationRule.Regime));
        Assert.Throws<ArgumentException>(() => new GuidanceCalibrationOptions { Rule = (GuidanceCalibrationRule)7 }.Validate());
        Assert.Throws<ArgumentException>(() => new GuidanceCalibrationOptions { GuidanceMinNoise = -1 }.Validate());
        Assert.Throws<ArgumentException>(() => new GuidanceCalibrationOptions { GuidanceMinNoise = double.NaN }.Validate());
    }

    [Fact]
    public void CalibrateGuidance_Closest_DrawsEveryScale_AtTheGivenNoiseLevel_AndTheModelKeepsIt()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var episode = new CrisisEpisode("test", returns.Dates[20], returns.Dates[60], "a test episode");
        var options = new GuidanceCalibrationOptions
        {
            Episode = episode, MaxScale = 3, Samples = 60, Tolerance = 0.9, Rule = GuidanceCalibrationRule.ClosestToRealised, GuidanceMinNoise = 0.35, Sampler = SamplerKind.Ddim,
        };
        var c = g.CalibrateGuidance(returns, conditions, options);
        Assert.Equal([1.0, 2.0, 3.0], c.Points.Select(p => p.Guidance));                 // no early stop, even within a wide band
        Assert.NotEqual(c.Points[0].ExpectedShortfall, c.Points[2].ExpectedShortfall);   // guidance acts at σ_t ≥ 0.35
        Assert.Equal(GuidanceCalibrationRule.ClosestToRealised, c.Rule);
        Assert.Equal(0.35, c.GuidanceMinNoise);
        var request = new SequenceSampleRequest(new Dictionary<string, double>(c.State), 2, new SamplerOptions(SamplerKind.Ddim, 50), GuidanceMinNoise: 0.35);
        Assert.Equal(Es(Totals(g.Sample(60, 2003, request), 5, 60, 5), 0.975), c.Points[1].ExpectedShortfall, 12);
        var everyStep = g.Sample(60, 2003, request with { GuidanceMinNoise = 0 });
        Assert.NotEqual(Es(Totals(everyStep, 5, 60, 5), 0.975), c.Points[1].ExpectedShortfall);    // σ_g changed the draws
        Assert.Equal(c.Points.OrderBy(p => Math.Abs(p.ExpectedShortfall - c.RealisedEs)).First().Guidance, c.Chosen);
        Assert.Equal((c.Chosen, 0.35), (g.Manifest.Config.GuidanceScale, g.Manifest.Config.GuidanceMinNoise));
        var scenarios = g.Generate(2, 1, new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = 30 }, Sampler: new SamplerOptions(Steps: 5)));
        Assert.Equal((c.Chosen, 0.35), (scenarios.Metadata.Guidance, scenarios.Metadata.GuidanceMinNoise));
    }

    [Fact]
    public void CalibrateGuidance_FollowsTheRule_SetsTheDefault_AndSurvivesSaveAndLoad()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var episode = new CrisisEpisode("test", returns.Dates[20], returns.Dates[60], "a test episode");
        var options = new GuidanceCalibrationOptions { Episode = episode, MaxScale = 3, Samples = 60, Tolerance = 0.2, Rule = GuidanceCalibrationRule.SmallestWithinTolerance, Sampler = SamplerKind.Ddim };
        var c = g.CalibrateGuidance(returns, conditions, options);

        // the realised ES: the 37 five-day windows inside rows 20..60
        Assert.Equal(37, c.RealisedWindows);
        Assert.Equal(Es(Totals(returns.Slice(20, 61), 5, 37, 1), 0.975), c.RealisedEs, 12);

        // the state: the row before the one that first shows the episode's highest VIXCLS (60, in the state row of day 33)
        Assert.Equal(returns.Dates[32].ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), c.StateDate);
        Assert.Equal(15.0 + (29 % 9), c.State["VIXCLS"]);

        // each point is the ES of 60 windows drawn at that w with seed 2000 + the model's seed; the rule stops at the first w within the band
        foreach (var p in c.Points)
        {
            var frame = g.Sample(60, 2003, new SequenceSampleRequest(new Dictionary<string, double>(c.State), p.Guidance, new SamplerOptions(SamplerKind.Ddim, 50)));
            Assert.Equal(Es(Totals(frame, 5, 60, 5), 0.975), p.ExpectedShortfall, 12);
        }

        Assert.Equal(GuidanceCalibration.Choose(c.Points, c.RealisedEs, 0.2), (c.Chosen, c.WithinTolerance));
        Assert.True(c.Points.Count == 3 || c.WithinTolerance);
        Assert.Equal(c.Chosen, g.Manifest.Config.GuidanceScale);
        Assert.Equal(c.Chosen, g.Generate(2, 1, new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = 30 }, Sampler: new SamplerOptions(Steps: 5))).Metadata.Guidance);

        string folder = Path.Combine(Path.GetTempPath(), "crucible-calibrated-" + Guid.NewGuid().ToString("N"));
        try
        {
            g.Save(folder);
            var loaded = SequenceGenerator.Load(folder);
            Assert.Equal(c.Chosen, loaded.Manifest.Config.GuidanceScale);
            Assert.Equal(c.Points, loaded.Manifest.GuidanceCalibration!.Points);
            Assert.Equal(c.RealisedEs, loaded.Manifest.GuidanceCalibration.RealisedEs);
            Assert.Equal((GuidanceCalibrationRule.SmallestWithinTolerance, 0.0), (loaded.Manifest.GuidanceCalibration.Rule, loaded.Manifest.GuidanceCalibration.GuidanceMinNoise));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void CalibrateGuidance_DrawsWithTheNamedSampler()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var episode = new CrisisEpisode("test", returns.Dates[20], returns.Dates[60], "a test episode");
        var c = g.CalibrateGuidance(returns, conditions, new GuidanceCalibrationOptions { Episode = episode, MaxScale = 1, Samples = 60, Rule = GuidanceCalibrationRule.SmallestWithinTolerance });
        Assert.Equal(SamplerKind.DpmSolver2M, new GuidanceCalibrationOptions().Sampler);                  // the default
        Assert.Equal(GuidanceCalibrationRule.Regime, new GuidanceCalibrationOptions().Rule);
        Assert.Equal("dpm2m-50", c.Sampler);
        var request = new SequenceSampleRequest(new Dictionary<string, double>(c.State), 1, new SamplerOptions(SamplerKind.DpmSolver2M, 50));
        Assert.Equal(Es(Totals(g.Sample(60, 2003, request), 5, 60, 5), 0.975), c.Points[0].ExpectedShortfall, 12);
        var ddim = request with { Sampler = new SamplerOptions(SamplerKind.Ddim, 50) };
        Assert.NotEqual(Es(Totals(g.Sample(60, 2003, ddim), 5, 60, 5), 0.975), c.Points[0].ExpectedShortfall);
        Assert.Throws<ArgumentException>(() => new GuidanceCalibrationOptions { Sampler = SamplerKind.Ddpm }.Validate());
    }

    [Fact]
    public void CalibrateGuidance_OnAModelOfFewerThan50Steps_RecordsTheStepsItDrew()
    {
        // a model of T = 20 diffusion steps is calibrated with all 20 (the draws cannot take 50): its manifest said
        // "dpm2m-50", a sampler that cannot run on it and whose draws are not the recorded ES
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny with { DiffusionSteps = 20 }).Fit(returns, conditions);
        var episode = new CrisisEpisode("test", returns.Dates[20], returns.Dates[60], "a test episode");
        var c = g.CalibrateGuidance(returns, conditions, new GuidanceCalibrationOptions { Episode = episode, MaxScale = 1, Samples = 60, Rule = GuidanceCalibrationRule.SmallestWithinTolerance });
        Assert.Equal("dpm2m-20", c.Sampler);
        var request = new SequenceSampleRequest(new Dictionary<string, double>(c.State), 1, new SamplerOptions(SamplerKind.DpmSolver2M, 20));
        Assert.Equal(Es(Totals(g.Sample(60, 2003, request), 5, 60, 5), 0.975), c.Points[0].ExpectedShortfall, 12);
    }

    [Fact]
    public void CalibrateGuidance_OnFeaturesBuiltOverTheWholeHistory_ReadsTheTrainPeriodsStatesOnly()
    {
        // the README's library example builds the features once over every return row, and Fit reads the train period's
        // rows only; the calibration took the episode's record state from any row, here the VIXCLS of 60 three days after
        // the train end (a state of the holdout period, a window the model never trained on, became its default guidance)
        var (returns, conditions) = Data();
        var train = returns.Slice(0, 31);                                 // up to day 30: the spike (the state row of day 33) comes later
        var trainConditions = conditions.Slice(0, conditions.IndexAtOrBefore(train.Dates[^1]) + 1);
        var episode = new CrisisEpisode("test", returns.Dates[20], returns.Dates[60], "a test episode");
        var options = new GuidanceCalibrationOptions { Episode = episode, MaxScale = 2, Samples = 40, Rule = GuidanceCalibrationRule.ClosestToRealised, Sampler = SamplerKind.Ddim };
        var onTrainRows = new SequenceGenerator(Tiny).Fit(train, trainConditions).CalibrateGuidance(train, trainConditions, options);
        var onAllRows = new SequenceGenerator(Tiny).Fit(train, conditions).CalibrateGuidance(train, conditions, options);
        Assert.True(string.CompareOrdinal(onAllRows.StateDate, train.Dates[^1].ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)) <= 0, onAllRows.StateDate);
        Assert.Equal((onTrainRows.StateDate, onTrainRows.State["VIXCLS"]), (onAllRows.StateDate, onAllRows.State["VIXCLS"]));
        Assert.Equal(onTrainRows.Points, onAllRows.Points);
    }

    [Fact]
    public void CalibrateGuidance_RefusesWhatItCannotCalibrate()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(Tiny).Fit(returns, conditions);
        var outside = new CrisisEpisode("gone", new DateOnly(2008, 9, 15), new DateOnly(2009, 3, 9), "before the data");
        var e = Assert.Throws<InvalidInputException>(() => g.CalibrateGuidance(returns, conditions, new GuidanceCalibrationOptions { Episode = outside, Samples = 40 }));
        Assert.Contains("holds no 5-day window", e.Message, StringComparison.Ordinal);
        var inside = new CrisisEpisode("test", returns.Dates[20], returns.Dates[60], "");
        Assert.Throws<InvalidInputException>(() => g.CalibrateGuidance(returns, conditions, new GuidanceCalibrationOptions { Episode = inside, Feature = "RV20", Samples = 40 }));
        var unconditional = new SequenceGenerator(Tiny).Fit(returns);
        Assert.Throws<InvalidInputException>(() => unconditional.CalibrateGuidance(returns, conditions, new GuidanceCalibrationOptions { Episode = inside, Samples = 40 }));
        Assert.Throws<ArgumentException>(() => g.CalibrateGuidance(returns, conditions, new GuidanceCalibrationOptions { Episode = inside, Tolerance = 0 }));
        Assert.Equal(7, g.Manifest.Config.GuidanceScale);                              // unchanged by the refusals
        Assert.Null(g.Manifest.GuidanceCalibration);
    }
}
