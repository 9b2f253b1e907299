using System.Buffers;
using Crucible.Tensors.Kernels;
using static Crucible.Tensors.Kernels.Kernels;

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
    /// With time-major rows the whole batch is one GEMM: output row (b, t) sees the K input rows t + j·dilation −
    /// padLeft (contiguous runs of C_in values), so the GEMM reads those rows in place through a row table (an
    /// implicit im2col) against W′[o, j·C_in + c] = W[o, c, j]; the input gradient is the same gathering over the
    /// output gradient's rows, and the weight gradient gathers im2col's rows as its B operand. No im2col matrix is
    /// ever written. A 1×1 convolution without padding is a plain linear layer on the rows.
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
        float[] xd = x.Data, wd = weight.Data;
        if (k == 1 && padLeft == 0 && padRight == 0)
        {
            // a pointwise convolution is a linear layer on the rows; W (C_out, C_in, 1) is already (C_out, C_in)
            return Affine(x, weight, rows, cout, bias, activation, residual, shape,
                (z, epilogue) => GemmWithEpilogue(false, true, rows, cout, cin, 1f, xd, cin, wd, cin, 0f, z, cout, epilogue),
                gz => Gemm(false, false, rows, cin, cout, 1f, gz, cout, wd, cin, 1f, x.GradOrCreate(), cin),
                gz => Gemm(true, false, cout, cin, rows, 1f, gz, cout, xd, cin, 1f, weight.GradOrCreate(), cin));
        }

        var geometry = new TimeMajorGeometry(b, l, cin, k, dilation, padLeft, lout);

        // y = Σ_j X_j · W_jᵀ, where row (b, t) of X_j is input row (b, t + j·dilation − padLeft) (zeros outside):
        // the GEMM gathers its rows from x itself (an implicit im2col). W′[o, j·C_in + c] = W[o, c, j].
        int[] table = geometry.ForwardTable();
        var wp = TensorArena.Output(cout * ck);
        for (int o = 0; o < cout; o++)
        {
            for (int c = 0; c < cin; c++)
            {
                for (int j = 0; j < k; j++) wp[(o * ck) + (j * cin) + c] = wd[(((o * cin) + c) * k) + j];
            }
        }

        return Affine(x, weight, rows, cout, bias, activation, residual, shape,
            (z, epilogue) =>
            {
                GemmGathered(rows, cout, k, cin, xd, table, true, wp, ck, 0f, z, cout, epilogue);
                ArrayPool<int>.Shared.Return(table);
            },
            gz =>
            {
                // dx[b, s] = Σ_j dz[b, s − j·dilation + padLeft] · W_j: the same gathering over dz's rows, with
                // W″[j·C_out + o, c] = W[o, c, j]
                var ws = TensorArena.Output(k * cout * cin);
                for (int o = 0; o < cout; o++)
                {
                    for (int c = 0; c < cin; c++)
                    {
                        for (int j = 0; j < k; j++) ws[(((j * cout) + o) * cin) + c] = wd[(((o * cin) + c) * k) + j];
                    }
                }

                int[] back = geometry.BackwardTable(cout);
                GemmGathered(b * l, cin, k, cout, gz, back, false, ws, cin, 1f, x.GradOrCreate(), cin, null);
                ArrayPool<int>.Shared.Return(back);
            },
            gz =>
            {
                // dW′ = dzᵀ · im2col(x): the GEMM gathers im2col's rows from x by the forward row table
                int[] rowsOfX = geometry.ForwardTable();
                var dwp = TensorArena.Output(cout * ck);
                GemmTransAGatheredB(cout, k, cin, rows, 1f, gz, cout, xd, rowsOfX, 0f, dwp, ck);
                ArrayPool<int>.Shared.Return(rowsOfX);
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

    /// <summary>
    /// The index maps of a time-major convolution, im2col's cols[(b·L_out + t), j·C + c] = x[b, t + j·dilation − padLeft, c]
    /// as row tables for the gathered GEMMs that stand for it (forward, weight gradient) and for its adjoint (input
    /// gradient).
    /// </summary>
    private readonly record struct TimeMajorGeometry(int Batch, int L, int C, int K, int Dilation, int PadLeft, int Lout)
    {
        /// <summary>
        /// Row offsets of the forward gather: entry j·(B·L_out) + (b·L_out + t) = offset of x[b, t + j·d − padLeft], or −1
        /// (rented from the shared pool: return it).
        /// </summary>
        public int[] ForwardTable()
        {
            int rows = Batch * Lout;
            var table = ArrayPool<int>.Shared.Rent(K * rows);
            for (int j = 0; j < K; j++)
            {
                for (int bi = 0; bi < Batch; bi++)
                {
                    for (int t = 0; t < Lout; t++)
                    {
                        int src = t + (j * Dilation) - PadLeft;
                        table[(j * rows) + (bi * Lout) + t] = src < 0 || src >= L ? -1 : ((bi * L) + src) * C;
                    }
                }
            }

            return table;
        }

        /// <summary>
        /// Row offsets of the input-gradient gather over dz (rows of width <paramref name="cout"/>): entry
        /// j·(B·L) + (b·L + s) = offset of dz[b, s − j·d + padLeft], or −1 outside [0, L_out) (rented: return it).
        /// </summary>
        public int[] BackwardTable(int cout)
        {
            int rows = Batch * L;
            var table = ArrayPool<int>.Shared.Rent(K * rows);
            for (int j = 0; j < K; j++)
            {
                for (int bi = 0; bi < Batch; bi++)
                {
                    for (int s = 0; s < L; s++)
                    {
                        int t = s - (j * Dilation) + PadLeft;
                        table[(j * rows) + (bi * L) + s] = t < 0 || t >= Lout ? -1 : ((bi * Lout) + t) * cout;
                    }
                }
            }

            return table;
        }
    }
}
