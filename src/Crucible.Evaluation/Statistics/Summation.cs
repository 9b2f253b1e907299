namespace Crucible.Evaluation.Statistics;

/// <summary>Compensated (Neumaier) summation, so that sums agree with numpy's pairwise sums to the last digits.</summary>
internal static class Summation
{
    public static double Sum(ReadOnlySpan<double> values)
    {
        double sum = 0, c = 0;
        foreach (var v in values)
        {
            var t = sum + v;
            c += Math.Abs(sum) >= Math.Abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }
        return sum + c;
    }

    /// <summary>Σ a[i]·b[i] with compensation on the accumulated products.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0, c = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var v = a[i] * b[i];
            var t = sum + v;
            c += Math.Abs(sum) >= Math.Abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }
        return sum + c;
    }
}
