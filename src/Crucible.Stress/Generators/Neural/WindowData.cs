using Crucible.Data;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Generators.Neural;

/// <summary>
/// Training windows for the neural baselines: every series standardised with the training mean and n − 1 standard
/// deviation, cut into windows of <see cref="Window"/> steps with stride 1, batched as (B, D, W) tensors.
/// </summary>
internal sealed class WindowData
{
    private readonly float[] _z; // standardised values, row-major (n, D)

    public WindowData(TimeSeriesFrame frame, int window)
    {
        GeneratorChecks.Fit(frame, window + 1);
        Columns = frame.Columns;
        Window = window;
        var n = frame.RowCount;
        var d = frame.ColumnCount;
        Mean = new double[d];
        Std = new double[d];
        for (var i = 0; i < d; i++)
        {
            var col = frame.Column(i);
            Mean[i] = col.Average();
            Std[i] = Math.Sqrt(Garch11StudentT.SampleVariance(col));
            if (!(Std[i] > 0)) throw new InvalidInputException("constant-series", $"series '{frame.Columns[i]}' does not vary");
        }

        _z = new float[n * d];
        for (var t = 0; t < n; t++)
        {
            for (var i = 0; i < d; i++) _z[(t * d) + i] = (float)((frame[t, i] - Mean[i]) / Std[i]);
        }

        Count = n - window + 1;
    }

    public IReadOnlyList<string> Columns { get; }

    public int Window { get; }

    public int Series => Columns.Count;

    /// <summary>The number of windows.</summary>
    public int Count { get; }

    public double[] Mean { get; }

    public double[] Std { get; }

    /// <summary>A batch of <paramref name="batch"/> windows drawn uniformly with replacement: (B, D, W).</summary>
    public Tensor Batch(int batch, Philox rng)
    {
        var d = Series;
        var data = new float[batch * d * Window];
        for (var b = 0; b < batch; b++)
        {
            var start = rng.NextInt(Count);
            for (var t = 0; t < Window; t++)
            {
                for (var i = 0; i < d; i++) data[(((b * d) + i) * Window) + t] = _z[((start + t) * d) + i];
            }
        }

        return Tensor.FromArray(data, [batch, d, Window]);
    }

    /// <summary>Generated (B, D, L) standardised windows back to log returns, cropped to <paramref name="window"/> steps.</summary>
    public ScenarioWindows ToScenarios(Tensor x, int window)
    {
        int b = x.Shape[0], d = x.Shape[1], l = x.Shape[2];
        var values = new double[b * window * d];
        for (var c = 0; c < b; c++)
        {
            for (var t = 0; t < window; t++)
            {
                for (var i = 0; i < d; i++)
                    values[(((c * window) + t) * d) + i] = Mean[i] + (Std[i] * x.Data[(((c * d) + i) * l) + t]);
            }
        }

        return new ScenarioWindows(Columns, b, window, values);
    }
}
