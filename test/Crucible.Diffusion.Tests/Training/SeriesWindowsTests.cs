using Crucible.Diffusion.Training;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Training;

/// <summary>
/// <see cref="SeriesWindows"/> against the plain-loop extraction of every stride-1 window (the array the sequence
/// generator built before the windows were cut on demand), and <see cref="ArrayTrainingData"/> against its array.
/// </summary>
public class SeriesWindowsTests
{
    /// <summary>
    /// The reference: every window of <paramref name="length"/> steps of <paramref name="series"/> (steps × D), held
    /// whole, window b's row i = series i at steps b..b + W − 1: <c>x0[((b·D + i)·W) + t] = series[(b + t)·D + i]</c>.
    /// </summary>
    internal static float[] NaiveWindows(float[] series, int seriesCount, int length)
    {
        int steps = series.Length / seriesCount, count = steps - length + 1;
        var x0 = new float[count * seriesCount * length];
        for (int b = 0; b < count; b++)
        {
            for (int i = 0; i < seriesCount; i++)
            {
                for (int t = 0; t < length; t++) x0[(((b * seriesCount) + i) * length) + t] = series[((b + t) * seriesCount) + i];
            }
        }

        return x0;
    }

    internal static float[] Series(int steps, int seriesCount, ulong seed)
    {
        var series = new float[steps * seriesCount];
        new Philox(seed).FillNormal(series);
        return series;
    }

    internal static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int k = 0; k < values.Length; k++) bits[k] = BitConverter.SingleToInt32Bits(values[k]);
        return bits;
    }

    [Theory]
    [InlineData(1, 1, 1)]      // one step, one series, one window
    [InlineData(7, 1, 7)]      // one window as long as the series
    [InlineData(9, 4, 1)]      // windows of one step: the series' rows
    [InlineData(30, 3, 5)]
    [InlineData(41, 10, 20)]   // the sequence generator's default W and the tall benchmark's D
    public void CopyRow_EqualsTheNaiveWindow_ForEveryRow(int steps, int seriesCount, int length)
    {
        var series = Series(steps, seriesCount, seed: (ulong)(steps + length));
        var windows = new SeriesWindows(series, seriesCount, length);
        var naive = NaiveWindows(series, seriesCount, length);
        int size = seriesCount * length;
        Assert.Equal((steps - length + 1, size), (windows.Rows, windows.RowSize));
        Assert.Equal(naive.Length, windows.Rows * size);
        var row = new float[size];
        for (int b = 0; b < windows.Rows; b++)
        {
            row.AsSpan().Fill(float.NaN);
            windows.CopyRow(b, row);
            Assert.Equal(Bits(naive.AsSpan(b * size, size)), Bits(row));
        }
    }

    [Fact]
    public void CopyRow_ThrowsForARowOutsideTheWindows_OrADestinationOfAnotherLength()
    {
        var windows = new SeriesWindows(Series(10, 2, 1), 2, 4);          // 7 windows of 8 values
        Assert.Throws<ArgumentOutOfRangeException>(() => windows.CopyRow(-1, new float[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => windows.CopyRow(7, new float[8]));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => windows.CopyRow(0, new float[7])).ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => windows.CopyRow(6, new float[9])).ParamName);
    }

    [Fact]
    public void Constructor_ThrowsForASeriesShorterThanAWindow_OrNotWholeSteps()
    {
        Assert.Throws<ArgumentException>(() => new SeriesWindows(new float[6], 2, 4));   // 3 steps, windows of 4
        Assert.Throws<ArgumentException>(() => new SeriesWindows(new float[7], 2, 2));   // 3.5 steps
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeriesWindows(new float[6], 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeriesWindows(new float[6], 2, 0));
    }

    [Fact]
    public void ArrayTrainingData_CopiesItsRows_AndRefusesAnArrayOfAnotherLength()
    {
        var values = Series(6, 5, 3);                                       // 6 rows of 5
        var data = new ArrayTrainingData(values, 6, 5);
        var row = new float[5];
        for (int r = 0; r < 6; r++)
        {
            data.CopyRow(r, row);
            Assert.Equal(Bits(values.AsSpan(r * 5, 5)), Bits(row));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => data.CopyRow(6, row));
        Assert.Throws<ArgumentException>(() => new ArrayTrainingData(values, 5, 5));
        Assert.Throws<ArgumentException>(() => new ArrayTrainingData(values, 0, 5));
    }
}
