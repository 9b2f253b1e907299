namespace Crucible.Diffusion.Training;

/// <summary>
/// The stride-1 windows of a multivariate series, cut when read: the series is held once, T × D floats, and window b is
/// the (D, W) sample whose row i is series i at steps b..b + W − 1,
/// <code>
/// x_0[b, i, t] = series[b + t, i],   b = 0..T − W,  i = 0..D − 1,  t = 0..W − 1
/// </code>
/// the layout of a window denoiser's sample (series on the first axis). Holding the windows whole would take W times
/// the series (800 bytes a window at W = 20 and D = 10, against 40 bytes a day here).
/// </summary>
public sealed class SeriesWindows : TrainingData
{
    private readonly float[] _series;
    private readonly int _seriesCount;
    private readonly int _length;
    private readonly int _rows;

    /// <summary>The windows of <paramref name="length"/> steps of <paramref name="series"/> (steps × <paramref name="seriesCount"/>, row-major; not copied).</summary>
    /// <exception cref="ArgumentException">The series is not a whole number of steps of <paramref name="seriesCount"/>
    /// values, or is shorter than one window.</exception>
    public SeriesWindows(float[] series, int seriesCount, int length)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfLessThan(seriesCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (series.Length % seriesCount != 0) throw new ArgumentException($"{series.Length} values are not whole steps of {seriesCount} series", nameof(series));
        int steps = series.Length / seriesCount;
        if (steps < length) throw new ArgumentException($"{steps} steps hold no window of {length}", nameof(series));
        if ((long)seriesCount * length > int.MaxValue) throw new ArgumentException($"a window of {seriesCount} × {length} values is too large", nameof(length));
        _series = series;
        _seriesCount = seriesCount;
        _length = length;
        _rows = steps - length + 1;
    }

    /// <summary>D, the series.</summary>
    public int Series => _seriesCount;

    /// <summary>W, the steps in a window.</summary>
    public int Length => _length;

    /// <inheritdoc />
    public override int Rows => _rows;

    /// <inheritdoc />
    public override int RowSize => _seriesCount * _length;

    /// <inheritdoc />
    public override void CopyRow(int row, Span<float> destination)
    {
        ValidateRow(row, destination);
        int d = _seriesCount, w = _length;
        var steps = _series.AsSpan(row * d, w * d);                   // (W, D): the window's days
        for (int t = 0; t < w; t++)
        {
            var day = steps.Slice(t * d, d);
            for (int i = 0; i < d; i++) destination[(i * w) + t] = day[i];
        }
    }
}
