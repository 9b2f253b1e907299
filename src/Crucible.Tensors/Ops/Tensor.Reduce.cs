using System.Numerics.Tensors;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>Sum of all elements, as a 0-d tensor.</summary>
    public Tensor Sum()
    {
        var x = this;
        float s = TensorPrimitives.Sum(x.Data);
        return Result([s], [], [x], o =>
        {
            var gx = x.GradOrCreate();
            TensorPrimitives.Add(gx, o.Grad![0], gx);
        });
    }

    /// <summary>Mean of all elements, as a 0-d tensor.</summary>
    public Tensor Mean() => Sum().MulScalar(1f / Math.Max(1, Length));

    /// <summary>Sum over <paramref name="axis"/>; keeps it as size 1 when <paramref name="keepDim"/>.</summary>
    // x: (outer, n, inner) -> (outer, 1, inner)
    public Tensor Sum(int axis, bool keepDim = false)
    {
        var x = this;
        int a = NormalizeAxis(axis, Rank);
        var (outer, n, inner) = SplitAt(Shape, a);
        var output = TensorArena.Zeroed(outer * inner);
        for (int o = 0; o < outer; o++)
        {
            var dst = output.AsSpan(o * inner, inner);
            for (int k = 0; k < n; k++)
            {
                var src = x.Data.AsSpan(((o * n) + k) * inner, inner);
                if (inner == 1) dst[0] += src[0];
                else TensorPrimitives.Add(dst, src, dst);
            }
        }

        var shape = ReducedShape(Shape, a, keepDim);
        return Result(output, shape, [x], r =>
        {
            var g = r.Grad!;
            var gx = x.GradOrCreate();
            for (int o = 0; o < outer; o++)
            {
                var src = g.AsSpan(o * inner, inner);
                for (int k = 0; k < n; k++)
                {
                    var dst = gx.AsSpan(((o * n) + k) * inner, inner);
                    TensorPrimitives.Add(dst, src, dst);
                }
            }
        });
    }

    /// <summary>Sum over several axes.</summary>
    public Tensor Sum(int[] axes, bool keepDim = false)
    {
        var sorted = axes.Select(a => NormalizeAxis(a, Rank)).Distinct().OrderByDescending(a => a).ToArray();
        var t = this;
        foreach (int a in sorted) t = t.Sum(a, keepDim);
        return t;
    }

    /// <summary>Mean over <paramref name="axis"/>.</summary>
    public Tensor Mean(int axis, bool keepDim = false) => Sum(axis, keepDim).MulScalar(1f / Size(axis));

    /// <summary>Mean over several axes.</summary>
    public Tensor Mean(int[] axes, bool keepDim = false)
    {
        int count = 1;
        foreach (int a in axes.Select(a => NormalizeAxis(a, Rank)).Distinct()) count *= Shape[a];
        return Sum(axes, keepDim).MulScalar(1f / count);
    }

    /// <summary>
    /// Variance over <paramref name="axis"/> with <paramref name="correction"/> degrees of freedom removed:
    /// 1 (the default, PyTorch's <c>unbiased=True</c>) divides by n − 1, 0 by n.
    /// </summary>
    public Tensor Var(int axis, int correction = 1, bool keepDim = false)
    {
        var centred = this - Mean(axis, keepDim: true);
        int n = Size(axis);
        return centred.Square().Sum(axis, keepDim).MulScalar(1f / Math.Max(1, n - correction));
    }

    /// <summary>Maximum over <paramref name="axis"/> (the gradient goes to the first maximal element).</summary>
    public Tensor Max(int axis, bool keepDim = false)
    {
        var x = this;
        int a = NormalizeAxis(axis, Rank);
        var (outer, n, inner) = SplitAt(Shape, a);
        if (n == 0) throw new ArgumentException("Max over an empty axis", nameof(axis));
        var output = TensorArena.Zeroed(outer * inner);
        var argmax = new int[outer * inner];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = x.Data[(o * n * inner) + i];
                for (int k = 1; k < n; k++)
                {
                    float v = x.Data[(((o * n) + k) * inner) + i];
                    if (v > bv || float.IsNaN(v)) { bv = v; best = k; }
                }

                output[(o * inner) + i] = bv;
                argmax[(o * inner) + i] = best;
            }
        }

        return Result(output, ReducedShape(Shape, a, keepDim), [x], r =>
        {
            var gx = x.GradOrCreate();
            for (int o = 0; o < outer; o++)
            {
                for (int i = 0; i < inner; i++)
                {
                    int j = (o * inner) + i;
                    gx[(((o * n) + argmax[j]) * inner) + i] += r.Grad![j];
                }
            }
        });
    }

    private static int[] ReducedShape(int[] shape, int axis, bool keepDim)
    {
        if (keepDim)
        {
            var s = (int[])shape.Clone();
            s[axis] = 1;
            return s;
        }

        return [.. shape[..axis], .. shape[(axis + 1)..]];
    }
}
