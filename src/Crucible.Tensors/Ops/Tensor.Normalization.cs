using System.Numerics.Tensors;

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
        ForEachLine(outer, n, inner, (o, i) =>
        {
            Gather(x.Data, o, n, inner, i, buf);
            float max = n == 0 ? 0f : TensorPrimitives.Max(buf);
            TensorPrimitives.Subtract(buf, max, buf);
            TensorPrimitives.Exp(buf, exp);
            float sum = TensorPrimitives.Sum(exp);
            if (log) TensorPrimitives.Subtract(buf, MathF.Log(sum), buf);
            else TensorPrimitives.Divide(exp, sum, buf);
            Scatter(buf, output, o, n, inner, i);
        });

        return Result(output, Shape, [x], r =>
        {
            var gx = x.GradOrCreate();
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
        int spatial = x.Length / Math.Max(1, b * c);
        return GroupedNorm(x, b * groups, (c / groups) * spatial, spatial, weight, bias, eps, perChannelAffine: true, channels: c);
    }

    // x viewed as (rows, n); each row normalised. Affine index: element j of row r maps to parameter
    // (perChannelAffine ? channel : j), where channel = ((r % groups) · (n / spatial) + j / spatial).
    private static Tensor GroupedNorm(Tensor x, int rows, int n, int spatial, Tensor? weight, Tensor? bias, float eps, bool perChannelAffine, int channels = 0)
    {
        int groups = perChannelAffine ? rows / (x.Length / Math.Max(1, channels * spatial)) : 1;
        int perGroup = perChannelAffine ? n / spatial : 0;
        int ParamIndex(int r, int j) => perChannelAffine ? ((r % groups) * perGroup) + (j / spatial) : j;

        var output = TensorArena.Zeroed(x.Length);
        var xhat = TensorArena.Zeroed(x.Length);
        var rstd = TensorArena.Zeroed(rows);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Data.AsSpan(r * n, n);
            double mean = 0;
            foreach (float v in row) mean += v;
            mean /= n;
            double var = 0;
            foreach (float v in row) var += (v - mean) * (v - mean);
            var /= n;
            float rs = (float)(1.0 / Math.Sqrt(var + eps));
            rstd[r] = rs;
            for (int j = 0; j < n; j++)
            {
                float h = (float)((row[j] - mean) * rs);
                xhat[(r * n) + j] = h;
                int p = ParamIndex(r, j);
                output[(r * n) + j] = (h * (weight?.Data[p] ?? 1f)) + (bias?.Data[p] ?? 0f);
            }
        }

        Tensor[] inputs = [x, .. weight is null ? Array.Empty<Tensor>() : [weight], .. bias is null ? Array.Empty<Tensor>() : [bias]];
        return Result(output, x.Shape, inputs, o =>
        {
            var g = o.Grad!;
            var dxhat = TensorArena.Zeroed(n);
            for (int r = 0; r < rows; r++)
            {
                double meanD = 0, meanDX = 0;
                for (int j = 0; j < n; j++)
                {
                    int idx = (r * n) + j, p = ParamIndex(r, j);
                    float d = g[idx] * (weight?.Data[p] ?? 1f);
                    dxhat[j] = d;
                    meanD += d;
                    meanDX += d * xhat[idx];
                    if (weight is not null && weight.RequiresGrad) weight.GradOrCreate()[p] += g[idx] * xhat[idx];
                    if (bias is not null && bias.RequiresGrad) bias.GradOrCreate()[p] += g[idx];
                }

                if (!x.RequiresGrad) continue;
                meanD /= n;
                meanDX /= n;

                // dx = rstd · (dxhat − mean(dxhat) − xhat · mean(dxhat · xhat))
                var gx = x.GradOrCreate();
                for (int j = 0; j < n; j++)
                {
                    int idx = (r * n) + j;
                    gx[idx] += (float)(rstd[r] * (dxhat[j] - meanD - (xhat[idx] * meanDX)));
                }
            }
        });
    }
}
