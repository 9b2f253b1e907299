using System.Numerics.Tensors;
using static Crucible.Tensors.Kernels.Kernels;

namespace Crucible.Tensors;

/// <summary>How a 1-d convolution pads its input.</summary>
public enum Conv1dPadding
{
    /// <summary>No padding: L_out = L − dilation·(K − 1).</summary>
    Valid,

    /// <summary>Output as long as the input; the extra element of an odd total goes right (PyTorch's <c>padding="same"</c>).</summary>
    Same,

    /// <summary>All padding on the left: output t sees inputs ≤ t only (WaveNet / TCN).</summary>
    Causal,
}

public sealed partial class Tensor
{
    /// <summary>
    /// 1-d convolution with stride 1 (PyTorch's <c>F.conv1d</c> cross-correlation):
    /// x (B, C_in, L), weight (C_out, C_in, K), bias (C_out) → (B, C_out, L_out).
    /// </summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias, int dilation, Conv1dPadding padding)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int total = dilation * (weight.Shape[2] - 1);
        return padding switch
        {
            Conv1dPadding.Valid => Conv1d(x, weight, bias, dilation, 0, 0),
            Conv1dPadding.Same => Conv1d(x, weight, bias, dilation, total / 2, total - (total / 2)),
            _ => Conv1d(x, weight, bias, dilation, total, 0),
        };
    }

    /// <summary>1-d convolution with explicit left and right zero padding (PyTorch's <c>padding=p</c> is p, p).</summary>
    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias, int dilation, int padLeft, int padRight)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 3 || weight.Rank != 3) throw new ArgumentException($"Conv1d needs x (B, C, L) and weight (C_out, C_in, K); got {FormatShape(x.Shape)} and {FormatShape(weight.Shape)}");
        int b = x.Shape[0], cin = x.Shape[1], l = x.Shape[2];
        int cout = weight.Shape[0], k = weight.Shape[2];
        if (weight.Shape[1] != cin) throw new ArgumentException($"Conv1d: weight expects {weight.Shape[1]} input channels, x has {cin}");
        if (dilation < 1 || padLeft < 0 || padRight < 0) throw new ArgumentOutOfRangeException(nameof(dilation), "dilation ≥ 1 and padding ≥ 0");
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != cout)) throw new ArgumentException($"Conv1d: bias must be ({cout})");
        int lout = l + padLeft + padRight - (dilation * (k - 1));
        if (lout <= 0) throw new ArgumentException($"Conv1d: input length {l} too short for kernel {k} with dilation {dilation}");

        var geometry = new ConvGeometry(cin, l, k, dilation, padLeft, lout);
        int ck = cin * k;
        var output = TensorArena.Output(b * cout * lout);
        var cols = TensorArena.Output(ck * lout);
        for (int n = 0; n < b; n++)
        {
            // cols: (C_in·K, L_out); y_n = W (C_out, C_in·K) · cols + bias
            geometry.Im2Col(x.Data.AsSpan(n * cin * l, cin * l), cols);
            var y = output.AsSpan(n * cout * lout, cout * lout);
            if (bias is not null) for (int c = 0; c < cout; c++) y.Slice(c * lout, lout).Fill(bias.Data[c]);
            Gemm(false, false, cout, lout, ck, 1f, weight.Data, ck, cols, lout, bias is null ? 0f : 1f, y, lout);
        }

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Result(output, [b, cout, lout], inputs, o =>
        {
            var g = o.Grad!;
            var colsB = TensorArena.Output(ck * lout);
            var dcols = x.RequiresGrad ? TensorArena.Output(ck * lout) : null;
            for (int n = 0; n < b; n++)
            {
                var gy = g.AsSpan(n * cout * lout, cout * lout);
                if (weight.RequiresGrad)
                {
                    // dW += dY (C_out, L_out) · colsᵀ (L_out, C_in·K)
                    geometry.Im2Col(x.Data.AsSpan(n * cin * l, cin * l), colsB);
                    Gemm(false, true, cout, ck, lout, 1f, gy, lout, colsB, lout, 1f, weight.GradOrCreate(), ck);
                }

                if (dcols is not null)
                {
                    // dcols = Wᵀ (C_in·K, C_out) · dY (C_out, L_out), scattered back by col2im
                    Gemm(true, false, ck, lout, cout, 1f, weight.Data, ck, gy, lout, 0f, dcols, lout);
                    geometry.Col2ImAccumulate(dcols, x.GradOrCreate().AsSpan(n * cin * l, cin * l));
                }

                if (bias is not null && bias.RequiresGrad)
                {
                    var gb = bias.GradOrCreate();
                    for (int c = 0; c < cout; c++) gb[c] += TensorPrimitives.Sum(gy.Slice(c * lout, lout));
                }
            }
        });
    }

    /// <summary>Index arithmetic shared by im2col and its adjoint col2im.</summary>
    private readonly record struct ConvGeometry(int Cin, int L, int K, int Dilation, int PadLeft, int Lout)
    {
        // cols[(c·K + j), t] = x[c, t + j·dilation − padLeft], zero outside [0, L)
        public void Im2Col(ReadOnlySpan<float> x, Span<float> cols)
        {
            for (int c = 0; c < Cin; c++)
            {
                var xc = x.Slice(c * L, L);
                for (int j = 0; j < K; j++)
                {
                    var row = cols.Slice(((c * K) + j) * Lout, Lout);
                    int shift = (j * Dilation) - PadLeft;
                    int t0 = Math.Max(0, -shift), t1 = Math.Min(Lout, L - shift);
                    if (t1 <= t0) { row.Clear(); continue; }
                    row[..t0].Clear();
                    xc.Slice(t0 + shift, t1 - t0).CopyTo(row[t0..t1]);
                    row[t1..].Clear();
                }
            }
        }

        public void Col2ImAccumulate(ReadOnlySpan<float> cols, Span<float> gx)
        {
            for (int c = 0; c < Cin; c++)
            {
                var gc = gx.Slice(c * L, L);
                for (int j = 0; j < K; j++)
                {
                    var row = cols.Slice(((c * K) + j) * Lout, Lout);
                    int shift = (j * Dilation) - PadLeft;
                    int t0 = Math.Max(0, -shift), t1 = Math.Min(Lout, L - shift);
                    if (t1 <= t0) continue;
                    var dst = gc.Slice(t0 + shift, t1 - t0);
                    TensorPrimitives.Add(dst, row[t0..t1], dst);
                }
            }
        }
    }
}
