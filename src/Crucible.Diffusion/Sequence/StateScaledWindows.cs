using Crucible.Data;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// The training windows (D, W) of a state-scaled sequence model (<see cref="SequenceGeneratorOptions.StateScale"/>) in
/// model space, computed from the train returns when read:
/// <code>
/// x_0[b, i, t] = float32(((r[b + t, i] / s_b) − offset_i) / scale_i)   (under DP then clipped to ±public_bound)
/// </code>
/// Each window is divided by its own s_b, so a day has a different value in each of the W windows that hold it and the
/// windows cannot share one model-space series (<see cref="SeriesWindows"/>); nothing is held beyond the returns frame
/// the caller keeps.
/// </summary>
internal sealed class StateScaledWindows : TrainingData
{
    private readonly TimeSeriesFrame _returns;
    private readonly int _length;
    private readonly double[] _windowScales;
    private readonly double[] _offset;
    private readonly double[] _scale;
    private readonly double? _bound;

    /// <param name="returns">The train returns, T × D.</param>
    /// <param name="length">W.</param>
    /// <param name="windowScales">s_b, one per window (T − W + 1).</param>
    /// <param name="offset">The affine map's offset per series.</param>
    /// <param name="scale">The affine map's scale per series.</param>
    /// <param name="bound">The DP clipping bound, or null.</param>
    public StateScaledWindows(TimeSeriesFrame returns, int length, double[] windowScales, double[] offset, double[] scale, double? bound)
    {
        int d = returns.ColumnCount;
        if (windowScales.Length != returns.RowCount - length + 1 || offset.Length != d || scale.Length != d)
            throw new ArgumentException("one scale per window and one offset and scale per series are needed", nameof(windowScales));
        _returns = returns;
        _length = length;
        _windowScales = windowScales;
        _offset = offset;
        _scale = scale;
        _bound = bound;
    }

    /// <inheritdoc />
    public override int Rows => _windowScales.Length;

    /// <inheritdoc />
    public override int RowSize => _returns.ColumnCount * _length;

    /// <inheritdoc />
    public override void CopyRow(int row, Span<float> destination)
    {
        ValidateRow(row, destination);
        int d = _returns.ColumnCount, w = _length;
        double sb = _windowScales[row];
        for (int i = 0; i < d; i++)
        {
            for (int t = 0; t < w; t++)
            {
                float v = (float)(((_returns[row + t, i] / sb) - _offset[i]) / _scale[i]);
                destination[(i * w) + t] = _bound is { } bound ? (float)Math.Clamp(v, -bound, bound) : v;
            }
        }
    }
}
