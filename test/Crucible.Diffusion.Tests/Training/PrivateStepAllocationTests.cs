using System.Security.Cryptography;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Training;

[Collection(nameof(EngineThreadsCollection))]
public class PrivateStepAllocationTests
{
    private static (MlpDenoiser Net, DiffusionTrainer Trainer) Make(int rows, int d, int hidden, int blocks, int embedding, float dropout, double batch, int steps)
    {
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(200), d);
        var net = new MlpDenoiser(new MlpDenoiserConfig(d, hidden, blocks, embedding, dropout), new Philox(3));
        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = 0.5, NoiseMultiplier = 1.1, Delta = 1e-4, ExpectedBatchSize = batch, Steps = steps, EpsilonBudget = double.PositiveInfinity,
        }, rows, new Philox(4, stream: 3));
        var trainer = new DiffusionTrainer(new MlpDenoiserAdapter(net, schedule.Steps), schedule, Objective.V,
            new TrainerOptions(Steps: steps, BatchSize: (int)batch, LearningRate: 1e-3, WarmupSteps: 2, Seed: 6), engine);
        return (net, trainer);
    }

    /// <summary>
    /// DP-SGD with ghost clipping (the MLP denoiser, dropout on, some examples clipped) trains the weights, EMA and losses
    /// the trainer computed before its private steps reused their buffers, bit for bit: the SHA-256 was computed with that code.
    /// </summary>
    [Fact]
    public void GhostClippedSteps_TrainTheWeightsTheyTrainedBefore_BitForBit()
    {
        const int rows = 300, d = 4, steps = 12;
        var data = new float[rows * d];
        new Philox(8).FillNormal(data);
        var (net, trainer) = Make(rows, d, hidden: 32, blocks: 2, embedding: 16, dropout: 0.1f, batch: 24, steps);
        for (int i = 0; i < steps; i++) trainer.Step(data, rows);

        var hash = Sha256(net, trainer);
        Assert.True(hash == "544f2f3b4603095dc280a10f940ec07899f2e98b95c30e16d335f0caa9038a26", hash);
    }

    // a conditional TCN (cross-attention to the conditions, with their dropout) or the plain TCN, trained by DP-SGD through
    // the microbatch-of-one path: q = batch / rows, C = 0.05 (below most examples' norms, so clipping bites)
    private static (Crucible.Tensors.Nn.Module Net, DiffusionTrainer Trainer) MakeSequence(
        bool conditional, int rows, int d, int w, int hidden, int layers, int embedding, double batch, int steps, out float[] data)
    {
        const int k = 2;
        var rng = new Philox(8);
        data = new float[rows * d * w];
        rng.FillNormal(data);
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(200), d);
        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = 0.05, NoiseMultiplier = 1.1, Delta = 1e-4, ExpectedBatchSize = batch, Steps = steps, EpsilonBudget = double.PositiveInfinity,
        }, rows, new Philox(4, stream: 3));
        var options = new TrainerOptions(Steps: steps, BatchSize: (int)batch, LearningRate: 1e-3, WarmupSteps: 2, Seed: 6);
        if (!conditional)
        {
            var tcn = new TcnDenoiser(new TcnDenoiserConfig(d, w, hidden, layers, embedding), new Philox(3));
            return (tcn, new DiffusionTrainer(new TcnDenoiserAdapter(tcn, schedule.Steps), schedule, Objective.Epsilon, options, engine));
        }

        var values = new float[rows * k];
        rng.FillNormal(values);
        var net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(d, w, k, hidden, layers, Heads: 2, AttentionEvery: 1, embedding), new Philox(3));
        return (net, new DiffusionTrainer(new ConditionalTcnDenoiserAdapter(net, schedule.Steps), schedule, Objective.V, options, engine)
        {
            Conditions = new ConditionDropout(values, rows, k, unconditional: 0.2, subset: 0.4, noise: 0.1),
        });
    }

    private static string Sha256(Crucible.Tensors.Nn.Module net, DiffusionTrainer trainer)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in net.Parameters()) sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.Data.AsSpan()));
        foreach (var p in trainer.Ema!.StateDict().Shadow) sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.AsSpan()));
        foreach (var loss in trainer.Losses) sha.AppendData(BitConverter.GetBytes(loss));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// DP-SGD through the microbatch-of-one path (the conditional TCN under its conditions' dropout, and the plain TCN;
    /// Poisson batches of about 5 of 40 windows, a clip bound C = 0.05) trains the weights, EMA and losses it trained when
    /// the path materialised the count × P per-example gradients and clipped them afterwards, bit for bit: the SHA-256
    /// were computed with that code.
    /// </summary>
    [Theory]
    [InlineData(true, "5250b73bdc467df5125037a8ac529e88a88433af729bb5e62afb97b700f5442a")]
    [InlineData(false, "dc7624560913ac7e274092305ecacb4557d8b24caa717b46d95722f7d438541b")]
    public void MicrobatchSteps_TrainTheWeightsTheyTrainedBefore_BitForBit(bool conditional, string expected)
    {
        const int steps = 8;
        var (net, trainer) = MakeSequence(conditional, rows: 40, d: 2, w: 8, hidden: 8, layers: 2, embedding: 8, batch: 5, steps, out var data);
        for (int i = 0; i < steps; i++) trainer.Step(data, 40);
        var hash = Sha256(net, trainer);
        Assert.True(hash == expected, hash);
    }

    /// <summary>
    /// A later ghost-clipped private step reuses the parameters' gradient buffers and the clipped sum, and pools its
    /// scratch: at a small Poisson batch (q·N = 8) of the default-width MLP (hidden 256, 3 blocks), where the per-parameter
    /// buffers are most of a step, a later step allocates a small fraction of the first. Before, every step dropped and
    /// allocated the gradients twice (backward, then the engine's noised sum), the clipped sum (P doubles), each
    /// layer's scratch and each probe's zeros: 6,434,382 bytes a later step against 9,699,344 for the first; now 335,212
    /// against 4,862,328. The activations are not pooled (their sizes follow the batch size m, which varies step to step).
    /// </summary>
    [Fact]
    public void GhostClippedSteps_AfterTheFirst_AllocateAFractionOfIt()
    {
        const int rows = 2000, d = 10, steps = 10;
        var data = new float[rows * d];
        new Philox(8).FillNormal(data);
        var (_, trainer) = Make(rows, d, hidden: 256, blocks: 3, embedding: 128, dropout: 0f, batch: 8, steps);

        using var limit = EngineThreads.Limit(1);                       // every allocation on this thread
        long first = ThreadAllocations.Of(() => trainer.Step(data, rows));
        long later = ThreadAllocations.PerCall(() => trainer.Step(data, rows), calls: 4);

        Assert.True(later < first / 4, $"a later step allocated {later:N0} bytes, the first {first:N0}");
    }

    /// <summary>
    /// A later private step through the microbatch-of-one path holds O(P) memory, not count × P: at q = 1 (all 16
    /// windows in every batch) of a conditional TCN of P = 227,811, it allocates well below the count × P × 4 bytes
    /// (14,579,904) of the per-example gradients. Before, the path materialised them (count × P floats), every example's
    /// backward allocated the parameters' gradients anew (count × P again) and its activations, and every example's
    /// input and target were copied to new arrays: 65,943,920 bytes a later step; now each example's gradient is clipped
    /// and added as its backward finishes, into kept buffers, its activations in the trainer's arena: 1,594,054 (the
    /// graph's nodes, shapes and closures and the backward's traversal, about 100 KB an example).
    /// </summary>
    [Fact]
    public void MicrobatchSteps_AfterTheFirst_AllocateFarLessThanCountTimesPGradients()
    {
        const int rows = 16, steps = 6;
        var (net, trainer) = MakeSequence(conditional: true, rows, d: 3, w: 12, hidden: 96, layers: 3, embedding: 32, batch: rows, steps, out var data);
        long p = net.Parameters().Sum(t => (long)t.Length);

        using var limit = EngineThreads.Limit(1);                       // every allocation on this thread
        trainer.Step(data, rows);
        long later = ThreadAllocations.PerCall(() => trainer.Step(data, rows), calls: 4);

        long gradients = rows * p * sizeof(float);
        Assert.True(later < gradients / 4, $"a later step allocated {later:N0} bytes; count × P × 4 = {gradients:N0} (P = {p:N0})");
    }
}
