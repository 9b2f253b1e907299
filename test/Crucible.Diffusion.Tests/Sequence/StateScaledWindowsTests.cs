using Crucible.Data;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tests.Training;

namespace Crucible.Diffusion.Tests.Sequence;

/// <summary>
/// The state-scaled model's windows computed when read (<see cref="StateScaledWindows"/>) against the plain loop that
/// built them whole before: window b of series i at step t is float32(((r[b + t, i] / s_b) − offset_i) / scale_i), then
/// under DP clipped to ±bound.
/// </summary>
public class StateScaledWindowsTests
{
    private static float[] NaiveWindows(TimeSeriesFrame returns, int w, double[] windowScales, double[] offset, double[] scale, double? bound)
    {
        int d = returns.ColumnCount, count = returns.RowCount - w + 1;
        var x0 = new float[count * d * w];
        for (int b = 0; b < count; b++)
        {
            double sb = windowScales[b];
            for (int i = 0; i < d; i++)
            {
                for (int t = 0; t < w; t++) x0[(((b * d) + i) * w) + t] = (float)(((returns[b + t, i] / sb) - offset[i]) / scale[i]);
            }
        }

        if (bound is { } c)
        {
            for (int k = 0; k < x0.Length; k++) x0[k] = (float)Math.Clamp(x0[k], -c, c);
        }

        return x0;
    }

    [Theory]
    [InlineData(null)]
    [InlineData(1.5)]     // clips some values (the returns are N(0.001, 0.02²) over scales near 0.02)
    public void CopyRow_EqualsTheNaiveWindow_ForEveryRow(double? bound)
    {
        const int rows = 50, d = 3, w = 7, count = rows - w + 1;
        var rng = new Random(4);
        var dates = Enumerable.Range(0, rows).Select(i => new DateOnly(2022, 3, 1).AddDays(i)).ToArray();
        var values = new double[rows * d];
        for (int k = 0; k < values.Length; k++) values[k] = (0.02 * ((rng.NextDouble() * 2) - 1)) + 0.001;
        var returns = new TimeSeriesFrame(dates, ["A", "B", "C"], values);
        var windowScales = Enumerable.Range(0, count).Select(b => b % 5 == 0 ? 1 : 0.4 + (1.3 * rng.NextDouble())).ToArray();
        double[] offset = [0.001, -0.0005, 0.002], scale = [0.011, 0.013, 0.009];

        var windows = new StateScaledWindows(returns, w, windowScales, offset, scale, bound);
        var naive = NaiveWindows(returns, w, windowScales, offset, scale, bound);
        Assert.Equal((count, d * w), (windows.Rows, windows.RowSize));
        if (bound is { } c) Assert.Contains(naive, v => Math.Abs(v) == c);
        var row = new float[d * w];
        for (int b = 0; b < count; b++)
        {
            windows.CopyRow(b, row);
            Assert.Equal(SeriesWindowsTests.Bits(naive.AsSpan(b * d * w, d * w)), SeriesWindowsTests.Bits(row));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => windows.CopyRow(count, row));
    }
}
