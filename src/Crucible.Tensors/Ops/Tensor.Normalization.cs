using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>Softmax along <paramref name="axis"/>: exp(x − max) / Σ exp(x − max).</summary>
    public Tensor Softmax(int axis = -1) => SoftmaxOp(axis, log: false);

    /// <summary>log softmax along <paramref name="axis"/>: x − max − log Σ exp(x − max).</summary>
    public Tensor LogSoftmax(int axis = -1) => SoftmaxOp(axis, log: true);

    // One pass per line along the axis: shift by the max, exponentiate, then normalise (softmax) or subtract
    // log Σ (log-softmax). Backward: softmax dx = y · (g − Σ g·y); log-softmax dx = g − e^y · Σ g.
    private Tensor SoftmaxOp(int axis, bool log)
    {
        var x = this;
        int a = NormalizeAxis(axis, Rank);
        var (outer, n, inner) = SplitAt(Shape, a);
        var output = TensorArena.Zeroed(Length);
        var buf = TensorArena.Zeroed(n);
        var exp = TensorArena.Zeroed(n);
        if (inner == 1)
        {
            // contiguous lines (the last axis, as attention's): the same calls on each line in place of a copy of it
            for (int o = 0; o < outer; o++)
            {
                SoftmaxLine(x.Data.AsSpan(o * n, n), output.AsSpan(o * n, n), exp, log);
            }
        }
        else
        {
            ForEachLine(outer, n, inner, (o, i) =>
            {
                Gather(x.Data, o, n, inner, i, buf);
                SoftmaxLine(buf, buf, exp, log);
                Scatter(buf, output, o, n, inner, i);
            });
        }

        return Result(output, Shape, [x], r =>
        {
            var gx = x.GradOrCreate();
            if (inner == 1 && !log)
            {
                // contiguous lines: the same dot and updates read in place
                for (int o = 0; o < outer; o++)
                {
                    ReadOnlySpan<float> yl = r.Data.AsSpan(o * n, n), gl = r.Grad!.AsSpan(o * n, n);
                    var gxl = gx.AsSpan(o * n, n);
                    float dot = TensorPrimitives.Dot(gl, yl);
                    for (int k = 0; k < n; k++) gxl[k] += yl[k] * (gl[k] - dot);
                }

                return;
            }

            var yb = TensorArena.Zeroed(n);
            var gb = TensorArena.Zeroed(n);
            ForEachLine(outer, n, inner, (o, i) =>
            {
                Gather(r.Data, o, n, inner, i, yb);
                Gather(r.Grad!, o, n, inner, i, gb);
                if (log)
                {
                    float sum = TensorPrimitives.Sum(gb);
                    for (int k = 0; k < n; k++) gx[(((o * n) + k) * inner) + i] += gb[k] - (MathF.Exp(yb[k]) * sum);
                }
                else
                {
                    float dot = TensorPrimitives.Dot(gb, yb);
                    for (int k = 0; k < n; k++) gx[(((o * n) + k) * inner) + i] += yb[k] * (gb[k] - dot);
                }
            });
        });
    }

    private static void ForEachLine(int outer, int n, int inner, Action<int, int> body)
    {
        _ = n;
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++) body(o, i);
        }
    }

    // one line's softmax (log-softmax when `log`): dst = exp(src − max) / Σ (or src − max − log Σ); exp: scratch of the
    // line's length; dst may be src itself
    private static void SoftmaxLine(ReadOnlySpan<float> src, Span<float> dst, Span<float> exp, bool log)
    {
        float max = src.Length == 0 ? 0f : TensorPrimitives.Max(src);
        TensorPrimitives.Subtract(src, max, dst);
        TensorPrimitives.Exp(dst, exp);
        float sum = TensorPrimitives.Sum(exp);
        if (log) TensorPrimitives.Subtract(dst, MathF.Log(sum), dst);
        else TensorPrimitives.Divide(exp, sum, dst);
    }

    private static void Gather(float[] src, int o, int n, int inner, int i, float[] line)
    {
        if (inner == 1) { src.AsSpan(o * n, n).CopyTo(line); return; }
        for (int k = 0; k < n; k++) line[k] = src[(((o * n) + k) * inner) + i];
    }

    private static void Scatter(float[] line, float[] dst, int o, int n, int inner, int i)
    {
        if (inner == 1) { line.AsSpan(0, n).CopyTo(dst.AsSpan(o * n, n)); return; }
        for (int k = 0; k < n; k++) dst[(((o * n) + k) * inner) + i] = line[k];
    }

    /// <summary>
    /// Layer normalisation over the last <paramref name="normalizedLength"/> elements of each row
    /// (Ba et al. 2016): y = (x − μ) / √(σ² + ε) · γ + β, σ² the biased variance. γ, β of shape (normalizedLength) or null.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, int normalizedLength, Tensor? weight, Tensor? bias, float eps = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = normalizedLength;
        if (n <= 0 || x.Length % n != 0) throw new ArgumentException($"LayerNorm: {n} does not divide {FormatShape(x.Shape)}");
        CheckAffine("LayerNorm", weight, bias, n);
        return GroupedNorm(x, x.Length / n, n, 1, weight, bias, eps, perChannelAffine: false);
    }

    /// <summary>
    /// Group normalisation (Wu &amp; He 2018): x (B, C, *) split into <paramref name="groups"/> groups of channels,
    /// each normalised over its channels and positions; then a per-channel affine γ, β of shape (C) or null.
    /// </summary>
    public static Tensor GroupNorm(Tensor x, int groups, Tensor? weight, Tensor? bias, float eps = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2) throw new ArgumentException("GroupNorm needs (B, C, *)");
        int b = x.Shape[0], c = x.Shape[1];
        if (groups <= 0 || c % groups != 0) throw new ArgumentException($"GroupNorm: {groups} groups do not divide {c} channels");
        CheckAffine("GroupNorm", weight, bias, c);
        int spatial = x.Length / Math.Max(1, b * c);
        return GroupedNorm(x, b * groups, (c / groups) * spatial, spatial, weight, bias, eps, perChannelAffine: true, channels: c);
    }

    // γ and β must hold one value per normalised element (layer norm) or per channel (group norm)
    private static void CheckAffine(string op, Tensor? weight, Tensor? bias, int length)
    {
        if (weight is not null && weight.Length != length) throw new ArgumentException($"{op}: weight must have {length} elements, got {FormatShape(weight.Shape)}", nameof(weight));
        if (bias is not null && bias.Length != length) throw new ArgumentException($"{op}: bias must have {length} elements, got {FormatShape(bias.Shape)}", nameof(bias));
    }

    // x viewed as (rows, n); each row normalised. Affine index: element j of row r maps to parameter
    // (perChannelAffine ? channel : j), where channel = ((r % groups) · (n / spatial) + j / spatial).
    // Layer norm (perChannelAffine false) splits its rows across the engine's threads, forward and backward, and its
    // parameters' gradients across columns: every element takes the same float operations in the same order on any
    // thread (SmallOpBitsTests holds it to the row-by-row loop), so the thread count never changes a bit.
    private static Tensor GroupedNorm(Tensor x, int rows, int n, int spatial, Tensor? weight, Tensor? bias, float eps, bool perChannelAffine, int channels = 0)
    {
        // (the Max(1, …) only matter for an empty x, whose rows read no parameter)
        int groups = perChannelAffine ? rows / Math.Max(1, x.Length / Math.Max(1, channels * spatial)) : 1;
        int perGroup = perChannelAffine ? n / Math.Max(1, spatial) : 0;
        int ParamIndex(int r, int j) => perChannelAffine ? ((r % groups) * perGroup) + (j / spatial) : j;

        // the parameters' arrays are read once (not per element); the arithmetic per element is the naive one's
        float[]? wd = weight?.Data, bd = bias?.Data;
        // every element of y, x̂ and rstd is written by the forward pass below: no zeroing first
        var output = TensorArena.Output(x.Length);
        var xhat = TensorArena.Output(x.Length);
        var rstd = TensorArena.Output(rows);
        float[] xd = x.Data;
        int minRows = Math.Max(1, ElementsPerThread / Math.Max(1, n));
        if (perChannelAffine) ForwardRows(0, rows);
        else EngineThreads.For(rows, minRows, ForwardRows);

        // rows [start, end): their means, variances, x̂ and y
        void ForwardRows(int start, int end)
        {
            int r0 = start;
            if (!perChannelAffine)
            {
                // four rows at a time: each row's two sums are the naive loop's, in its order; the four rows' sums are
                // independent chains that overlap (the naive loop waits on one addition at a time)
                for (; r0 + 4 <= end; r0 += 4)
                {
                    int a0 = r0 * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
                    double m0 = 0, m1 = 0, m2 = 0, m3 = 0;
                    for (int j = 0; j < n; j++)
                    {
                        m0 += xd[a0 + j];
                        m1 += xd[a1 + j];
                        m2 += xd[a2 + j];
                        m3 += xd[a3 + j];
                    }

                    m0 /= n;
                    m1 /= n;
                    m2 /= n;
                    m3 /= n;
                    double v0 = 0, v1 = 0, v2 = 0, v3 = 0;
                    for (int j = 0; j < n; j++)
                    {
                        v0 += (xd[a0 + j] - m0) * (xd[a0 + j] - m0);
                        v1 += (xd[a1 + j] - m1) * (xd[a1 + j] - m1);
                        v2 += (xd[a2 + j] - m2) * (xd[a2 + j] - m2);
                        v3 += (xd[a3 + j] - m3) * (xd[a3 + j] - m3);
                    }

                    NormalizeRow(r0, m0, v0 / n);
                    NormalizeRow(r0 + 1, m1, v1 / n);
                    NormalizeRow(r0 + 2, m2, v2 / n);
                    NormalizeRow(r0 + 3, m3, v3 / n);
                }
            }

            for (int r = r0; r < end; r++)
            {
                var row = xd.AsSpan(r * n, n);
                double mean = 0;
                foreach (float v in row) mean += v;
                mean /= n;
                double var = 0;
                foreach (float v in row) var += (v - mean) * (v - mean);
                var /= n;
                NormalizeRow(r, mean, var);
            }
        }

        // row r from its mean and biased variance: x̂ = (x − μ)·rstd, y = x̂·γ + β
        void NormalizeRow(int r, double mean, double var)
        {
            var row = xd.AsSpan(r * n, n);
            float rs = (float)(1.0 / Math.Sqrt(var + eps));
            rstd[r] = rs;
            var hr = xhat.AsSpan(r * n, n);
            var yr = output.AsSpan(r * n, n);
            for (int j = 0; j < n; j++)
            {
                float h = (float)((row[j] - mean) * rs);
                hr[j] = h;
                int p = perChannelAffine ? ParamIndex(r, j) : j;
                yr[j] = (h * (wd is null ? 1f : wd[p])) + (bd is null ? 0f : bd[p]);
            }
        }

        Tensor[] inputs = [x, .. weight is null ? Array.Empty<Tensor>() : [weight], .. bias is null ? Array.Empty<Tensor>() : [bias]];
        return Result(output, x.Shape, inputs, o =>
        {
            var g = o.Grad!;

            // the gradient buffers are fetched once (created as the naive loop's first element would create them)
            bool any = rows > 0 && n > 0;
            float[]? gw = any && weight is not null && weight.RequiresGrad ? weight.GradOrCreate() : null;
            float[]? gbias = any && bias is not null && bias.RequiresGrad ? bias.GradOrCreate() : null;
            float[]? gx = any && x.RequiresGrad ? x.GradOrCreate() : null;
            if (perChannelAffine)
            {
                GroupBackward(g, gw, gbias, gx);
                return;
            }

            // the input's gradient by rows, each part with its own scratch rows (fetched here: the arena is the
            // caller's); then the parameters' gradients by columns, each column summed over the rows in row order
            if (gx is not null)
            {
                int parts = Math.Max(1, Math.Min(EngineThreads.MaxDegreeOfParallelism, rows / minRows));
                var scratch = TensorArena.Zeroed(parts * 4 * n);
                if (parts == 1) InputGradientRows(0, rows, scratch.AsSpan(0, 4 * n));
                else ForkJoin.Run(parts, part => InputGradientRows((int)((long)rows * part / parts), (int)((long)rows * (part + 1) / parts), scratch.AsSpan(part * 4 * n, 4 * n)));
            }

            if (gw is not null || gbias is not null)
            {
                if (n >= 2 * ParameterColumnsPerThread && (long)rows * n >= 2L * ElementsPerThread)
                {
                    int parts = Math.Min(EngineThreads.MaxDegreeOfParallelism, n / ParameterColumnsPerThread);
                    ForkJoin.Run(parts, part => ParameterGradientColumns((int)((long)n * part / parts), (int)((long)n * (part + 1) / parts)));
                }
                else
                {
                    ParameterGradientColumns(0, n);
                }
            }

            // rows [start, end) of dx, four rows at a time as in the forward pass, each row's sums in the naive order
            void InputGradientRows(int start, int end, Span<float> d4)
            {
                int r0 = start;
                for (; r0 + 4 <= end; r0 += 4)
                {
                    int a0 = r0 * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
                    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
                    for (int j = 0; j < n; j++)
                    {
                        float wj = wd is null ? 1f : wd[j];
                        float d0 = g[a0 + j] * wj, d1 = g[a1 + j] * wj, d2 = g[a2 + j] * wj, d3 = g[a3 + j] * wj;
                        d4[j] = d0;
                        d4[n + j] = d1;
                        d4[(2 * n) + j] = d2;
                        d4[(3 * n) + j] = d3;
                        s0 += d0;
                        s1 += d1;
                        s2 += d2;
                        s3 += d3;
                        t0 += d0 * xhat[a0 + j];
                        t1 += d1 * xhat[a1 + j];
                        t2 += d2 * xhat[a2 + j];
                        t3 += d3 * xhat[a3 + j];
                    }

                    InputGradient(r0, d4[..n], s0 / n, t0 / n);
                    InputGradient(r0 + 1, d4.Slice(n, n), s1 / n, t1 / n);
                    InputGradient(r0 + 2, d4.Slice(2 * n, n), s2 / n, t2 / n);
                    InputGradient(r0 + 3, d4.Slice(3 * n, n), s3 / n, t3 / n);
                }

                var dxhat = d4[..n];
                for (int r = r0; r < end; r++)
                {
                    double meanD = 0, meanDX = 0;
                    for (int j = 0; j < n; j++)
                    {
                        int idx = (r * n) + j;
                        float d = g[idx] * (wd is null ? 1f : wd[j]);
                        dxhat[j] = d;
                        meanD += d;
                        meanDX += d * xhat[idx];
                    }

                    InputGradient(r, dxhat, meanD / n, meanDX / n);
                }
            }

            // columns [start, end) of dγ += g·x̂ and dβ += g, row after row (each column's sum in row order)
            void ParameterGradientColumns(int start, int end)
            {
                for (int r = 0; r < rows; r++)
                {
                    int a = r * n;
                    if (gw is not null) AddProduct(g.AsSpan(a + start, end - start), xhat.AsSpan(a + start, end - start), gw.AsSpan(start, end - start));
                    if (gbias is not null) AddProduct(g.AsSpan(a + start, end - start), default, gbias.AsSpan(start, end - start));
                }
            }

            // dx = rstd · (dxhat − mean(dxhat) − xhat · mean(dxhat · xhat))
            void InputGradient(int r, ReadOnlySpan<float> dxhat, double meanD, double meanDX)
            {
                for (int j = 0; j < n; j++)
                {
                    int idx = (r * n) + j;
                    gx![idx] += (float)(rstd[r] * (dxhat[j] - meanD - (xhat[idx] * meanDX)));
                }
            }
        });

        // group norm's backward, row by row: dγ, dβ at the rows' channels, dx as layer norm's
        void GroupBackward(float[] g, float[]? gw, float[]? gbias, float[]? gx)
        {
            var dxhat = TensorArena.Zeroed(n);
            for (int r = 0; r < rows; r++)
            {
                double meanD = 0, meanDX = 0;
                for (int j = 0; j < n; j++)
                {
                    int idx = (r * n) + j, p = ParamIndex(r, j);
                    float d = g[idx] * (wd is null ? 1f : wd[p]);
                    dxhat[j] = d;
                    meanD += d;
                    meanDX += d * xhat[idx];
                    if (gw is not null) gw[p] += g[idx] * xhat[idx];
                    if (gbias is not null) gbias[p] += g[idx];
                }

                if (gx is null) continue;
                meanD /= n;
                meanDX /= n;
                for (int j = 0; j < n; j++)
                {
                    int idx = (r * n) + j;
                    gx[idx] += (float)(rstd[r] * (dxhat[j] - meanD - (xhat[idx] * meanDX)));
                }
            }
        }
    }

    /// <summary>
    /// destination[j] += x[j]·y[j] (or += x[j] when <paramref name="y"/> is empty), each element by the scalar loop's
    /// float operations (a rounded product, then the add; no fused multiply-add), sixteen at a time.
    /// </summary>
    private static void AddProduct(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        int n = destination.Length, j = 0;
        bool product = !y.IsEmpty;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
            {
                var v = Vector512.Create(x.Slice(j, Vector512<float>.Count));
                if (product) v *= Vector512.Create(y.Slice(j, Vector512<float>.Count));
                (Vector512.Create(destination.Slice(j, Vector512<float>.Count)) + v).CopyTo(destination.Slice(j, Vector512<float>.Count));
            }
        }

        for (; j < n; j++) destination[j] += product ? x[j] * y[j] : x[j];
    }

    /// <summary>Columns of layer norm's parameter gradients per thread, below which they stay on one thread.</summary>
    private const int ParameterColumnsPerThread = 16;
}
