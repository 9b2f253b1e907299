using System.Diagnostics;
using System.Globalization;
using Crucible.Data;
using Crucible.Data.Splits;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Sequence;
using Crucible.Tensors;

namespace Crucible.Benchmarks;

/// <summary>
/// <c>seq-demo</c>: the demo's conditional sequence generator on the demo's data, timed in its two phases: the fit
/// (<c>--steps N</c> training steps, default 300, of the demo's options: W = 20, H = 64, 4 layers, 2 cross-attention
/// blocks, batch 128, the DFF/TERM/RV20 state) and the demo's two draws (<c>--count C</c> scenarios, default 2,000,
/// DPM-Solver++(2M) 50 steps: the baseline at guidance 1 and the stressed <c>vol=+2sd</c> at guidance 2). Prints the
/// milliseconds per training step, the bytes allocated per step, the collections during the fit, the seconds of each
/// draw and SHA-256 prefixes of the weights and of the drawn values (so that two builds can be checked for the same bits).
/// </summary>
/// <remarks><c>--threads T</c> sets the engine's thread budget (default: all cores), as the demo runs.</remarks>
public sealed class ConditionalSequenceBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "seq-demo";

    /// <inheritdoc />
    public string Description => "the demo's conditional sequence model: ms per training step and draw seconds (DPM-Solver++ 50)";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        int steps = Args.Int(args, "--steps", 300);
        int count = Args.Int(args, "--count", 2_000);
        int threads = Args.Int(args, "--threads", Environment.ProcessorCount);
        using var limit = EngineThreads.Limit(threads);

        var (train, conditions, archetypes, options) = DemoSetup(steps);

        int gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var sw = Stopwatch.StartNew();
        var generator = new SequenceGenerator(options).Fit(train, conditions, archetypes);
        double fitSeconds = sw.Elapsed.TotalSeconds;
        long bytesPerStep = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / steps;
        int[] collections = [GC.CollectionCount(0) - gc0, GC.CollectionCount(1) - gc1, GC.CollectionCount(2) - gc2];

        var sampler = new SamplerOptions(SamplerKind.DpmSolver2M, 50);
        sw.Restart();
        var baseline = generator.Sample(count, 0, new SequenceSampleRequest(Sampler: sampler));
        double baselineSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var stressed = generator.Sample(count, 1, new SequenceSampleRequest(GuidanceScale: 2.0, Sampler: sampler, Stress: "vol=+2sd"));
        double stressedSeconds = sw.Elapsed.TotalSeconds;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"engine\": \"crucible\", \"threads\": {threads}, \"steps\": {steps}, \"fit_s\": {fitSeconds:F2}, \"ms_per_step\": {fitSeconds * 1000 / steps:F2}, " +
            $"\"allocated_bytes_per_step\": {bytesPerStep}, \"gc\": [{string.Join(", ", collections)}], \"final_loss\": {generator.Manifest.Training.FinalLoss:R}, \"weights_sha256\": \"{generator.ModelId[..16]}\", " +
            $"\"count\": {count}, \"baseline_s\": {baselineSeconds:F2}, \"stressed_s\": {stressedSeconds:F2}, " +
            $"\"baseline_sha256\": \"{Hash(baseline)}\", \"stressed_sha256\": \"{Hash(stressed)}\"}}"));
        return 0;
    }

    // the drawn values' bits, row by row
    /// <summary>
    /// The demo's data and features (DemoCommand.DemoDataSet): train to 2017-12-31 with a one-window embargo, the
    /// conditions and archetypes, and the demo's generator options at <paramref name="steps"/> training steps.
    /// </summary>
    internal static (TimeSeriesFrame Train, TimeSeriesFrame Conditions, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Archetypes, SequenceGeneratorOptions Options) DemoSetup(int steps)
    {
        const int Window = 20;
        string[] features = ["DFF", "TERM", "RV20"];
        var (percent, state) = DemoData.Load();
        var returns = percent.ToLogReturns(InputKind.PercentReturns);
        var split = TimeSplitter.TrainHoldout(returns, new DateOnly(2017, 12, 31), embargoRows: Window, window: Window);
        var train = split.Train(returns);
        var conditions = EconomicState.Build(state, train, features);
        var archetypes = CrisisArchetypes.Compute(EconomicState.Build(state, returns, features));
        var options = new SequenceGeneratorOptions
        {
            Window = Window,
            ConditionNoise = 0,
            GuidanceScale = 1,
            Training = new SequenceGeneratorOptions().Training with { Steps = steps },
        };
        return (train, conditions, archetypes, options);
    }

    internal static string Hash(TimeSeriesFrame frame)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var row = new byte[frame.ColumnCount * sizeof(double)];
        for (int r = 0; r < frame.RowCount; r++)
        {
            for (int c = 0; c < frame.ColumnCount; c++) System.Buffers.Binary.BinaryPrimitives.WriteDoubleLittleEndian(row.AsSpan(c * sizeof(double)), frame[r, c]);
            sha.AppendData(row);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }
}
