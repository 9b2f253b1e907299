using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Tests.Tabular;

public sealed class DiffusionGeneratorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-generator-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Daily-return-like rows: A ~ 1% · t(4)/√2 (heavy tails), B = 0.5% · (0.7 A/1% + 0.71 z), dated weekdays.</summary>
    internal static TimeSeriesFrame Returns(int n, ulong seed)
    {
        var rng = new Philox(seed);
        var values = new double[n * 2];
        var dates = new DateOnly[n];
        var date = new DateOnly(2010, 1, 4);
        for (int i = 0; i < n; i++)
        {
            double chi = 0;
            for (int k = 0; k < 4; k++) chi += Math.Pow(rng.NextNormal(), 2);
            double t = rng.NextNormal() / Math.Sqrt(chi / 4) / Math.Sqrt(2);
            values[2 * i] = 0.01 * t;
            values[(2 * i) + 1] = 0.005 * ((0.7 * t) + (0.71 * rng.NextNormal()));
            while (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) date = date.AddDays(1);
            dates[i] = date;
            date = date.AddDays(1);
        }

        return new TimeSeriesFrame(dates, ["A", "B"], values);
    }

    internal static DiffusionGeneratorOptions Small(int steps = 60, ulong seed = 1) => new()
    {
        Hidden = 32,
        Blocks = 1,
        TimeEmbedding = 16,
        DiffusionSteps = 200,
        Objective = Objective.V,
        Training = new TrainerOptions(Steps: steps, BatchSize: 64, LearningRate: 2e-3, WarmupSteps: 5, EmaDecay: 0.99),
        Seed = seed,
    };

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static double Std(double[] x)
    {
        double m = x.Average();
        return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Length - 1));
    }

    [Fact]
    public void Sample_FromManyThreadsAtOnce_GivesEachCallTheRowsItGivesAlone()
    {
        // the service shares one loaded generator between concurrent requests
        var generator = new DiffusionGenerator(Small(steps: 20)).Fit(Returns(200, 4));
        var alone = Enumerable.Range(0, 8).Select(s => generator.Sample(100, (ulong)s, new SamplerOptions(Steps: 10, MaxDegreeOfParallelism: 1)).Values).ToArray();
        var together = new double[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            s => together[s] = generator.Sample(100, (ulong)s, new SamplerOptions(Steps: 10, MaxDegreeOfParallelism: 1)).Values);
        for (int s = 0; s < 8; s++) Assert.Equal(alone[s], together[s]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void FitMatrix_WithAColumnNameCountOtherThanItsWidth_NamesTheColumnsParameter(int names)
    {
        // it was the frame's "20 values for 10 rows × 1 columns (Parameter 'values')", a parameter the caller never passed
        var columns = Enumerable.Range(0, names).Select(i => "s" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var e = Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Small()).Fit(new double[10, 2], columns));
        Assert.Equal("columns", e.ParamName);
    }

    [Fact]
    public void Fit_WithANullEmptyOrRepeatedColumnName_NamesItsPosition()
    {
        // a null or empty name trained and went into the manifest; a repeated one was the frame's "column names must be
        // unique", not saying which
        string Refusal(string?[] columns) =>
            Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Small()).Fit(new double[10, 3], columns!)).Message;
        Assert.StartsWith("column name 1 is null; every series needs a name", Refusal(["a", null, "c"]), StringComparison.Ordinal);
        Assert.StartsWith("column name 2 is empty", Refusal(["a", "b", ""]), StringComparison.Ordinal);
        Assert.StartsWith("column names 0 and 2 are both 'a'", Refusal(["a", "b", "a"]), StringComparison.Ordinal);

        var frame = new TimeSeriesFrame([], ["a", ""], new double[20], 10);
        var e = Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Small()).Fit(frame));
        Assert.Equal("trainReturns", e.ParamName);
        Assert.StartsWith("column name 1 is empty", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("scenario")]
    [InlineData("step")]
    public void Fit_WithASeriesNamedAsAScenarioFileColumn_IsRefusedNamingIt(string name)
    {
        // a series named 'scenario' or 'step' trained, and generate wrote "scenario,step,scenario,…", a header every
        // reader of scenario files refuses (duplicate-column): a model whose scenarios nothing could read
        var frame = new TimeSeriesFrame([], ["A", name], [.. Enumerable.Range(0, 20).Select(i => 0.001 * ((i * 7) % 11 - 5))], 10);
        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(Small()).Fit(frame));
        Assert.Equal("reserved-column", e.Rule);
        Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
    }

    // log returns of about 1e-300 that vary: series B
    private static TimeSeriesFrame TinySeries() => new([], ["A", "B"],
        [.. Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? 0.001 * ((i * 7) % 11 - 5) : 1e-300 * ((i * 3) % 7 - 3))], 20);

    [Fact]
    public void Fit_ASeriesThatFloat32FlushesToOneValue_IsRefusedNamingIt()
    {
        // untransformed ("none"), values of about 1e-300 are all one float32 value (0) in model space: the model trained,
        // and every scenario gave the series one value
        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(Small() with { Transform = MarginalTransform.None }).Fit(TinySeries()));
        Assert.Equal("model-space-range", e.Rule);
        Assert.Contains("series 'B': its training values vary", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_ATinySeriesStandardized_IsOfUnitScaleInModelSpace_AndItsScenariosVary()
    {
        // "standardize" was refused as above while StandardScaler's variance underflowed for such values (its scale came
        // out wrong, and the series flushed to one float32 value); it now divides them by their own standard deviation
        var generator = new DiffusionGenerator(Small() with { Transform = MarginalTransform.Standardize }).Fit(TinySeries());
        var sample = generator.Sample(200, seed: 4);
        var b = sample.Column(sample.ColumnIndex("B"));
        Assert.All(b, v => Assert.True(double.IsFinite(v) && Math.Abs(v) < 1e-297, v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(b.Distinct().Count() > 100, "the series' scenarios take one value");
    }

    [Fact]
    public void FitThenSample_ReproducesTheMarginalsAndCorrelation_InOriginalUnits()
    {
        var train = Returns(3000, 5);
        var generator = new DiffusionGenerator(Small(steps: 1500) with { Hidden = 64, Blocks = 2, TimeEmbedding = 32, DiffusionSteps = 1000 }).Fit(train);
        var sample = generator.Sample(4000, seed: 3);
        Assert.Equal(["A", "B"], sample.Columns);
        Assert.Equal(4000, sample.RowCount);
        Assert.False(sample.HasDates && sample.Dates.Length > 0);
        for (int c = 0; c < 2; c++)
        {
            double real = Std(train.Column(c)), synthetic = Std(sample.Column(c));
            Assert.InRange(synthetic / real, 0.85, 1.15);
            Assert.InRange(sample.Column(c).Average(), -0.15 * real, 0.15 * real);
        }

        double Corr(TimeSeriesFrame f)
        {
            double[] a = f.Column(0), b = f.Column(1);
            double ma = a.Average(), mb = b.Average();
            return a.Zip(b, (x, y) => (x - ma) * (y - mb)).Sum() / Math.Sqrt(a.Sum(x => (x - ma) * (x - ma)) * b.Sum(y => (y - mb) * (y - mb)));
        }

        Assert.InRange(Corr(sample) - Corr(train), -0.08, 0.08);
    }

    [Fact]
    public void TheTransformIsFittedOnTheRowsGiven_AndClampKeepsSamplesInTheTrainRange()
    {
        var all = Returns(600, 6);
        var train = all.Slice(0, 400);
        var generator = new DiffusionGenerator(Small() with { Tails = TailPolicy.Clamp }).Fit(train);

        // the quantile knots span exactly the train rows' range, whatever the later rows hold
        var knots = generator.Manifest.Transform.GetProperty("transforms")[0].GetProperty("arrays");
        for (int c = 0; c < 2; c++)
        {
            var x = knots.GetProperty($"x{c}").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(train.Column(c).Min(), x[0]);
            Assert.Equal(train.Column(c).Max(), x[^1]);
        }

        var sample = generator.Sample(3000, 2);
        for (int c = 0; c < 2; c++)
        {
            Assert.All(sample.Column(c), v => Assert.InRange(v, train.Column(c).Min(), train.Column(c).Max()));
        }

        Assert.Equal(400, generator.Manifest.Data.TrainRows);
        Assert.Equal(DiffusionGenerator.TrainMatrixSha256(train), generator.Manifest.Data.TrainMatrixSha256);
        Assert.Equal("2010-01-04", generator.Manifest.Data.TrainStart);
    }

    [Theory]
    [InlineData(MarginalTransform.QuantileNormal, false)]
    [InlineData(MarginalTransform.Standardize, false)]
    [InlineData(MarginalTransform.None, false)]
    [InlineData(MarginalTransform.None, true)]
    public void Fit_OnAHeadOfTheWholeFrame_IsTheFitOnACopyOfItsRows_AndNeverCopiesThem(MarginalTransform transform, bool privately)
    {
        // the train split of crucible train --train-end (and a service job's train_end) is a Head of the whole file's
        // frame, its rows not copied: the same weights and manifest (train_matrix_sha256 of its rows only) as the fit on a
        // copy of the rows, for each transform and under DP (a public scale), and nothing in the fit reads Values, which
        // would copy the rows out
        var all = Returns(400, 11);
        var copy = all.Slice(0, 300);
        var head = all.Head(300);
        var options = Small(steps: 20) with { Transform = transform };
        if (privately) options = options.WithPrivacy(new DpTrainingOptions { MaxGradNorm = 1, NoiseMultiplier = 1, Delta = 1e-4, EpsilonBudget = 100 });
        var onCopy = new DiffusionGenerator(options).Fit(copy, new DataProvenance("x.csv", "abc", "LogReturns"));
        var onHead = new DiffusionGenerator(options).Fit(head, new DataProvenance("x.csv", "abc", "LogReturns"));
        Assert.Equal(onCopy.WeightsBytes(), onHead.WeightsBytes());
        Assert.Equal(onCopy.ManifestBytes(), onHead.ManifestBytes());
        Assert.Equal(DiffusionGenerator.TrainMatrixSha256(copy), DiffusionGenerator.TrainMatrixSha256(head));
        Assert.Equal(privately ? null : DiffusionGenerator.TrainMatrixSha256(copy), onHead.Manifest.Data.TrainMatrixSha256);

        long before = GC.GetAllocatedBytesForCurrentThread();
        _ = head.Values; // the first read copies the rows out: the fit has not read them so
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before >= copy.RowCount * copy.ColumnCount * sizeof(double));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SaveThenLoad_SamplesTheSameBits_AndRewritesTheSameFiles(bool whiten)
    {
        var generator = new DiffusionGenerator(Small() with { Whiten = whiten }).Fit(Returns(300, 7), new DataProvenance("x.csv", "abc", "Prices"));
        string folder = Path.Combine(_dir, "model");
        generator.Save(folder);
        Assert.Equal(Sha(File.ReadAllBytes(Path.Combine(folder, "weights.safetensors"))), generator.ModelId);

        var loaded = DiffusionGenerator.Load(folder);
        Assert.Equal(generator.ModelId, loaded.ModelId);
        Assert.Equal(generator.Sample(500, 4).Values, loaded.Sample(500, 4).Values);
        Assert.Equal(generator.Sample(50, 4, new SamplerOptions(SamplerKind.Ddpm)).Values, loaded.Sample(50, 4, new SamplerOptions(SamplerKind.Ddpm)).Values);

        // saving again over the folder is atomic and gives the same bytes
        loaded.Save(folder);
        Assert.Equal(generator.ManifestBytes(), File.ReadAllBytes(Path.Combine(folder, "manifest.json")));
        Assert.DoesNotContain(Directory.GetDirectories(_dir), d => Path.GetFileName(d).StartsWith('.'));

        // the weights file is a standard safetensors file whose names and shapes are the network's state dict
        var file = SafeTensors.Load(Path.Combine(folder, "weights.safetensors"));
        var state = generator.Network.StateDict();
        Assert.Equal(state.Keys.Order(StringComparer.Ordinal), file.Names.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in state)
        {
            Assert.Equal(tensor.Shape, file.GetShape(name));
            Assert.Equal(tensor.Data, file.GetFloat32(name));
        }

        Assert.Equal([.. state.Keys], generator.Manifest.Weights.Tensors.Select(t => t.Name));
        Assert.Equal("abc", loaded.Manifest.Data.InputSha256);
        Assert.Equal(whiten, loaded.Manifest.Whitening is not null);
    }

    [Fact]
    public void SameDataConfigAndSeed_GiveByteIdenticalFiles_OnOneAndTwoThreads_AndSeedsDiffer()
    {
        var train = Returns(400, 8);
        (byte[] Weights, byte[] Manifest, byte[] Csv) Run(int threads, ulong sampleSeed)
        {
            using var limit = EngineThreads.Limit(threads);
            // hidden 128 and batch 128: the GEMMs are above Kernels.ParallelThreshold, so two threads really split them
            var g = new DiffusionGenerator(Small(steps: 40) with { Hidden = 128, Training = Small().Training with { Steps = 40, BatchSize = 128 } }).Fit(train);
            return (g.WeightsBytes(), g.ManifestBytes(), ScenarioCsv.Format(g.Generate(700, sampleSeed, new SamplerOptions(ChunkSize: 256)).Values));
        }

        var one = Run(1, 5);
        var two = Run(2, 5);
        Assert.Equal(one.Weights, two.Weights);
        Assert.Equal(one.Manifest, two.Manifest);
        Assert.Equal(one.Csv, two.Csv);
        Assert.NotEqual(one.Csv, Run(2, 6).Csv);

        var otherSeed = new DiffusionGenerator(Small(steps: 40, seed: 2) with { Hidden = 128, Training = Small().Training with { Steps = 40, BatchSize = 128 } }).Fit(train);
        Assert.NotEqual(one.Weights, otherSeed.WeightsBytes());
    }

    [Fact]
    public void Fit_ResumedFromACheckpoint_GivesTheSameModelAsAnUninterruptedFit()
    {
        var train = Returns(300, 9);
        var whole = new DiffusionGenerator(Small(steps: 40)).Fit(train);

        // interrupt after step 20 (a checkpoint is written every 10 steps), then fit again with the same checkpoint file
        string ckpt = Path.Combine(_dir, "fit.ckpt");
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Step >= 20) cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new DiffusionGenerator(Small(steps: 40)).Fit(train, null, progress, new CheckpointOptions(ckpt, Every: 10), cancel.Token));
        Assert.Equal("20", SafeTensors.Load(ckpt).Metadata!["step"]);

        var resumed = new DiffusionGenerator(Small(steps: 40)).Fit(train, checkpoint: new CheckpointOptions(ckpt, Every: 10));
        Assert.Equal(whole.WeightsBytes(), resumed.WeightsBytes());
        Assert.Equal(whole.ManifestBytes(), resumed.ManifestBytes());

        // a checkpoint of other options or data is refused
        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(Small(steps: 40, seed: 3)).Fit(train, checkpoint: new CheckpointOptions(ckpt)));
        Assert.Equal("checkpoint-mismatch", e.Rule);
        Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(Small(steps: 40)).Fit(Returns(300, 10), checkpoint: new CheckpointOptions(ckpt)));
    }

    [Fact]
    public void Load_RejectsMissingOrTamperedModels()
    {
        Assert.Equal("model-missing", Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(Path.Combine(_dir, "none"))).Rule);
        var generator = new DiffusionGenerator(Small(steps: 2)).Fit(Returns(100, 11));
        string folder = Path.Combine(_dir, "m");
        generator.Save(folder);
        string manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"hidden\"", "\"hiden\"", StringComparison.Ordinal));
        Assert.Equal("model-manifest", Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder)).Rule);
        generator.Save(folder);
        var weights = Path.Combine(folder, "weights.safetensors");
        var bytes = File.ReadAllBytes(weights);
        bytes[^3] ^= 1;
        File.WriteAllBytes(weights, bytes);
        Assert.Equal("model-integrity", Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder)).Rule);
    }

    [Fact]
    public void Load_AManifestWithNullOrInvalidParts_IsBadInput()
    {
        // each was a NullReferenceException, InvalidOperationException or ArgumentException (exit 1, no file named)
        var generator = new DiffusionGenerator(Small(steps: 2)).Fit(Returns(100, 11));
        string folder = Path.Combine(_dir, "m");
        generator.Save(folder);
        string manifest = Path.Combine(folder, "manifest.json");
        string text = File.ReadAllText(manifest);
        var edits = new (string What, Action<System.Text.Json.Nodes.JsonObject> Edit)[]
        {
            ("null columns", m => m["columns"] = null),
            ("null config", m => m["config"] = null),
            ("null schedule", m => m["schedule"] = null),
            ("null model_space", m => m["model_space"] = null),
            ("null weights", m => m["weights"] = null),
            ("null data", m => m["data"] = null), // loaded, then Generate threw NullReferenceException
            ("no transform", m => m.Remove("transform")),
            ("hidden 0", m => m["config"]!["hidden"] = 0),
            ("dropout 5", m => m["config"]!["dropout"] = 5),
        };
        foreach (var (what, edit) in edits)
        {
            var root = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
            edit(root);
            File.WriteAllText(manifest, root.ToJsonString());
            var e = Record.Exception(() => DiffusionGenerator.Load(folder));
            Assert.True(e is InvalidInputException { Rule: "model-manifest" or "model-invalid" or "model-integrity" }, $"{what}: {e}");
        }
    }

    [Fact]
    public void Load_AManifestWhoseModelSpaceMinimumIsAboveItsMaximum_IsModelInvalid_NotAnErrorWhenSampling()
    {
        // an edited model_space loaded, and every draw then stopped in Math.Clamp (ArgumentException: an internal error)
        var generator = new DiffusionGenerator(Small(steps: 2)).Fit(Returns(100, 11));
        string folder = Path.Combine(_dir, "m");
        generator.Save(folder);
        string manifest = Path.Combine(folder, "manifest.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        root["model_space"]!["min"]![1] = 5.0;
        File.WriteAllText(manifest, root.ToJsonString());

        var e = Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder));
        Assert.Equal("model-invalid", e.Rule);
        Assert.Contains("series 'B'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sample_OfAModelWhoseNetworkOverflows_IsRefused_NotRowsOfNaN()
    {
        // train --config {"training": {"learning_rate": 100}} --steps 3 ended with a finite (huge) loss, and every generate
        // of the model then wrote NaN scenarios with exit 0
        var options = Small(steps: 3) with { Training = Small().Training with { Steps = 3, LearningRate = 100, WarmupSteps = 0, EmaDecay = 0 } };
        var generator = new DiffusionGenerator(options).Fit(Returns(100, 11));
        var e = Assert.Throws<InvalidInputException>(() => generator.Sample(5, 1));
        Assert.Equal(DiffusionTrainer.DivergedRule, e.Rule);
        Assert.Contains("not a finite number", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Load_WeightsHoldingANonFiniteValue_AreRefusedAtTheWeightsFile(float value)
    {
        // weights with a NaN (a diverged run's, written with a matching manifest hash) loaded, and generate wrote a file of
        // NaN scenarios with exit 0, recorded in the audit log as drawn, which every reader then refused
        var generator = new DiffusionGenerator(Small(steps: 2)).Fit(Returns(100, 11));
        string folder = Path.Combine(_dir, "m");
        generator.Save(folder);
        var state = generator.Network.StateDict();
        var tensors = state.Select(kv => (kv.Key, kv.Value.Shape, (float[])kv.Value.Data.Clone())).ToList();
        int bias = tensors.FindIndex(t => t.Key == "out.bias");
        tensors[bias].Item3[1] = value;
        byte[] weights = SafeTensors.Serialize(tensors);
        string weightsPath = Path.Combine(folder, "weights.safetensors"), manifest = Path.Combine(folder, "manifest.json");
        File.WriteAllBytes(weightsPath, weights);
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        root["weights"]!["sha256"] = Sha(weights);
        File.WriteAllText(manifest, root.ToJsonString());

        var e = Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder));
        Assert.Equal("model-weights", e.Rule);
        Assert.Equal(weightsPath, e.Location?.File);
        Assert.Contains("'out.bias'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kind", "cosine")]
    [InlineData("diffusion_steps", "100")]
    [InlineData("volatility_adaptive", "false")]
    public void Load_AManifestWhoseScheduleIsNotItsConfigs_IsModelInvalid(string key, string value)
    {
        // the sampler ran the schedule section's process (another β schedule, T or noise scaling than the network was
        // trained on) while the config, the metadata's sampling steps and the sampler the model is made for kept the other
        var generator = new DiffusionGenerator(Small(steps: 2)).Fit(Returns(100, 11));
        string folder = Path.Combine(_dir, "m");
        generator.Save(folder);
        string manifest = Path.Combine(folder, "manifest.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        root["schedule"]![key] = System.Text.Json.Nodes.JsonNode.Parse(value is "cosine" ? "\"cosine\"" : value);
        File.WriteAllText(manifest, root.ToJsonString());

        var e = Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder));
        Assert.Equal("model-invalid", e.Rule);
        Assert.Contains($"schedule.{key}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AManifestWhoseTransformIsNotOfItsColumns_IsModelInvalid_AtTheFolder()
    {
        // columns reordered by hand loaded, and generate stopped after drawing with TRANSFORM-E naming no file; a transform
        // section that is not a pipeline was TRANSFORM-E naming no file either
        var generator = new DiffusionGenerator(Small(steps: 2)).Fit(Returns(100, 11));
        string folder = Path.Combine(_dir, "m");
        generator.Save(folder);
        string manifest = Path.Combine(folder, "manifest.json");
        string text = File.ReadAllText(manifest);
        foreach (var edit in new Action<System.Text.Json.Nodes.JsonObject>[]
        {
            m => m["columns"] = new System.Text.Json.Nodes.JsonArray("B", "A"),
            m => m["transform"] = System.Text.Json.Nodes.JsonNode.Parse("""{"version": 1, "transforms": 5}"""),
        })
        {
            var root = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
            edit(root);
            File.WriteAllText(manifest, root.ToJsonString());
            var e = Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder));
            Assert.Equal("model-invalid", e.Rule);
            Assert.Equal(folder, e.Location?.File);
        }
    }

    [Fact]
    public void Fit_WithSamplerDistillation_TrainsTheStudentInPlace_ReproduciblyOnOneAndTwoThreads_AndRoundTrips()
    {
        var train = Returns(300, 2);
        var plain = Small(steps: 40) with { Hidden = 128, Training = Small().Training with { Steps = 40, BatchSize = 128 } };
        var distilled = plain with { Distillation = new SamplerDistillationOptions(Steps: 25, SamplingSteps: 10, BatchSize: 128) };
        DiffusionGenerator Fit(DiffusionGeneratorOptions o, int threads)
        {
            using var limit = EngineThreads.Limit(threads);
            return new DiffusionGenerator(o).Fit(train);
        }

        var one = Fit(distilled, 1);
        var two = Fit(distilled, 2);
        Assert.Equal(one.WeightsBytes(), two.WeightsBytes());
        Assert.Equal(one.ManifestBytes(), two.ManifestBytes());
        var teacher = Fit(plain, 2);
        Assert.NotEqual(teacher.WeightsBytes(), one.WeightsBytes()); // the saved network is the student
        Assert.Equal(40, one.Manifest.Training.Steps);
        Assert.NotNull(one.Manifest.Training.DistillationFinalLoss);
        Assert.Null(teacher.Manifest.Training.DistillationFinalLoss);
        string manifest = Encoding.UTF8.GetString(one.ManifestBytes());
        Assert.Contains("\"distillation\"", manifest, StringComparison.Ordinal);
        Assert.Contains("\"distillation_final_loss\"", manifest, StringComparison.Ordinal);
        Assert.DoesNotContain("distillation", Encoding.UTF8.GetString(teacher.ManifestBytes()), StringComparison.Ordinal);

        string folder = Path.Combine(_dir, "distilled");
        one.Save(folder);
        var loaded = DiffusionGenerator.Load(folder);
        Assert.Equal(one.Manifest.Config.Distillation, loaded.Manifest.Config.Distillation);
        var ddim10 = new SamplerOptions(SamplerKind.Ddim, 10);
        Assert.Equal(one.Sample(300, 4, ddim10).Values, loaded.Sample(300, 4, ddim10).Values);
        Assert.True(loaded.IsMadeFor(ddim10));
        Assert.False(loaded.IsMadeFor(new SamplerOptions(SamplerKind.Ddim, 50)));
        Assert.False(loaded.IsMadeFor(new SamplerOptions(SamplerKind.DpmSolver2M, 10)));
        Assert.False(loaded.IsMadeFor(ddim10 with { Eta = 1 }));
        Assert.False(loaded.IsMadeFor(ddim10 with { Spacing = DdimSpacing.UniformAngle }));
        Assert.True(teacher.IsMadeFor(new SamplerOptions(SamplerKind.DpmSolver2M, 10)));
    }

    [Fact]
    public void SamplerDistillation_IsValidated_AndReadFromPartialConfigs()
    {
        Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Small() with { Distillation = new SamplerDistillationOptions(SamplingSteps: 201) }));
        Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Small() with { Distillation = new SamplerDistillationOptions(Steps: 0) }));
        Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Small() with { Distillation = new SamplerDistillationOptions(LearningRate: double.NaN) }));
        // a batch of 2^31 − 1 rows overflowed the trainer's buffers ("Array dimensions exceeded supported range", an unhandled
        // OutOfMemoryException that ended crucible train with a stack trace)
        Assert.Contains("training.batch_size must be at most 1048576, got 2147483647", Assert.Throws<ArgumentException>(
            () => new DiffusionGenerator(Small() with { Training = Small().Training! with { BatchSize = int.MaxValue } })).Message, StringComparison.Ordinal);
        Assert.Contains("distillation.batch_size must be at most 1048576", Assert.Throws<ArgumentException>(
            () => new DiffusionGenerator(Small() with { Distillation = new SamplerDistillationOptions(BatchSize: TrainerOptions.MaxBatchSize + 1) })).Message, StringComparison.Ordinal);
        _ = new DiffusionGenerator(Small() with { Training = Small().Training! with { BatchSize = TrainerOptions.MaxBatchSize } });
        var dp = new DiffusionGeneratorOptions { Distillation = new SamplerDistillationOptions() }.WithPrivacy(new DpTrainingOptions { NoiseMultiplier = 1.0 });
        Assert.Contains("privacy", Assert.Throws<ArgumentException>(() => new DiffusionGenerator(dp)).Message, StringComparison.Ordinal);

        var partial = JsonSerializer.Deserialize<DiffusionGeneratorOptions>(
            """{"distillation": {"steps": 5, "spacing": "uniform_angle"}}""", DiffusionJson.Options)!;
        Assert.Equal(new SamplerDistillationOptions(Steps: 5, Spacing: DdimSpacing.UniformAngle), partial.Distillation);
        Assert.DoesNotContain("distillation", JsonSerializer.Serialize(new DiffusionGeneratorOptions(), DiffusionJson.Options), StringComparison.Ordinal);
    }

    [Fact]
    public void Fit_RejectsNonFiniteOrTooFewRows_AndOptionsAreValidated()
    {
        var bad = new TimeSeriesFrame([], ["A"], [0.01, double.NaN, 0.02], 3);
        Assert.Equal("non-finite", Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(Small()).Fit(bad)).Rule);
        Assert.Equal("too-few-rows", Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(Small()).Fit(new TimeSeriesFrame([], ["A"], [0.01], 1))).Rule);
        Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Small() with { TimeEmbedding = 15 }));
        Assert.Throws<InvalidOperationException>(() => new DiffusionGenerator().Sample(1, 0));
    }

    [Theory]
    [InlineData(70_000, 128, 256, "hidden")]                  // a 70,000 × 70,000 block weight
    [InlineData(256, 2_000_000_000, 256, "time_embedding")]   // a 256 × 2e9 time-embedding weight
    [InlineData(4096, 128, 1 << 20, "training.batch_size")]   // a batch of 2^20 rows × 4,096 hidden units
    public void Options_WhoseNetworkOrBatchNeedsATensorBeyond2Pow31Elements_AreRefusedNamingTheSetting(int hidden, int timeEmbedding, int batch, string setting)
    {
        // {"hidden": 70000} passed the validation and the network's constructor stopped in Tensor (ArgumentException
        // "tensor too large", an internal error of train, exit 1) instead of a config refusal
        var options = Small() with { Hidden = hidden, TimeEmbedding = timeEmbedding, Training = Small().Training with { BatchSize = batch } };
        var e = Assert.Throws<ArgumentException>(() => new DiffusionGenerator(options));
        Assert.StartsWith(setting + " ", e.Message, StringComparison.Ordinal);
        Assert.Contains("2147483647 elements", e.Message, StringComparison.Ordinal);
    }

    // Standardize at 1e200 was a case here until session 33: the scaler's standard deviation overflowed and it kept scale 1,
    // so the value reached the network as 1e200; it now standardises it (Fit_StandardizesAHugeFiniteValue_WithinFloatRange)
    [Theory]
    [InlineData(MarginalTransform.None, 1e39)]
    public void Fit_RefusesAFiniteValueBeyondTheNetworksFloatRange_NamingIt(MarginalTransform transform, double huge)
    {
        // data check calls such a file usable; training crashed in the schedule's fit ("series 0 has non-finite values",
        // an ArgumentException: the CLI's exit 1, internal error)
        var values = new double[40];
        for (int i = 0; i < values.Length; i++) values[i] = 0.001 * ((i % 7) - 3);
        values[2 * 5] = huge;
        var frame = new TimeSeriesFrame([], ["A", "B"], values, 20);
        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(Small() with { Transform = transform }).Fit(frame));
        Assert.Equal("model-space-range", e.Rule);
        Assert.StartsWith("series 'A': the transform maps its training value at row ", e.Message, StringComparison.Ordinal);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"its largest value is {huge:G6} (row 5)"), e.Message, StringComparison.Ordinal);
        Assert.True(new DiffusionGenerator(Small()).Fit(frame).IsFitted);     // the quantile-normal transform ranks it
    }

    /// <summary>
    /// Session 33 (the data layer's defect hunt): StandardScaler measures the spread of values near double.MaxValue without
    /// overflowing, so a series holding 1e200 is standardised (to about √19 there) and trains, where its scale of 1 used to
    /// hand the network 1e200 and the fit refused it as beyond the float range.
    /// </summary>
    [Fact]
    public void Fit_StandardizesAHugeFiniteValue_WithinFloatRange()
    {
        var values = new double[40];
        for (int i = 0; i < values.Length; i++) values[i] = 0.001 * ((i % 7) - 3);
        values[2 * 5] = 1e200;
        var frame = new TimeSeriesFrame([], ["A", "B"], values, 20);
        Assert.True(new DiffusionGenerator(Small() with { Transform = MarginalTransform.Standardize }).Fit(frame).IsFitted);
    }

    [Fact]
    public void Options_RoundTripThroughTheConfigJson_AndPartialConfigsKeepDefaults()
    {
        var options = Small() with { Transform = MarginalTransform.Standardize, Schedule = Crucible.Diffusion.Schedules.BetaScheduleKind.Cosine };
        var json = JsonSerializer.Serialize(options, DiffusionJson.Options);
        Assert.Contains("\"transform\": \"standardize\"", json, StringComparison.Ordinal);
        Assert.Contains("\"batch_size\": 64", json, StringComparison.Ordinal);
        Assert.Equal(options, JsonSerializer.Deserialize<DiffusionGeneratorOptions>(json, DiffusionJson.Options));

        var partial = JsonSerializer.Deserialize<DiffusionGeneratorOptions>("""{"hidden": 64, "training": {"steps": 7}}""", DiffusionJson.Options)!;
        Assert.Equal(64, partial.Hidden);
        Assert.Equal(7, partial.Training.Steps);
        Assert.Equal(new TrainerOptions().BatchSize, partial.Training.BatchSize);
        Assert.Equal(new DiffusionGeneratorOptions().Transform, partial.Transform);
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DiffusionGeneratorOptions>("""{"hiden": 64}""", DiffusionJson.Options));
    }

    [Fact]
    public void ScenarioCsv_HasTheArchitectureLayout_AndAMetadataFileBesideIt()
    {
        var values = new TimeSeriesFrame([], ["SPY", "=cmd"], [0.1, -0.25, 1e-20, 3.0], 2);
        var text = Encoding.UTF8.GetString(ScenarioCsv.Format(values));
        Assert.Equal("scenario,step,SPY,'=cmd\n1,1,0.1,-0.25\n2,1,1E-20,3\n", text);
        Assert.Equal("scenario,step,SPY,'=cmd\n1,1,0.1,-0.25\n1,2,1E-20,3\n", Encoding.UTF8.GetString(ScenarioCsv.Format(values, stepsPerScenario: 2)));
        Assert.Equal(Path.Combine("a", "s.meta.json"), ScenarioCsv.MetadataPath(Path.Combine("a", "s.csv")));
        Assert.Equal("out.txt.meta.json", ScenarioCsv.MetadataPath("out.txt"));

        string csv = Path.Combine(_dir, "s.csv");
        var meta = ScenarioCsv.Write(csv, new ScenarioSet(values, new ScenarioMetadata { ModelId = "m", Seed = 4 }), new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)));
        Assert.Equal("2024-05-06T05:08:09Z", meta.Created);
        Assert.Equal(Sha(File.ReadAllBytes(csv)), meta.CsvSha256);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "s.meta.json")));
        Assert.Equal(2, doc.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal("s.csv", doc.RootElement.GetProperty("csv_file").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("guidance").ValueKind);
    }

    /// <summary>Reports synchronously on the calling thread (System.Progress posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
