using System.Diagnostics;
using System.Globalization;
using Crucible.Diffusion;
using Crucible.Diffusion.Samplers;
using Crucible.Tensors;

namespace Crucible.Benchmarks;

/// <summary>
/// <c>sample-ddim [--kind mlp|tcn]</c>: samples per second of DDIM (η = 0) with 50 steps for 10,000 samples with the
/// peer's networks, after the peer's warm-up (256 samples, 5 steps). Prints
/// <c>{"mlp": {"params", "samples_per_s"}, "tcn": {…}}</c>, or the peer's flat keys with <c>--kind</c>.
/// </summary>
/// <remarks>
/// The sampler runs chunks of 512 samples on <c>--threads</c> threads (default: all cores), each chunk's network
/// passes on its own thread (<c>--engine-threads 1</c>): chunks are independent, so this parallelises every pass,
/// not only the GEMMs, and a chunk's activations stay in cache. <c>--samples N</c>, <c>--steps K</c>,
/// <c>--chunk C</c> and <c>--engine-threads E</c> change the protocol.
/// </remarks>
public sealed class SampleBenchmark : IBenchmarkCommand
{
    private const int DefaultChunk = 512;

    /// <inheritdoc />
    public string Name => "sample-ddim";

    /// <inheritdoc />
    public string Description => "DDIM samples/s (10,000 samples, 50 steps) for the peer's MLP and TCN";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        int samples = Args.Int(args, "--samples", 10_000);
        int steps = Args.Int(args, "--steps", 50);
        int threads = Args.Int(args, "--threads", Environment.ProcessorCount);
        int chunk = Args.Int(args, "--chunk", 0);
        int engineThreads = Args.Int(args, "--engine-threads", 1);
        string? only = Args.String(args, "--kind");
        var kinds = only is null ? [PeerKind.Mlp, PeerKind.Tcn] : new[] { only == "mlp" ? PeerKind.Mlp : PeerKind.Tcn };
        var parts = new List<string>();
        foreach (var kind in kinds)
        {
            var peer = new DdpmPeer(kind);
            int chunkSize = chunk > 0 ? chunk : DefaultChunk;
            double rate = Measure(peer, samples, steps, threads, chunkSize, engineThreads);
            string name = kind == PeerKind.Mlp ? "mlp" : "tcn";
            string body = string.Create(CultureInfo.InvariantCulture,
                $"\"params\": {peer.Module.ParameterCount()}, \"shape\": [{string.Join(", ", peer.Shape)}], \"chunk\": {chunkSize}, \"samples_per_s\": {rate:F1}");
            parts.Add(only is null ? $"\"{name}\": {{{body}}}" : $"\"kind\": \"{name}\", {body}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"engine\": \"crucible\", \"threads\": {threads}, \"samples\": {samples}, \"ddim_steps\": {steps}, {string.Join(", ", parts)}}}"));
        return 0;
    }

    private static double Measure(DdpmPeer peer, int samples, int steps, int threads, int chunkSize, int engineThreads)
    {
        using var limit = EngineThreads.Limit(engineThreads);
        var warm = new SamplerOptions(SamplerKind.Ddim, Steps: 5, ChunkSize: Math.Min(256, chunkSize), MaxDegreeOfParallelism: threads);
        DiffusionSampler.Sample(peer.Adapter, peer.Schedule, Objective.Epsilon, 256, seed: 1, warm);
        var options = new SamplerOptions(SamplerKind.Ddim, Steps: steps, ChunkSize: chunkSize, MaxDegreeOfParallelism: threads);
        var sw = Stopwatch.StartNew();
        var x = DiffusionSampler.Sample(peer.Adapter, peer.Schedule, Objective.Epsilon, samples, seed: 2, options);
        double rate = samples / sw.Elapsed.TotalSeconds;
        if (!float.IsFinite(x[^1])) throw new InvalidOperationException("non-finite sample");
        return rate;
    }
}
