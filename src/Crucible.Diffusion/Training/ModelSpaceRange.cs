using Crucible.Data;

namespace Crucible.Diffusion.Training;

/// <summary>
/// The networks compute in float32: a finite training value that a generator's transform leaves beyond that range is bad
/// input (rule <see cref="Rule"/>), named by the series and its largest value (<see cref="Largest"/>).
/// </summary>
internal static class ModelSpaceRange
{
    /// <summary>The rule of a training value beyond float32 in model space.</summary>
    public const string Rule = "model-space-range";

    /// <summary>The value of largest magnitude in <paramref name="column"/> of <paramref name="frame"/> and its row.</summary>
    public static (double Value, int Row) Largest(TimeSeriesFrame frame, int column)
    {
        int d = frame.ColumnCount, largest = column;
        for (int k = column; k < frame.Values.Length; k += d)
        {
            if (Math.Abs(frame.Values[k]) > Math.Abs(frame.Values[largest])) largest = k;
        }

        return (frame.Values[largest], largest / d);
    }
}
