using System.Security.Cryptography;
using Crucible.Data;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Training;
using Crucible.Tensors;

namespace Crucible.Diffusion.Tests.Sequence;

public class SequenceGeneratorTests
{
    /// <summary>A tiny network and schedule for tests (W = 5, T = 50, 25 steps); other test classes start from it too.</summary>
    internal static readonly SequenceGeneratorOptions TinyOptions = new()
    {
        Window = 5,
        DiffusionSteps = 50,
        Hidden = 8,
        Layers = 2,
        Heads = 2,
        TimeEmbedding = 8,
        Training = new TrainerOptions(Steps: 25, BatchSize: 16, LearningRate: 2e-3, WarmupSteps: 5),
        Seed = 7,
    };

    /// <summary>60 days of 2 series and a one-feature condition dated on the return days from day 3 on.</summary>
    private static (TimeSeriesFrame Returns, TimeSeriesFrame Conditions) Data()
    {
        var rng = new Random(5);
        var dates = Enumerable.Range(0, 60).Select(i => new DateOnly(2021, 1, 4).AddDays(i)).ToArray();
        var values = new double[60 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = ((rng.NextDouble() - 0.5) * 0.02) + (i % 2 == 0 ? 0.001 : -0.002);
        var cDates = dates[3..];
        var c = cDates.Select((_, i) => 15.0 + (i % 7)).ToArray();
        return (new TimeSeriesFrame(dates, ["SPY", "TLT"], values), new TimeSeriesFrame(cDates, ["VIXCLS"], c));
    }

    private static byte[] Csv(ScenarioSet s) => ScenarioCsv.Format(s.Values, s.Metadata.StepsPerScenario);

    [Fact]
    public void Sample_FromManyThreadsAtOnce_GivesEachCallTheWindowsItGivesAlone()
    {
        // the service shares one loaded model between concurrent requests; regime guidance fills a shared pilot cache
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(TinyOptions).Fit(returns, conditions);
        static SequenceSampleRequest Request(int s) => new(new Dictionary<string, double> { ["VIXCLS"] = 15 + s }, 1.5,
            new SamplerOptions(Steps: 8, MaxDegreeOfParallelism: 1), RegimeGuidance: s % 2 == 0 ? 0.5 : 0);
        var fresh = new SequenceGenerator(TinyOptions).Fit(returns, conditions);
        var alone = Enumerable.Range(0, 8).Select(s => fresh.Sample(20, (ulong)s, Request(s)).Values).ToArray();
        var together = new double[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, s => together[s] = g.Sample(20, (ulong)s, Request(s)).Values);
        for (int s = 0; s < 8; s++) Assert.Equal(alone[s], together[s]);
    }

    [Fact]
    public void Generate_HasTheScenarioLayout_Metadata_AndTheConditionSpace()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(TinyOptions with { Transform = SequenceTransform.Standardize }).Fit(returns, conditions);
        var m = g.Manifest;
        Assert.Equal(ModelKind.Sequence, m.Kind);
        Assert.Equal(56, m.Windows.Count);                        // 60 − 5 + 1
        Assert.Equal(53, m.Windows.Conditioned);                  // windows starting on days 3..55
        Assert.Equal(["VIXCLS"], m.Conditions.Names);
        var cz = conditions.Column(0)[..53];
        Assert.Equal(cz.Average(), m.Conditions.Mean[0], 12);
        Assert.Equal(conditions[52, 0], m.Conditions.Reference["VIXCLS"]);
        Assert.Equal(returns.Column(0).Average(), g.Affine.Offset[0], 12);

        // the stress specification sets the condition; naming it again in Conditions is a conflict
        var s = g.Generate(3, seed: 1, new SequenceSampleRequest(null, GuidanceScale: 2, new SamplerOptions(Steps: 10), Stress: "VIXCLS=30"));
        Assert.Throws<InvalidInputException>(() => g.Generate(3, seed: 1,
            new SequenceSampleRequest(new Dictionary<string, double> { ["vixcls"] = 30 }, GuidanceScale: 2, new SamplerOptions(Steps: 10), Stress: "VIXCLS=30")));
        Assert.Equal(
            g.Sample(3, 1, new SequenceSampleRequest(new Dictionary<string, double> { ["vixcls"] = 30 }, GuidanceScale: 2, new SamplerOptions(Steps: 10))).Values,
            s.Values.Values);
        Assert.Equal(15, s.Values.RowCount);
        Assert.Equal(["SPY", "TLT"], s.Values.Columns);
        Assert.Equal(5, s.Metadata.StepsPerScenario);
        Assert.Equal(ModelKind.Sequence, s.Metadata.Kind);
        Assert.Equal(2.0, s.Metadata.Guidance);
        Assert.Equal(30.0, s.Metadata.Conditions["VIXCLS"]);
        Assert.Equal("VIXCLS=30", s.Metadata.Stress);
        Assert.Equal(10, s.Metadata.SamplingSteps);
        Assert.All(s.Values.Values, v => Assert.True(double.IsFinite(v)));

        Assert.Throws<InvalidInputException>(() => g.Generate(1, 1, new SequenceSampleRequest(new Dictionary<string, double> { ["HY"] = 3 })));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    public void SameSeed_GivesByteIdenticalScenarios_OnOneAndTwoThreads_AndAfterSaveLoad(double conditionNoise)
    {
        var (returns, conditions) = Data();
        byte[] Run(int threads, out SequenceGenerator g)
        {
            using var limit = EngineThreads.Limit(threads);
            g = new SequenceGenerator(TinyOptions with { ConditionNoise = conditionNoise }).Fit(returns, conditions);
            var request = new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = 40 }, 1.5, new SamplerOptions(Steps: 8, ChunkSize: 4, MaxDegreeOfParallelism: threads));
            return Csv(g.Generate(10, seed: 3, request));
        }

