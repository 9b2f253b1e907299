using System.Globalization;
using System.Text;

namespace Crucible.Tensors;

/// <summary>
/// A float32 N-d tensor: row-major, contiguous storage, with reverse-mode autograd in the style of micrograd.
/// Every op records its inputs and a closure that <em>accumulates</em> into the inputs' <see cref="Grad"/>;
/// <see cref="Backward()"/> runs them in reverse topological order.
/// </summary>
/// <remarks>
/// Shape legend used in comments throughout the engine: B = batch, T = time steps, C = channels,
/// D = features, H = heads. <see cref="Reshape"/> shares storage with its input (a view);
/// every other op writes a new buffer.
/// </remarks>
public sealed partial class Tensor
{
    private static readonly Tensor[] NoParents = [];

    private readonly Tensor[] _parents;
    private Action? _backward;

    // a non-leaf whose backward closure a Backward() ran and dropped: the graph through it is used once (Tensor.Autograd.cs)
    private bool _freed;

    /// <summary>Creates a tensor over <paramref name="data"/> (not copied) with the given shape.</summary>
    public Tensor(float[] data, int[] shape, bool requiresGrad = false)
        : this(data, shape, requiresGrad, NoParents)
    {
    }

    private Tensor(float[] data, int[] shape, bool requiresGrad, Tensor[] parents)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long n = Numel(shape);
        if (n != data.Length)
        {
            throw new ArgumentException(
                $"shape {FormatShape(shape)} holds {n} elements but the buffer has {data.Length}", nameof(shape));
        }

        Data = data;
        Shape = (int[])shape.Clone();
        RequiresGrad = requiresGrad;
        _parents = parents;
    }

    /// <summary>The elements in row-major order. Mutating them in place bypasses autograd.</summary>
    public float[] Data { get; }

    /// <summary>The dimensions. Treat as read-only.</summary>
    public int[] Shape { get; }

    /// <summary>The gradient of the last <see cref="Backward()"/> with respect to this tensor, or null.</summary>
    public float[]? Grad { get; set; }

    /// <summary>Whether gradients flow to (and are stored for) this tensor.</summary>
    public bool RequiresGrad { get; private set; }

    /// <summary>An optional name (parameters carry their state-dict key here for diagnostics).</summary>
    public string? Name { get; set; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>The number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Size of dimension <paramref name="dim"/>; negative counts from the end.</summary>
    public int Size(int dim) => Shape[NormalizeAxis(dim, Rank)];

    /// <summary>True when this tensor was produced by an op that tracks gradients (not a leaf).</summary>
    public bool IsLeaf => _parents.Length == 0;

    // ---------------------------------------------------------------------------------------------
    // factories
    // ---------------------------------------------------------------------------------------------

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(int[] shape, bool requiresGrad = false) =>
        new(new float[Numel(shape)], shape, requiresGrad);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(int[] shape, bool requiresGrad = false) => Full(shape, 1f, requiresGrad);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, float value, bool requiresGrad = false)
    {
        var data = new float[Numel(shape)];
        Array.Fill(data, value);
        return new Tensor(data, shape, requiresGrad);
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/> with the given shape.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, int[] shape, bool requiresGrad = false) =>
        new(values.ToArray(), shape, requiresGrad);

    /// <summary>A 0-d tensor (shape []).</summary>
    public static Tensor Scalar(float value, bool requiresGrad = false) => new([value], [], requiresGrad);

    /// <summary>0, 1, …, n−1 as a 1-d tensor.</summary>
    public static Tensor Arange(int n)
    {
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = i;
        return new Tensor(data, [n]);
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Data.Length != 1) throw new InvalidOperationException($"Item() needs one element, the tensor has shape {FormatShape(Shape)}");
        return Data[0];
    }

    /// <summary>Element at a multi-index (slow; for tests and diagnostics).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index]
    {
        get => Data[FlatIndex(index)];
        set => Data[FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"expected {Rank} indices, got {index.Length}", nameof(index));
        int flat = 0;
        for (int d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)Shape[d]) throw new IndexOutOfRangeException($"index {index[d]} out of range for dim {d} of size {Shape[d]}");
            flat = (flat * Shape[d]) + index[d];
        }

        return flat;
    }

    /// <summary>A new tensor with the same values that is cut off from the graph.</summary>
    public Tensor Detach() => new(Data, Shape, requiresGrad: false);

    /// <summary>A deep copy (values only), cut off from the graph.</summary>
    public Tensor Clone() => new((float[])Data.Clone(), Shape, requiresGrad: false);

    /// <summary>Marks a leaf tensor as requiring gradients (returns this, like PyTorch's <c>requires_grad_()</c>).</summary>
    public Tensor RequiresGrad_(bool value = true)
    {
        if (!IsLeaf) throw new InvalidOperationException("RequiresGrad_ can only change leaf tensors");
        RequiresGrad = value;
        return this;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Tensor").Append(FormatShape(Shape)).Append(' ').Append('[');
        int n = Math.Min(Data.Length, 8);
        for (int i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Data[i].ToString("G6", CultureInfo.InvariantCulture));
        }

        if (Data.Length > n) sb.Append(", …");
        sb.Append(']');
        if (RequiresGrad) sb.Append(" requiresGrad");
        return sb.ToString();
    }

    // ---------------------------------------------------------------------------------------------
    // graph construction helpers used by every op
    // ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Creates an op's output. When grad mode is on and an input requires grad, the output records its
    /// inputs and <paramref name="backward"/>, which receives the output (whose <see cref="Grad"/> is set).
    /// </summary>
    internal static Tensor Result(float[] data, int[] shape, Tensor[] inputs, Action<Tensor> backward)
    {
        bool track = false;
        if (GradMode.IsEnabled)
        {
            foreach (var t in inputs)
            {
                if (t.RequiresGrad) { track = true; break; }
            }
        }

        if (!track) return new Tensor(data, shape, requiresGrad: false);
        var output = new Tensor(data, shape, requiresGrad: true, inputs);
        output._backward = () => backward(output);
        return output;
    }

    /// <summary>This tensor's gradient buffer, allocated as zeros on first use.</summary>
    internal float[] GradOrCreate() => Grad ??= IsLeaf ? new float[Data.Length] : TensorArena.Zeroed(Data.Length);

    // ---------------------------------------------------------------------------------------------
    // shape helpers
    // ---------------------------------------------------------------------------------------------

    /// <summary>Number of elements of a shape (1 for the 0-d shape []).</summary>
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d}", nameof(shape));
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException("tensor too large (more than 2^31 elements)", nameof(shape));
        }

        return (int)n;
    }

    /// <summary>Formats a shape as <c>(2, 3)</c>.</summary>
    public static string FormatShape(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("(");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        return sb.Append(')').ToString();
    }

    internal static int NormalizeAxis(int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} out of range for rank {rank}");
        return a;
    }

    /// <summary>Product of the dims before, at, and after <paramref name="axis"/>: the (outer, n, inner) view.</summary>
    internal static (int Outer, int N, int Inner) SplitAt(int[] shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[axis], inner);
    }

    internal static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}
