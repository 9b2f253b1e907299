namespace Crucible.Diffusion.Training;

/// <summary>Samples held whole: <see cref="TrainingData.Rows"/> × <see cref="TrainingData.RowSize"/> floats, row-major.</summary>
public sealed class ArrayTrainingData : TrainingData
{
    private readonly float[] _values;
    private readonly int _rows;
    private readonly int _rowSize;

    /// <summary>Reads <paramref name="rows"/> samples of <paramref name="rowSize"/> values from <paramref name="values"/> (not copied).</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is not <paramref name="rows"/> × <paramref name="rowSize"/> long, or either is &lt; 1.</exception>
    public ArrayTrainingData(float[] values, int rows, int rowSize)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowSize, 1);
        if (rows < 1 || values.Length != (long)rows * rowSize) throw new ArgumentException($"data must hold rows × {rowSize} values", nameof(values));
        _values = values;
        _rows = rows;
        _rowSize = rowSize;
    }

    /// <summary>The array read (the caller's, not a copy).</summary>
    public float[] Values => _values;

    /// <inheritdoc />
    public override int Rows => _rows;

    /// <inheritdoc />
    public override int RowSize => _rowSize;

    /// <inheritdoc />
    public override void CopyRow(int row, Span<float> destination)
    {
        ValidateRow(row, destination);
        _values.AsSpan(row * _rowSize, _rowSize).CopyTo(destination);
    }
}
