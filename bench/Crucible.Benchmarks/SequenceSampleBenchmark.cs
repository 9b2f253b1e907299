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
/// <c>seq-sample</c>: sampling of the demo's conditional sequence model (the <c>seq-demo</c> options: W = 20, H = 64,
/// 4 layers, 2 cross-attention blocks, the DFF/TERM/RV20 state), fitted for <c>--steps N</c> training steps (default
/// 40: the sampling cost does not depend on the weights' values), then <c>--count C</c> windows (default 1,000, the
/// regime-guidance pilot's size) drawn <c>--reps R</c> times (default 3, after a warm-up draw that also pays the regime-guidance pilot) by each of DDIM-50 and DPM-Solver++(2M)-50
/// under the stressed <c>vol=+2sd</c> condition at classifier-free guidance 2 (a conditional and a null pass per step).
/// Prints, per sampler, the median and range of the milliseconds per sampler step, the bytes allocated per sampler step
/// (all threads) and a SHA-256 prefix of the drawn values (so that two builds can be checked for the same bits).
/// </summary>
/// <remarks><c>--threads T</c> sets the engine's thread budget (default: all cores), as the demo runs.</remarks>
public sealed class SequenceSampleBenchmark : IBenchmarkCommand
{
    private const int SamplerSteps = 50;

    /// <inheritdoc />
    public string Name => "seq-sample";

    /// <inheritdoc />
    public string Description => "the demo's conditional sequence model: ms and bytes per guided sampler step (DDIM-50, DPM-Solver++ 50)";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        int steps = Args.Int(args, "--steps", 40);
        int count = Args.Int(args, "--count", 1_000);
        int reps = Math.Max(1, Args.Int(args, "--reps", 3));
        int threads = Args.Int(args, "--threads", Environment.ProcessorCount);
        using var limit = EngineThreads.Limit(threads);

        // the demo's data and features, as seq-demo
        var (train, conditions, archetypes, options) = ConditionalSequenceBenchmark.DemoSetup(steps);
        var generator = new SequenceGenerator(options).Fit(train, conditions, archetypes);

        var parts = new List<string>();
        foreach (var kind in new[] { SamplerKind.Ddim, SamplerKind.DpmSolver2M })
        {
            var request = new SequenceSampleRequest(GuidanceScale: 2.0, Sampler: new SamplerOptions(kind, SamplerSteps), Stress: "vol=+2sd");
            generator.Sample(16, 7, request);   // warm-up: the JIT, and the regime-guidance pilot for this condition
            var ms = new double[reps];
            long bytes = 0;
            string hash = "";
            for (int r = 0; r < reps; r++)
            {
                long allocated = GC.GetTotalAllocatedBytes(precise: true);
                var sw = Stopwatch.StartNew();
                var drawn = generator.Sample(count, 7, request);
                ms[r] = sw.Elapsed.TotalMilliseconds / SamplerSteps;
                bytes = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / SamplerSteps;
                hash = ConditionalSequenceBenchmark.Hash(drawn);
            }

            Array.Sort(ms);
            parts.Add(string.Create(CultureInfo.InvariantCulture,
                $"\"{(kind == SamplerKind.Ddim ? "ddim" : "dpm_solver_pp")}\": {{\"ms_per_step_median\": {ms[reps / 2]:F2}, \"ms_per_step_min\": {ms[0]:F2}, \"ms_per_step_max\": {ms[^1]:F2}, " +
                $"\"allocated_bytes_per_step\": {bytes}, \"sha256\": \"{hash}\"}}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"engine\": \"crucible\", \"threads\": {threads}, \"train_steps\": {steps}, \"weights_sha256\": \"{generator.ModelId[..16]}\", \"count\": {count}, \"guidance\": 2, " +
            $"\"sampler_steps\": {SamplerSteps}, {string.Join(", ", parts)}}}"));
        return 0;
    }
}
