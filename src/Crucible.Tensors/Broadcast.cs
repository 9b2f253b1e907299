namespace Crucible.Tensors;

/// <summary>
/// NumPy broadcasting, executed as runs: the output is walked as <c>Outer</c> contiguous runs of <c>Run</c>
/// elements; in each run an input either advances with the output (increment 1) or repeats one value
/// (increment 0). Trailing dimensions with the same pattern are merged so runs are as long as possible.
/// </summary>
internal readonly struct Broadcast
{
    private readonly int[] _outShape;    // output dims, outer part only (dims before the run)
    private readonly int[] _xStrides;    // x's element stride per outer dim (0 where broadcast)
    private readonly int[] _yStrides;

    public int Outer { get; }

    public int Run { get; }

    public int XInc { get; }

    public int YInc { get; }

    public Broadcast(int[] outShape, int[] xShape, int[] yShape)
    {
        int r = outShape.Length;
        var xs = AlignedStrides(xShape, outShape);
        var ys = AlignedStrides(yShape, outShape);

        // merge trailing dims while each input keeps one pattern (advancing, or repeating one value);
        // an input that advances over all merged dims is contiguous over them, so its run is one span
        int run = 1, d = r - 1;
        int xInc = -1, yInc = -1;
        for (; d >= 0; d--)
        {
            if (outShape[d] == 1) continue;
            int xi = xs[d] == 0 ? 0 : 1, yi = ys[d] == 0 ? 0 : 1;
            if (xInc == -1) { xInc = xi; yInc = yi; }
            else if (xi != xInc || yi != yInc) break;
            run *= outShape[d];
        }

        if (xInc == -1) { xInc = 1; yInc = 1; }
        if (Tensor.Numel(xShape) == 1) xInc = 0;
        if (Tensor.Numel(yShape) == 1) yInc = 0;
        Run = run;
        XInc = xInc;
        YInc = yInc;
        _outShape = outShape[..(d + 1)];
        _xStrides = xs[..(d + 1)];
        _yStrides = ys[..(d + 1)];
        Outer = Tensor.Numel(_outShape);
    }

    /// <summary>Offsets of x and y at the start of outer run <paramref name="o"/>.</summary>
    public (int X, int Y) Offsets(int o)
    {
        int xo = 0, yo = 0;
        for (int d = _outShape.Length - 1; d >= 0; d--)
        {
            int size = _outShape[d];
            int i = o % size;
            o /= size;
            xo += i * _xStrides[d];
            yo += i * _yStrides[d];
        }

        return (xo, yo);
    }

    /// <summary>Strides of <paramref name="shape"/> right-aligned to <paramref name="outShape"/>, 0 on broadcast dims.</summary>
    private static int[] AlignedStrides(int[] shape, int[] outShape)
    {
        var strides = new int[outShape.Length];
        int stride = 1;
        for (int i = 1; i <= outShape.Length; i++)
        {
            int od = outShape.Length - i, sd = shape.Length - i;
            int size = sd >= 0 ? shape[sd] : 1;
            strides[od] = size == 1 ? 0 : stride;
            stride *= size;
        }

        return strides;
    }

    /// <summary>The broadcast shape of two shapes, or an exception naming both.</summary>
    public static int[] Shape(int[] a, int[] b)
    {
        int r = Math.Max(a.Length, b.Length);
        var result = new int[r];
        for (int i = 1; i <= r; i++)
        {
            int da = a.Length - i >= 0 ? a[a.Length - i] : 1;
            int db = b.Length - i >= 0 ? b[b.Length - i] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException($"shapes {Tensor.FormatShape(a)} and {Tensor.FormatShape(b)} do not broadcast");
            }

            result[r - i] = da == 1 ? db : da;
        }

        return result;
    }

    /// <summary>
    /// Adds <paramref name="source"/> (of shape <paramref name="sourceShape"/>) into <paramref name="destination"/>
    /// (of a shape that broadcasts to it), summing over broadcast dims: the backward of broadcasting.
    /// </summary>
    public static void AccumulateReduced(ReadOnlySpan<float> source, int[] sourceShape, Span<float> destination, int[] destinationShape)
    {
        if (Tensor.SameShape(sourceShape, destinationShape) || source.Length == destination.Length)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(destination, source, destination);
            return;
        }

        if (destination.Length == 1)
        {
            destination[0] += System.Numerics.Tensors.TensorPrimitives.Sum(source);
            return;
        }

        var plan = new Broadcast(sourceShape, destinationShape, sourceShape);
        int run = plan.Run;
        for (int o = 0; o < plan.Outer; o++)
        {
            var (d, _) = plan.Offsets(o);
            var src = source.Slice(o * run, run);
            if (plan.XInc == 0) destination[d] += System.Numerics.Tensors.TensorPrimitives.Sum(src);
            else System.Numerics.Tensors.TensorPrimitives.Add(destination.Slice(d, run), src, destination.Slice(d, run));
        }
    }
}
