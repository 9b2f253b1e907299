using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>
/// DP-SGD for the sequence generator (RELIABILITY.md DP-8, DP-10, DP-11): the group-privacy conversion, the unit of
/// privacy with overlapping windows (k = W for a day), per-example gradients of the TCN, empty batches, nothing fitted on
/// the private returns, reproducible and secure modes.
/// </summary>
public sealed class SequenceDpTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-seqdp-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly SequenceGeneratorOptions Tiny = Tests.Sequence.SequenceGeneratorTests.TinyOptions with
    {
        Training = new TrainerOptions(Steps: 8, BatchSize: 8, LearningRate: 2e-3, WarmupSteps: 2),
    };

    private static SequenceGeneratorOptions Dp(DpTrainingOptions dp, int steps = 8) =>
        (Tiny with { Training = Tiny.Training with { Steps = steps } }).WithPrivacy(dp);

    /// <summary><paramref name="days"/> dated days of 2 series of log returns with the given volatility and drift.</summary>
    private static TimeSeriesFrame Returns(int days = 60, int seed = 5, double vol = 0.02, double drift = 0.0)
    {
        var rng = new System.Random(seed);
        var dates = Enumerable.Range(0, days).Select(i => new DateOnly(2021, 1, 4).AddDays(i)).ToArray();
        var values = new double[days * 2];
        for (int i = 0; i < values.Length; i++) values[i] = ((rng.NextDouble() - 0.5) * vol) + drift;
        return new TimeSeriesFrame(dates, ["SPY", "TLT"], values);
    }

    [Fact]
    public void GroupPrivacy_IsTheDworkRothBound_AndItsInverse()
    {
        // reference (Python): k = 20, ε = 0.15, δ = 1e-7 → (3, 20·e^{2.85}·1e-7 = 3.457556368113528e-05)
        var (e, d) = GroupPrivacy.ForGroup(0.15, 1e-7, 20);
        Assert.Equal(3.0, e, 1e-12);
        Assert.Equal(3.457556368113528e-05, d, 1e-18);
        // it bounds the tighter sum form δ·Σ_{i<k} e^{iε} = 1.1793262415564268e-05 (Vadhan 2017, Lemma 2.2's proof)
        Assert.True(d >= 1.1793262415564268e-05);
        // inverse: a day's (3, 1e-5) over k = 20 windows → (0.15, 1e-5 / (20·e^{2.85}) = 2.8922160437419233e-08) per window
        var (we, wd) = GroupPrivacy.PerExample(3, 1e-5, 20);
        Assert.Equal(0.15, we, 1e-15);
        Assert.Equal(2.8922160437419233e-08, wd, 1e-20);
        foreach (int k in new[] { 1, 2, 5, 20, 60 })
        {
            foreach (double eps in new[] { 0.0, 0.3, 1, 3, 8 })
            {
                var per = GroupPrivacy.PerExample(eps, 1e-5, k);
                var back = GroupPrivacy.ForGroup(per.Epsilon, per.Delta, k);
                Assert.Equal(eps, back.Epsilon, 1e-12);
                Assert.Equal(1e-5, back.Delta, 1e-17);
            }
        }

        Assert.Equal((0.7, 1e-6), GroupPrivacy.ForGroup(0.7, 1e-6, 1)); // k = 1: the example's own guarantee
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupPrivacy.ForGroup(1, 1e-5, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupPrivacy.PerExample(-1, 1e-5, 3));
    }

    [Fact]
    public void GroupPrivacy_OfPureDp_StaysPure_WhenTheExponentOverflows()
    {
        // (k − 1)ε = 990 > 709: k·e^{(k−1)ε}·0 was 100 · ∞ · 0 = NaN; pure DP composes to pure DP, (kε, 0)
        Assert.Equal((1000.0, 0.0), GroupPrivacy.ForGroup(10, 0, 100));
        Assert.Equal((0.1, 0.0), GroupPrivacy.PerExample(10, 0, 100));
    }

    [Fact]
    public void DP8_OverlappingWindows_UnitRecord_ReportsTheGroupEpsilonWithKEqualToW_UnitWindow_K1()
    {
        // 60 days, W = 5: 56 windows, each day in up to 5 of them
        var train = Returns();
        const double sigma = 3, delta = 1e-4;
        var record = new SequenceGenerator(Dp(new DpTrainingOptions { NoiseMultiplier = sigma, Delta = delta, Unit = PrivacyUnit.Record })).Fit(train).Manifest.Privacy!;
        var window = new SequenceGenerator(Dp(new DpTrainingOptions { NoiseMultiplier = sigma, Delta = delta, Unit = PrivacyUnit.Window })).Fit(train).Manifest.Privacy!;
        double q = 8.0 / 56;
        var rdp = Rdp.Compute(q, sigma, 8, Rdp.OpacusOrders);

        // window: the accountant's ε at δ over 56 windows, k = 1
        Assert.Equal(PrivacyUnit.Window, window.Unit);
        Assert.Null(window.GroupSize);
        Assert.Equal(56, window.DatasetSize);
        Assert.Equal(q, window.SampleRate, 1e-15);
        Assert.Equal(Rdp.Epsilon(Rdp.OpacusOrders, rdp, delta, window.Conversion).Epsilon, window.Epsilon, 1e-9);

        // record: k = W = 5; the window's δ from the budget ε_max = 10 (σ given), the day's ε = 5 × the window's
        Assert.Equal(PrivacyUnit.Record, record.Unit);
        Assert.Equal(5, record.GroupSize);
        Assert.Equal(60, record.Units);
        Assert.Equal(56, record.DatasetSize);
        var (_, windowDelta) = GroupPrivacy.PerExample(10, delta, 5);
        Assert.Equal(windowDelta, record.ExampleDelta!.Value, 1e-20);
        double perWindow = Rdp.Epsilon(Rdp.OpacusOrders, rdp, windowDelta, record.Conversion).Epsilon;
        Assert.Equal(perWindow, record.ExampleEpsilon!.Value, 1e-9);
        Assert.Equal(5 * perWindow, record.Epsilon, 1e-9);
        Assert.Equal(delta, record.Delta);
        Assert.True(GroupPrivacy.ForGroup(perWindow, windowDelta, 5).Delta <= delta);   // the declared δ bounds the group δ
        Assert.True(record.Epsilon > window.Epsilon);
        Assert.Contains("-DP per record (group privacy over the k = 5 windows", record.Statement, StringComparison.Ordinal);
        Assert.Equal(DpStatement.GroupAdjacency, record.Adjacency);

        // a target ε for the day: σ is calibrated for ε/k per window, and the day's ε never exceeds the target
        var target = new SequenceGenerator(Dp(new DpTrainingOptions { TargetEpsilon = 3, Delta = delta })).Fit(train).Manifest.Privacy!;
        Assert.Equal(PrivacyUnit.Record, target.Unit); // the default unit of a sequence model: a day
        Assert.Equal(5, target.GroupSize);
        Assert.InRange(target.Epsilon, 3 - (5 * 0.01) - 1e-9, 3.0);
        Assert.Equal(GroupPrivacy.PerExample(3, delta, 5).Delta, target.ExampleDelta!.Value, 1e-20);
        Assert.Equal(target.Epsilon, 5 * target.ExampleEpsilon!.Value, 1e-12);
    }

    [Fact]
    public void PerExampleGradients_OfTheTcn_EqualANaivePerExampleBackward_AndClippedNormsAreAtMostC()
    {
        // the private step's per-example gradient (a microbatch of one through the adapter) against the gradient of
        // example b's loss inside a forward of the whole batch: equal when nothing mixes examples
        const int n = 4, d = 2, w = 6, steps = 50;
        var net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(d, w, 0, 8, 2, 2, 1, 8), new Philox(3));
        var adapter = new ConditionalTcnDenoiserAdapter(net, steps);
        var parameters = net.Parameters().ToList();
        var rng = new Philox(11);
        var x = new float[n * d * w];
        var y = new float[n * d * w];
        rng.FillNormal(x);
        rng.FillNormal(y);
        int[] t = [3, 17, 42, 0];
        var (perExample, norms) = PerExampleGradientCheck.AssertEqualsNaive(adapter, parameters, x, y, t, n, d, w);
        PerExampleGradientCheck.AssertClipsToTheMedianNorm(perExample, norms);
    }

    [Fact]
    public void DP6_EmptyPoissonBatches_AreStillStepped_AndAccounted()
    {
        // q = 0.02 over 56 windows: about one window in a batch, most batches empty
        var g = new SequenceGenerator(Dp(new DpTrainingOptions { NoiseMultiplier = 2, Delta = 1e-4, Unit = PrivacyUnit.Window, SampleRate = 0.02 }, steps: 20)).Fit(Returns());
        var p = g.Manifest.Privacy!;
        Assert.Equal(20, p.Steps);
        Assert.Equal(20, g.Manifest.Training.Steps);
        var expected = Rdp.Epsilon(Rdp.OpacusOrders, Rdp.Compute(0.02, 2, 20, Rdp.OpacusOrders), 1e-4, p.Conversion).Epsilon;
        Assert.Equal(expected, p.Epsilon, 1e-9);
    }

    [Fact]
    public void DP11_TwoTrainingSetsWithOtherStatistics_GiveTheSameArtifacts_ButTheWeights()
    {
        // the same size, other volatility and drift: everything in the manifest but the weights and the data hashes is equal
        var dp = new DpTrainingOptions { NoiseMultiplier = 3, Delta = 1e-4 };
        var provenance = new DataProvenance("a.csv", new string('a', 64), "Prices") { LastPrices = new Dictionary<string, double> { ["SPY"] = 401.5, ["TLT"] = 99.2 } };
        var a = new SequenceGenerator(Dp(dp, steps: 4)).Fit(Returns(seed: 1, vol: 0.01), provenance: provenance).Manifest;
        var b = new SequenceGenerator(Dp(dp, steps: 4)).Fit(Returns(seed: 2, vol: 0.08, drift: 0.01), provenance: provenance with { LastPrices = new Dictionary<string, double> { ["SPY"] = 3, ["TLT"] = 4 } }).Manifest;
        Assert.NotEqual(a.Weights.Sha256, b.Weights.Sha256);
        Assert.Null(a.Data.TrainMatrixSha256);                              // exact hashes of the private data are withheld
        Assert.Null(a.Data.InputSha256);
        Assert.Null(a.Data.LastPrices);                                     // last train prices are private data
        Assert.Equal([0.0, 0.0], a.Affine.Offset);
        Assert.Equal([0.02, 0.02], a.Affine.Scale);                          // the public scale, not the data's
        Assert.Equal([1.0, 1.0], a.Schedule.NoiseScale);                     // isotropic: no per-series σ
        Assert.False(a.Schedule.VolatilityAdaptive);
        Assert.Empty(a.Training.LossCurve);                                  // losses are statistics of the windows
        Assert.Equal(a.Privacy, b.Privacy);

        static string Public(SequenceManifest m) => Encoding.UTF8.GetString(DiffusionJson.FileBytes(m with
        {
            Weights = new WeightsManifest { Parameters = m.Weights.Parameters, Tensors = m.Weights.Tensors },
        }));
        Assert.Equal(Public(a), Public(b));
    }

    [Fact]
    public void DP11_WhatWouldBeFittedOnThePrivateData_IsRefused_NamingTheOption()
    {
        var dp = new DpTrainingOptions { NoiseMultiplier = 1, Delta = 1e-4 };
        Assert.Contains("transform", Assert.Throws<ArgumentException>(() => new SequenceGenerator(Dp(dp) with { Transform = SequenceTransform.Standardize })).Message, StringComparison.Ordinal);
        Assert.Contains("volatility_adaptive", Assert.Throws<ArgumentException>(() => new SequenceGenerator(Dp(dp) with { VolatilityAdaptive = true })).Message, StringComparison.Ordinal);
        Assert.Contains("pacf_weight", Assert.Throws<ArgumentException>(() =>
            new SequenceGenerator(Dp(dp) with { Training = Tiny.Training with { PacfWeight = 0.1, PacfLags = 2 } })).Message, StringComparison.Ordinal);
        Assert.Contains("entity", Assert.Throws<ArgumentException>(() => new SequenceGenerator(Dp(dp with { Unit = PrivacyUnit.Entity }))).Message, StringComparison.Ordinal);
        var train = Returns();
        var conditions = new TimeSeriesFrame(train.Dates, ["VIXCLS"], [.. Enumerable.Range(0, 60).Select(i => 15.0 + (i % 7))]);
        var refused = Assert.Throws<SequenceOptionException>(() => new SequenceGenerator(Dp(dp)).Fit(train, conditions));
        Assert.Equal("DP-E-PREPROCESS", refused.Rule);
        Assert.Contains("unless the state is declared public data (privacy.public_state: true)", refused.Message, StringComparison.Ordinal); // the library's words (session 29)
        // δ must be below 1/N for the unit: 1/60 days
        var delta = Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Dp(dp with { Delta = 0.02 })).Fit(train));
        Assert.Equal("DP-E-BUDGET", delta.Rule);
        // over budget: refused before training, naming the group
        var budget = Assert.Throws<InvalidInputException>(() => new SequenceGenerator(Dp(dp with { NoiseMultiplier = 0.3, EpsilonBudget = 1 }, steps: 1000)).Fit(train));
        Assert.Equal("DP-E-BUDGET", budget.Rule);
        Assert.Contains("k = 5", budget.Message, StringComparison.Ordinal);
        // a tabular model's unit is the record
        Assert.Throws<ArgumentException>(() => new DiffusionGeneratorOptions().WithPrivacy(dp with { Unit = PrivacyUnit.Window }).Validate());
    }

    [Fact]
    public void Reproducible_SameSeedSameWeights_Secure_Differs_StatementRoundTrips_AndScenariosCarryIt()
    {
        var train = Returns();
        DpTrainingOptions Options(bool secure) => new() { NoiseMultiplier = 3, Delta = 1e-4, SecureMode = secure };
        var r1 = new SequenceGenerator(Dp(Options(false), steps: 4)).Fit(train);
        var r2 = new SequenceGenerator(Dp(Options(false), steps: 4)).Fit(train);
        var s1 = new SequenceGenerator(Dp(Options(true), steps: 4)).Fit(train);
        var s2 = new SequenceGenerator(Dp(Options(true), steps: 4)).Fit(train);
        Assert.Equal(r1.WeightsBytes(), r2.WeightsBytes());
        Assert.Equal(r1.ManifestBytes(), r2.ManifestBytes());
        Assert.NotEqual(s1.WeightsBytes(), s2.WeightsBytes());
        Assert.NotEqual(r1.WeightsBytes(), s1.WeightsBytes());
        Assert.True(s1.Manifest.Privacy!.SecureMode);
        Assert.Equal(SecureDpRandom.Name, s1.Manifest.Privacy.NoiseGenerator);
        Assert.Equal(s1.Manifest.Privacy, s2.Manifest.Privacy);
        Assert.False(r1.Manifest.Privacy!.SecureMode);

        using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(r1.ManifestBytes()));
        var privacy = doc.RootElement.GetProperty("privacy");
        foreach (var key in new[] { "epsilon", "delta", "noise_multiplier", "max_grad_norm", "sample_rate", "steps", "accountant", "conversion", "sampling",
                     "unit", "covers", "statement", "group_size", "example_epsilon", "example_delta", "units" })
            Assert.True(privacy.TryGetProperty(key, out _), key);
        Assert.Equal("record", privacy.GetProperty("unit").GetString());
        Assert.Equal(5, privacy.GetProperty("group_size").GetInt32());
        Assert.False(doc.RootElement.GetProperty("config").GetProperty("privacy").TryGetProperty("unit", out _)); // not named: record

        var folder = Path.Combine(_dir, "seq");
        r1.Save(folder);
        var loaded = SequenceGenerator.Load(folder);
        Assert.Equal(r1.Manifest.Privacy, loaded.Manifest.Privacy);
        var scenarios = loaded.Generate(2, 1, new SequenceSampleRequest(Sampler: new Samplers.SamplerOptions(Steps: 5)));
        Assert.Equal(r1.Manifest.Privacy, scenarios.Metadata.Privacy); // DP-10: the scenarios carry the statement
        Assert.All(scenarios.Values.Values, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void DP9_Checkpoint_ResumesWithTheAccountant_AndAnotherPrivacyConfigIsRefused()
    {
        var train = Returns();
        var path = Path.Combine(_dir, "seq.ckpt");
        var dp = new DpTrainingOptions { NoiseMultiplier = 3, Delta = 1e-4 };
        var a = new SequenceGenerator(Dp(dp, steps: 6)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4));
        Assert.True(File.Exists(path));
        // the checkpoint holds the finished run: a second fit resumes at step 6 and reproduces the model and its statement
        var b = new SequenceGenerator(Dp(dp, steps: 6)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4));
        Assert.Equal(a.ModelId, b.ModelId);
        Assert.Equal(a.Manifest.Privacy, b.Manifest.Privacy);
        Assert.Equal(6, b.Manifest.Privacy!.Steps);
        Assert.Throws<InvalidInputException>(() =>
            new SequenceGenerator(Dp(dp with { Unit = PrivacyUnit.Window }, steps: 6)).Fit(train, checkpoint: new CheckpointOptions(path, Every: 4)));
    }
}
