using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Training;

/// <summary>
/// The trainer finds seeded dropout and the ghost-clipped DP-SGD step through capabilities of the denoiser
/// (<see cref="IDropoutDenoiser"/>, <see cref="IGhostClippingDenoiser"/>), not by its type: a denoiser of another type
/// that has them trains exactly as <see cref="MlpDenoiserAdapter"/> does, and one without them gets neither (session 17;
/// the trainer cast to MlpDenoiserAdapter, so another denoiser with dropout trained without it).
/// </summary>
public sealed class DenoiserCapabilityTests
{
    private const int N = 16, D = 3, DiffusionSteps = 20, Steps = 4;

    // another denoiser type, delegating to an adapter, with only the capabilities it declares
    private class Plain(MlpDenoiserAdapter inner) : ITrainableDenoiser
    {
        protected MlpDenoiserAdapter Inner => inner;

        public Crucible.Tensors.Nn.Module Network => inner.Network;

        public IReadOnlyList<int> SampleShape => inner.SampleShape;

        public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps) => inner.Forward(x, timesteps);

        public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, Span<float> output) =>
            inner.Predict(x, batch, timesteps, output);
    }

    private class WithDropout(MlpDenoiserAdapter inner) : Plain(inner), IDropoutDenoiser
    {
        public bool HasDropout => Inner.HasDropout;

        public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps, Philox dropout) => Inner.Forward(x, timesteps, dropout);
    }

    private sealed class WithDropoutAndGhost(MlpDenoiserAdapter inner) : WithDropout(inner), IGhostClippingDenoiser
    {
        public Tensor Forward(Tensor x, ReadOnlySpan<int> timesteps, LinearTape tape, Philox? dropout) =>
            Inner.Forward(x, timesteps, tape, dropout);
    }

    private static MlpDenoiserAdapter Adapter(float dropout) =>
        new(new MlpDenoiser(new MlpDenoiserConfig(D, Hidden: 16, Blocks: 2, TimeEmbedding: 8, Dropout: dropout), new Philox(5)),
            DiffusionSteps);

    private static VolatilityAdaptiveSchedule Schedule() =>
        VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Create(BetaScheduleKind.Linear, DiffusionSteps), D);

    private static float[] Data()
    {
        var data = new float[N * D];
        new Philox(3).FillNormal(data);
        return data;
    }

    // the losses and the trained weights' bits
    private static (float[] Losses, int[] Weights) Train(Func<MlpDenoiserAdapter, ITrainableDenoiser> wrap, float dropout, bool privacy)
    {
        var adapter = Adapter(dropout);
        var options = new TrainerOptions(Steps: Steps, BatchSize: 8, LearningRate: 1e-2, WarmupSteps: 1, EmaDecay: 0, Seed: 9);
        var engine = privacy
            ? PrivacyEngine.Create(new DpSgdOptions
            {
                MaxGradNorm = 1.0, NoiseMultiplier = 0.5, Delta = 1e-3, ExpectedBatchSize = 8, Steps = Steps,
                EpsilonBudget = double.PositiveInfinity,
            }, N, new Philox(1))
            : null;
        var trainer = new DiffusionTrainer(wrap(adapter), Schedule(), Objective.Epsilon, options, engine);
        var data = Data();
        var losses = new float[Steps];
        for (var s = 0; s < Steps; s++) losses[s] = trainer.Step(data, N);
        var weights = adapter.Network.Parameters().SelectMany(p => p.Data).Select(BitConverter.SingleToInt32Bits).ToArray();
        return (losses, weights);
    }

    [Fact]
    public void AnotherDenoiserWithDropout_TrainsExactlyAsTheMlpAdapter_OneWithoutTheCapabilityDropsNothing()
    {
        var adapter = Train(a => a, 0.3f, privacy: false);
        var other = Train(a => new WithDropout(a), 0.3f, privacy: false);
        Assert.Equal(adapter.Losses, other.Losses);
        Assert.Equal(adapter.Weights, other.Weights);

        // without the capability the trainer draws no masks: the run is the dropout-free network's (same initial weights)
        var plain = Train(a => new Plain(a), 0.3f, privacy: false);
        Assert.NotEqual(adapter.Weights, plain.Weights);
        Assert.Equal(Train(a => a, 0f, privacy: false).Weights, plain.Weights);
    }

    [Fact]
    public void AnotherDenoiserWithGhostClipping_TakesTheBatchedDpStep_AsTheMlpAdapterDoes()
    {
        var adapter = Train(a => a, 0.3f, privacy: true);
        var other = Train(a => new WithDropoutAndGhost(a), 0.3f, privacy: true);
        Assert.Equal(adapter.Losses, other.Losses);
        Assert.Equal(adapter.Weights, other.Weights);
    }
}
