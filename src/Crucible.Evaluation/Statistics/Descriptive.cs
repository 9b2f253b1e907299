namespace Crucible.Evaluation.Statistics;

/// <summary>
/// Descriptive statistics of a sample, with the conventions of scipy/numpy named explicitly
/// (Math.NET style: <see cref="Variance"/> divides by n − 1, <see cref="PopulationVariance"/> by n).
/// Sums are compensated, so results agree with numpy to about 1e-15 relative.
/// None of these methods modifies its input; NaN in the data propagates to the result. A mean, median or percentile
/// that is zero is +0, never −0 (an all −0 column would otherwise print as "-0").
/// </summary>
public static class Descriptive
{
    /// <summary>Sample mean Σx/n. Returns NaN for empty data, and the value itself for a constant sample (fl(Σx)/n can
    /// miss it by an ulp, e.g. (0.1 + 0.1 + 0.1)/3, and centring on that would leave a constant series a variance and
    /// autocorrelations).</summary>
    public static double Mean(ReadOnlySpan<double> data)
    {
        if (data.IsEmpty) return double.NaN;
        if (!data.ContainsAnyExcept(data[0])) return PositiveZero(data[0]);
        return PositiveZero(Summation.Sum(data) / data.Length);
    }

    // x, with −0 as +0: only the sign of a zero changes
    private static double PositiveZero(double x) => x == 0 ? 0 : x;

    /// <summary>Unbiased sample variance Σ(x − x̄)²/(n − 1) (Bessel's correction, numpy <c>ddof=1</c>).
    /// Returns NaN if data has fewer than two entries.</summary>
    public static double Variance(ReadOnlySpan<double> data) =>
        data.Length < 2 ? double.NaN : CentralMoment(data, Mean(data), 2) * data.Length / (data.Length - 1);

    /// <summary>Population variance Σ(x − x̄)²/n (numpy <c>ddof=0</c>). Returns NaN for empty data.</summary>
    public static double PopulationVariance(ReadOnlySpan<double> data) =>
        data.IsEmpty ? double.NaN : CentralMoment(data, Mean(data), 2);

    /// <summary>Sample standard deviation √<see cref="Variance"/> (n − 1). Returns NaN if data has fewer than two entries.</summary>
    public static double StandardDeviation(ReadOnlySpan<double> data) => Math.Sqrt(Variance(data));

    /// <summary>
    /// Adjusted Fisher–Pearson skewness G1 = √(n(n−1))/(n−2) · m3/m2^1.5 with biased central moments m_k
    /// (scipy <c>skew(bias=False)</c>). Returns NaN if data has fewer than three entries (scipy would return the
    /// uncorrected value there), or if the variance is zero in scipy's sense (m2 ≤ (1e-15·x̄)²), e.g. a constant series.
    /// </summary>
    public static double Skewness(ReadOnlySpan<double> data)
    {
        var n = data.Length;
        if (n < 3) return double.NaN;
        var mean = Mean(data);
        var m2 = CentralMoment(data, mean, 2);
        if (IsZeroVariance(m2, mean)) return double.NaN;
        var m3 = CentralMoment(data, mean, 3);
        var g1 = m3 / Math.Pow(m2, 1.5);
        return Math.Sqrt((n - 1.0) * n) / (n - 2.0) * g1;
    }

    /// <summary>
    /// Bias-corrected excess kurtosis G2 = ((n²−1)·m4/m2² − 3(n−1)²)/((n−2)(n−3)) (scipy <c>kurtosis(bias=False)</c>,
    /// Fisher's definition, 0 for a normal distribution). Returns NaN if data has fewer than four entries or if the
    /// variance is zero in scipy's sense (a constant series).
    /// </summary>
    public static double ExcessKurtosis(ReadOnlySpan<double> data)
    {
        var n = (double)data.Length;
        if (data.Length < 4) return double.NaN;
        var mean = Mean(data);
        var m2 = CentralMoment(data, mean, 2);
        if (IsZeroVariance(m2, mean)) return double.NaN;
        var m4 = CentralMoment(data, mean, 4);
        var nval = 1.0 / (n - 2) / (n - 3) * ((n * n - 1.0) * m4 / (m2 * m2) - 3 * (n - 1) * (n - 1));
        return nval + 3.0 - 3.0; // scipy adds 3 (Pearson) and subtracts it again (Fisher): kept for identical rounding
    }

    /// <summary>
    /// The p-th percentile (0 ≤ p ≤ 100) with linear interpolation between closest ranks, exactly as numpy's
    /// <c>percentile(data, p)</c> (method "linear"). Returns NaN for empty data. Copies and sorts the data.
    /// Beside an infinite value (where numpy gives NaN: ∞·0 or ∞ − ∞) it is the interpolation's limit: an infinite
    /// endpoint with a weight above 0 gives that infinity, a weight of 0 the other endpoint; −∞ and +∞ both weighted give
    /// NaN (∞ − ∞ has no value).
    /// </summary>
    public static double Percentile(ReadOnlySpan<double> data, double p)
    {
        if (data.IsEmpty) return double.NaN;
        var copy = data.ToArray();
        Array.Sort(copy);
        return SortedPercentile(copy, p);
    }

