using System.Diagnostics;
using System.Globalization;
using Crucible.Tensors.Kernels;

namespace Crucible.Benchmarks;

/// <summary>
/// SGEMM throughput at 64³, 256³ and 1024³ (C = A·B, row-major, all threads), the peer's <c>gemm_ref.py</c> shapes.
/// Prints <c>{"engine": "crucible", "gflops": {"64": …, "256": …, "1024": …}}</c>.
/// </summary>
public sealed class GemmBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "gemm";

    /// <inheritdoc />
    public string Description => "SGEMM GFLOP/s at 64^3, 256^3, 1024^3";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var results = new List<string>();
        foreach (int n in new[] { 64, 256, 1024 })
        {
            var a = new float[n * n];
            var b = new float[n * n];
            var c = new float[n * n];
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = ((i % 7) - 3) * 0.1f;
                b[i] = ((i % 5) - 2) * 0.1f;
            }

            // the peer's protocol (gemm_ref.py): one warm-up call, then the mean over max(3, 2e9 / flop) calls
            double flop = 2.0 * n * n * n;
            Kernels.Gemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
            int reps = Math.Max(3, (int)(2e9 / flop));
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < reps; r++) Kernels.Gemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
            double best = flop * reps / sw.Elapsed.TotalSeconds / 1e9;

            results.Add(string.Create(CultureInfo.InvariantCulture, $"\"{n}\": {best:F1}"));
        }

        Console.WriteLine($"{{\"engine\": \"crucible\", \"threads\": {Environment.ProcessorCount}, \"gflops\": {{{string.Join(", ", results)}}}}}");
        return 0;
    }
}
