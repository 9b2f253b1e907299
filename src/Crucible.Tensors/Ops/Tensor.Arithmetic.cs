using System.Numerics.Tensors;

namespace Crucible.Tensors;

/// <summary>The four broadcasting arithmetic ops.</summary>
internal enum BinaryOp
{
    Add,
    Subtract,
    Multiply,
    Divide,
}

public sealed partial class Tensor
{
    /// <summary>Broadcasting <c>x + y</c>.</summary>
    public static Tensor operator +(Tensor x, Tensor y) => x.Add(y);

    /// <summary>Broadcasting <c>x − y</c>.</summary>
    public static Tensor operator -(Tensor x, Tensor y) => x.Sub(y);

    /// <summary>Broadcasting <c>x · y</c> (elementwise).</summary>
    public static Tensor operator *(Tensor x, Tensor y) => x.Mul(y);

    /// <summary>Broadcasting <c>x / y</c>.</summary>
    public static Tensor operator /(Tensor x, Tensor y) => x.Div(y);

    /// <summary><c>x + s</c>.</summary>
    public static Tensor operator +(Tensor x, float s) => x.AddScalar(s);

    /// <summary><c>s + x</c>.</summary>
    public static Tensor operator +(float s, Tensor x) => x.AddScalar(s);

    /// <summary><c>x − s</c>.</summary>
    public static Tensor operator -(Tensor x, float s) => x.AddScalar(-s);

    /// <summary><c>s − x</c>.</summary>
    public static Tensor operator -(float s, Tensor x) => x.MulScalar(-1f).AddScalar(s);

    /// <summary><c>x · s</c>.</summary>
    public static Tensor operator *(Tensor x, float s) => x.MulScalar(s);

    /// <summary><c>s · x</c>.</summary>
    public static Tensor operator *(float s, Tensor x) => x.MulScalar(s);

    /// <summary><c>x / s</c>.</summary>
    public static Tensor operator /(Tensor x, float s) => x.MulScalar(1f / s);

    /// <summary><c>−x</c>.</summary>
    public static Tensor operator -(Tensor x) => x.MulScalar(-1f);

    /// <summary>Broadcasting elementwise sum.</summary>
    public Tensor Add(Tensor y) => Binary(this, y, BinaryOp.Add);

    /// <summary>Broadcasting elementwise difference.</summary>
    public Tensor Sub(Tensor y) => Binary(this, y, BinaryOp.Subtract);

    /// <summary>Broadcasting elementwise product.</summary>
    public Tensor Mul(Tensor y) => Binary(this, y, BinaryOp.Multiply);

    /// <summary>Broadcasting elementwise quotient.</summary>
    public Tensor Div(Tensor y) => Binary(this, y, BinaryOp.Divide);

    /// <summary><c>x + s</c> for a scalar s.</summary>
    public Tensor AddScalar(float s)
    {
        var x = this;
        var output = TensorArena.Output(x.Length);
        TensorPrimitives.Add(x.Data, s, output);
        return Result(output, x.Shape, [x], o => TensorPrimitives.Add(x.GradOrCreate(), o.Grad!, x.GradOrCreate()));
    }

    /// <summary><c>x · s</c> for a scalar s.</summary>
    public Tensor MulScalar(float s)
    {
        var x = this;
        var output = TensorArena.Output(x.Length);
        TensorPrimitives.Multiply(x.Data, s, output);
        return Result(output, x.Shape, [x], o =>
        {
            var gx = x.GradOrCreate();
            TensorPrimitives.MultiplyAdd(o.Grad!, s, gx, gx);
        });
    }

    private static Tensor Binary(Tensor x, Tensor y, BinaryOp op)
    {
        var shape = SameShape(x.Shape, y.Shape) ? x.Shape : Broadcast.Shape(x.Shape, y.Shape);
        var output = TensorArena.Output(Numel(shape));
        BinaryForward(x.Data, x.Shape, y.Data, y.Shape, output, shape, op);
        return Result(output, shape, [x, y], o => BinaryBackward(x, y, o, op));
    }

    /// <summary>Runs <paramref name="op"/> over broadcast runs with TensorPrimitives.</summary>
    internal static void BinaryForward(float[] x, int[] xShape, float[] y, int[] yShape, float[] destination, int[] shape, BinaryOp op)
    {
        if (x.Length == destination.Length && y.Length == destination.Length)
        {
            Apply(op, x, y, destination);
            return;
        }

        var plan = new Broadcast(shape, xShape, yShape);
        int run = plan.Run;
        for (int o = 0; o < plan.Outer; o++)
        {
            var (xo, yo) = plan.Offsets(o);
            var dst = destination.AsSpan(o * run, run);
            switch ((plan.XInc, plan.YInc))
            {
                case (1, 1): Apply(op, x.AsSpan(xo, run), y.AsSpan(yo, run), dst); break;
                case (1, 0): ApplyScalarRight(op, x.AsSpan(xo, run), y[yo], dst); break;
                case (0, 1): ApplyScalarLeft(op, x[xo], y.AsSpan(yo, run), dst); break;
                default: dst.Fill(Scalar(op, x[xo], y[yo])); break;
            }
        }
    }