        var one = Run(1, out var g1);
        var two = Run(2, out var g2);
        Assert.Equal(one, two);
        Assert.Equal(g1.WeightsBytes(), g2.WeightsBytes());
        Assert.Equal(g1.ManifestBytes(), g2.ManifestBytes());

        string folder = Path.Combine(Path.GetTempPath(), "crucible-seq-" + Guid.NewGuid().ToString("N"));
        try
        {
            g1.Save(folder);
            Assert.Equal(ModelKind.Sequence, SequenceGenerator.ReadKind(folder));
            var loaded = SequenceGenerator.Load(folder);
            Assert.Equal(g1.ManifestBytes(), loaded.ManifestBytes());
            var request = new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = 40 }, 1.5, new SamplerOptions(Steps: 8, ChunkSize: 4, MaxDegreeOfParallelism: 2));
            Assert.Equal(one, Csv(loaded.Generate(10, seed: 3, request)));
            Assert.Equal(g1.ModelId, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, "weights.safetensors")))));

            // a tampered weights file is refused
            var bytes = File.ReadAllBytes(Path.Combine(folder, "weights.safetensors"));
            bytes[^1] ^= 1;
            File.WriteAllBytes(Path.Combine(folder, "weights.safetensors"), bytes);
            Assert.Equal("model-integrity", Assert.Throws<InvalidInputException>(() => SequenceGenerator.Load(folder)).Rule);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void ConditionNoise_ReachesTraining_AndIsRecordedInTheManifest()
    {
        var (returns, conditions) = Data();
        var plain = new SequenceGenerator(TinyOptions).Fit(returns, conditions);
        var noisy = new SequenceGenerator(TinyOptions with { ConditionNoise = 0.5 }).Fit(returns, conditions);
        Assert.NotEqual(plain.WeightsBytes(), noisy.WeightsBytes());
        Assert.Contains("\"condition_noise\": 0.5", System.Text.Encoding.UTF8.GetString(noisy.ManifestBytes()), StringComparison.Ordinal);
        Assert.Equal(0.5, noisy.Manifest.Config.ConditionNoise);

        // without conditions the noise has nothing to act on: the unconditional model is the same
        Assert.Equal(
            new SequenceGenerator(TinyOptions).Fit(returns).WeightsBytes(),
            new SequenceGenerator(TinyOptions with { ConditionNoise = 0.5 }).Fit(returns).WeightsBytes());
    }

    [Fact]
    public void RequestWithoutGuidance_UsesTheModelsDefaultGuidance_AndRecordsIt()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(TinyOptions with { GuidanceScale = 2.5 }).Fit(returns, conditions);
        var sampler = new SamplerOptions(Steps: 6);
        var vix = new Dictionary<string, double> { ["VIXCLS"] = 35 };
        var byDefault = g.Generate(4, seed: 2, new SequenceSampleRequest(vix, Sampler: sampler));
        Assert.Equal(2.5, byDefault.Metadata.Guidance);
        Assert.Equal(g.Sample(4, 2, new SequenceSampleRequest(vix, 2.5, sampler)).Values, byDefault.Values.Values);
        Assert.NotEqual(g.Sample(4, 2, new SequenceSampleRequest(vix, 1.0, sampler)).Values, byDefault.Values.Values);

        // an explicit weight wins; a model whose default is 1 samples at w = 1 when the request gives none
        Assert.Equal(1.0, g.Generate(1, 2, new SequenceSampleRequest(vix, 1.0, sampler)).Metadata.Guidance);
        var plain = new SequenceGenerator(TinyOptions with { GuidanceScale = 1.0 }).Fit(returns, conditions);
        Assert.Equal(plain.Sample(4, 2, new SequenceSampleRequest(vix, 1.0, sampler)).Values, plain.Sample(4, 2, new SequenceSampleRequest(vix, Sampler: sampler)).Values);
        Assert.Throws<ArgumentException>(() => new SequenceGeneratorOptions { GuidanceScale = -1 }.Validate());
    }

    [Fact]
    public void UnconditionalRequest_OnAConditionalModel_RecordsNoGuidance_AsAnUnconditionalModelDoes()
    {
        // no condition named: the draw is the unconditional model's whatever w, σ_g and a say, and the metadata recorded the
        // model's defaults (guidance 2.5 here) as if they had been applied
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(TinyOptions with { GuidanceScale = 2.5, GuidanceMinNoise = 0.5, RegimeGuidance = 1 }).Fit(returns, conditions);
        var sampler = new SamplerOptions(Steps: 6);
        var plain = g.Generate(4, seed: 2, new SequenceSampleRequest(Sampler: sampler));
        Assert.Null(plain.Metadata.Guidance);
        Assert.Null(plain.Metadata.GuidanceMinNoise);
        Assert.Null(plain.Metadata.RegimeGuidance);
        Assert.Null(plain.Metadata.RegimeFactor);
        Assert.Empty(plain.Metadata.Conditions);
        // the values are the unconditional draw they always were (any w gives it without a condition)
        Assert.Equal(g.Sample(4, 2, new SequenceSampleRequest(Sampler: sampler)).Values, plain.Values.Values);

        // a conditional request still records what it applied
        var vix = g.Generate(4, seed: 2, new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = 35 }, Sampler: sampler));
        Assert.Equal((2.5, 0.5, 1.0), (vix.Metadata.Guidance, vix.Metadata.GuidanceMinNoise, vix.Metadata.RegimeGuidance));
        Assert.NotNull(vix.Metadata.RegimeFactor);
    }

    [Fact]
    public void GuidanceMinNoise_GuidesOnlyTheNoisierSteps_AndIsRecorded()
    {
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(TinyOptions with { GuidanceScale = 3 }).Fit(returns, conditions);
        var sampler = new SamplerOptions(Steps: 6);
        var vix = new Dictionary<string, double> { ["VIXCLS"] = 35 };
        double[] Draw(double? minNoise, double? w = null) => g.Sample(4, 2, new SequenceSampleRequest(vix, w, sampler, GuidanceMinNoise: minNoise)).Values;

        // σ_g = 0 is guidance at every step, bit for bit; σ_g above the last step's noise level is the plain conditional model
        var schedule = g.Schedule.Base;
        Assert.Equal(Draw(null), Draw(0));
        Assert.Equal(Draw(null, 1.0), Draw(schedule.NoiseLevel(schedule.Steps - 1) * 2));
        // in between, guidance at the noisier steps only: neither of the two
        double middle = schedule.NoiseLevel(schedule.Steps / 2);
        Assert.NotEqual(Draw(null), Draw(middle));
        Assert.NotEqual(Draw(null, 1.0), Draw(middle));

        var s = g.Generate(2, 2, new SequenceSampleRequest(vix, Sampler: sampler, GuidanceMinNoise: middle));
        Assert.Equal(middle, s.Metadata.GuidanceMinNoise);
        Assert.Null(g.Generate(2, 2, new SequenceSampleRequest(vix, Sampler: sampler)).Metadata.GuidanceMinNoise);
        Assert.DoesNotContain("guidance_min_noise", ScenarioCsv.ToJson(g.Generate(1, 2, new SequenceSampleRequest(vix, Sampler: sampler)).Metadata), StringComparison.Ordinal);

        // the model's default applies when the request gives none
        var limited = new SequenceGenerator(TinyOptions with { GuidanceScale = 3, GuidanceMinNoise = middle }).Fit(returns, conditions);
        Assert.Equal(Draw(middle), limited.Sample(4, 2, new SequenceSampleRequest(vix, Sampler: sampler)).Values);
        Assert.Equal(Draw(null), limited.Sample(4, 2, new SequenceSampleRequest(vix, Sampler: sampler, GuidanceMinNoise: 0)).Values);

        Assert.Equal(SequenceOption.GuidanceMinNoise, Assert.Throws<SequenceOptionException>(() => g.Sample(1, 2, new SequenceSampleRequest(vix, Sampler: sampler, GuidanceMinNoise: -1))).Option);
        Assert.Throws<ArgumentException>(() => new SequenceGeneratorOptions { GuidanceMinNoise = double.NaN }.Validate());
    }

    [Fact]
    public void ABatchPastTheLargest_IsRefusedByTheOptions_NotAnOverflowInTheTrainer()
    {
        var e = Assert.Throws<ArgumentException>(() => (TinyOptions with { Training = TinyOptions.Training! with { BatchSize = int.MaxValue } }).Validate());
        Assert.Contains("training.batch_size must be at most 1048576, got 2147483647", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AManifestWithNullOrInvalidParts_IsBadInput()
    {
        // each was a NullReferenceException or an ArgumentException from outside the mapped try (exit 1, no file named)
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(TinyOptions).Fit(returns, conditions);
        string folder = Path.Combine(Path.GetTempPath(), "crucible-seq-null-" + Guid.NewGuid().ToString("N"));
        try
        {
            g.Save(folder);
            string manifestPath = Path.Combine(folder, "manifest.json");
            string text = File.ReadAllText(manifestPath);
            foreach (var key in System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject().Select(kv => kv.Key).ToList())
            {
                var root = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
                root[key] = null;
                File.WriteAllText(manifestPath, root.ToJsonString());
                var e = Record.Exception(() => SequenceGenerator.Load(folder));
                Assert.True(e is null or InvalidInputException, $"\"{key}\": null gave {e}");
            }

            // these loaded, and a stress request then threw NullReferenceException
            foreach (var (key, inner) in new[] { ("data", (string?)null), ("conditions", "reference") })
            {
                var root = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
                if (inner is null) root[key] = null;
                else root[key]![inner] = null;
                File.WriteAllText(manifestPath, root.ToJsonString());
                Assert.Equal("model-invalid", Assert.Throws<InvalidInputException>(() => SequenceGenerator.Load(folder)).Rule);
            }
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void ModelSavedBeforeTheDefaultGuidance_KeepsSamplingAtOne()
    {
        // a manifest written before condition_noise and guidance_scale existed: it drew at w = 1 when a request gave no
        // guidance, and must keep drawing the same bytes
        var (returns, conditions) = Data();
        var g = new SequenceGenerator(TinyOptions with { GuidanceScale = 2.5 }).Fit(returns, conditions);
        string folder = Path.Combine(Path.GetTempPath(), "crucible-seq-old-" + Guid.NewGuid().ToString("N"));
        try
        {
            g.Save(folder);
            string manifestPath = Path.Combine(folder, "manifest.json");
            var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifestPath))!;
            var config = manifest["config"]!.AsObject();
            Assert.True(config.Remove("guidance_scale"));
            Assert.True(config.Remove("condition_noise"));
            File.WriteAllText(manifestPath, manifest.ToJsonString());
            var old = SequenceGenerator.Load(folder);
            Assert.Equal(1.0, old.Manifest.Config.GuidanceScale);
            Assert.Equal(0.0, old.Manifest.Config.ConditionNoise);
            var sampler = new SamplerOptions(Steps: 6);
            var vix = new Dictionary<string, double> { ["VIXCLS"] = 35 };
            var byDefault = old.Generate(4, seed: 2, new SequenceSampleRequest(vix, Sampler: sampler));
            Assert.Equal(1.0, byDefault.Metadata.Guidance);
            Assert.Equal(g.Sample(4, 2, new SequenceSampleRequest(vix, 1.0, sampler)).Values, byDefault.Values.Values);

            // a manifest that has the keys keeps its own default
            g.Save(folder + "-new");
            Assert.Equal(2.5, SequenceGenerator.Load(folder + "-new").Manifest.Config.GuidanceScale);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            if (Directory.Exists(folder + "-new")) Directory.Delete(folder + "-new", recursive: true);
        }
    }

    [Fact]
    public void Unconditional_Model_RefusesConditions_AndHasNoGuidanceInItsMetadata()
    {
        var (returns, _) = Data();
        var g = new SequenceGenerator(TinyOptions).Fit(returns);
        var s = g.Generate(2, 1, new SequenceSampleRequest(Sampler: new SamplerOptions(Steps: 5)));
        Assert.Null(s.Metadata.Guidance);
        Assert.Equal(10, s.Values.RowCount);
        Assert.Throws<InvalidInputException>(() => g.Generate(1, 1, new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = 20 })));
    }

    [Fact]
    public void Fit_RejectsTooFewRows()
    {
        var (returns, _) = Data();
        Assert.Throws<InvalidInputException>(() => new SequenceGenerator(TinyOptions).Fit(returns.Slice(0, 5)));
    }
}
