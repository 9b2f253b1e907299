using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Crucible.Benchmarks;

/// <summary>
/// <c>data-check [--size-mb N] [--columns C] [--keep]</c>: generates an N MB (default 1024) wide price panel in
/// /tmp, runs <c>crucible data check --json</c> on it in a child process under <c>/usr/bin/time</c> (peak RSS), then
/// times <c>pandas.read_csv</c> on the same file (import excluded), and prints both throughputs and peak memories.
/// The file is deleted afterwards unless <c>--keep</c>.
/// </summary>
public sealed class DataCheckBenchmark : IBenchmarkCommand
{
    /// <inheritdoc />
    public string Name => "data-check";

    /// <inheritdoc />
    public string Description => "crucible data check vs pandas.read_csv on a generated 1 GB CSV (MB/s, peak RSS)";

    /// <inheritdoc />
    public int Run(IReadOnlyList<string> args)
    {
        var sizeMb = Args.Int(args, "--size-mb", 1024);
        var columns = Args.Int(args, "--columns", 200);
        var keep = args.Contains("--keep");
        var path = Path.Combine(Path.GetTempPath(), $"crucible-bench-{Environment.ProcessId}.csv");
        try
        {
            var sw = Stopwatch.StartNew();
            var rows = GenerateCsv(path, (long)sizeMb << 20, columns);
            var generateSeconds = sw.Elapsed.TotalSeconds;
            var bytes = new FileInfo(path).Length;
            var mb = bytes / (1024.0 * 1024.0);

            var cli = Path.Combine(AppContext.BaseDirectory, "crucible.dll");
            var ours = Measure(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", [cli, "data", "check", "--data", path, "--json"]);
            var report = JsonNode.Parse(ours.Stdout);
            var pandasScript = "import time, sys, pandas\n" +
                               "t = time.perf_counter()\n" +
                               "df = pandas.read_csv(sys.argv[1])\n" +
                               "print(time.perf_counter() - t, len(df))\n";
            // The Debian interpreter carries pandas (../shared/peers/setup.sh); a pyenv shim on PATH may not.
            var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
            var pandas = Measure(python, ["-c", pandasScript, path]);
            double? pandasSeconds = null;
            if (pandas.ExitCode == 0)
                pandasSeconds = double.Parse(pandas.Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);

            var result = new JsonObject
            {
                ["command"] = Name,
                ["file_mb"] = Math.Round(mb, 1),
                ["rows"] = rows,
                ["columns"] = columns,
                ["generate_seconds"] = Math.Round(generateSeconds, 2),
                ["crucible_exit_code"] = ours.ExitCode,
                ["crucible_rows_in"] = report?["rows_in"]?.GetValue<long>(),
                ["crucible_usable"] = ours.ExitCode == 0,
                ["crucible_seconds"] = Math.Round(ours.Seconds, 3),
                ["crucible_mb_per_s"] = Math.Round(mb / ours.Seconds, 1),
                ["crucible_peak_rss_mb"] = Math.Round(ours.PeakRssKb / 1024.0, 1),
                ["pandas_ok"] = pandas.ExitCode == 0,
                ["pandas_seconds"] = pandasSeconds is null ? null : Math.Round(pandasSeconds.Value, 3),
                ["pandas_mb_per_s"] = pandasSeconds is null ? null : Math.Round(mb / pandasSeconds.Value, 1),
                ["pandas_peak_rss_mb"] = Math.Round(pandas.PeakRssKb / 1024.0, 1),
                ["pandas_error"] = pandas.ExitCode == 0 ? null : pandas.Stderr.Trim().Split('\n')[^1],
                ["peak_under_200mb"] = ours.PeakRssKb < 200 * 1024,
                ["faster_than_pandas"] = pandasSeconds is null ? null : ours.Seconds <= pandasSeconds.Value,
            };
            Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            return ours.ExitCode == 0 ? 0 : 1;
        }
        finally
        {
            if (!keep) File.Delete(path);
        }
    }

    /// <summary>Runs a program under <c>/usr/bin/time -f %M</c>; returns wall seconds (of the child), peak RSS and output.</summary>
    private static (int ExitCode, double Seconds, long PeakRssKb, string Stdout, string Stderr) Measure(string program, string[] arguments)
    {
        var rssFile = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("/usr/bin/time")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in (string[])["-f", "%M", "-o", rssFile, program, .. arguments]) start.ArgumentList.Add(a);
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(start)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            var seconds = sw.Elapsed.TotalSeconds;
            var rss = File.ReadAllLines(rssFile).Select(l => long.TryParse(l.Trim(), out var v) ? v : -1).LastOrDefault(v => v >= 0, -1);
            return (p.ExitCode, seconds, rss, stdout.Result, stderr);
        }
        finally
        {
            File.Delete(rssFile);
        }
    }

    /// <summary>
    /// Writes a deterministic wide panel of positive prices with four decimals (a random walk per column from a
    /// SplitMix64 stream), dated on consecutive weekdays, until the file reaches <paramref name="targetBytes"/>.
    /// </summary>
    private static long GenerateCsv(string path, long targetBytes, int columns)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var line = new byte[16 + columns * 24];
        var header = "Date," + string.Join(',', Enumerable.Range(1, columns).Select(c => $"S{c:D4}")) + "\n";
        stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
        var ticks = new long[columns];
        Array.Fill(ticks, 1_000_000); // 100.0000
        ulong state = 0x9E3779B97F4A7C15;
        var date = new DateOnly(1700, 1, 1);
        long rows = 0;
        while (stream.Position < targetBytes)
        {
            while (date.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) date = date.AddDays(1);
            var n = 0;
            n += WriteDate(line, n, date);
            for (var c = 0; c < columns; c++)
            {
                // A ±1% move, kept in [10, 10000) so no jump looks like a split.
                var u = (long)(SplitMix64(ref state) % 2001) - 1000;
                ticks[c] += ticks[c] * u / 100_000;
                ticks[c] = Math.Clamp(ticks[c], 100_000, 99_999_999);
                line[n++] = (byte)',';
                n += WriteFixed4(line, n, ticks[c]);
            }

            line[n++] = (byte)'\n';
            stream.Write(line, 0, n);
            rows++;
            date = date.AddDays(1);
        }

        return rows;
    }

    private static int WriteDate(byte[] b, int at, DateOnly d)
    {
        WriteDigits(b, at, d.Year, 4);
        b[at + 4] = (byte)'-';
        WriteDigits(b, at + 5, d.Month, 2);
        b[at + 7] = (byte)'-';
        WriteDigits(b, at + 8, d.Day, 2);
        return 10;
    }

    private static void WriteDigits(byte[] b, int at, int value, int width)
    {
        for (var i = width - 1; i >= 0; i--)
        {
            b[at + i] = (byte)('0' + value % 10);
            value /= 10;
        }
    }

    /// <summary>Writes <c>ticks / 10^4</c> with four decimals, e.g. 1234567 → <c>123.4567</c>.</summary>
    private static int WriteFixed4(byte[] b, int at, long ticks)
    {
        var whole = ticks / 10_000;
        var frac = (int)(ticks % 10_000);
        var digits = whole.ToString(CultureInfo.InvariantCulture);
        foreach (var ch in digits) b[at++] = (byte)ch;
        b[at++] = (byte)'.';
        WriteDigits(b, at, frac, 4);
        return digits.Length + 5;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
