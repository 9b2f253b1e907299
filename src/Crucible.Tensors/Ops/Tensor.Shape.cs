using System.Numerics.Tensors;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// The same elements with a new shape (a view: storage is shared). One dimension may be −1 and is inferred.
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        var x = this;
        var s = (int[])shape.Clone();
        int infer = Array.IndexOf(s, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int i = 0; i < s.Length; i++) if (i != infer) known *= s[i];
            if (known == 0 || Length % known != 0) throw new ArgumentException($"cannot reshape {FormatShape(Shape)} to {FormatShape(shape)}", nameof(shape));
            s[infer] = Length / known;
        }

        if (Numel(s) != Length) throw new ArgumentException($"cannot reshape {FormatShape(Shape)} to {FormatShape(shape)}", nameof(shape));
        return Result(x.Data, s, [x], o =>
        {
            var gx = x.GradOrCreate();
            System.Numerics.Tensors.TensorPrimitives.Add(gx, o.Grad!, gx);
        });
    }

    /// <summary>Inserts a size-1 dimension at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = dim < 0 ? dim + Rank + 1 : dim;
        return Reshape([.. Shape[..d], 1, .. Shape[d..]]);
    }

    /// <summary>Removes the size-1 dimension at <paramref name="dim"/>.</summary>
    public Tensor Squeeze(int dim)
    {
        int d = NormalizeAxis(dim, Rank);
        if (Shape[d] != 1) throw new ArgumentException($"dimension {dim} has size {Shape[d]}, not 1", nameof(dim));
        return Reshape([.. Shape[..d], .. Shape[(d + 1)..]]);
    }

    /// <summary>Reorders dimensions: output dim i is input dim <paramref name="dims"/>[i] (a copy).</summary>
    public Tensor Permute(params int[] dims)
    {
        var x = this;
        int r = Rank;
        if (dims.Length != r) throw new ArgumentException($"permute needs {r} dims, got {dims.Length}", nameof(dims));
        var perm = dims.Select(d => NormalizeAxis(d, r)).ToArray();
        if (perm.Distinct().Count() != r) throw new ArgumentException("permute dims must be distinct", nameof(dims));
        var outShape = perm.Select(p => Shape[p]).ToArray();
        var output = TensorArena.Output(Length);
        PermuteCopy(x.Data, Shape, perm, output, accumulate: false);
        var inverse = new int[r];
        for (int i = 0; i < r; i++) inverse[perm[i]] = i;
        return Result(output, outShape, [x], o => PermuteCopy(o.Grad!, outShape, inverse, x.GradOrCreate(), accumulate: true));
    }

    /// <summary>Swaps two dimensions (a copy).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var perm = Enumerable.Range(0, Rank).ToArray();
        int a = NormalizeAxis(dim0, Rank), b = NormalizeAxis(dim1, Rank);
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    // destination[permuted index] (+)= source[index]; destination has shape source.Shape[perm]
    private static void PermuteCopy(float[] source, int[] shape, int[] perm, float[] destination, bool accumulate)
    {
        int r = shape.Length;
        if (source.Length == 0) return;
        var srcStrides = Strides(shape);
        var outShape = perm.Select(p => shape[p]).ToArray();

        // stride in source for each output dim
        var s = perm.Select(p => srcStrides[p]).ToArray();
        int inner = r == 0 ? 1 : outShape[r - 1];
        int innerStride = r == 0 ? 0 : s[r - 1];
        int outer = destination.Length / Math.Max(1, inner);
        var idx = new int[Math.Max(0, r - 1)];
        int srcBase = 0;
        for (int o = 0; o < outer; o++)
        {
            int dst = o * inner;
            if (innerStride == 1)
            {
                // the last dimension stays last: a contiguous run (the same copy, or the same sums element by element)
                var from = source.AsSpan(srcBase, inner);
                var to = destination.AsSpan(dst, inner);
                if (accumulate) TensorPrimitives.Add(to, from, to);
                else from.CopyTo(to);
            }
            else if (accumulate) for (int i = 0; i < inner; i++) destination[dst + i] += source[srcBase + (i * innerStride)];
            else for (int i = 0; i < inner; i++) destination[dst + i] = source[srcBase + (i * innerStride)];

            // advance the multi-index over the outer output dims
            for (int d = r - 2; d >= 0; d--)
            {
                idx[d]++;
                srcBase += s[d];
                if (idx[d] < outShape[d]) break;
                srcBase -= s[d] * outShape[d];
                idx[d] = 0;
            }
        }
    }

    internal static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        int st = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = st;
            st *= shape[i];
        }

        return strides;
    }

    /// <summary>Elements <paramref name="start"/> .. start + length − 1 along <paramref name="axis"/> (a copy).</summary>
    public Tensor Slice(int axis, int start, int length)
    {
        var x = this;
        int a = NormalizeAxis(axis, Rank);
        var (outer, n, inner) = SplitAt(Shape, a);
        if (start < 0 || length < 0 || start > n || length > n - start) throw new ArgumentOutOfRangeException(nameof(start), $"slice [{start}, {(long)start + length}) outside axis of size {n}");
        var shape = (int[])Shape.Clone();
        shape[a] = length;
        var output = TensorArena.Zeroed(outer * length * inner);
        int block = length * inner;
        for (int o = 0; o < outer; o++)
        {
            Array.Copy(x.Data, ((o * n) + start) * inner, output, o * block, block);
        }

        return Result(output, shape, [x], r =>
        {
            var gx = x.GradOrCreate();
            for (int o = 0; o < outer; o++)
            {
                var dst = gx.AsSpan(((o * n) + start) * inner, block);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, r.Grad.AsSpan(o * block, block), dst);
            }
        });
    }

    /// <summary>Splits along <paramref name="axis"/> into pieces of the given sizes.</summary>
    public Tensor[] Split(int axis, params int[] sizes)
    {
        int a = NormalizeAxis(axis, Rank);
        if (sizes.Sum() != Shape[a]) throw new ArgumentException($"split sizes sum to {sizes.Sum()}, axis has {Shape[a]}", nameof(sizes));
        var parts = new Tensor[sizes.Length];
        int start = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            parts[i] = Slice(a, start, sizes[i]);
            start += sizes[i];
        }

        return parts;
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; all other dims must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Concat needs at least one tensor", nameof(tensors));
        var first = tensors[0];
        int a = NormalizeAxis(axis, first.Rank);
        var shape = (int[])first.Shape.Clone();
        shape[a] = 0;
        foreach (var t in tensors)
        {
            if (t.Rank != first.Rank) throw new ArgumentException("Concat: ranks differ", nameof(tensors));
            for (int d = 0; d < t.Rank; d++)
            {
                if (d != a && t.Shape[d] != first.Shape[d]) throw new ArgumentException($"Concat: shapes {FormatShape(first.Shape)} and {FormatShape(t.Shape)} differ off axis {axis}", nameof(tensors));
            }

            shape[a] += t.Shape[a];
        }

        var (outer, total, inner) = SplitAt(shape, a);
        var output = TensorArena.Zeroed(Numel(shape));
        int offset = 0;
        foreach (var t in tensors)
        {
            int block = t.Shape[a] * inner;
            for (int o = 0; o < outer; o++) Array.Copy(t.Data, o * block, output, (((o * total) + offset) * inner), block);
            offset += t.Shape[a];
        }

        var inputs = tensors.ToArray();
        return Result(output, shape, inputs, r =>
        {
            int off = 0;
            foreach (var t in inputs)
            {
                int block = t.Shape[a] * inner;
                if (t.RequiresGrad)
                {
                    var gt = t.GradOrCreate();
                    for (int o = 0; o < outer; o++)
                    {
                        var dst = gt.AsSpan(o * block, block);
                        System.Numerics.Tensors.TensorPrimitives.Add(dst, r.Grad.AsSpan(((o * total) + off) * inner, block), dst);
                    }
                }

                off += t.Shape[a];
            }
        });
    }

    /// <summary>Stacks equally shaped tensors along a new dimension <paramref name="axis"/>.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        return Concat(tensors.Select(t => t.Unsqueeze(axis)).ToArray(), axis);
    }

    /// <summary>
    /// Rows of a 2-d table by index (embedding lookup): <c>output[i, :] = table[indices[i], :]</c>.
    /// </summary>
    // table: (V, D), indices: (N) -> (N, D); the output shape is indexShape + (D)
    public Tensor IndexSelect(ReadOnlySpan<int> indices, int[]? indexShape = null)
    {
        var table = this;
        if (Rank != 2) throw new InvalidOperationException($"IndexSelect needs a 2-d table, got {FormatShape(Shape)}");
        int v = Shape[0], d = Shape[1];
        var idx = indices.ToArray();
        var output = TensorArena.Zeroed(idx.Length * d);
        for (int i = 0; i < idx.Length; i++)
        {
            if ((uint)idx[i] >= (uint)v) throw new ArgumentOutOfRangeException(nameof(indices), $"index {idx[i]} outside table of {v} rows");
            Array.Copy(table.Data, idx[i] * d, output, i * d, d);
        }

        int[] shape = indexShape is null ? [idx.Length, d] : [.. indexShape, d];
        return Result(output, shape, [table], r =>
        {
            var gt = table.GradOrCreate();
            for (int i = 0; i < idx.Length; i++)
            {
                var dst = gt.AsSpan(idx[i] * d, d);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, r.Grad.AsSpan(i * d, d), dst);
            }
        });
    }

    /// <summary>
    /// Gathers along the last axis: <c>output[..., j] = x[..., index[..., j]]</c>, index with the same leading shape.
    /// </summary>
    public Tensor Gather(ReadOnlySpan<int> index, int[] indexShape)
    {
        var x = this;
        ArgumentNullException.ThrowIfNull(indexShape);
        if (indexShape.Length != Rank || !indexShape.AsSpan(0, Rank - 1).SequenceEqual(Shape.AsSpan(0, Rank - 1)))
        {
            throw new ArgumentException($"index shape {FormatShape(indexShape)} must match {FormatShape(Shape)} except on the last axis", nameof(indexShape));
        }

        int n = Shape[^1], m = indexShape[^1], rows = Numel(Shape.AsSpan(0, Rank - 1));
        if (index.Length != Numel(indexShape)) throw new ArgumentException($"index has {index.Length} entries, its shape {FormatShape(indexShape)} holds {Numel(indexShape)}", nameof(index));
        var idx = index.ToArray();
        var output = TensorArena.Zeroed(rows * m);
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < m; j++)
            {
                int k = idx[(r * m) + j];
                if ((uint)k >= (uint)n) throw new ArgumentOutOfRangeException(nameof(index), $"index {k} outside axis of size {n}");
                output[(r * m) + j] = x.Data[(r * n) + k];
            }
        }

        return Result(output, (int[])indexShape.Clone(), [x], o =>
        {
            var gx = x.GradOrCreate();
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < m; j++) gx[(r * n) + idx[(r * m) + j]] += o.Grad![(r * m) + j];
            }
        });
    }
}
