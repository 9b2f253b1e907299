using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Tensors;

namespace Crucible.Diffusion.Tests.Tabular;

/// <summary>
/// The tabular generator's <c>dropout</c> option: no dropout leaves the model files as they were before the option
/// existed; with dropout, training is reproducible on 1 and 2 threads and across a checkpoint, sampling runs without it,
/// and the option is validated and written to the manifest only when set.
/// </summary>
public sealed class DropoutGeneratorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-dropout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // hidden 128 and batch 128: the GEMMs are above Kernels.ParallelThreshold, so two threads really split them (shared
    // with SmoothingGeneratorTests, as are Fit and SampleSha)
    internal static DiffusionGeneratorOptions Options(double dropout = 0, int steps = 40) =>
        DiffusionGeneratorTests.Small(steps) with
        {
            Hidden = 128,
            Training = DiffusionGeneratorTests.Small().Training with { Steps = steps, BatchSize = 128 },
            Distillation = new SamplerDistillationOptions(Steps: 10, SamplingSteps: 10, BatchSize: 64),
            Dropout = dropout,
        };

    internal static DiffusionGenerator Fit(DiffusionGeneratorOptions o, int threads)
    {
        using var limit = EngineThreads.Limit(threads);
        return new DiffusionGenerator(o).Fit(DiffusionGeneratorTests.Returns(300, 2));
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    internal static string SampleSha(DiffusionGenerator g) =>
        Sha(ScenarioCsv.Format(g.Sample(200, 3, new SamplerOptions(SamplerKind.Ddim, 10))));

    [Fact]
    public void NoDropout_GivesTheModelFilesOfTheCodeBeforeTheOption()
    {
        // recorded with commit 1c5df22 (before the dropout option): trainer, distillation and sampler unchanged by it
        var g = Fit(Options(), threads: 2);
        Assert.Equal("5df2e3640a27a6758f0baacfd17ba13ce40802f234a2d0d6bb888de46e770041", Sha(g.WeightsBytes()));
        Assert.Equal("8c51c29d30a25bfc65532dc36cadb22454e0f7dd605499984ba538b2462201d3", SampleSha(g));
        Assert.DoesNotContain("dropout", Encoding.UTF8.GetString(g.ManifestBytes()), StringComparison.Ordinal);
        // nor by the smoothing option (SmoothingGeneratorTests): its default 0 draws nothing and writes no key
        Assert.DoesNotContain("smoothing", Encoding.UTF8.GetString(g.ManifestBytes()), StringComparison.Ordinal);
    }

    /// <summary>
    /// Fits <paramref name="options"/>(0.2) on 1 and 2 threads: the same weights and manifest bytes, other weights than
    /// <paramref name="options"/>(0) and (0.1); saves the two-thread fit to <paramref name="folder"/> and loads it back
    /// (which samples the same bits, asserted by the caller). Shared with SmoothingGeneratorTests.
    /// </summary>
    internal static (DiffusionGenerator Fitted, DiffusionGenerator Loaded) AssertByteIdenticalOnOneAndTwoThreadsAndSave(
        Func<double, DiffusionGeneratorOptions> options, string folder)
    {
        var one = Fit(options(0.2), threads: 1);
        var two = Fit(options(0.2), threads: 2);
        Assert.Equal(one.WeightsBytes(), two.WeightsBytes());
        Assert.Equal(one.ManifestBytes(), two.ManifestBytes());
        Assert.NotEqual(Fit(options(0), threads: 2).WeightsBytes(), two.WeightsBytes());
        Assert.NotEqual(Fit(options(0.1), threads: 2).WeightsBytes(), two.WeightsBytes());
        two.Save(folder);
        return (two, DiffusionGenerator.Load(folder));
    }

    [Fact]
    public void WithDropout_TrainingIsByteIdenticalOnOneAndTwoThreads_DiffersFromNone_AndSamplesInEvalMode()
    {
        var (two, loaded) = AssertByteIdenticalOnOneAndTwoThreadsAndSave(d => Options(d), Path.Combine(_dir, "dropout"));

        // the fitted and the loaded network are in evaluation mode and sample the same bits
        Assert.False(two.Network.IsTraining);
        Assert.False(loaded.Network.IsTraining);
        Assert.Equal(SampleSha(two), SampleSha(loaded));
        Assert.Equal(SampleSha(two), SampleSha(two)); // no mask generator reaches the sampler
        using var doc = JsonDocument.Parse(two.ManifestBytes());
        Assert.Equal(0.2, doc.RootElement.GetProperty("config").GetProperty("dropout").GetDouble());
        Assert.Equal(0.2, loaded.Manifest.Config.Dropout);
    }

    [Fact]
    public void WithDropout_AResumedCheckpoint_GivesTheSameModelAsAnUninterruptedFit()
    {
        // a checkpoint of another dropout is another configuration
        var o = Options(0.3) with { Distillation = null };
        AssertResumedFitIsTheUninterruptedOne(o, o with { Dropout = 0.1 }, _dir);
    }

    /// <summary>
    /// Fitting <paramref name="o"/> stopped at step 20 and resumed from its checkpoint (every 10 steps, in
    /// <paramref name="dir"/>) gives the uninterrupted fit's weights and manifest bytes, and <paramref name="other"/>
    /// (another configuration) is refused that checkpoint (<c>checkpoint-mismatch</c>). Shared with SmoothingGeneratorTests.
    /// </summary>
    internal static void AssertResumedFitIsTheUninterruptedOne(DiffusionGeneratorOptions o, DiffusionGeneratorOptions other, string dir)
    {
        var train = DiffusionGeneratorTests.Returns(300, 9);
        var whole = new DiffusionGenerator(o).Fit(train);

        string ckpt = Path.Combine(dir, "fit.ckpt");
        using var cancel = new CancellationTokenSource();
        var progress = new StopAt(20, cancel);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new DiffusionGenerator(o).Fit(train, null, progress, new CheckpointOptions(ckpt, Every: 10), cancel.Token));
        var resumed = new DiffusionGenerator(o).Fit(train, checkpoint: new CheckpointOptions(ckpt, Every: 10));
        Assert.Equal(whole.WeightsBytes(), resumed.WeightsBytes());
        Assert.Equal(whole.ManifestBytes(), resumed.ManifestBytes());

        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(other).Fit(train, checkpoint: new CheckpointOptions(ckpt)));
        Assert.Equal("checkpoint-mismatch", e.Rule);
    }

    [Fact]
    public void WithDropoutAndPrivacy_TheGhostClippedStepDrops_Reproducibly()
    {
        var o = DiffusionGeneratorTests.Small(20);
        var dp = (o with { Training = o.Training with { BatchSize = 32 } })
            .WithPrivacy(new DpTrainingOptions { MaxGradNorm = 1, NoiseMultiplier = 1.0, Delta = 1e-4, EpsilonBudget = 100 });
        var train = DiffusionGeneratorTests.Returns(300, 4);
        var none = new DiffusionGenerator(dp).Fit(train);
        var dropped = new DiffusionGenerator(dp with { Dropout = 0.2 }).Fit(train);
        Assert.NotEqual(none.WeightsBytes(), dropped.WeightsBytes());
        Assert.Equal(dropped.WeightsBytes(), new DiffusionGenerator(dp with { Dropout = 0.2 }).Fit(train).WeightsBytes());
        Assert.Equal(none.Manifest.Privacy!.Epsilon, dropped.Manifest.Privacy!.Epsilon); // the accounting does not depend on the masks

        // secure mode draws every per-example value from the OS CSPRNG; the seeded masks are refused there
        var secure = dp with { Dropout = 0.2, Privacy = dp.Privacy! with { SecureMode = true } };
        Assert.Contains("secure_mode", Assert.Throws<ArgumentException>(() => new DiffusionGenerator(secure)).Message, StringComparison.Ordinal);
        _ = new DiffusionGenerator(secure with { Dropout = 0 });
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Dropout_OutsideZeroToOne_IsRefused_NamingTheKey(double p) =>
        Assert.Contains("dropout", Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Options(p))).Message, StringComparison.Ordinal);

    [Fact]
    public void Dropout_IsReadFromAPartialConfig_AndWrittenOnlyWhenSet() => AssertReadFromAPartialConfig_AndWrittenOnlyWhenSet("dropout", "0.1", o => o.Dropout);

    // {"key": value} alone is read (the other keys keep their defaults), written back as given, and not written at the default 0
    internal static void AssertReadFromAPartialConfig_AndWrittenOnlyWhenSet(string key, string value, Func<DiffusionGeneratorOptions, double> read)
    {
        var partial = JsonSerializer.Deserialize<DiffusionGeneratorOptions>($$"""{"{{key}}": {{value}}}""", DiffusionJson.Options)!;
        Assert.Equal(double.Parse(value, CultureInfo.InvariantCulture), read(partial));
        Assert.Equal(new DiffusionGeneratorOptions().Hidden, partial.Hidden);
        Assert.Contains($"\"{key}\": {value}", JsonSerializer.Serialize(partial, DiffusionJson.Options), StringComparison.Ordinal);
        Assert.DoesNotContain(key, JsonSerializer.Serialize(new DiffusionGeneratorOptions(), DiffusionJson.Options), StringComparison.Ordinal);
    }

    private sealed class StopAt(int step, CancellationTokenSource cancel) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step >= step) cancel.Cancel();
        }
    }
}
