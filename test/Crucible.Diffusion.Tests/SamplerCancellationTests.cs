using Crucible.Data;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Tests.Tabular;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tests;

/// <summary>
/// <see cref="SamplerOptions.Cancellation"/>: a token cancelled after k network calls stops every sampler with
/// <see cref="OperationCanceledException"/> before call k + 1 of a chunk; a live token changes no bit of the output.
/// </summary>
public class SamplerCancellationTests
{
    /// <summary>A linear denoiser (ε̂ = 0.3 x) that counts its calls and cancels its source at call <c>cancelAt</c>.</summary>
    private sealed class CountingDenoiser(int dims, CancellationTokenSource? source, int cancelAt) : IDenoiser
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public IReadOnlyList<int> SampleShape => [dims];

        public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output)
        {
            for (int i = 0; i < x.Length; i++) output[i] = 0.3f * x[i];
            if (Interlocked.Increment(ref _calls) == cancelAt) source?.Cancel();
        }
    }

    /// <summary>Guidance that edits nothing: it counts the steps (one call per chunk and step) and cancels at step <c>cancelAt</c>.</summary>
    private sealed class CountingGuidance(CancellationTokenSource source, int cancelAt) : ISampleGuidance
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public void Guide(Span<float> x0, int count, int step, double alphaBar)
        {
            if (Interlocked.Increment(ref _calls) == cancelAt) source.Cancel();
        }
    }

    public static TheoryData<SamplerKind> Kinds => [SamplerKind.Ddpm, SamplerKind.Ddim, SamplerKind.DpmSolver2M];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CancelledAfterKSteps_Throws_AndRunsNoFurtherStep(SamplerKind kind)
    {
        var schedule = NoiseSchedule.Linear(100);
        foreach (int k in new[] { 1, 7, 20 })
        {
            using var cts = new CancellationTokenSource();
            var net = new CountingDenoiser(3, cts, k);
            var options = new SamplerOptions(kind, Steps: 30, ChunkSize: 64, MaxDegreeOfParallelism: 1, Cancellation: cts.Token);
            Assert.ThrowsAny<OperationCanceledException>(() => DiffusionSampler.Sample(net, schedule, Objective.Epsilon, 50, 9, options));
            Assert.InRange(net.Calls, k, k + 1); // one chunk: the check before call k + 1 stops it
            Assert.Equal(k, net.Calls);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void CancelledAcrossParallelChunks_StopsEveryChunkWithinOneStep(SamplerKind kind)
    {
        var schedule = NoiseSchedule.Linear(100);
        const int k = 10, threads = 2;
        using var cts = new CancellationTokenSource();
        var net = new CountingDenoiser(2, cts, k);
        var options = new SamplerOptions(kind, Steps: 30, ChunkSize: 8, MaxDegreeOfParallelism: threads, Cancellation: cts.Token);
        var e = Assert.ThrowsAny<OperationCanceledException>(() => DiffusionSampler.Sample(net, schedule, Objective.Epsilon, 64, 9, options));
        Assert.Equal(cts.Token, e.CancellationToken);
        // the other thread may be inside its call when the token flips, and no chunk makes a call after its next check
        Assert.InRange(net.Calls, k, k + threads - 1);
    }

    [Fact]
    public void AlreadyCancelled_MakesNoNetworkCall()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var net = new CountingDenoiser(2, null, 0);
        Assert.ThrowsAny<OperationCanceledException>(() => DiffusionSampler.Sample(net, NoiseSchedule.Linear(100), Objective.Epsilon, 16, 1,
            new SamplerOptions(SamplerKind.Ddim, 10, Cancellation: cts.Token)));
        Assert.Equal(0, net.Calls);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void LiveToken_GivesBitIdenticalSamples(SamplerKind kind)
    {
        var schedule = NoiseSchedule.Linear(100);
        using var cts = new CancellationTokenSource();
        var plain = DiffusionSampler.Sample(new CountingDenoiser(3, null, 0), schedule, Objective.Epsilon, 40, 5, new SamplerOptions(kind, 20, Eta: kind == SamplerKind.Ddim ? 0.5 : 0, ChunkSize: 16));
        var withToken = DiffusionSampler.Sample(new CountingDenoiser(3, null, 0), schedule, Objective.Epsilon, 40, 5,
            new SamplerOptions(kind, 20, Eta: kind == SamplerKind.Ddim ? 0.5 : 0, ChunkSize: 16, Cancellation: cts.Token));
        Assert.Equal(plain, withToken);
    }

    [Fact]
    public void TabularGenerate_StopsWithinOneStepOfTheCancellation()
    {
        var generator = new DiffusionGenerator(DiffusionGeneratorTests.Small(steps: 2)).Fit(DiffusionGeneratorTests.Returns(100, 11));
        using var cts = new CancellationTokenSource();
        var guidance = new CountingGuidance(cts, 5);
        var sampler = new SamplerOptions(SamplerKind.DpmSolver2M, 20, MaxDegreeOfParallelism: 1, Guidance: guidance, Cancellation: cts.Token);
        Assert.ThrowsAny<OperationCanceledException>(() => generator.Generate(30, 3, sampler));
        Assert.Equal(5, guidance.Calls);

        using var live = new CancellationTokenSource();
        Assert.Equal(generator.Generate(30, 3, new SamplerOptions(SamplerKind.DpmSolver2M, 20)).Values.Values,
            generator.Generate(30, 3, new SamplerOptions(SamplerKind.DpmSolver2M, 20, Cancellation: live.Token)).Values.Values);
    }

    [Fact]
    public void SequenceGenerate_StopsWithinOneStepOfTheCancellation()
    {
        var rng = new System.Random(5);
        var dates = Enumerable.Range(0, 60).Select(i => new DateOnly(2021, 1, 4).AddDays(i)).ToArray();
        var values = new double[60 * 2];
        for (int i = 0; i < values.Length; i++) values[i] = (rng.NextDouble() - 0.5) * 0.02;
        var conditions = new TimeSeriesFrame(dates[3..], ["VIXCLS"], [.. dates[3..].Select((_, i) => 15.0 + (i % 7))]);
        var g = new SequenceGenerator(new SequenceGeneratorOptions
        {
            Window = 5, DiffusionSteps = 50, Hidden = 8, Layers = 2, Heads = 2, TimeEmbedding = 8,
            Training = new TrainerOptions(Steps: 3, BatchSize: 16, LearningRate: 2e-3, WarmupSteps: 1),
            Seed = 7,
        }).Fit(new TimeSeriesFrame(dates, ["SPY", "TLT"], values), conditions);

        using var cts = new CancellationTokenSource();
        var guidance = new CountingGuidance(cts, 8);
        var request = new SequenceSampleRequest(new Dictionary<string, double> { ["VIXCLS"] = 30 }, 2.0,
            new SamplerOptions(SamplerKind.Ddim, 25, MaxDegreeOfParallelism: 1, Guidance: guidance, Cancellation: cts.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => g.Generate(12, 4, request));
        Assert.Equal(8, guidance.Calls);

        using var live = new CancellationTokenSource();
        var plain = g.Generate(12, 4, request with { Sampler = new SamplerOptions(SamplerKind.Ddim, 25) });
        var withToken = g.Generate(12, 4, request with { Sampler = new SamplerOptions(SamplerKind.Ddim, 25, Cancellation: live.Token) });
        Assert.Equal(plain.Values.Values, withToken.Values.Values);
    }
}
