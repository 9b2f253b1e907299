using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Training;

[Collection(nameof(EngineThreadsCollection))]
public class TrainerAllocationTests
{
    /// <summary>
    /// The trainer's steps take their intermediate tensors from an arena: after the first step (which fills it), a step
    /// of the conditional sequence network allocates only what is not a tensor of the step (the parameters' gradients,
    /// the batch's conditions), a small fraction of the first step's bytes; without the arena every step allocated
    /// all its activations and their gradients anew (44 MB a step at the demo's size, most of them large-object-heap
    /// arrays collected by full collections).
    /// </summary>
    [Fact]
    public void ConditionalSteps_AfterTheFirst_AllocateAFractionOfIt()
    {
        const int rows = 64, d = 3, w = 20, k = 2;
        var rng = new Philox(4);
        var data = new float[rows * d * w];
        rng.FillNormal(data);
        var conditions = new float[rows * k];
        rng.FillNormal(conditions);
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(200), d);
        var net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(Series: d, Window: w, ConditionFeatures: k, Hidden: 32, Layers: 4, Heads: 4, TimeEmbedding: 32), new Philox(5));
        var trainer = new DiffusionTrainer(new ConditionalTcnDenoiserAdapter(net, schedule.Steps), schedule, Objective.V,
            new TrainerOptions(Steps: 10, BatchSize: 32, LearningRate: 1e-3, WarmupSteps: 2, Seed: 6))
        {
            Conditions = new ConditionDropout(conditions, rows, k),
        };

        using var limit = EngineThreads.Limit(1);                       // every allocation on this thread
        long first = ThreadAllocations.Of(() => trainer.Step(data, rows));
        long later = ThreadAllocations.PerCall(() => trainer.Step(data, rows), calls: 4);

        Assert.True(later < first / 4, $"a later step allocated {later:N0} bytes, the first {first:N0}");
    }

    /// <summary>
    /// Windows cut from the series when drawn (<see cref="SeriesWindows"/>) add nothing to a step's allocations: a later
    /// step on them allocates what a later step on the same windows held whole does (the same draws, the same graph).
    /// </summary>
    [Fact]
    public void ConditionalSteps_OnWindowsCutWhenDrawn_AllocateNoMoreThanOnTheWindowsHeldWhole()
    {
        const int steps = 83, d = 3, w = 20, k = 2, rows = steps - w + 1;
        var series = SeriesWindowsTests.Series(steps, d, seed: 4);
        var conditions = new float[rows * k];
        new Philox(7).FillNormal(conditions);
        long LaterStep(TrainingData data)
        {
            var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(200), d);
            var net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(Series: d, Window: w, ConditionFeatures: k, Hidden: 32, Layers: 4, Heads: 4, TimeEmbedding: 32), new Philox(5));
            var trainer = new DiffusionTrainer(new ConditionalTcnDenoiserAdapter(net, schedule.Steps), schedule, Objective.V,
                new TrainerOptions(Steps: 10, BatchSize: 32, LearningRate: 1e-3, WarmupSteps: 2, Seed: 6))
            {
                Conditions = new ConditionDropout(conditions, rows, k),
            };

            using var limit = EngineThreads.Limit(1);
            trainer.Step(data);
            return ThreadAllocations.PerCall(() => trainer.Step(data), calls: 4);
        }

        long whole = LaterStep(new ArrayTrainingData(SeriesWindowsTests.NaiveWindows(series, d, w), rows, d * w));
        long windows = LaterStep(new SeriesWindows(series, d, w));
        Assert.True(windows <= whole, $"a later step on the windows cut when drawn allocated {windows:N0} bytes, on the windows held whole {whole:N0}");
    }
    /// <summary>
    /// The parameters' gradient buffers are allocated by the first backward pass and reused by every later step (zeroed in
    /// place), and a step into reused buffers computes the bits a step into fresh ones does: trainer B drops its gradients
    /// before its second step (what every step did before), trainer A keeps them; gradients and weights agree bit for bit.
    /// </summary>
    [Fact]
    public void MlpSteps_ReuseTheGradientBuffers_AndComputeTheSameBits()
    {
        const int rows = 128, d = 4;
        var data = new float[rows * d];
        new Philox(8).FillNormal(data);
        (MlpDenoiser Net, DiffusionTrainer Trainer) Make()
        {
            var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(200), d);
            var net = new MlpDenoiser(new MlpDenoiserConfig(Features: d, Hidden: 32, Blocks: 2, TimeEmbedding: 16), new Philox(3));
            return (net, new DiffusionTrainer(new MlpDenoiserAdapter(net, schedule.Steps), schedule, Objective.Epsilon,
                new TrainerOptions(Steps: 5, BatchSize: 32, LearningRate: 1e-3, WarmupSteps: 1, Seed: 7)));
        }

        var (netA, a) = Make();
        var (netB, b) = Make();
        a.Step(data, rows);
        b.Step(data, rows);
        var buffers = netA.Parameters().Select(p => p.Grad!).ToArray();
        foreach (var p in netB.Parameters()) p.Grad = null;      // B's second step allocates its gradients anew
        a.Step(data, rows);
        b.Step(data, rows);

        var gradsA = netA.Parameters().Select(p => p.Grad!).ToArray();
        Assert.All(gradsA.Zip(buffers), pair => Assert.Same(pair.Second, pair.First));
        var gradsB = netB.Parameters().Select(p => p.Grad!).ToArray();
        for (int i = 0; i < gradsA.Length; i++)
        {
            Assert.Equal(gradsB[i].Select(BitConverter.SingleToInt32Bits), gradsA[i].Select(BitConverter.SingleToInt32Bits));
        }

        Assert.Equal(netB.Parameters().SelectMany(p => p.Data).Select(BitConverter.SingleToInt32Bits),
            netA.Parameters().SelectMany(p => p.Data).Select(BitConverter.SingleToInt32Bits));
    }
}
