using System.Diagnostics;
using System.Globalization;
using Crucible.Tensors;
using Crucible.Tensors.Kernels;

namespace Crucible.Benchmarks;

/// <summary>
/// SGEMM throughput at 64³, 256³ and 1024³ (C = A·B, row-major, all threads), the peer's <c>gemm_ref.py</c> shapes.
/// Prints <c>{"engine": "crucible", "gflops": {"64": …, "256": …, "1024": …}}</c>. For profiling,
/// <c>gemm --shape M,N,K[,nn|nt|tn|tt] [--threads T]</c> times other shapes and transposes instead.
/// </summary>
public sealed class GemmBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "gemm";

    /// <inheritdoc />
    public string Description => "SGEMM GFLOP/s at 64^3, 256^3, 1024^3 (--shape M,N,K[,nt] --threads T for others)";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var shapes = new List<(int M, int N, int K, bool TA, bool TB, string Key)>();
        int threads = Environment.ProcessorCount;
        for (int i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == "--threads") threads = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] != "--shape") continue;
            var parts = args[i + 1].Split(',');
            string mode = parts.Length > 3 ? parts[3] : "nn";
            shapes.Add((int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture),
                int.Parse(parts[2], CultureInfo.InvariantCulture), mode[0] == 't', mode[1] == 't', args[i + 1]));
        }

        if (shapes.Count == 0) shapes.AddRange([(64, 64, 64, false, false, "64"), (256, 256, 256, false, false, "256"), (1024, 1024, 1024, false, false, "1024")]);
        var results = new List<string>();
        using var limit = EngineThreads.Limit(threads);
        foreach (var (m, n, k, ta, tb, key) in shapes)
        {
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            for (int i = 0; i < a.Length; i++) a[i] = ((i % 7) - 3) * 0.1f;
            for (int i = 0; i < b.Length; i++) b[i] = ((i % 5) - 2) * 0.1f;
            int lda = ta ? m : k, ldb = tb ? k : n;

            // the peer's protocol (gemm_ref.py): one warm-up call, then the mean over max(3, 2e9 / flop) calls
            double flop = 2.0 * m * n * k;
            Kernels.Gemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
            int reps = Math.Max(3, (int)(2e9 / flop));
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < reps; r++) Kernels.Gemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
            double gflops = flop * reps / sw.Elapsed.TotalSeconds / 1e9;
            results.Add(string.Create(CultureInfo.InvariantCulture, $"\"{key}\": {gflops:F1}"));
        }

        Console.WriteLine($"{{\"engine\": \"crucible\", \"threads\": {threads}, \"gflops\": {{{string.Join(", ", results)}}}}}");
        return 0;
    }
}
