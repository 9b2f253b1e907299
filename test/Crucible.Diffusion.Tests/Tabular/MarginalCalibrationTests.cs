using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Data.Statistics;
using Crucible.Data.Transforms;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Tabular;

public sealed class MarginalCalibrationTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-calibration-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // an under-trained model (its marginals are far from N(0, 1) in model space); extrapolated tails, so no clamping ties
    private static DiffusionGeneratorOptions Plain() => DiffusionGeneratorTests.Small(steps: 8) with { Tails = TailPolicy.Extrapolate };

    private static DiffusionGeneratorOptions Calibrated() => Plain() with { Calibration = new MarginalCalibrationOptions(Rows: 4000, Knots: 200) };

    /// <summary>The two-sided Kolmogorov–Smirnov distance of <paramref name="x"/> from N(0, 1).</summary>
    private static double KsFromNormal(IEnumerable<double> x)
    {
        var s = x.Order().ToArray();
        double d = 0;
        for (int i = 0; i < s.Length; i++)
        {
            double f = NormalDistribution.Cdf(s[i]);
            d = Math.Max(d, Math.Max(((i + 1.0) / s.Length) - f, f - ((double)i / s.Length)));
        }

        return d;
    }

    private static double[] Column(TimeSeriesFrame frame, int c) => frame.Column(c);

    [Fact]
    public void Fit_OnDrawsOfAScaledNormal_LearnsTheInverseScale_AndTheMapIsMonotone()
    {
        // a "model" whose first series is 20% narrow and whose second is shifted by 0.3: the map must undo both
        var rng = new Philox(11);
        int rows = 100_000;
        var drawn = new double[rows * 2];
        for (int i = 0; i < rows; i++)
        {
            drawn[2 * i] = 0.8 * rng.NextNormal();
            drawn[(2 * i) + 1] = rng.NextNormal() + 0.3;
        }

        var calibration = MarginalCalibration.Fit(drawn, ["A", "B"], new MarginalCalibrationOptions(), new SamplerOptions(), seed: 5);
        Assert.Equal(rows, calibration.Rows);
        Assert.Equal(50, calibration.SamplingSteps);
        var map = TransformPipeline.FromJson(calibration.Map.GetRawText());
        double[] probes = [-2.0, -1.0, -0.25, 0.0, 0.5, 1.0, 2.0];
        var values = new double[probes.Length * 2];
        for (int i = 0; i < probes.Length; i++)
        {
            values[2 * i] = 0.8 * probes[i];
            values[(2 * i) + 1] = probes[i] + 0.3;
        }

        MarginalCalibration.Apply(map, values, ["A", "B"]);
        for (int i = 0; i < probes.Length; i++)
        {
            Assert.InRange(values[2 * i], probes[i] - 0.03, probes[i] + 0.03);
            Assert.InRange(values[(2 * i) + 1], probes[i] - 0.03, probes[i] + 0.03);
            if (i > 0) Assert.True(values[2 * i] > values[2 * (i - 1)]);
        }
    }

    [Fact]
    public void Calibration_MakesTheGeneratedMarginalsNormal_KeepsEveryRowsRanks_AndLeavesTheNetworkAlone()
    {
        var train = DiffusionGeneratorTests.Returns(400, 2);
        var plain = new DiffusionGenerator(Plain()).Fit(train);
        var calibrated = new DiffusionGenerator(Calibrated()).Fit(train);
        Assert.Equal(plain.WeightsBytes(), calibrated.WeightsBytes()); // calibration draws from the trained network and changes no weight
        Assert.Null(plain.Manifest.Calibration);
        Assert.Equal(4000, calibrated.Manifest.Calibration!.Rows);
        Assert.Equal(MarginalCalibration.SeedFor(calibrated.Options.Seed), calibrated.Manifest.Calibration.Seed);

        var before = plain.Transform.Forward(plain.Sample(3000, seed: 9));
        var after = calibrated.Transform.Forward(calibrated.Sample(3000, seed: 9));
        double worstBefore = 0;
        for (int c = 0; c < 2; c++)
        {
            double ksBefore = KsFromNormal(Column(before, c)), ksAfter = KsFromNormal(Column(after, c));
            output.WriteLine($"series {c}: KS from N(0, 1) {ksBefore:F4} uncalibrated, {ksAfter:F4} calibrated");
            worstBefore = Math.Max(worstBefore, ksBefore);

            // 3,000 draws against a map measured on 4,000: a KS of about 0.02 is sampling noise
            Assert.True(ksAfter < 0.045, $"series {c}: calibrated KS from N(0, 1) {ksAfter:F4} (uncalibrated {ksBefore:F4})");

            // a monotone map per series: every draw keeps its rank
            var rankBefore = Column(before, c).Select((v, i) => (v, i)).OrderBy(p => p.v).Select(p => p.i);
            var rankAfter = Column(after, c).Select((v, i) => (v, i)).OrderBy(p => p.v).Select(p => p.i);
            Assert.Equal(rankBefore, rankAfter);
        }

        Assert.True(worstBefore > 0.1, $"the under-trained model is already close to normal (worst KS {worstBefore:F4}); the test has no power");
    }

    [Fact]
    public void Calibrated_IsReproducibleOnOneAndTwoThreads_RoundTrips_AndAppliesOnlyToItsSampler()
    {
        var train = DiffusionGeneratorTests.Returns(300, 3);
        DiffusionGenerator Fit(int threads)
        {
            using var limit = EngineThreads.Limit(threads);
            return new DiffusionGenerator(Calibrated()).Fit(train);
        }

        var one = Fit(1);
        var two = Fit(2);
        Assert.Equal(one.ManifestBytes(), two.ManifestBytes());
        string manifest = Encoding.UTF8.GetString(one.ManifestBytes());
        Assert.Contains("\"calibration\"", manifest, StringComparison.Ordinal);

        string folder = Path.Combine(_dir, "calibrated");
        one.Save(folder);
        var loaded = DiffusionGenerator.Load(folder);
        var ddim50 = new SamplerOptions();
        Assert.Equal(one.Sample(500, 4).Values, loaded.Sample(500, 4, ddim50 with { MaxDegreeOfParallelism = 1 }).Values);
        Assert.True(loaded.IsCalibratedFor(ddim50));
        Assert.True(loaded.IsMadeFor(ddim50));
        foreach (var other in new[] { new SamplerOptions(SamplerKind.DpmSolver2M), ddim50 with { Steps = 20 }, ddim50 with { Eta = 1 }, new SamplerOptions(SamplerKind.Ddpm) })
        {
            Assert.False(loaded.IsCalibratedFor(other));
            Assert.False(loaded.IsMadeFor(other));
        }

        // another sampler's draws are not mapped: they equal the uncalibrated model's
        var plain = new DiffusionGenerator(Plain()).Fit(train);
        var dpm = new SamplerOptions(SamplerKind.DpmSolver2M);
        Assert.Equal(plain.Sample(200, 6, dpm).Values, loaded.Sample(200, 6, dpm).Values);
        Assert.NotEqual(plain.Sample(200, 6).Values, loaded.Sample(200, 6).Values);

        // the scenario metadata says whether it was applied; a model without one has no such key
        Assert.True(loaded.Generate(10, 1).Metadata.MarginalCalibration);
        Assert.False(loaded.Generate(10, 1, dpm).Metadata.MarginalCalibration);
        Assert.Null(plain.Generate(10, 1).Metadata.MarginalCalibration);
        Assert.DoesNotContain("calibration", Encoding.UTF8.GetString(plain.ManifestBytes()), StringComparison.Ordinal);

        // a manifest stripped of its calibration (its config still asking for one) is refused
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(folder, DiffusionGenerator.ManifestFileName)))!.AsObject();
        node.Remove("calibration");
        File.WriteAllText(Path.Combine(folder, DiffusionGenerator.ManifestFileName), node.ToJsonString());
        Assert.Equal("model-invalid", Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder)).Rule);
    }

    [Fact]
    public void CalibrationRowsBeyondOneDraw_AreRefusedBeforeTraining_NamingTheSetting()
    {
        // {"calibration": {"rows": 2000000000}} trained every step first, then stopped at the calibration draw with rule
        // count, "… scenarios … (batches with different seeds)", naming no setting of the config
        int steps = 0;
        var options = Plain() with { Calibration = new MarginalCalibrationOptions(Rows: 100_000_000, Knots: 100) };
        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(options).Fit(
            DiffusionGeneratorTests.Returns(100, 11), progress: new StepCounter(() => steps++)));
        Assert.Equal("config", e.Rule);
        Assert.StartsWith("calibration.rows 100000000 ", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, steps);
    }

    private sealed class StepCounter(Action step) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => step();
    }

    [Fact]
    public void Calibration_IsValidated_AndReadFromPartialConfigs()
    {
        string Refusal(DiffusionGeneratorOptions o) => Assert.Throws<ArgumentException>(() => new DiffusionGenerator(o)).Message;
        Assert.Contains("quantile_normal", Refusal(Calibrated() with { Transform = MarginalTransform.Standardize }), StringComparison.Ordinal);
        Assert.Contains("calibration.rows", Refusal(Plain() with { Calibration = new MarginalCalibrationOptions(Rows: 99) }), StringComparison.Ordinal);
        Assert.Contains("calibration.knots", Refusal(Plain() with { Calibration = new MarginalCalibrationOptions(Rows: 500, Knots: 501) }), StringComparison.Ordinal);
        // rows alone below the knots' default: the refusal gives the value it meets and says it is the default
        var rowsAlone = JsonSerializer.Deserialize<DiffusionGeneratorOptions>("""{"transform": "quantile_normal", "calibration": {"rows": 500}}""", DiffusionJson.Options)!;
        Assert.Contains("calibration.knots must be in 2..calibration.rows (2..500 here), got 1000 (calibration.knots is 1000 when not given)", Refusal(rowsAlone), StringComparison.Ordinal);
        var dp = new DiffusionGeneratorOptions { Calibration = new MarginalCalibrationOptions() }.WithPrivacy(new DpTrainingOptions { NoiseMultiplier = 1.0 });
        Assert.Contains("privacy", Refusal(dp), StringComparison.Ordinal);

        var partial = JsonSerializer.Deserialize<DiffusionGeneratorOptions>("""{"calibration": {"rows": 5000}}""", DiffusionJson.Options)!;
        Assert.Equal(new MarginalCalibrationOptions(Rows: 5000), partial.Calibration);
        Assert.DoesNotContain("calibration", JsonSerializer.Serialize(new DiffusionGeneratorOptions(), DiffusionJson.Options), StringComparison.Ordinal);

        // the sampler a model is made for: the distillation's grid, else DDIM-50
        Assert.Equal(new SamplerOptions(), new DiffusionGeneratorOptions().MadeForSampler);
        var distilled = new DiffusionGeneratorOptions { Distillation = new SamplerDistillationOptions(SamplingSteps: 20, Spacing: DdimSpacing.UniformAngle) };
        Assert.Equal(new SamplerOptions(SamplerKind.Ddim, 20, Spacing: DdimSpacing.UniformAngle), distilled.MadeForSampler);
    }
}
