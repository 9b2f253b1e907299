using Crucible.Tensors.Kernels;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// 1-d convolution with stride 1 on channels-last sequences, fused with its bias, an activation and a residual:
    /// x (B, L, C_in), weight (C_out, C_in, K) in PyTorch's layout, bias (C_out) or null, residual (B, L_out, C_out)
    /// or null → (B, L_out, C_out), y[b, t, o] = act(bias[o] + Σ_c Σ_j W[o, c, j] · x[b, t + j·dilation − padLeft, c])
    /// + residual[b, t, o], zero outside [0, L) (PyTorch's <c>F.conv1d</c> on x transposed).
    /// </summary>
    /// <remarks>
    /// With time-major rows the whole batch is one GEMM: im2col gathers, for each output row (b, t), the K input rows
    /// it sees (contiguous runs of C_in values), so cols (B·L_out, K·C_in) · W′ᵀ (K·C_in, C_out) is the convolution,
    /// with W′[o, j·C_in + c] = W[o, c, j]. A 1×1 convolution without padding skips im2col and reads x directly.
    /// </remarks>
    public static Tensor Conv1dChannelsLast(
        Tensor x, Tensor weight, Tensor? bias, int dilation, int padLeft, int padRight,
        Activation activation = Activation.None, Tensor? residual = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (x.Rank != 3 || weight.Rank != 3) throw new ArgumentException($"Conv1dChannelsLast needs x (B, L, C) and weight (C_out, C_in, K); got {FormatShape(x.Shape)} and {FormatShape(weight.Shape)}");
        int b = x.Shape[0], l = x.Shape[1], cin = x.Shape[2];
        int cout = weight.Shape[0], k = weight.Shape[2];
        if (weight.Shape[1] != cin) throw new ArgumentException($"Conv1dChannelsLast: weight expects {weight.Shape[1]} input channels, x has {cin}");
        if (dilation < 1 || padLeft < 0 || padRight < 0) throw new ArgumentOutOfRangeException(nameof(dilation), "dilation ≥ 1 and padding ≥ 0");
        int lout = l + padLeft + padRight - (dilation * (k - 1));
        if (lout <= 0) throw new ArgumentException($"Conv1dChannelsLast: input length {l} too short for kernel {k} with dilation {dilation}");
        int rows = b * lout, ck = k * cin;
        int[] shape = [b, lout, cout];
        if (k == 1 && padLeft == 0 && padRight == 0)
        {
            // a pointwise convolution is a linear layer on the rows; W (C_out, C_in, 1) is already (C_out, C_in)
            return Affine(x, x.Data, rows, cin, weight, weight.Data, cout, bias, activation, residual, shape, backwardInput: null, backwardWeight: null);
        }

        var geometry = new TimeMajorGeometry(b, l, cin, k, dilation, padLeft, lout);
        var cols = TensorArena.Output(rows * ck);
        EngineThreads.For(b, Math.Max(1, ElementsPerThread / Math.Max(1, lout * ck)), (b0, b1) => geometry.Im2Col(x.Data, cols, b0, b1));

        // W′[o, j·C_in + c] = W[o, c, j]
        var wp = TensorArena.Output(cout * ck);
        for (int o = 0; o < cout; o++)
        {
            for (int c = 0; c < cin; c++)
            {
                for (int j = 0; j < k; j++) wp[(o * ck) + (j * cin) + c] = weight.Data[(((o * cin) + c) * k) + j];
            }
        }

        return Affine(x, cols, rows, ck, weight, wp, cout, bias, activation, residual, shape,
            backwardInput: dcols =>
            {
                var gx = x.GradOrCreate();
                EngineThreads.For(b, Math.Max(1, ElementsPerThread / Math.Max(1, lout * ck)), (b0, b1) => geometry.Col2ImAccumulate(dcols, gx, b0, b1));
            },
            backwardWeight: dwp =>
            {
                var gw = weight.GradOrCreate();
                for (int o = 0; o < cout; o++)
                {
                    for (int c = 0; c < cin; c++)
                    {
                        for (int j = 0; j < k; j++) gw[(((o * cin) + c) * k) + j] += dwp[(o * ck) + (j * cin) + c];
                    }
                }
            });
    }

    /// <summary>im2col and its adjoint for time-major rows: cols[(b·L_out + t), j·C + c] = x[b, t + j·dilation − padLeft, c].</summary>
    private readonly record struct TimeMajorGeometry(int Batch, int L, int C, int K, int Dilation, int PadLeft, int Lout)
    {
        public void Im2Col(float[] x, float[] cols, int b0, int b1)
        {
            int ck = K * C;
            for (int bi = b0; bi < b1; bi++)
            {
                for (int t = 0; t < Lout; t++)
                {
                    var row = cols.AsSpan(((bi * Lout) + t) * ck, ck);
                    for (int j = 0; j < K; j++)
                    {
                        int src = t + (j * Dilation) - PadLeft;
                        var dst = row.Slice(j * C, C);
                        if (src < 0 || src >= L) dst.Clear();
                        else x.AsSpan(((bi * L) + src) * C, C).CopyTo(dst);
                    }
                }
            }
        }

        public void Col2ImAccumulate(float[] cols, float[] gx, int b0, int b1)
        {
            int ck = K * C;
            for (int bi = b0; bi < b1; bi++)
            {
                for (int t = 0; t < Lout; t++)
                {
                    for (int j = 0; j < K; j++)
                    {
                        int src = t + (j * Dilation) - PadLeft;
                        if (src < 0 || src >= L) continue;
                        var dst = gx.AsSpan(((bi * L) + src) * C, C);
                        System.Numerics.Tensors.TensorPrimitives.Add(dst, cols.AsSpan((((bi * Lout) + t) * ck) + (j * C), C), dst);
                    }
                }
            }
        }
    }
}
