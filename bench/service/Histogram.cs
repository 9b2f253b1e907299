namespace Crucible.LoadBench;

/// <summary>
/// A latency histogram in the manner of HdrHistogram: values in microseconds, 1024 linear sub-buckets per power of two,
/// so every recorded value is kept to a relative error below 0.1% (three significant digits) in constant memory.
/// Percentiles are the upper edge of the bucket holding the nearest-rank value (HdrHistogram's convention).
/// </summary>
internal sealed class Histogram
{
    private const int SubBits = 10, Sub = 1 << SubBits;

    // bucket 0 holds [0, 2·Sub) exactly; bucket b ≥ 1 holds [Sub·2^b, Sub·2^(b+1)) in steps of 2^b
    private readonly long[] _counts = new long[(40 + 1) * Sub * 2];
    private readonly Lock _lock = new();

    public long Count { get; private set; }

    public double MaxMicros { get; private set; }

    public void Record(double micros)
    {
        long v = Math.Max(0, (long)Math.Round(micros));
        int index = Index(v);
        lock (_lock)
        {
            _counts[index]++;
            Count++;
            MaxMicros = Math.Max(MaxMicros, v);
        }
    }

    private static int Index(long v)
    {
        if (v < 2 * Sub) return (int)v;
        int b = 63 - (int)long.LeadingZeroCount(v) - SubBits; // ≥ 1
        return (b * Sub) + (int)(v >> b);
    }

    private static long UpperEdge(int index)
    {
        if (index < 2 * Sub) return index;
        int b = (index / Sub) - 1;
        long sub = index - (b * Sub);
        return ((sub + 1) << b) - 1;
    }

    /// <summary>The value at percentile <paramref name="p"/> (0–100), in milliseconds; NaN when empty.</summary>
    public double PercentileMillis(double p)
    {
        lock (_lock)
        {
            if (Count == 0) return double.NaN;
            long rank = Math.Max(1, (long)Math.Ceiling(p / 100.0 * Count));
            long seen = 0;
            for (int i = 0; i < _counts.Length; i++)
            {
                seen += _counts[i];
                if (seen >= rank) return Math.Min(UpperEdge(i), MaxMicros) / 1000.0;
            }

            return MaxMicros / 1000.0;
        }
    }
}