    /// <summary><see cref="Percentile"/> on data already sorted ascending (not checked), NaN first as <see cref="Array.Sort(Array)"/>
    /// puts it: NaN data gives NaN.</summary>
    public static double SortedPercentile(ReadOnlySpan<double> sorted, double p)
    {
        if (sorted.IsEmpty) return double.NaN;
        if (p is < 0 or > 100 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), "percentile must be in [0, 100]");
        if (double.IsNaN(sorted[0])) return double.NaN;
        var n = sorted.Length;
        var q = p / 100.0;
        // numpy: virtual index = n·q + (α + q(1 − α − β)) − 1 with α = β = 1
        var virtualIndex = n * q + (1 + q * (1 - 1 - 1)) - 1;
        var lower = Math.Floor(virtualIndex);
        var gamma = virtualIndex - lower;
        var lo = (int)Math.Clamp(lower, 0, n - 1);
        var hi = (int)Math.Clamp(lower + 1, 0, n - 1);
        double a = sorted[lo], b = sorted[hi];
        if (double.IsInfinity(a) || double.IsInfinity(b)) return InfiniteInterpolation(a, b, gamma);
        var diff = b - a;
        return PositiveZero(gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma);
    }

    // (1 − γ)·a + γ·b with a ≤ b and an infinite endpoint: a weighs 1 − γ > 0; b weighs γ, 0 leaving a alone
    private static double InfiniteInterpolation(double a, double b, double gamma)
    {
        if (gamma == 0 || a == b) return a;
        if (double.IsNegativeInfinity(a)) return double.IsPositiveInfinity(b) ? double.NaN : a; // −∞ + ∞: no value
        return b; // +∞ beside a finite a
    }

    /// <summary>Median (numpy <c>median</c>): the middle value, or the mean of the two middle values for even n.
    /// Returns NaN for empty data. Copies and sorts the data.</summary>
    public static double Median(ReadOnlySpan<double> data)
    {
        if (data.IsEmpty) return double.NaN;
        var copy = data.ToArray();
        Array.Sort(copy);
        if (double.IsNaN(copy[0])) return double.NaN; // Array.Sort puts NaN first
        var n = copy.Length;
        return PositiveZero(n % 2 == 1 ? copy[n / 2] : (copy[n / 2 - 1] + copy[n / 2]) / 2.0);
    }

    /// <summary>
    /// Ranks 1..n with ties given the average of the ranks they span (scipy <c>rankdata(method="average")</c>).
    /// NaN sorts last and is ranked like any other value.
    /// </summary>
    public static double[] Ranks(ReadOnlySpan<double> data)
    {
        var n = data.Length;
        var index = new int[n];
        var keys = data.ToArray();
        for (var i = 0; i < n; i++) index[i] = i;
        Array.Sort(keys, index);
        var ranks = new double[n];
        var start = 0;
        while (start < n)
        {
            var end = start;
            while (end + 1 < n && keys[end + 1].Equals(keys[start])) end++;
            var rank = (start + 1 + end + 1) / 2.0;
            for (var k = start; k <= end; k++) ranks[index[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>Pearson correlation of two equally long samples (numpy <c>corrcoef</c>, clipped to [−1, 1]).
    /// Returns NaN if fewer than two pairs or either sample is constant.</summary>
    public static double Correlation(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("samples differ in length", nameof(y));
        return x.Length < 2 ? double.NaN : Correlation(x, y, new double[x.Length], new double[x.Length]);
    }

    internal static double Correlation(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double[] bufferX, double[] bufferY)
    {
        var n = x.Length;
        double mx = Mean(x), my = Mean(y);
        var dx = bufferX.AsSpan(0, n);
        var dy = bufferY.AsSpan(0, n);
        for (var i = 0; i < n; i++) { dx[i] = x[i] - mx; dy[i] = y[i] - my; }
        var sxy = Summation.Dot(dx, dy);
        var sxx = Summation.Dot(dx, dx);
        var syy = Summation.Dot(dy, dy);
        if (sxx == 0 || syy == 0) return double.NaN;
        return Math.Clamp(sxy / Math.Sqrt(sxx) / Math.Sqrt(syy), -1.0, 1.0);
    }

    internal static double CentralMoment(ReadOnlySpan<double> data, double mean, int order)
    {
        double sum = 0, c = 0;
        foreach (var x in data)
        {
            var d = x - mean;
            var v = order switch { 2 => d * d, 3 => d * d * d, 4 => d * d * (d * d), _ => Math.Pow(d, order) };
            var t = sum + v;
            c += Math.Abs(sum) >= Math.Abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }
        return (sum + c) / data.Length;
    }

    // scipy: zero = m2 <= (finfo(float64).resolution * mean)**2, resolution = 1e-15
    private static bool IsZeroVariance(double m2, double mean) => m2 <= (1e-15 * mean) * (1e-15 * mean);
}
