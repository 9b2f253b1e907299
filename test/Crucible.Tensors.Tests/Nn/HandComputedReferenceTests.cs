using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Nn;

/// <summary>
/// GRU and attention against the equations written out as plain double loops (llm.c's naive oracle), with
/// weights set explicitly through the state dict to fixed values.
/// </summary>
public class HandComputedReferenceTests
{
    // a fixed, irregular pattern in [−0.5, 0.5] so that no two weights coincide by accident
    private static float[] Pattern(int n, int salt) =>
        Enumerable.Range(0, n).Select(i => (float)(0.5 * Math.Sin((1.7 * i) + (0.3 * salt) + 0.1))).ToArray();

    private static void SetAll(Module m)
    {
        var dict = new StateDict();
        int salt = 0;
        foreach (var (name, p) in m.NamedParameters()) dict.Add(name, new Tensor(Pattern(p.Length, salt++), p.Shape));
        m.LoadStateDict(dict);
    }

    private static double Sigmoid(double v) => 1.0 / (1.0 + Math.Exp(-v));

    [Fact]
    public void GRU_MatchesGateEquations()
    {
        const int In = 2, H = 3, T = 2;
        var gru = new GRU(In, H, new Philox(1));
        SetAll(gru);
        var x = new Tensor([0.3f, -1.2f, 0.8f, 0.5f], [1, T, In]);
        var (output, hn) = gru.Forward(x);

        var sd = gru.StateDict();
        float[] wih = sd["weight_ih_l0"].Data, whh = sd["weight_hh_l0"].Data, bih = sd["bias_ih_l0"].Data, bhh = sd["bias_hh_l0"].Data;
        var h = new double[H];
        var expected = new List<double>();
        for (int t = 0; t < T; t++)
        {
            // gi[g] = W_i[g] x + b_i[g], gh[g] = W_h[g] h + b_h[g] for the 3H rows (gates r, z, n)
            var gi = new double[3 * H];
            var gh = new double[3 * H];
            for (int row = 0; row < 3 * H; row++)
            {
                gi[row] = bih[row];
                for (int j = 0; j < In; j++) gi[row] += wih[(row * In) + j] * x.Data[(t * In) + j];
                gh[row] = bhh[row];
                for (int j = 0; j < H; j++) gh[row] += whh[(row * H) + j] * h[j];
            }

            var next = new double[H];
            for (int j = 0; j < H; j++)
            {
                double r = Sigmoid(gi[j] + gh[j]);
                double z = Sigmoid(gi[H + j] + gh[H + j]);
                double n = Math.Tanh(gi[(2 * H) + j] + (r * gh[(2 * H) + j]));
                next[j] = ((1 - z) * n) + (z * h[j]);
            }

            h = next;
            expected.AddRange(h);
        }

        Assert.Equal([1, T, H], output.Shape);
        Assert.Equal([1, 1, H], hn.Shape);
        GradCheck.Close("gru output", expected.ToArray(), output.Data, 1e-5, 1e-6);
        GradCheck.Close("gru h_n", h, hn.Data, 1e-5, 1e-6);
    }

