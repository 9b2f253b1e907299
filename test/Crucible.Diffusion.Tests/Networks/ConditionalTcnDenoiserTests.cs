using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Networks;

/// <summary>The conditional TCN against a plain-loop reference in double, central differences, and its masking rules.</summary>
public class ConditionalTcnDenoiserTests
{
    private static readonly ConditionalTcnDenoiserConfig Tiny = new(Series: 3, Window: 6, ConditionFeatures: 3, Hidden: 8, Layers: 3, Heads: 2, AttentionEvery: 2, TimeEmbedding: 8);

    /// <summary>A network whose every parameter is random (so the zero-initialised attention outputs matter).</summary>
    private static ConditionalTcnDenoiser RandomNetwork(ConditionalTcnDenoiserConfig config, int seed)
    {
        var net = new ConditionalTcnDenoiser(config, new Philox((ulong)seed));
        var rng = new Random(seed);
        foreach (var (_, p) in net.NamedParameters())
        {
            for (int i = 0; i < p.Length; i++) p.Data[i] = (float)((rng.NextDouble() * 2) - 1) * 0.5f;
        }

        return net;
    }

    private static float[] RandomData(int n, Random rng)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 2) - 1);
        return x;
    }

    private static ConditionBatch Conditions(int batch, int k, Random rng, double presentProbability)
    {
        var v = RandomData(batch * k, rng);
        var p = new bool[batch * k];
        for (int i = 0; i < p.Length; i++) p[i] = rng.NextDouble() < presentProbability;
        p[0] = true;
        return new ConditionBatch(v, p, batch, k);
    }

    [Fact]
    public void Forward_MatchesPlainLoopReference()
    {
        var net = RandomNetwork(Tiny, 11);
        var rng = new Random(5);
        int b = 4, d = Tiny.Series, w = Tiny.Window;
        var x = RandomData(b * d * w, rng);
        float[] t = [0.0f, 0.13f, 0.5f, 0.999f];
        var c = Conditions(b, Tiny.ConditionFeatures, rng, 0.6);
        var y = net.Forward(new Tensor(x, [b, d, w]), t, c);
        var expected = NaiveForward(net, x, b, t, c);
        AssertClose(expected, y.Data, 1e-4, "conditional");

        var u = net.Forward(new Tensor(x, [b, d, w]), t, null);
        AssertClose(NaiveForward(net, x, b, t, null), u.Data, 1e-4, "unconditional");
    }

    [Fact]
    public void NoConditions_EqualsEveryFeatureMasked_AndAbsentValuesAreIgnored()
    {
        var net = RandomNetwork(Tiny, 3);
        var rng = new Random(8);
        int b = 3, k = Tiny.ConditionFeatures;
        var x = new Tensor(RandomData(b * Tiny.Series * Tiny.Window, rng), [b, Tiny.Series, Tiny.Window]);
        float[] t = [0.2f, 0.4f, 0.6f];
        var none = net.Forward(x, t, null).Data;
        var masked = net.Forward(x, t, new ConditionBatch(RandomData(b * k, rng), new bool[b * k], b, k)).Data;
        Assert.Equal(none, masked);

        var present = new bool[b * k];
        present[0] = present[4] = true;
        var v1 = RandomData(b * k, rng);
        var v2 = (float[])v1.Clone();
        for (int i = 0; i < v2.Length; i++) if (!present[i]) v2[i] += 10f;
        var a = net.Forward(x, t, new ConditionBatch(v1, present, b, k)).Data;
        var c = net.Forward(x, t, new ConditionBatch(v2, present, b, k)).Data;
        Assert.Equal(a, c);
        v2[0] += 1f;
        Assert.NotEqual(a, net.Forward(x, t, new ConditionBatch(v2, present, b, k)).Data);
    }

    [Fact]
    public void Untrained_AttentionStartsAtZero_SoConditionsDoNotChangeTheOutput()
    {
        var net = new ConditionalTcnDenoiser(Tiny, new Philox(1));
        var rng = new Random(2);
        var x = new Tensor(RandomData(2 * Tiny.Series * Tiny.Window, rng), [2, Tiny.Series, Tiny.Window]);
        var a = net.Forward(x, [0.3f, 0.7f], null).Data;
        var c = net.Forward(x, [0.3f, 0.7f], Conditions(2, Tiny.ConditionFeatures, rng, 1.0)).Data;
        Assert.Equal(a, c);
    }

    [Fact]
    public void Gradients_MatchCentralDifferences()
    {
        var config = Tiny with { Window = 4, Layers = 2, AttentionEvery = 1 };
        var net = RandomNetwork(config, 21);
        var rng = new Random(4);
        int b = 2;
        var xData = RandomData(b * config.Series * config.Window, rng);
        float[] t = [0.25f, 0.75f];
        var c = Conditions(b, config.ConditionFeatures, rng, 0.7);
        var proj = RandomData(xData.Length, rng);
        var x = new Tensor(xData, [b, config.Series, config.Window], requiresGrad: true);
        double Loss()
        {
            var y = net.Forward(new Tensor(xData, [b, config.Series, config.Window]), t, c);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += (double)y.Data[i] * proj[i];
            return s;
        }

        net.ZeroGrad();
        (net.Forward(x, t, c) * new Tensor(proj, x.Shape)).Sum().Backward();
        var checks = new List<(string, float[], float[])> { ("x", xData, x.Grad!) };
        foreach (var (name, p) in net.NamedParameters()) checks.Add((name, p.Data, p.Grad!));
        foreach (var (name, data, grad) in checks)
        {
            Assert.NotNull(grad);
            int stride = Math.Max(1, data.Length / 12);   // a dozen entries of each tensor keeps the test fast
            for (int i = 0; i < data.Length; i += stride)
            {
                float old = data[i];
                const double eps = 1e-2;
                double plus, minus;
                using (GradMode.NoGrad())
                {
                    data[i] = (float)(old + eps);
                    plus = Loss();
                    data[i] = (float)(old - eps);
                    minus = Loss();
                    data[i] = old;
                }

                double numeric = (plus - minus) / (2 * eps);
                Assert.True(Math.Abs(numeric - grad[i]) <= 2e-3 + (2e-2 * Math.Abs(numeric)), $"{name}[{i}]: numeric {numeric:G6}, analytic {grad[i]:G6}");
            }
        }
    }

    [Fact]
    public void Adapter_Predict_EqualsForward_WithAndWithoutConditions()
    {
        var net = RandomNetwork(Tiny, 9);
        var adapter = new ConditionalTcnDenoiserAdapter(net, trainSteps: 100);
        var rng = new Random(3);
        int b = 3;
        var x = RandomData(b * Tiny.Series * Tiny.Window, rng);
        var c = Conditions(b, Tiny.ConditionFeatures, rng, 0.5);
        var output = new float[x.Length];
        adapter.Predict(x, b, [10, 10, 10], c, output);
        Assert.Equal(net.Forward(new Tensor(x, [b, Tiny.Series, Tiny.Window]), [0.1f, 0.1f, 0.1f], c).Data, output);
        adapter.Predict(x, b, [5, 50, 99], output);
        Assert.Equal(net.Forward(new Tensor(x, [b, Tiny.Series, Tiny.Window]), [0.05f, 0.5f, 0.99f], null).Data, output);
    }

    private static void AssertClose(double[] expected, float[] actual, double tol, string label)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"{label}[{i}]: expected {expected[i]:G9}, got {actual[i]:G9}");
        }
    }

    // ---- the plain-loop reference, in double, straight from the class documentation ----

    private static double Silu(double v) => v / (1 + Math.Exp(-v));

    private static double[] Dense(Tensor w, Tensor? bias, double[] v)
    {
        int o = w.Shape[0], n = w.Shape[1];
        var r = new double[o];
        for (int i = 0; i < o; i++)
        {
            double s = bias is null ? 0 : bias.Data[i];
            for (int j = 0; j < n; j++) s += w.Data[(i * n) + j] * v[j];
            r[i] = s;
        }

        return r;
    }

    private static double[] NaiveForward(ConditionalTcnDenoiser net, float[] x, int b, float[] t, ConditionBatch? c)
    {
        var p = net.StateDict();
        var cfg = net.Config;
        int d = cfg.Series, w = cfg.Window, h = cfg.Hidden, k = cfg.ConditionFeatures, heads = cfg.Heads, dh = h / heads;
        var emb = SinusoidalTimestepEmbedding.Embed(t, cfg.TimeEmbedding, 1000f);
        var result = new double[b * d * w];
        for (int s = 0; s < b; s++)
        {
            var e = new double[cfg.TimeEmbedding];
            for (int i = 0; i < e.Length; i++) e[i] = emb.Data[(s * e.Length) + i];
            var time = Dense(p["t.2.weight"], p["t.2.bias"], Dense(p["t.0.weight"], p["t.0.bias"], e).Select(Silu).ToArray());

            // tokens: null first, then present features
            var tokens = new List<double[]> { Enumerable.Range(0, h).Select(i => (double)p["cond.null"].Data[i]).ToArray() };
            if (c is not null)
            {
                for (int j = 0; j < k; j++)
                {
                    if (!c.Present[(s * k) + j]) continue;
                    var raw = new double[h];
                    for (int i = 0; i < h; i++) raw[i] = p["cond.feature"].Data[(j * h) + i] + (c.Values[(s * k) + j] * p["cond.value"].Data[(j * h) + i]);
                    tokens.Add(Dense(p["cond.mlp.2.weight"], p["cond.mlp.2.bias"], Dense(p["cond.mlp.0.weight"], p["cond.mlp.0.bias"], raw).Select(Silu).ToArray()));
                }
            }

            var hs = new double[w][];
            for (int tt = 0; tt < w; tt++)
            {
                var col = new double[d];
                for (int i = 0; i < d; i++) col[i] = x[(((s * d) + i) * w) + tt];
                hs[tt] = Dense(p["inp.weight"].Reshape(h, d), p["inp.bias"], col);
                for (int i = 0; i < h; i++) hs[tt][i] += time[i];
            }

            int attn = 0;
            for (int layer = 0; layer < cfg.Layers; layer++)
            {
                int dil = 1 << layer;
                var cw = p[$"convs.{layer}.weight"];
                var cb = p[$"convs.{layer}.bias"];
                var next = new double[w][];
                for (int tt = 0; tt < w; tt++)
                {
                    next[tt] = new double[h];
                    for (int o = 0; o < h; o++)
                    {
                        double acc = cb.Data[o];
                        for (int ci = 0; ci < h; ci++)
                        {
                            for (int kk = 0; kk < 3; kk++)
                            {
                                int src = tt + ((kk - 1) * dil);
                                if (src >= 0 && src < w) acc += cw.Data[(((o * h) + ci) * 3) + kk] * hs[src][ci];
                            }
                        }

                        next[tt][o] = hs[tt][o] + Silu(acc);
                    }
                }

                hs = next;
                if ((layer + 1) % cfg.AttentionEvery != 0 && layer != cfg.Layers - 1) continue;
                string a = $"attn.{attn}.", n = $"norm.{attn}.";
                attn++;
                var inW = p[a + "in_proj_weight"];
                var inB = p[a + "in_proj_bias"];
                var keys = tokens.Select(tok => Dense(inW.Slice(0, h, h), inB.Slice(0, h, h), tok)).ToArray();
                var values = tokens.Select(tok => Dense(inW.Slice(0, 2 * h, h), inB.Slice(0, 2 * h, h), tok)).ToArray();
                for (int tt = 0; tt < w; tt++)
                {
                    double mean = hs[tt].Average(), variance = hs[tt].Select(v => (v - mean) * (v - mean)).Average();
                    var normed = new double[h];
                    for (int i = 0; i < h; i++) normed[i] = ((hs[tt][i] - mean) / Math.Sqrt(variance + 1e-5) * p[n + "weight"].Data[i]) + p[n + "bias"].Data[i];
                    var q = Dense(inW.Slice(0, 0, h), inB.Slice(0, 0, h), normed);
                    var concat = new double[h];
                    for (int head = 0; head < heads; head++)
                    {
                        var scores = keys.Select(key => Enumerable.Range(head * dh, dh).Sum(i => q[i] * key[i]) / Math.Sqrt(dh)).ToArray();
                        double max = scores.Max();
                        var ex = scores.Select(v => Math.Exp(v - max)).ToArray();
                        double z = ex.Sum();
                        for (int i = head * dh; i < (head + 1) * dh; i++)
                        {
                            for (int j = 0; j < ex.Length; j++) concat[i] += ex[j] / z * values[j][i];
                        }
                    }

                    var o = Dense(p[a + "out_proj.weight"], p[a + "out_proj.bias"], concat);
                    for (int i = 0; i < h; i++) hs[tt][i] += o[i];
                }
            }

            for (int tt = 0; tt < w; tt++)
            {
                var o = Dense(p["out.weight"].Reshape(d, h), p["out.bias"], hs[tt]);
                for (int i = 0; i < d; i++) result[(((s * d) + i) * w) + tt] = o[i];
            }
        }

        return result;
    }
}
