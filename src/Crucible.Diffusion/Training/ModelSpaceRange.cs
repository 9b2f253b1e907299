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
        var values = frame.ValueSpan; // its rows only, in place (a train split is a Head of the whole file's frame)
        for (int k = column; k < values.Length; k += d)
        {
            if (Math.Abs(values[k]) > Math.Abs(values[largest])) largest = k;
        }

        return (values[largest], largest / d);
    }
}
