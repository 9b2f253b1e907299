using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Tests.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>DP-SGD through the trainer and the tabular generator: ghost clipping, §2.5 end to end, budget guard, DP-10/11.</summary>
public sealed class DpTrainingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-dp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MlpDenoiser Net(ulong seed, int d = 3) => new(new MlpDenoiserConfig(d, Hidden: 8, Blocks: 2, TimeEmbedding: 4), new Philox(seed));

    private static (float[] X, float[] Y, float[] T) Batch(int n, int d, ulong seed)
    {
        var rng = new Philox(seed);
        var x = new float[n * d];
        var y = new float[n * d];
        var t = new float[n];
        rng.FillNormal(x);
        rng.FillNormal(y);
        for (var i = 0; i < n; i++) t[i] = (float)rng.NextDouble();
        return (x, y, t);
    }

    private static double Norm(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (var x in v) s += (double)x * x;
        return Math.Sqrt(s);
    }

    [Fact]
    public void GhostClipping_EqualsClippedMicrobatchGradients_OfTheFusedMlp()
    {
        const int n = 10, d = 3;
        var net = Net(4);
        var parameters = net.Parameters().ToList();
        var (x, y, t) = Batch(n, d, 5);
        // reference: the fused forward, one example at a time
        var loop = new MicrobatchGradients(b =>
            Crucible.Tensors.Losses.MseLoss(net.Forward(new Tensor(x.AsSpan(b * d, d).ToArray(), [1, d]), t.AsSpan(b, 1)),
                new Tensor(y.AsSpan(b * d, d).ToArray(), [1, d]))).Compute(parameters, n);
        var p = loop.Length / n;
        var norms = Enumerable.Range(0, n).Select(b => Norm(loop.AsSpan(b * p, p))).ToArray();
        var c = norms.Order().ElementAt(n / 2); // about half the examples are clipped
        var expected = PrivacyEngine.ClipAndSum(loop, n, p, c);

        var ghost = new GhostClipping(tape => (net.Forward(new Tensor(x, [n, d]), t, tape) - new Tensor(y, [n, d])).Square().Sum() * (1f / d));
        var actual = ghost.ClippedSum(parameters, n, c);
        Assert.Equal(expected.Length, actual.Length);
        for (var b = 0; b < n; b++) Assert.Equal(norms[b], ghost.LastNorms[b], 1e-5 * (1 + norms[b]));
        for (var i = 0; i < p; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"[{i}] {expected[i]} vs {actual[i]}");
        Assert.All(parameters, q => Assert.Null(q.Grad));
    }

    // RELIABILITY DP-7: a layer outside the recorded per-example linear layers (here a normalisation layer's affine
    // parameters, as BatchNorm has) is refused by the batched DP path with a typed error naming the parameter, never
    // clipped with a wrong per-example norm; the microbatch-of-one path takes such a model, each example forwarded alone
    [Fact]
    public void GhostClipping_RefusesAParameterOutsideTheRecordedLayers_TheMicrobatchPathTakesIt()
    {
        const int n = 6, d = 3;
        var net = Net(4);
        var norm = new Crucible.Tensors.Nn.LayerNorm(d);
        var parameters = net.Parameters().Concat(norm.Parameters()).ToList();
        var (x, y, t) = Batch(n, d, 5);
        var ghost = new GhostClipping(tape => (norm.Forward(net.Forward(new Tensor(x, [n, d]), t, tape)) - new Tensor(y, [n, d])).Square().Sum());
        var e = Assert.Throws<NotSupportedException>(() => ghost.ClippedSum(parameters, n, 1.0));
        Assert.Contains("is not a recorded linear layer's; use MicrobatchClipping", e.Message, StringComparison.Ordinal);

        var loop = new MicrobatchGradients(b => (norm.Forward(net.Forward(new Tensor(x.AsSpan(b * d, d).ToArray(), [1, d]), t.AsSpan(b, 1)))
            - new Tensor(y.AsSpan(b * d, d).ToArray(), [1, d])).Square().Sum()).Compute(parameters, n);
        var p = parameters.Sum(q => q.Length);
        Assert.Equal(n * p, loop.Length);
        Assert.Contains(loop.AsSpan((n - 1) * p, p).ToArray(), v => v != 0);
    }

    [Fact]
    public void GhostClipping_SeveralRowsPerExample_UsesTheGramNorm()
    {
        // two layers on (B, T = 5, in) sequences: the weight gradient of an example sums T outer products
        const int n = 6, steps = 5, inF = 4, hidden = 7, outF = 3;
        var rng = new Philox(9);
        var w1 = Tensor.Zeros([hidden, inF], requiresGrad: true);
        var b1 = Tensor.Zeros([hidden], requiresGrad: true);
        var w2 = Tensor.Zeros([outF, hidden], requiresGrad: true);
        rng.FillNormal(w1.Data);
        rng.FillNormal(b1.Data);
        rng.FillNormal(w2.Data);
        List<Tensor> parameters = [w1, b1, w2];
        var x = new float[n * steps * inF];
        var y = new float[n * steps * outF];
        rng.FillNormal(x);
        rng.FillNormal(y);
        Tensor Loss(LinearTape? tape, float[] xs, float[] ys, int count)
        {
            var input = new Tensor(xs, [count, steps, inF]);
            var h = (tape?.Linear(input, w1, b1) ?? Tensor.Linear(input, w1, b1)).Tanh();
            var o = tape?.Linear(h, w2, null) ?? Tensor.Linear(h, w2, null);
            return (o - new Tensor(ys, [count, steps, outF])).Square().Sum();
        }

        var loop = new MicrobatchGradients(b => Loss(null, x.AsSpan(b * steps * inF, steps * inF).ToArray(), y.AsSpan(b * steps * outF, steps * outF).ToArray(), 1))
            .Compute(parameters, n);
        var p = loop.Length / n;
        var expected = PrivacyEngine.ClipAndSum(loop, n, p, 3.0);
        var ghost = new GhostClipping(tape => Loss(tape, x, y, n));
        var actual = ghost.ClippedSum(parameters, n, 3.0);
        for (var b = 0; b < n; b++) Assert.Equal(Norm(loop.AsSpan(b * p, p)), ghost.LastNorms[b], 1e-4);
        for (var i = 0; i < p; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + 1e-4 * Math.Abs(expected[i]), $"[{i}] {expected[i]} vs {actual[i]}");
    }

    // RELIABILITY DP-5
    [Fact]
    public void DP5_BatchOfOne_GhostClippedNormIsC()
    {
        var net = Net(2);
        var (x, y, t) = Batch(1, 3, 3);
        var ghost = new GhostClipping(tape => (net.Forward(new Tensor(x, [1, 3]), t, tape) - new Tensor(y, [1, 3])).Square().Sum() * 100f);
        var sum = ghost.ClippedSum(net.Parameters().ToList(), 1, 0.5);
        Assert.True(ghost.LastNorms[0] > 0.5, "the raw gradient must exceed C");
        Assert.Equal(0.5, Math.Sqrt(sum.Sum(v => v * v)), 1e-3);
    }

    [Fact]
    public void DP5_Trainer_NoNoiseNoClippingFullBatch_IsThePlainAdamWTrainerOnTheSameDraws()
    {
        // q = 1: every row is in every batch; σ = 0 and C huge: the private gradient is the mean per-example gradient,
        // which is the gradient of the batch MSE. Replay the trainer's draws (Philox stream 1: N Poisson uniforms, then
        // t and ε per example) and train a twin network by hand with the same AdamW and learning-rate schedule.
        const int n = 12, d = 3, steps = 4, diffusionSteps = 50;
        var rng = new Philox(11);
        var data = new float[n * d];
        rng.FillNormal(data);
        var options = new TrainerOptions(Steps: steps, BatchSize: n, LearningRate: 1e-2, WarmupSteps: 1, GradClipNorm: 0, EmaDecay: 0, Seed: 7);
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Create(BetaScheduleKind.Linear, diffusionSteps), d);
        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = 1e5, NoiseMultiplier = 0, Delta = 1e-3, ExpectedBatchSize = n, Steps = steps, EpsilonBudget = double.PositiveInfinity,
        }, n, new Philox(1));
        var dpNet = Net(3);
        var trainer = new DiffusionTrainer(new MlpDenoiserAdapter(dpNet, diffusionSteps), schedule, Objective.Epsilon, options, engine);

        var twin = Net(3);
        var parameters = twin.Parameters().ToList();
        var adam = new AdamW(parameters, lr: options.LearningRate, weightDecay: 0);
        var lr = new WarmupCosine(options.LearningRate, options.WarmupSteps, steps, options.MinLearningRate);
        var draws = new Philox(7, stream: 1);
        var scale = schedule.ElementScales([d]);
        for (var s = 0; s < steps; s++)
        {
            trainer.Step(data, n);
            for (var i = 0; i < n; i++) Assert.True(draws.NextDouble() < 1.0);
            var xt = new float[n * d];
            var target = new float[n * d];
            var frac = new float[n];
            var eps = new float[d];
            for (var i = 0; i < n; i++)
            {
                var t = draws.NextInt(diffusionSteps);
                draws.FillNormal(eps);
                schedule.AddNoise(data.AsSpan(i * d, d), eps, t, scale, xt.AsSpan(i * d, d));
                for (var j = 0; j < d; j++) target[i * d + j] = eps[j];
                frac[i] = (float)t / diffusionSteps;
            }

            lr.Apply(adam, s);
            adam.ZeroGrad();
            Crucible.Tensors.Losses.MseLoss(twin.Forward(new Tensor(xt, [n, d]), frac), new Tensor(target, [n, d])).Backward();
            adam.Step();
        }

        var a = twin.Parameters().SelectMany(p => p.Data).ToArray();
        var b = dpNet.Parameters().SelectMany(p => p.Data).ToArray();
        for (var i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5 + 1e-4 * Math.Abs(a[i]), $"param {i}: {a[i]} vs {b[i]}");
        Assert.Equal(steps, engine.StepsTaken);
    }

    // RELIABILITY DP-6
    [Fact]
    public void DP6_Trainer_EmptyPoissonBatchesStillStepWithNoise_AndAreAccounted()
    {
        // q = 0.01 over N = 50: about 60% of the batches are empty; each still moves the weights (noise) and counts
        const int n = 50, d = 3, steps = 30;
        var data = new float[n * d];
        new Philox(2).FillNormal(data);
        var options = new TrainerOptions(Steps: steps, BatchSize: 1, LearningRate: 1e-2, WarmupSteps: 0, EmaDecay: 0, Seed: 4);
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Create(BetaScheduleKind.Linear, 50), d);
        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = 1, NoiseMultiplier = 1, Delta = 1e-3, ExpectedBatchSize = 0.5, Steps = steps,
        }, n, new Philox(5));
        var net = Net(6);
        var trainer = new DiffusionTrainer(new MlpDenoiserAdapter(net, 50), schedule, Objective.Epsilon, options, engine);
        var empties = 0;
        for (var s = 0; s < steps; s++)
        {
            var before = net.Parameters().SelectMany(p => p.Data).ToArray();
            var loss = trainer.Step(data, n);
            if (float.IsNaN(loss)) empties++; // an empty batch has no loss
            Assert.NotEqual(before, net.Parameters().SelectMany(p => p.Data).ToArray());
        }

        Assert.InRange(empties, 10, steps - 1);
        Assert.Equal(steps, engine.StepsTaken);
    }

    // RELIABILITY DP-9
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DP9_CheckpointResume_TheAccountantContinues_AndIsBitIdenticalInReproducibleMode(bool secure)
    {
        const int n = 60, d = 3, steps = 12;
        var data = new float[n * d];
        new Philox(8).FillNormal(data);
        var options = new TrainerOptions(Steps: steps, BatchSize: 1, LearningRate: 1e-2, WarmupSteps: 2, EmaDecay: 0.9, Seed: 4);
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Create(BetaScheduleKind.Linear, 50), d);
        var dp = new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1.1, Delta = 1e-3, ExpectedBatchSize = 6, Steps = steps };
        (DiffusionTrainer Trainer, PrivacyEngine Engine, MlpDenoiser Net) Make(bool secureMode)
        {
            var engine = PrivacyEngine.Create(dp with { SecureMode = secureMode }, n, new Philox(4, stream: 3));
            var net = Net(6);
            return (new DiffusionTrainer(new MlpDenoiserAdapter(net, 50), schedule, Objective.V, options, engine), engine, net);
        }

        // uninterrupted, in reproducible mode
        var straight = Make(secureMode: false);
        straight.Trainer.Fit(data, n);
        var first = Make(secure);
        for (var s = 0; s < 5; s++) first.Trainer.Step(data, n);
        var path = Path.Combine(_dir, "dp.ckpt");
        first.Trainer.SaveCheckpoint(path);
        var resumed = Make(secure);
        resumed.Trainer.LoadCheckpoint(path);
        Assert.Equal(5, resumed.Engine.StepsTaken);
        Assert.Equal(first.Engine.Spent().Epsilon, resumed.Engine.Spent().Epsilon, 1e-12);
        resumed.Trainer.Fit(data, n);
        Assert.Equal(steps, resumed.Engine.StepsTaken);
        // the same weights in reproducible mode; in secure mode fresh noise, so only the plan and its ε are the same
        if (!secure) Assert.Equal(straight.Net.Parameters().SelectMany(p => p.Data).ToArray(), resumed.Net.Parameters().SelectMany(p => p.Data).ToArray());
        Assert.Equal(straight.Engine.Spent().Epsilon, resumed.Engine.Spent().Epsilon, 1e-12); // ε of 12 steps, as if never interrupted

        // a private checkpoint does not load into a non-private trainer
        var plain = new DiffusionTrainer(new MlpDenoiserAdapter(Net(6), 50), schedule, Objective.V, options);
        Assert.Throws<InvalidDataException>(() => plain.LoadCheckpoint(path));
    }

    private static DpTrainingOptions Dp(double? epsilon = 3, double? sigma = null, double budget = 10) => new()
    {
        MaxGradNorm = 1, TargetEpsilon = sigma is null ? epsilon : null, NoiseMultiplier = sigma, Delta = 1e-4, EpsilonBudget = budget,
    };

    /// <summary>Records the steps training reported, synchronously (<see cref="Progress{T}"/> posts to the thread pool).</summary>
    private sealed class StepRecorder : IProgress<TrainingProgress>
    {
        public System.Collections.Concurrent.ConcurrentBag<int> Steps { get; } = [];

        public void Report(TrainingProgress value) => Steps.Add(value.Step);
    }

    private static DiffusionGeneratorOptions SmallDp(DpTrainingOptions dp, int steps = 40)
    {
        var o = DiffusionGeneratorTests.Small(steps);
        return (o with { Training = o.Training with { BatchSize = 32 } }).WithPrivacy(dp);
    }

    [Fact]
    public void Generator_DpTraining_StatementInManifest_EpsilonWithinTarget_RoundTrips()
    {
        var train = DiffusionGeneratorTests.Returns(400, 3);
        var generator = new DiffusionGenerator(SmallDp(Dp(epsilon: 3))).Fit(train);
        var m = generator.Manifest;
        Assert.NotNull(m.Privacy);
        var p = m.Privacy!;
        Assert.InRange(p.Epsilon, 3 - 0.011, 3.0);
        Assert.Equal(40, p.Steps);
        Assert.Equal(400, p.DatasetSize);
        Assert.Equal(32.0 / 400, p.SampleRate, 1e-15);
        Assert.Equal(1.0, p.MaxGradNorm);
        Assert.Equal(3.0, p.TargetEpsilon);
        Assert.True(p.NoiseMultiplier > 0);
        // the accountant re-derives ε from the statement's own numbers
        var again = Rdp.Epsilon(Rdp.OpacusOrders, Rdp.Compute(p.SampleRate, p.NoiseMultiplier, p.Steps, Rdp.OpacusOrders), p.Delta, p.Conversion);
        Assert.Equal(p.Epsilon, again.Epsilon, 1e-9);

        var json = Encoding.UTF8.GetString(generator.ManifestBytes());
        using var doc = JsonDocument.Parse(json);
        var privacy = doc.RootElement.GetProperty("privacy");
        foreach (var key in new[] { "epsilon", "delta", "noise_multiplier", "max_grad_norm", "sample_rate", "steps", "accountant", "conversion", "sampling", "clipping", "unit", "covers", "statement" })
            Assert.True(privacy.TryGetProperty(key, out _), key);
        Assert.Equal("poisson", privacy.GetProperty("sampling").GetString());
        Assert.Equal("record", privacy.GetProperty("unit").GetString());
        Assert.True(doc.RootElement.GetProperty("config").TryGetProperty("privacy", out _));
        Assert.Empty(m.Training.LossCurve);

        var folder = Path.Combine(_dir, "dp");
        generator.Save(folder);
        var loaded = DiffusionGenerator.Load(folder);
        Assert.Equal(p, loaded.Manifest.Privacy);
        var rows = loaded.Sample(50, 1);
        Assert.All(rows.Values, v => Assert.InRange(v, -0.02 * 5 - 1e-12, 0.02 * 5 + 1e-12)); // the public clamp

        // a non-private model's manifest has no privacy key at all
        var plain = new DiffusionGenerator(DiffusionGeneratorTests.Small(5)).Fit(train);
        Assert.DoesNotContain("\"privacy\"", Encoding.UTF8.GetString(plain.ManifestBytes()), StringComparison.Ordinal);
    }

    // session 28: the statement's accountant and sampling are enums (DpAccountantKind, DpSampling), written as the strings
    // were: a DP model's manifest reads back and writes the same bytes; one naming another accountant or sampling (or a
    // number) is refused when read, at the field, naming it
    [Fact]
    public void Manifest_AccountantAndSampling_RoundTripByteForByte_AndAnUnknownOneIsRefusedNamingTheField()
    {
        var folder = Path.Combine(_dir, "dp-kinds");
        new DiffusionGenerator(SmallDp(Dp(sigma: 1.0), steps: 5)).Fit(DiffusionGeneratorTests.Returns(200, 3)).Save(folder);
        var path = Path.Combine(folder, DiffusionGenerator.ManifestFileName);
        var bytes = File.ReadAllBytes(path);
        var text = Encoding.UTF8.GetString(bytes);
        Assert.Contains("\"accountant\": \"rdp\",", text, StringComparison.Ordinal);
        Assert.Contains("\"sampling\": \"poisson\",", text, StringComparison.Ordinal);
        var loaded = DiffusionGenerator.Load(folder);
        Assert.Equal((DpAccountantKind.Rdp, DpSampling.Poisson), (loaded.Manifest.Privacy!.Accountant, loaded.Manifest.Privacy.Sampling));
        Assert.Equal(bytes, loaded.ManifestBytes());

        foreach (var (field, value, given) in new[] { ("accountant", "rdp", "\"prv\""), ("sampling", "poisson", "\"shuffle\""), ("accountant", "rdp", "0") })
        {
            var edited = text.Replace($"\"{field}\": \"{value}\",", $"\"{field}\": {given},", StringComparison.Ordinal);
            Assert.NotEqual(text, edited);
            File.WriteAllText(path, edited);
            var e = Assert.Throws<InvalidInputException>(() => DiffusionGenerator.Load(folder));
            Assert.Equal("model-manifest", e.Rule);
            Assert.Contains($"Path: $.privacy.{field}", e.Message, StringComparison.Ordinal);
            var line = edited[..edited.IndexOf($"\"{field}\": {given}", StringComparison.Ordinal)].Count(c => c == '\n') + 1;
            Assert.Equal((path, (long)line), (e.Location!.File, e.Location.Line));
        }
    }

    // a null privacy setting (a config section that was not read) gave options without DP-SGD and without the
    // data-fitted steps: a model with no guarantee that had the look of a private one; now an argument error
    [Fact]
    public void WithPrivacy_Null_IsAnArgumentError()
    {
        var e = Assert.Throws<ArgumentNullException>(() => new DiffusionGeneratorOptions().WithPrivacy(null!));
        Assert.Equal("privacy", e.ParamName);
    }

    // a library caller states the model at another δ (a bank's δ = 1e-6 for a model trained at 1e-4) from the manifest,
    // as Opacus's accountant.get_epsilon(delta) does, without re-deriving the RDP from the statement's numbers by hand
    [Fact]
    public void Manifest_EpsilonAtAnotherDelta_IsTheTrainingAccountants_AndAtItsOwnDeltaIsItsEpsilon()
    {
        var train = DiffusionGeneratorTests.Returns(400, 3);
        var folder = Path.Combine(_dir, "dp-delta");
        new DiffusionGenerator(SmallDp(Dp(epsilon: 3), steps: 20)).Fit(train).Save(folder);
        var p = DiffusionGenerator.Load(folder).Manifest.Privacy!;   // read back from manifest.json
        Assert.Equal(p.Epsilon, p.EpsilonAt(p.Delta).Epsilon);        // the same accounting, bit for bit
        Assert.Equal(p.BestOrder, p.EpsilonAt(p.Delta).BestOrder);
        Assert.Equal(20, p.RebuildAccountant().Steps);

        var independent = new RdpAccountant();
        for (var i = 0; i < p.Steps; i++) independent.Step(p.NoiseMultiplier, p.SampleRate);
        var at = p.EpsilonAt(1e-6);
        Assert.Equal(independent.GetEpsilon(1e-6, p.Conversion).Epsilon, at.Epsilon);
        Assert.Equal(1e-6, at.Delta);
        Assert.True(at.Epsilon > p.Epsilon);                          // a smaller δ costs ε

        Assert.Throws<ArgumentOutOfRangeException>(() => p.EpsilonAt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.EpsilonAt(double.NaN));
        Assert.Throws<InvalidOperationException>(() => (p with { GroupSize = 20 }).EpsilonAt(1e-6));
    }

    [Fact]
    public void Generator_DpCheckpoint_ResumesWithTheAccountant()
    {
        var train = DiffusionGeneratorTests.Returns(300, 3);
        var path = Path.Combine(_dir, "gen.ckpt");
        var a = new DiffusionGenerator(SmallDp(Dp(sigma: 1.0), steps: 10)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4));
        Assert.True(File.Exists(path));
        // the checkpoint holds the finished run: a second fit resumes at step 10 and reproduces the model and its statement
        var b = new DiffusionGenerator(SmallDp(Dp(sigma: 1.0), steps: 10)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4));
        Assert.Equal(a.ModelId, b.ModelId);
        Assert.Equal(a.Manifest.Privacy, b.Manifest.Privacy);
        // the same file under another privacy config is refused
        Assert.Throws<InvalidInputException>(() =>
            new DiffusionGenerator(SmallDp(Dp(sigma: 2.0), steps: 10)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4)));
    }

    /// <summary>Records every loss training reported, synchronously.</summary>
    private sealed class LossRecorder : IProgress<TrainingProgress>
    {
        public System.Collections.Concurrent.ConcurrentQueue<double> Losses { get; } = new();

        public void Report(TrainingProgress value) => Losses.Enqueue(value.Loss);
    }

    [Fact]
    public void DP11_Progress_WithholdsTheLoss_AsTheManifestDoes()
    {
        // the loss of a DP-SGD step is a statistic of the private batch outside the accountant: progress (which the
        // service serves as a job's loss and keeps in its store) reports NaN, never the value; without DP the value
        var train = DiffusionGeneratorTests.Returns(300, 3);
        var dp = new LossRecorder();
        new DiffusionGenerator(SmallDp(Dp(sigma: 1.0), steps: 10)).Fit(train, progress: dp);
        Assert.NotEmpty(dp.Losses);
        Assert.All(dp.Losses, l => Assert.True(double.IsNaN(l), $"loss {l} reported under DP-SGD"));
        var plain = new LossRecorder();
        new DiffusionGenerator(DiffusionGeneratorTests.Small(10)).Fit(train, progress: plain);
        Assert.NotEmpty(plain.Losses);
        Assert.All(plain.Losses, l => Assert.True(double.IsFinite(l) && l > 0, $"loss {l}"));
    }

    [Fact]
    public void DP11_NothingFittedOnThePrivateRows_OutsideTheWeights()
    {
        // two different private sets of the same size: everything in the manifest but the weights, the data hash and
        // the privacy statement's ε (identical too, it depends on N, q, σ, steps only) is the same
        var a = new DiffusionGenerator(SmallDp(Dp(sigma: 1.0), steps: 5)).Fit(DiffusionGeneratorTests.Returns(300, 1)).Manifest;
        var b = new DiffusionGenerator(SmallDp(Dp(sigma: 1.0), steps: 5)).Fit(DiffusionGeneratorTests.Returns(300, 2)).Manifest;
        Assert.Equal(a.Transform.GetRawText(), b.Transform.GetRawText());
        Assert.Equal(a.ModelSpace.Min, b.ModelSpace.Min);
        Assert.Equal(a.ModelSpace.Max, b.ModelSpace.Max);
        Assert.Equal(a.Schedule.NoiseScale, b.Schedule.NoiseScale);
        Assert.Null(a.Whitening);
        Assert.Equal(a.Training, b.Training);
        Assert.Equal(a.Privacy, b.Privacy);
        Assert.Null(a.Data.TrainMatrixSha256);   // withheld (DP-11): see the neighbouring-datasets test below
    }

    [Fact]
    public void DP11_NeighbouringDatasets_TheManifestDoesNotTellWhichWasUsed_WithoutDpTheHashesDo()
    {
        // two training sets differing in one record (row 137), read from two files with their own SHA-256 and last prices
        var a = DiffusionGeneratorTests.Returns(300, 1);
        var values = a.Values.ToArray();
        values[137 * 2] += 0.05;
        values[(137 * 2) + 1] -= 0.03;
        var b = new TimeSeriesFrame(a.Dates, a.Columns, values);
        var fileA = new DataProvenance("prices.csv", new string('a', 64), "Prices") { LastPrices = new Dictionary<string, double> { ["x0"] = 100, ["x1"] = 50 } };
        var fileB = fileA with { FileSha256 = new string('b', 64), LastPrices = new Dictionary<string, double> { ["x0"] = 105.1, ["x1"] = 48.4 } };
        static ModelManifest Fit(DiffusionGeneratorOptions o, TimeSeriesFrame train, DataProvenance file) => new DiffusionGenerator(o).Fit(train, file).Manifest;
        // the manifest's bytes but the weights' hash (the only field derived from the weights)
        static string Public(ModelManifest m) => Encoding.UTF8.GetString(DiffusionJson.FileBytes(m with { Weights = m.Weights with { Sha256 = "" } }));

        // DP (reproducible mode, same seed and config): no hash or value of the private data, and nothing else tells them apart
        var dpA = Fit(SmallDp(Dp(sigma: 1.0), steps: 20), a, fileA);
        var dpB = Fit(SmallDp(Dp(sigma: 1.0), steps: 20), b, fileB);
        Assert.Null(dpA.Data.InputSha256);
        Assert.Null(dpA.Data.TrainMatrixSha256);
        Assert.Null(dpA.Data.LastPrices);
        Assert.Equal(300, dpA.Data.TrainRows);          // N stays: q = B/N is part of the DP statement
        Assert.Equal(Public(dpA), Public(dpB));
        using (var doc = JsonDocument.Parse(Public(dpA)))
        {
            var data = doc.RootElement.GetProperty("data");
            Assert.Equal(JsonValueKind.Null, data.GetProperty("input_sha256").ValueKind);
            Assert.Equal(JsonValueKind.Null, data.GetProperty("train_matrix_sha256").ValueKind);
            Assert.False(data.TryGetProperty("last_prices", out _));
        }

        // nor does the scenario metadata, which takes them from the manifest
        var meta = new DiffusionGenerator(SmallDp(Dp(sigma: 1.0), steps: 5)).Fit(a, fileA).Generate(2, 1).Metadata;
        Assert.Null(meta.InputDataSha256);
        Assert.Null(meta.TrainMatrixSha256);

        // without DP the same pair is told apart by the hashes (so the comparison above can fail)
        var plainA = Fit(DiffusionGeneratorTests.Small(5), a, fileA);
        var plainB = Fit(DiffusionGeneratorTests.Small(5), b, fileB);
        Assert.Equal(DiffusionGenerator.TrainMatrixSha256(a), plainA.Data.TrainMatrixSha256);
        Assert.NotEqual(plainA.Data.TrainMatrixSha256, plainB.Data.TrainMatrixSha256);
        Assert.Equal(new string('a', 64), plainA.Data.InputSha256);
        Assert.Equal(100, plainA.Data.LastPrices!["x0"]);
    }

    [Fact]
    public void DP9_Generator_RefusesAConfigurationOverBudget_BeforeTraining()
    {
        var train = DiffusionGeneratorTests.Returns(400, 3);
        var generator = new DiffusionGenerator(SmallDp(Dp(sigma: 0.3, budget: 1), steps: 100_000));
        // work, not wall time: training reports every 50 steps, and the refusal must come before the first report
        var progress = new StepRecorder();
        var e = Assert.Throws<InvalidInputException>(() => generator.Fit(train, progress: progress));
        Assert.Equal("DP-E-BUDGET", e.Rule);
        Assert.Contains("above the declared budget 1", e.Message, StringComparison.Ordinal);
        Assert.True(progress.Steps.IsEmpty, $"refused after training step {(progress.Steps.IsEmpty ? 0 : progress.Steps.Max())}");
        Assert.False(generator.IsFitted);

        var delta = Assert.Throws<InvalidInputException>(() =>
            new DiffusionGenerator(SmallDp(Dp() with { Delta = 1e-2 })).Fit(train));
        Assert.Equal("DP-E-BUDGET", delta.Rule);

        // data-fitted preprocessing is refused in a private config
        Assert.Throws<ArgumentException>(() => new DiffusionGenerator(DiffusionGeneratorTests.Small() with { Privacy = Dp() }));
    }

    [Fact]
    public void ABatchLargerThanTheTrainRows_IsRefusedNamingTheSettingsThatSetIt()
    {
        // DP-SGD on fewer rows than training.batch_size (monthly data: 120 rows, the default batch 256) was refused as
        // "expected_batch_size must not exceed the dataset size", a name no config, flag or README has
        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(SmallDp(Dp(sigma: 1.0), steps: 2)).Fit(DiffusionGeneratorTests.Returns(20, 3)));
        Assert.Equal("DP-E-CONFIG", e.Rule);
        Assert.Equal(
            "the expected batch of 32 examples is more than the 20 examples trained on (Poisson sampling needs a rate q = 32/20 of at most 1): "
            + "lower training.batch_size, or give privacy.sample_rate (--dp-sample-rate)",
            e.Message);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, 10.0, "privacy.target_epsilon must be a finite number > 0")]
    [InlineData(double.NaN, 10.0, "privacy.target_epsilon must be a finite number > 0")]
    [InlineData(0.0, 10.0, "privacy.target_epsilon must be a finite number > 0")]
    [InlineData(3.0, double.PositiveInfinity, "privacy.epsilon_budget must be a finite number > 0")]
    public void AnInfiniteOrNonPositiveEpsilon_IsRefusedWhenTheOptionsAreMade(double target, double budget, string message)
    {
        // `train --dp-epsilon 1e6 --dp-budget 1e309` (∞): the budget let any σ pass and the run config's JSON writer threw
        // (exit 1, "internal error"); an infinite target asked for no noise; 0 read "privacy.give noise_multiplier …"
        var e = Assert.Throws<ArgumentException>(() => new DiffusionGenerator(SmallDp(Dp(epsilon: target, budget: budget))));
        Assert.Equal(message, e.Message);
        if (double.IsFinite(budget))
        {
            // the engine's own options refuse the target too (an infinite budget stays allowed there: the σ = 0 references)
            var engine = Assert.Throws<InvalidInputException>(() => new DpSgdOptions
            {
                MaxGradNorm = 1, TargetEpsilon = target, Delta = 1e-5, ExpectedBatchSize = 32, Steps = 10, EpsilonBudget = budget,
            }.Validate());
            Assert.Equal("DP-E-CONFIG", engine.Rule);
            Assert.Contains("target_epsilon must be a finite number > 0", engine.Message, StringComparison.Ordinal);
        }

        Assert.Equal("privacy.noise_multiplier or target_epsilon must be given",
            Assert.Throws<ArgumentException>(() => new DiffusionGenerator(SmallDp(Dp(epsilon: null)))).Message);
    }
}
