namespace Crucible.Evaluation.Statistics;

/// <summary>
/// Distances between two one-dimensional empirical distributions. Both methods sort copies of the samples
/// (O((n + m) log(n + m))) and walk the merged order once; ties are handled with right-continuous CDFs,
/// as scipy does (<c>searchsorted(..., side="right")</c>).
/// </summary>
public static class Distances
{
    /// <summary>
    /// Two-sample Kolmogorov–Smirnov statistic D = sup_x |F_a(x) − F_b(x)| of the empirical CDFs
    /// (scipy <c>ks_2samp(a, b).statistic</c>, two-sided). Returns NaN if either sample is empty.
    /// </summary>
    public static double KolmogorovSmirnov(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => Walk(a, b).Ks;

    /// <summary>
    /// 1-D Wasserstein-1 distance ∫|F_a(x) − F_b(x)| dx between the empirical distributions
    /// (scipy <c>wasserstein_distance(a, b)</c>, unweighted). Returns NaN if either sample is empty.
    /// </summary>
    public static double Wasserstein1(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => Walk(a, b).Wasserstein;

    /// <summary>Both statistics in one pass over the sorted samples.</summary>
    public static (double Ks, double Wasserstein) KolmogorovSmirnovAndWasserstein(ReadOnlySpan<double> a, ReadOnlySpan<double> b) =>
        Walk(a, b);

    internal static (double Ks, double Wasserstein) Walk(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.IsEmpty || b.IsEmpty) return (double.NaN, double.NaN);
        var sa = a.ToArray();
        var sb = b.ToArray();
        Array.Sort(sa);
        Array.Sort(sb);
        return WalkSorted(sa, sb);
    }

    internal static (double Ks, double Wasserstein) WalkSorted(double[] sa, double[] sb)
    {
        int n1 = sa.Length, n2 = sb.Length;
        int i = 0, j = 0;
        double ks = 0, w = 0, c = 0;
        while (i < n1 || j < n2)
        {
            var x = i < n1 && (j >= n2 || sa[i] <= sb[j]) ? sa[i] : sb[j];
            while (i < n1 && sa[i] <= x) i++;
            while (j < n2 && sb[j] <= x) j++;
            var diff = (double)i / n1 - (double)j / n2;
            var abs = Math.Abs(diff);
            if (abs > ks) ks = abs;
            if (i < n1 || j < n2)
            {
                var next = i < n1 && (j >= n2 || sa[i] <= sb[j]) ? sa[i] : sb[j];
                var v = abs * (next - x);
                var t = w + v;
                c += Math.Abs(w) >= Math.Abs(v) ? (w - t) + v : (v - t) + w;
                w = t;
            }
        }
        return (ks, w + c);
    }
}
