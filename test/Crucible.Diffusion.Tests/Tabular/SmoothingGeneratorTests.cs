using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tests.Tabular;

/// <summary>
/// The tabular generator's <c>smoothing</c> option (the smoothed bootstrap of the training rows): with h &gt; 0 training
/// is reproducible on 1 and 2 threads and across a checkpoint, the option is validated, refused with privacy, and written
/// to the manifest only when set (that 0 leaves the model files as they were is pinned by DropoutGeneratorTests, whose
/// default configuration and hashes these tests share).
/// </summary>
public sealed class SmoothingGeneratorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-smoothing-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // the dropout tests' configuration (hidden 128, batch 128: two threads really split the GEMMs), with distillation
    private static DiffusionGeneratorOptions Options(double smoothing = 0, int steps = 40) =>
        DropoutGeneratorTests.Options(steps: steps) with { Smoothing = smoothing };

    private static DiffusionGenerator Fit(DiffusionGeneratorOptions o, int threads) => DropoutGeneratorTests.Fit(o, threads);

    private static string SampleSha(DiffusionGenerator g) => DropoutGeneratorTests.SampleSha(g);

    [Fact]
    public void WithSmoothing_TrainingIsByteIdenticalOnOneAndTwoThreads_DiffersFromNone_AndIsRecorded()
    {
        var (two, loaded) = DropoutGeneratorTests.AssertByteIdenticalOnOneAndTwoThreadsAndSave(h => Options(h), Path.Combine(_dir, "smoothed"));
        Assert.Equal(SampleSha(two), SampleSha(loaded));
        using var doc = JsonDocument.Parse(two.ManifestBytes());
        Assert.Equal(0.2, doc.RootElement.GetProperty("config").GetProperty("smoothing").GetDouble());
        Assert.Equal(0.2, loaded.Manifest.Config.Smoothing);
    }

    [Fact]
    public void WithSmoothing_AResumedCheckpoint_GivesTheSameModelAsAnUninterruptedFit()
    {
        // a checkpoint of another bandwidth is another configuration
        var o = Options(0.3) with { Distillation = null };
        DropoutGeneratorTests.AssertResumedFitIsTheUninterruptedOne(o, o with { Smoothing = 0.1 }, _dir);
    }

    [Fact]
    public void WithSmoothing_WhitenedRowsAreSmoothedInTheSpaceTheNetworkTrainsOn()
    {
        // whitening makes the model-space covariance ~I; the kernel is fitted after it and training still runs and differs
        var o = Options(0.2) with { Whiten = true, Distillation = null };
        var smoothed = Fit(o, threads: 2);
        Assert.NotEqual(Fit(o with { Smoothing = 0 }, threads: 2).WeightsBytes(), smoothed.WeightsBytes());
        Assert.True(smoothed.Manifest.Training!.FinalLoss is > 0 and < 10);
    }

    [Fact]
    public void SmoothingWithPrivacy_IsRefused_NamingBothKeys_InReproducibleAndSecureMode()
    {
        var o = DiffusionGeneratorTests.Small(20);
        var dp = (o with { Training = o.Training with { BatchSize = 32 } })
            .WithPrivacy(new DpTrainingOptions { MaxGradNorm = 1, NoiseMultiplier = 1.0, Delta = 1e-4, EpsilonBudget = 100 });
        foreach (var privacy in new[] { dp.Privacy!, dp.Privacy! with { SecureMode = true } })
        {
            var message = Assert.Throws<ArgumentException>(() => new DiffusionGenerator(dp with { Smoothing = 0.2, Privacy = privacy })).Message;
            Assert.Contains("smoothing", message, StringComparison.Ordinal);
            Assert.Contains("privacy", message, StringComparison.Ordinal);
            _ = new DiffusionGenerator(dp with { Smoothing = 0, Privacy = privacy });
        }
    }

    [Fact]
    public void TheTrainer_RefusesSmoothingUnderDpSgd()
    {
        var o = DiffusionGeneratorTests.Small(5);
        var dp = (o with { Training = o.Training with { BatchSize = 32 } })
            .WithPrivacy(new DpTrainingOptions { MaxGradNorm = 1, NoiseMultiplier = 1.0, Delta = 1e-4, EpsilonBudget = 100 });
        var data = new float[300 * 2];
        var rng = new Crucible.Tensors.Random.Philox(3);
        rng.FillNormal(data);
        var engine = Crucible.Diffusion.Privacy.PrivacyEngine.Create(dp.Privacy!.ToEngineOptions(300, 32, 5), 300, new Crucible.Tensors.Random.Philox(1, stream: 3));
        var network = new Crucible.Diffusion.Networks.MlpDenoiser(new Crucible.Diffusion.Networks.MlpDenoiserConfig(2, 16, 1, 8), new Crucible.Tensors.Random.Philox(1));
        var schedule = Crucible.Diffusion.Schedules.NoiseSchedule.Create(Crucible.Diffusion.Schedules.BetaScheduleKind.Linear, 50);
        var trainer = new DiffusionTrainer(
            new Crucible.Diffusion.Networks.MlpDenoiserAdapter(network, 50),
            Crucible.Diffusion.Schedules.VolatilityAdaptiveSchedule.Isotropic(schedule, 2), Objective.V, dp.Training with { Steps = 5 }, engine)
        { Smoothing = SmoothedBootstrap.Fit(data, 300, 2, 0.2) };
        Assert.Contains("DP-SGD", Assert.Throws<InvalidOperationException>(() => trainer.Step(data, 300)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CollinearSeries_AreRefusedByRule_BeforeTraining()
    {
        var a = DiffusionGeneratorTests.Returns(300, 5);
        var values = new double[300 * 2];
        for (int i = 0; i < 300; i++) values[2 * i] = values[(2 * i) + 1] = a.Values[2 * i];
        var twin = new TimeSeriesFrame([.. a.Dates], ["A", "A2"], values);
        var e = Assert.Throws<InvalidInputException>(() => new DiffusionGenerator(Options(0.2) with { Distillation = null }).Fit(twin));
        Assert.Equal("smoothing-rank", e.Rule);
        Assert.Contains("positive definite", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Smoothing_NegativeOrNotFinite_IsRefused_NamingTheKey(double h) =>
        Assert.Contains("smoothing", Assert.Throws<ArgumentException>(() => new DiffusionGenerator(Options(h))).Message, StringComparison.Ordinal);

    [Fact]
    public void Smoothing_IsReadFromAPartialConfig_AndWrittenOnlyWhenSet() =>
        DropoutGeneratorTests.AssertReadFromAPartialConfig_AndWrittenOnlyWhenSet("smoothing", "0.2", o => o.Smoothing);
}
