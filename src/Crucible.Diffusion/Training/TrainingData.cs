namespace Crucible.Diffusion.Training;

/// <summary>
/// The samples x_0 a <see cref="DiffusionTrainer"/> learns from: <see cref="Rows"/> samples of <see cref="RowSize"/>
/// values each (Π SampleShape, row-major), read one row at a time into the caller's buffer. The trainer and the fits that
/// read every sample (<see cref="Schedules.VolatilityAdaptiveSchedule.Fit(Schedules.NoiseSchedule, TrainingData, int, double)"/>,
/// <see cref="Regularisation.Pacf.MeanOverWindows(TrainingData, int, int, int, Regularisation.AutocovarianceEstimator)"/>)
/// never need the samples laid out in one array, so a source may build each row on demand:
/// <see cref="ArrayTrainingData"/> holds them all (rows × RowSize floats), <see cref="SeriesWindows"/> holds one series
/// and cuts its stride-1 windows when asked (T × D floats instead of (T − W + 1) × D × W).
/// </summary>
/// <remarks>A row's values must be the same every time it is read (the trainer reads a row once per draw and a fit reads
/// each row once per pass, and checkpoint resumption relies on it).</remarks>
public abstract class TrainingData
{
    /// <summary>The number of samples (≥ 1).</summary>
    public abstract int Rows { get; }

    /// <summary>The values in one sample.</summary>
    public abstract int RowSize { get; }

    /// <summary>Effectively computes <c>destination[j] = x_0[row, j]</c> for j in 0..<see cref="RowSize"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not in 0..<see cref="Rows"/> − 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not <see cref="RowSize"/> long.</exception>
    public abstract void CopyRow(int row, Span<float> destination);

    /// <summary>Checks <see cref="CopyRow"/>'s arguments, for implementations.</summary>
    protected void ValidateRow(int row, Span<float> destination)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"the data has rows 0..{Rows - 1}");
        if (destination.Length != RowSize)
            throw new ArgumentException($"a row has {RowSize} values, the destination {destination.Length}", nameof(destination));
    }
}
