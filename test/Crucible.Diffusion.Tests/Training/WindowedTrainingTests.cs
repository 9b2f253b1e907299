using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Tests.Training;

/// <summary>
/// A sequence model trained on the stride-1 windows cut on demand (<see cref="SeriesWindows"/>) against the same model
/// trained on the windows held whole (the array the sequence generator built before): the same weights, byte for byte,
/// and the same losses, in every path of the trainer that reads the data (plain, conditioned, the PACF target, smoothing,
/// DP-SGD with and without conditions, a checkpoint resumed).
/// </summary>
public sealed class WindowedTrainingTests : IDisposable
{
    private const int Steps = 6, D = 3, W = 8, K = 2, T = 60, DiffusionSteps = 50;
    private const int Count = T - W + 1;

    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-windowed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public enum Mode
    {
        Plain,
        Conditioned,
        Pacf,
        Smoothing,
        Private,
        PrivateConditioned,
        Resumed,
    }

    public static TheoryData<Mode> Modes => [.. Enum.GetValues<Mode>()];

    private static readonly float[] Returns = SeriesWindowsTests.Series(T, D, seed: 21);

    private static readonly float[] ConditionValues = ConditionRows();

    private static float[] ConditionRows()
    {
        var values = new float[Count * K];
        new Philox(22).FillNormal(values);
        return values;
    }

    // a conditional TCN of the sequence generator's kind, trained as the mode says on data (the same data both times)
    private (byte[] Weights, float[] Losses) Train(Mode mode, TrainingData data, float[] whole)
    {
        var options = new TrainerOptions(Steps: Steps, BatchSize: 8, LearningRate: 2e-3, WarmupSteps: 2, Seed: 9,
            PacfWeight: mode == Mode.Pacf ? 0.5 : 0, PacfLags: 3);
        var schedule = VolatilityAdaptiveSchedule.Fit(NoiseSchedule.Linear(DiffusionSteps), whole, Count, D, W);
        bool conditioned = mode is Mode.Conditioned or Mode.PrivateConditioned or Mode.Resumed;
        DiffusionTrainer Make(out ConditionalTcnDenoiser network)
        {
            network = new ConditionalTcnDenoiser(
                new ConditionalTcnDenoiserConfig(Series: D, Window: W, ConditionFeatures: K, Hidden: 8, Layers: 2, Heads: 2, TimeEmbedding: 8), new Philox(3));
            var privacy = mode is Mode.Private or Mode.PrivateConditioned
                ? PrivacyEngine.Create(new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 1.1, Delta = 1e-3, ExpectedBatchSize = 8, Steps = Steps }, Count, new Philox(4, stream: 3))
                : null;
            return new DiffusionTrainer(new ConditionalTcnDenoiserAdapter(network, DiffusionSteps), schedule, Objective.V, options, privacy)
            {
                Conditions = conditioned ? new ConditionDropout(ConditionValues, Count, K) : null,
                Smoothing = mode == Mode.Smoothing ? SmoothedBootstrap.Fit(whole, Count, D * W, 0.2) : null,
            };
        }

        var trainer = Make(out var net);
        if (mode == Mode.Resumed)
        {
            for (int s = 0; s < 3; s++) trainer.Step(data);
            var path = Path.Combine(_dir, $"{data.GetType().Name}.ckpt");
            trainer.SaveCheckpoint(path);
            trainer = Make(out net);
            trainer.LoadCheckpoint(path);
        }

        trainer.Fit(data);
        trainer.Ema?.CopyTo();
        return (net.SerializeSafeTensors(), [.. trainer.Losses]);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Training_OnWindowsCutWhenDrawn_GivesTheWeightsOfTheWindowsHeldWhole(Mode mode)
    {
        var whole = SeriesWindowsTests.NaiveWindows(Returns, D, W);
        var (expected, expectedLosses) = Train(mode, new ArrayTrainingData(whole, Count, D * W), whole);
        var (actual, actualLosses) = Train(mode, new SeriesWindows(Returns, D, W), whole);
        Assert.Equal(Steps, actualLosses.Length);
        Assert.Equal(SeriesWindowsTests.Bits(expectedLosses), SeriesWindowsTests.Bits(actualLosses));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Fit_OnAnArray_IsFit_OnItsArrayTrainingData()
    {
        // the float[] overloads (the tabular generator's and the stocks benchmark's) wrap the array: same steps, same weights
        var whole = SeriesWindowsTests.NaiveWindows(Returns, D, W);
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(DiffusionSteps), D);
        var options = new TrainerOptions(Steps: Steps, BatchSize: 8, LearningRate: 2e-3, WarmupSteps: 2, Seed: 9, PacfWeight: 0.5, PacfLags: 3);
        byte[] Run(Action<DiffusionTrainer> fit)
        {
            var net = new TcnDenoiser(new TcnDenoiserConfig(D, W, 8, 2, 8), new Philox(3));
            var trainer = new DiffusionTrainer(new TcnDenoiserAdapter(net, DiffusionSteps), schedule, Objective.Epsilon, options);
            fit(trainer);
            return net.SerializeSafeTensors();
        }

        Assert.Equal(Run(t => t.Fit(new ArrayTrainingData(whole, Count, D * W))), Run(t => t.Fit(whole, Count)));
        Assert.Equal(Run(t => t.Fit(new SeriesWindows(Returns, D, W))), Run(t => t.Fit(whole, Count)));
    }

    [Fact]
    public void Step_RefusesDataWhoseRowsAreNotTheSamplesSize()
    {
        var schedule = VolatilityAdaptiveSchedule.Isotropic(NoiseSchedule.Linear(DiffusionSteps), D);
        var net = new TcnDenoiser(new TcnDenoiserConfig(D, W, 8, 2, 8), new Philox(3));
        var trainer = new DiffusionTrainer(new TcnDenoiserAdapter(net, DiffusionSteps), schedule, Objective.Epsilon, new TrainerOptions(Steps: 2, BatchSize: 4));
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => trainer.Step(new SeriesWindows(Returns, D, W - 1))).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => trainer.Step(new float[(Count * D * W) - 1], Count)).ParamName);
        Assert.Equal(0, trainer.StepsDone);
    }
}
