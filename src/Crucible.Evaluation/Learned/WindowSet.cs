using System.Globalization;
using Crucible.Data;

namespace Crucible.Evaluation.Learned;

/// <summary>
/// N windows of T steps of D features, row-major (N, T, D): the value of feature d at step t of window i is
/// <c>Values[(i·T + t)·D + d]</c>. The published sequence benchmarks (TimeGAN, Diffusion-TS) score such sets.
/// </summary>
public sealed class WindowSet
{
    /// <summary>Wraps <paramref name="values"/> (not copied) as <paramref name="count"/> windows of
    /// <paramref name="length"/> × <paramref name="features"/>.</summary>
    public WindowSet(double[] values, int count, int length, int features)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (values.Length != (long)count * length * features)
            throw new ArgumentException($"{values.Length} values for {count} × {length} × {features}", nameof(values));
        Values = values;
        Count = count;
        Length = length;
        Features = features;
    }

    /// <summary>The values, (N, T, D) row-major.</summary>
    public double[] Values { get; }

    /// <summary>N, the number of windows.</summary>
    public int Count { get; }

    /// <summary>T, the steps per window.</summary>
    public int Length { get; }

    /// <summary>D, the features per step.</summary>
    public int Features { get; }

    /// <summary>The value of feature <paramref name="feature"/> at step <paramref name="step"/> of window <paramref name="window"/>.</summary>
    public double this[int window, int step, int feature] => Values[(((window * Length) + step) * Features) + feature];

    /// <summary>
    /// All windows of <paramref name="length"/> consecutive rows with stride 1 over equally long columns (one array per
    /// feature): n − length + 1 windows, window i holding rows i .. i + length − 1 (Diffusion-TS's windowing; TimeGAN
    /// drops the last window and reverses time, see PEERS.md b2).
    /// </summary>
    public static WindowSet Sliding(IReadOnlyList<double[]> columns, int length)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0) throw new ArgumentException("no columns", nameof(columns));
        var n = columns[0].Length;
        if (columns.Any(c => c.Length != n)) throw new ArgumentException("columns differ in length", nameof(columns));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var count = Math.Max(0, n - length + 1);
        var d = columns.Count;
        var values = new double[count * length * d];
        for (var i = 0; i < count; i++)
        {
            for (var t = 0; t < length; t++)
            {
                for (var f = 0; f < d; f++) values[(((i * length) + t) * d) + f] = columns[f][i + t];
            }
        }
        return new WindowSet(values, count, length, d);
    }

    /// <summary>The windows at <paramref name="indices"/>, in that order (a copy).</summary>
    public WindowSet Select(ReadOnlySpan<int> indices)
    {
        var size = Length * Features;
        var values = new double[indices.Length * size];
        for (var k = 0; k < indices.Length; k++)
        {
            if ((uint)indices[k] >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"window {indices[k]} of {Count}");
            Array.Copy(Values, indices[k] * size, values, k * size, size);
        }
        return new WindowSet(values, indices.Length, Length, Features);
    }

    /// <summary>The first <paramref name="count"/> windows (a copy); Diffusion-TS scores <c>Y[:N]</c> against N real windows.</summary>
    public WindowSet Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > Count) throw new ArgumentOutOfRangeException(nameof(count), $"{count} windows of {Count}");
        return new WindowSet(Values.AsSpan(0, count * Length * Features).ToArray(), count, Length, Features);
    }

    /// <summary>
    /// Reads windows from a scenario CSV, <c>scenario,step,&lt;feature…&gt;</c> (ARCHITECTURE.md file formats): one
    /// window per scenario id, in order of first appearance, every window equally long.
    /// Throws <see cref="InvalidInputException"/> naming file, line and rule.
    /// </summary>
    public static WindowSet ReadCsv(string path)
    {
        var set = SeriesSetCsv.Read(path);
        var rows = set.PathRows();
        var length = rows.Count == 0 ? 0 : rows[0].Length;
        if (rows.Any(r => r.Length != length))
            throw new InvalidInputException("ragged-windows", "windows differ in length", new InputLocation(path, 0, 0));
        var d = set.SeriesCount;
        var values = new double[rows.Count * length * d];
        for (var i = 0; i < rows.Count; i++)
        {
            for (var t = 0; t < length; t++)
            {
                for (var f = 0; f < d; f++) values[(((i * length) + t) * d) + f] = set.Columns[f][rows[i][t]];
            }
        }
        return new WindowSet(values, rows.Count, length, d);
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"WindowSet({Count} × {Length} × {Features})");
}