    /// <summary>Multi-head attention in double loops, batch-first, with optional masks.</summary>
    private static (double[] Output, double[] Weights) NaiveAttention(MultiheadAttention mha, Tensor query, Tensor key, Tensor value, bool[,]? keyPadding, float[,]? additive)
    {
        int e = mha.EmbedDim, nh = mha.NumHeads, dh = e / nh, kd = mha.KDim, vd = mha.VDim;
        int b = query.Shape[0], tq = query.Shape[1], tk = key.Shape[1];
        var sd = mha.StateDict();
        float[] wq, wk, wv;
        if (sd.TryGetValue("in_proj_weight", out var w))
        {
            wq = w.Data[..(e * e)];
            wk = w.Data[(e * e)..(2 * e * e)];
            wv = w.Data[(2 * e * e)..];
        }
        else
        {
            (wq, wk, wv) = (sd["q_proj_weight"].Data, sd["k_proj_weight"].Data, sd["v_proj_weight"].Data);
        }

        float[] bias = sd["in_proj_bias"].Data, wo = sd["out_proj.weight"].Data, bo = sd["out_proj.bias"].Data;

        static double[] Project(float[] x, int rows, int inDim, float[] weight, float[] bias, int biasOffset, int outDim)
        {
            var y = new double[rows * outDim];
            for (int r = 0; r < rows; r++)
            {
                for (int o = 0; o < outDim; o++)
                {
                    double s = bias[biasOffset + o];
                    for (int i = 0; i < inDim; i++) s += weight[(o * inDim) + i] * (double)x[(r * inDim) + i];
                    y[(r * outDim) + o] = s;
                }
            }

            return y;
        }

        var q = Project(query.Data, b * tq, e, wq, bias, 0, e);
        var k = Project(key.Data, b * tk, kd, wk, bias, e, e);
        var v = Project(value.Data, b * tk, vd, wv, bias, 2 * e, e);
        var heads = new double[b * tq * e];
        var weights = new double[b * tq * tk];
        for (int bi = 0; bi < b; bi++)
        {
            for (int hi = 0; hi < nh; hi++)
            {
                for (int i = 0; i < tq; i++)
                {
                    var s = new double[tk];
                    for (int j = 0; j < tk; j++)
                    {
                        double dot = 0;
                        for (int d = 0; d < dh; d++) dot += q[(((bi * tq) + i) * e) + (hi * dh) + d] * k[(((bi * tk) + j) * e) + (hi * dh) + d];
                        s[j] = (dot / Math.Sqrt(dh)) + (additive?[i, j] ?? 0) + (keyPadding is not null && keyPadding[bi, j] ? double.NegativeInfinity : 0);
                    }

                    double max = s.Max(), sum = 0;
                    for (int j = 0; j < tk; j++) sum += s[j] = Math.Exp(s[j] - max);
                    for (int j = 0; j < tk; j++)
                    {
                        double a = s[j] / sum;
                        weights[(((bi * tq) + i) * tk) + j] += a / nh;
                        for (int d = 0; d < dh; d++) heads[(((bi * tq) + i) * e) + (hi * dh) + d] += a * v[(((bi * tk) + j) * e) + (hi * dh) + d];
                    }
                }
            }
        }

        var output = new double[b * tq * e];
        for (int r = 0; r < b * tq; r++)
        {
            for (int o = 0; o < e; o++)
            {
                double acc = bo[o];
                for (int i = 0; i < e; i++) acc += wo[(o * e) + i] * heads[(r * e) + i];
                output[(r * e) + o] = acc;
            }
        }

        return (output, weights);
    }

    public static TheoryData<string, int, int, bool, bool> AttentionCases() => new()
    {
        // label, kdim, vdim, key padding mask, additive mask
        { "self", 4, 4, false, false },
        { "self_masks", 4, 4, true, true },
        { "cross", 6, 3, false, false },
        { "cross_masks", 6, 3, true, true },
    };

    [Theory]
    [MemberData(nameof(AttentionCases))]
    public void MultiheadAttention_MatchesNaiveLoops(string label, int kdim, int vdim, bool padding, bool additive)
    {
        const int E = 4, B = 2, Tq = 2, Tk = 3;
        var mha = new MultiheadAttention(E, 2, new Philox(2), kdim: kdim, vdim: vdim);
        SetAll(mha);
        var rng = new System.Random(7);
        var q = GradCheck.Random([B, Tq, E], rng, requiresGrad: false);
        var k = GradCheck.Random([B, Tk, kdim], rng, requiresGrad: false);
        var v = GradCheck.Random([B, Tk, vdim], rng, requiresGrad: false);
        bool[,]? kpm = padding ? new bool[B, Tk] { { false, true, false }, { false, false, true } } : null;
        float[,]? mask = additive ? new float[Tq, Tk] { { 0.5f, -0.25f, 0f }, { -1f, 0.75f, float.NegativeInfinity } } : null;
        Tensor? maskTensor = mask is null ? null : new Tensor(mask.Cast<float>().ToArray(), [Tq, Tk]);

        var (output, weights) = mha.Forward(q, k, v, kpm, maskTensor);
        var (expectedOut, expectedWeights) = NaiveAttention(mha, q, k, v, kpm, mask);
        Assert.Equal([B, Tq, E], output.Shape);
        Assert.Equal([B, Tq, Tk], weights!.Shape);
        GradCheck.Close(label + " output", expectedOut, output.Data, 1e-5, 1e-6);
        GradCheck.Close(label + " weights", expectedWeights, weights.Data, 1e-5, 1e-6);
        if (padding)
        {
            Assert.Equal(0f, weights[0, 0, 1]); // a padded key gets no weight
            Assert.Equal(0f, weights[1, 1, 2]);
        }
    }

    [Fact]
    public void MultiheadAttention_CausalMask_HidesTheFuture()
    {
        var mha = new MultiheadAttention(4, 2, new Philox(3));
        var x = GradCheck.Random([1, 3, 4], new System.Random(3), requiresGrad: false);
        var (_, w) = mha.Forward(x, x, x, attnMask: MultiheadAttention.CausalMask(3));
        Assert.Equal(1f, w![0, 0, 0], 6);
        Assert.Equal(0f, w[0, 0, 1]);
        Assert.Equal(0f, w[0, 1, 2]);
        Assert.Equal(1f, w[0, 1, 0] + w[0, 1, 1], 6);
    }
}
