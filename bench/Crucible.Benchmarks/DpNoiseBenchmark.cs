using System.Diagnostics;
using System.Globalization;
using Crucible.Diffusion.Privacy;
using Crucible.Tensors.Random;

namespace Crucible.Benchmarks;

/// <summary>
/// The DP-SGD noise draw of one step (<see cref="PrivacyEngine.AddNoiseAndNormalise(Span{double}, double, double, IDpRandom)"/>)
/// for P parameters (default 301,578, the default tabular network): reproducible mode (Philox), secure mode as it is
/// (<see cref="SecureDpRandom.NextNormals"/>, vectorised), and secure mode one <see cref="SecureDpRandom.NextNormal"/> at a
/// time (the scalar construction, as before session 12), and the OS generator's 32·P bytes alone (8 KiB fills, as the
/// bulk draw takes them). Prints milliseconds per step, the median of
/// <c>--repeats</c> (default 21). <c>dp-noise [--parameters P] [--repeats R]</c>.
/// </summary>
public sealed class DpNoiseBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "dp-noise";

    /// <inheritdoc />
    public string Description => "DP-SGD noise draw per step, ms: Philox, secure (bulk), secure (one at a time)";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        int p = 301_578, repeats = 21;
        for (int i = 0; i + 1 < args.Count; i++)
        {
            if (args[i] == "--parameters") p = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--repeats") repeats = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }

        var sum = new double[p];
        var philox = new PhiloxDpRandom(new Philox(1));
        var secure = new SecureDpRandom();
        double philoxMs = Median(() => PrivacyEngine.AddNoiseAndNormalise(sum, 1.1, 256, philox));
        double bulkMs = Median(() => PrivacyEngine.AddNoiseAndNormalise(sum, 1.1, 256, secure));
        double scalarMs = Median(() =>
        {
            for (var i = 0; i < sum.Length; i++) sum[i] = (sum[i] + (1.1 * secure.NextNormal())) / 256;
        });
        var bytes = new byte[8192];
        double osBytesMs = Median(() =>
        {
            for (long filled = 0; filled < 32L * p; filled += bytes.Length) System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"benchmark\": \"dp-noise\", \"parameters\": {p}, \"repeats\": {repeats}, \"philox_ms\": {philoxMs:F2}, \"secure_bulk_ms\": {bulkMs:F2}, \"secure_scalar_ms\": {scalarMs:F2}, \"os_bytes_ms\": {osBytesMs:F2}, \"loadavg\": \"{File.ReadAllText("/proc/loadavg").Trim()}\"}}"));
        return 0;

        double Median(Action step)
        {
            step();
            var times = new double[repeats];
            for (var r = 0; r < repeats; r++)
            {
                var watch = Stopwatch.StartNew();
                step();
                times[r] = watch.Elapsed.TotalMilliseconds;
            }

            Array.Sort(times);
            return times[repeats / 2];
        }
    }
}
