using System.Diagnostics;
using System.Globalization;
using Crucible.Tensors;

namespace Crucible.Benchmarks;

/// <summary>
/// <c>train-mlp</c> / <c>train-tcn</c>: training steps per second of the peer's networks with the peer's loop and
/// timing (<see cref="DdpmPeer"/>): 20 warm-up steps, then 300 timed. Prints the peer's keys
/// (<c>params</c>, <c>train_steps_per_s</c>). <c>--steps N</c> changes the timed steps, <c>--threads T</c> the
/// engine's thread budget (default: all cores), <c>--profile</c> adds the time per phase, the bytes allocated
/// per step, the process CPU time per step and the garbage collections.
/// </summary>
public sealed class TrainBenchmark(PeerKind kind) : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => kind == PeerKind.Mlp ? "train-mlp" : "train-tcn";

    /// <inheritdoc />
    public string Description => kind == PeerKind.Mlp
        ? "train steps/s of the peer's MLP (306,708 parameters, batch 256, Adam)"
        : "train steps/s of the peer's TCN (64,468 parameters, 20x24 windows, batch 256, Adam)";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        int steps = Args.Int(args, "--steps", 300);
        int threads = Args.Int(args, "--threads", Environment.ProcessorCount);
        bool profile = args.Contains("--profile");
        using var limit = EngineThreads.Limit(threads);
        var peer = new DdpmPeer(kind);
        for (int i = 0; i < 20; i++) peer.Step();

        int gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        float loss = 0f;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) loss = peer.Step(profile);
        double seconds = sw.Elapsed.TotalSeconds;
        long bytesPerStep = (GC.GetTotalAllocatedBytes(precise: false) - allocated) / steps;
        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / steps;

        var line = string.Create(CultureInfo.InvariantCulture,
            $"{{\"engine\": \"crucible\", \"kind\": \"{(kind == PeerKind.Mlp ? "mlp" : "tcn")}\", \"threads\": {threads}, " +
            $"\"params\": {peer.Module.ParameterCount()}, \"shape\": [{string.Join(", ", peer.Shape)}], \"batch\": {DdpmPeer.Batch}, " +
            $"\"train_steps_per_s\": {steps / seconds:F1}, \"loss\": {loss:F4}");
        if (profile)
        {
            line += string.Create(CultureInfo.InvariantCulture,
                $", \"profile\": {peer.Profile.ToJson()}, \"cpu_ms_per_step\": {cpuMs:F3}, \"allocated_bytes_per_step\": {bytesPerStep}, " +
                $"\"gc\": [{GC.CollectionCount(0) - gc0}, {GC.CollectionCount(1) - gc1}, {GC.CollectionCount(2) - gc2}]");
        }

        Console.WriteLine(line + "}");
        return 0;
    }
}
