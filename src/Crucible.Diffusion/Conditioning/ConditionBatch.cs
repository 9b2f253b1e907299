using System.Globalization;

namespace Crucible.Diffusion.Conditioning;

/// <summary>
/// The conditions of a batch for a conditional denoiser: for each of <see cref="Count"/> samples, K standardised
/// feature values and whether each is present. An absent feature is not seen by the network (its token is masked), so
/// a batch may condition each sample on any subset of the features; a sample with none present is unconditional.
/// </summary>
public sealed class ConditionBatch
{
    /// <summary>Wraps per-sample values and presence flags, both <paramref name="count"/> × <paramref name="features"/>, row-major.</summary>
    /// <exception cref="ArgumentException">The arrays do not hold count × features entries, or a present value is not finite.</exception>
    public ConditionBatch(float[] values, bool[] present, int count, int features)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(present);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(features);
        if (values.Length != (long)count * features || present.Length != values.Length)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"values and present must hold {count} × {features} entries"), nameof(values));
        for (int i = 0; i < values.Length; i++)
        {
            if (present[i] && !float.IsFinite(values[i])) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"present condition {i % Math.Max(1, features)} of sample {i / Math.Max(1, features)} is not finite"), nameof(values));
        }

        Values = values;
        Present = present;
        Count = count;
        Features = features;
    }

    /// <summary>B × K standardised values (entries not present are ignored).</summary>
    public float[] Values { get; }

    /// <summary>B × K presence flags.</summary>
    public bool[] Present { get; }

    /// <summary>B, the number of samples.</summary>
    public int Count { get; }

    /// <summary>K, the number of condition features.</summary>
    public int Features { get; }

    /// <summary>Whether any sample has any feature present (false: the whole batch is unconditional).</summary>
    public bool AnyPresent => Array.IndexOf(Present, true) >= 0;

    /// <summary>The condition of sample <paramref name="index"/> alone, as a batch of one (a DP-SGD microbatch).</summary>
    public ConditionBatch Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return new ConditionBatch(Values.AsSpan(index * Features, Features).ToArray(), Present.AsSpan(index * Features, Features).ToArray(), 1, Features);
    }

    /// <summary>
    /// The same condition for <paramref name="count"/> samples: <paramref name="values"/> (K standardised values,
    /// NaN = absent).
    /// </summary>
    public static ConditionBatch Repeat(ReadOnlySpan<float> values, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int k = values.Length;
        var v = new float[count * k];
        var p = new bool[count * k];
        for (int b = 0; b < count; b++)
        {
            for (int j = 0; j < k; j++)
            {
                bool present = !float.IsNaN(values[j]);
                v[(b * k) + j] = present ? values[j] : 0f;
                p[(b * k) + j] = present;
            }
        }

        return new ConditionBatch(v, p, count, k);
    }
}
