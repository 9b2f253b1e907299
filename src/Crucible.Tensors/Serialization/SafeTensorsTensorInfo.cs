namespace Crucible.Tensors.Serialization;

/// <summary>One header entry of a loaded safetensors file.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The dimensions, outermost first.</param>
/// <param name="Begin">Start of the data, in bytes from the start of the data buffer (after the header).</param>
/// <param name="End">End of the data (exclusive), in bytes from the start of the data buffer.</param>
public sealed record SafeTensorsTensorInfo(string Name, SafeTensorsDType DType, int[] Shape, long Begin, long End)
{
    /// <summary>The number of elements, product(Shape) (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
}