    private static void BinaryBackward(Tensor x, Tensor y, Tensor o, BinaryOp op)
    {
        var g = o.Grad!;
        bool same = x.Length == g.Length && y.Length == g.Length;
        switch (op)
        {
            case BinaryOp.Add:
                if (x.RequiresGrad) Broadcast.AccumulateReduced(g, o.Shape, x.GradOrCreate(), x.Shape);
                if (y.RequiresGrad) Broadcast.AccumulateReduced(g, o.Shape, y.GradOrCreate(), y.Shape);
                break;
            case BinaryOp.Subtract:
                if (x.RequiresGrad) Broadcast.AccumulateReduced(g, o.Shape, x.GradOrCreate(), x.Shape);
                if (y.RequiresGrad)
                {
                    var neg = TensorArena.Output(g.Length);
                    TensorPrimitives.Negate(g, neg);
                    Broadcast.AccumulateReduced(neg, o.Shape, y.GradOrCreate(), y.Shape);
                }

                break;
            case BinaryOp.Multiply:
                if (same)
                {
                    // dL/dx = g · y, dL/dy = g · x
                    if (x.RequiresGrad) { var gx = x.GradOrCreate(); TensorPrimitives.FusedMultiplyAdd(g, y.Data, gx, gx); }
                    if (y.RequiresGrad) { var gy = y.GradOrCreate(); TensorPrimitives.FusedMultiplyAdd(g, x.Data, gy, gy); }
                    break;
                }

                if (x.RequiresGrad) AccumulateProduct(g, o.Shape, y, x);
                if (y.RequiresGrad) AccumulateProduct(g, o.Shape, x, y);
                break;
            case BinaryOp.Divide:
                // o = x / y: dL/dx = g / y, dL/dy = −g · o / y
                if (x.RequiresGrad)
                {
                    var t = TensorArena.Output(g.Length);
                    BinaryForward(g, o.Shape, y.Data, y.Shape, t, o.Shape, BinaryOp.Divide);
                    Broadcast.AccumulateReduced(t, o.Shape, x.GradOrCreate(), x.Shape);
                }

                if (y.RequiresGrad)
                {
                    var t = TensorArena.Output(g.Length);
                    TensorPrimitives.Multiply(g, o.Data, t);
                    BinaryForward(t, o.Shape, y.Data, y.Shape, t, o.Shape, BinaryOp.Divide);
                    TensorPrimitives.Negate(t, t);
                    Broadcast.AccumulateReduced(t, o.Shape, y.GradOrCreate(), y.Shape);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    /// <summary>target.Grad += reduce(g · other) over target's broadcast dims.</summary>
    private static void AccumulateProduct(float[] g, int[] shape, Tensor other, Tensor target)
    {
        var t = TensorArena.Output(g.Length);
        BinaryForward(g, shape, other.Data, other.Shape, t, shape, BinaryOp.Multiply);
        Broadcast.AccumulateReduced(t, shape, target.GradOrCreate(), target.Shape);
    }

    private static void Apply(BinaryOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, d); break;
            case BinaryOp.Subtract: TensorPrimitives.Subtract(x, y, d); break;
            case BinaryOp.Multiply: TensorPrimitives.Multiply(x, y, d); break;
            default: TensorPrimitives.Divide(x, y, d); break;
        }
    }

    private static void ApplyScalarRight(BinaryOp op, ReadOnlySpan<float> x, float y, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(x, y, d); break;
            case BinaryOp.Subtract: TensorPrimitives.Subtract(x, y, d); break;
            case BinaryOp.Multiply: TensorPrimitives.Multiply(x, y, d); break;
            default: TensorPrimitives.Divide(x, y, d); break;
        }
    }

    private static void ApplyScalarLeft(BinaryOp op, float x, ReadOnlySpan<float> y, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(y, x, d); break;
            case BinaryOp.Subtract: TensorPrimitives.Subtract(x, y, d); break;
            case BinaryOp.Multiply: TensorPrimitives.Multiply(y, x, d); break;
            default: TensorPrimitives.Divide(x, y, d); break;
        }
    }

    private static float Scalar(BinaryOp op, float x, float y) => op switch
    {
        BinaryOp.Add => x + y,
        BinaryOp.Subtract => x - y,
        BinaryOp.Multiply => x * y,
        _ => x / y,
    };
}
