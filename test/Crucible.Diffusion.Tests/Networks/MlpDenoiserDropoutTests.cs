using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Networks;

/// <summary>
/// Dropout in the MLP denoiser's residual blocks (h ← h + Dropout_p(SiLU(W h + b))): the forward against the unfused
/// composition with the masks replayed from the generator, the gradient against central differences of a naive
/// double-precision forward with the same fixed masks, evaluation mode, and ghost clipping against naive per-example
/// gradients.
/// </summary>
public sealed class MlpDenoiserDropoutTests
{
    private const int D = 3, H = 8, Blocks = 2, E = 4, B = 5;

    private static MlpDenoiser Net(float p, ulong seed = 11) =>
        new(new MlpDenoiserConfig(D, Hidden: H, Blocks: Blocks, TimeEmbedding: E, Dropout: p), new Philox(seed));

    private static (float[] X, float[] T) Inputs(int n = B, ulong seed = 12)
    {
        var rng = new Philox(seed);
        var x = new float[n * D];
        rng.FillNormal(x);
        var t = new float[n];
        for (int i = 0; i < n; i++) t[i] = (float)rng.NextDouble();
        return (x, t);
    }

    /// <summary>Each block's (n, H) mask as <see cref="Tensor.Dropout"/> draws it: u &lt; 1 − p → 1/(1 − p), row-major.</summary>
    private static float[][] ReplayMasks(PhiloxState state, float p, int n)
    {
        var rng = Philox.FromState(state);
        float keep = 1f - p, scale = 1f / keep;
        var masks = new float[Blocks][];
        for (int k = 0; k < Blocks; k++)
        {
            masks[k] = new float[n * H];
            for (int i = 0; i < masks[k].Length; i++) masks[k][i] = rng.NextFloat() < keep ? scale : 0f;
        }

        return masks;
    }

    private static int[] Bits(float[] x) => [.. x.Select(BitConverter.SingleToInt32Bits)];

    // the unfused float forward with explicit masks: inp(x) + t(emb), then h + m_k ⊙ SiLU(W_k h + b_k), then out(h)
    private static Tensor Composition(MlpDenoiser net, float[] x, float[] t, float[][] masks, int n)
    {
        var p = net.NamedParameters().ToDictionary(q => q.Name, q => q.Parameter);
        var emb = SinusoidalTimestepEmbedding.Embed(t, E, scale: 1000f);
        var te = Tensor.Linear(Tensor.Linear(emb, p["t.0.weight"], p["t.0.bias"]).Silu(), p["t.2.weight"], p["t.2.bias"]);
        var h = Tensor.Linear(new Tensor(x, [n, D]), p["inp.weight"], p["inp.bias"]) + te;
        for (int k = 0; k < Blocks; k++)
            h = h + (Tensor.Linear(h, p[$"blocks.{k}.weight"], p[$"blocks.{k}.bias"]).Silu() * new Tensor(masks[k], [n, H]));
        return Tensor.Linear(h, p["out.weight"], p["out.bias"]);
    }

    [Fact]
    public void TrainingForward_IsTheCompositionWithTheReplayedMasks_AndDropsAboutP()
    {
        const float p = 0.3f;
        var net = Net(p);
        var (x, t) = Inputs();
        var rng = new Philox(99);
        var masks = ReplayMasks(rng.GetState(), p, B);
        var y = net.Forward(new Tensor(x, [B, D]), t, rng);
        Assert.Equal(Bits(Composition(net, x, t, masks, B).Data), Bits(y.Data));
        // the generator advanced by one float per mask element
        var after = Philox.FromState(new Philox(99).GetState());
        for (int i = 0; i < Blocks * B * H; i++) after.NextFloat();
        Assert.Equal(after.GetState(), rng.GetState());
        // the masks really drop (80 elements at p = 0.3: 24 expected zeros) and differ from no dropout
        int zeros = masks.Sum(m => m.Count(v => v == 0f));
        Assert.InRange(zeros, 10, 40);
        Assert.NotEqual(Bits(net.Forward(new Tensor(x, [B, D]), t).Data), Bits(y.Data));
    }

    [Fact]
    public void EvalMode_OrNoDropout_IsThePlainForward_AndDrawsNothing()
    {
        var (x, t) = Inputs();
        var plain = Net(0f);
        var expected = Bits(plain.Forward(new Tensor(x, [B, D]), t).Data);

        // p = 0 in training mode: the plain forward, no draw
        var rng = new Philox(5);
        var start = rng.GetState();
        Assert.Equal(expected, Bits(plain.Forward(new Tensor(x, [B, D]), t, rng).Data));
        Assert.Equal(start, rng.GetState());

        // p > 0 in evaluation mode: the same network's plain forward, no draw; back in training mode it drops again
        var dropping = Net(0.5f);
        dropping.Eval();
        Assert.Equal(expected, Bits(dropping.Forward(new Tensor(x, [B, D]), t, rng).Data));
        Assert.Equal(
            Bits(dropping.Forward(new Tensor(x, [B, D]), t, new LinearTape()).Data),
            Bits(dropping.Forward(new Tensor(x, [B, D]), t, new LinearTape(), rng).Data));
        Assert.Equal(start, rng.GetState());
        dropping.Train();
        Assert.NotEqual(expected, Bits(dropping.Forward(new Tensor(x, [B, D]), t, rng).Data));

        // the overloads without a generator never drop, in either mode (the samplers' path)
        Assert.Equal(expected, Bits(dropping.Forward(new Tensor(x, [B, D]), t).Data));
        var adapter = new MlpDenoiserAdapter(dropping, trainSteps: 1000);
        var output = new float[B * D];
        int[] steps = [.. t.Select(v => (int)(v * 1000))];
        adapter.Predict(x, B, steps, output);
        Assert.Equal(Bits(dropping.Forward(new Tensor(x, [B, D]), [.. steps.Select(s => s / 1000f)]).Data), Bits(output));
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void Config_RejectsAProbabilityOutsideZeroToOne(float p) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Net(p));

    // the network in double precision with fixed masks, the parameters taken from `values` (the same order as Parameters())
    private static double[] NaiveForward(MlpDenoiser net, double[][] values, float[] x, float[] t, float[][] masks, int n)
    {
        var names = net.NamedParameters().Select(q => q.Name).ToList();
        var shapes = net.NamedParameters().Select(q => q.Parameter.Shape).ToList();
        double[] P(string name) => values[names.IndexOf(name)];
        int Out(string name) => shapes[names.IndexOf(name)][0];
        double[] Linear(double[] input, int rows, string layer)
        {
            var w = P(layer + ".weight");
            var b = P(layer + ".bias");
            int outF = Out(layer + ".weight"), inF = w.Length / outF;
            var y = new double[rows * outF];
            for (int r = 0; r < rows; r++)
            {
                for (int o = 0; o < outF; o++)
                {
                    double s = b[o];
                    for (int i = 0; i < inF; i++) s += w[(o * inF) + i] * input[(r * inF) + i];
                    y[(r * outF) + o] = s;
                }
            }

            return y;
        }

        static double Silu(double z) => z / (1 + Math.Exp(-z));

        var emb = SinusoidalTimestepEmbedding.Embed(t, E, scale: 1000f).Data.Select(v => (double)v).ToArray();
        var te = Linear(Linear(emb, n, "t.0").Select(Silu).ToArray(), n, "t.2");
        var h = Linear(x.Select(v => (double)v).ToArray(), n, "inp");
        for (int i = 0; i < h.Length; i++) h[i] += te[i];
        for (int k = 0; k < Blocks; k++)
        {
            var z = Linear(h, n, $"blocks.{k}");
            for (int i = 0; i < h.Length; i++) h[i] += masks[k][i] * Silu(z[i]);
        }

        return Linear(h, n, "out");
    }

    [Fact]
    public void Gradient_WithAFixedMask_MatchesCentralDifferencesOfTheNaiveForward()
    {
        const float p = 0.4f;
        var net = Net(p);
        var (x, t) = Inputs();
        var rng = new Philox(7);
        var masks = ReplayMasks(rng.GetState(), p, B);
        var weights = new float[B * D];
        new Philox(8).FillNormal(weights);

        // analytic: L = Σ f(x)·w through the network's dropout forward
        var parameters = net.Parameters().ToList();
        foreach (var q in parameters) q.ZeroGrad();
        (net.Forward(new Tensor(x, [B, D]), t, rng) * new Tensor(weights, [B, D])).Sum().Backward();

        // numeric: central differences of the double forward with the same masks
        var values = parameters.Select(q => q.Data.Select(v => (double)v).ToArray()).ToArray();
        double Loss() => NaiveForward(net, values, x, t, masks, B).Select((v, i) => v * weights[i]).Sum();
        const double eps = 1e-6;
        for (int n = 0; n < parameters.Count; n++)
        {
            for (int i = 0; i < values[n].Length; i++)
            {
                double old = values[n][i];
                values[n][i] = old + eps;
                double plus = Loss();
                values[n][i] = old - eps;
                double minus = Loss();
                values[n][i] = old;
                double numeric = (plus - minus) / (2 * eps), analytic = parameters[n].Grad![i];
                Assert.True(Math.Abs(numeric - analytic) <= 1e-4 + (1e-3 * Math.Abs(numeric)),
                    $"{net.NamedParameters().ElementAt(n).Name}[{i}]: numeric {numeric:G9}, analytic {analytic:G9}");
            }
        }
    }

    [Fact]
    public void GhostClipping_WithDropout_EqualsClippedNaivePerExampleGradients()
    {
        const float p = 0.3f;
        const int n = 10;
        var net = Net(p, seed: 21);
        var parameters = net.Parameters().ToList();
        var (x, t) = Inputs(n, seed: 22);
        var y = new float[n * D];
        new Philox(23).FillNormal(y);
        var rng = new Philox(24);
        var masks = ReplayMasks(rng.GetState(), p, n);

        // reference: each example alone through the unfused composition with its own rows of the masks
        var perExample = new MicrobatchGradients(b =>
        {
            var own = masks.Select(m => m.AsSpan(b * H, H).ToArray()).ToArray();
            var output = Composition(net, x.AsSpan(b * D, D).ToArray(), t.AsSpan(b, 1).ToArray(), own, 1);
            return (output - new Tensor(y.AsSpan(b * D, D).ToArray(), [1, D])).Square().Sum() * (1f / D);
        }).Compute(parameters, n);
        int count = perExample.Length / n;
        var norms = Enumerable.Range(0, n).Select(b => Math.Sqrt(perExample.AsSpan(b * count, count).ToArray().Sum(v => (double)v * v))).ToArray();
        var c = norms.Order().ElementAt(n / 2); // about half the examples are clipped
        var expected = PrivacyEngine.ClipAndSum(perExample, n, count, c);

        // the trainer's path: one batched forward through the tape, the masks drawn from the generator
        var ghost = new GhostClipping(tape => (net.Forward(new Tensor(x, [n, D]), t, tape, rng) - new Tensor(y, [n, D])).Square().Sum() * (1f / D));
        var actual = ghost.ClippedSum(parameters, n, c);
        for (int b = 0; b < n; b++) Assert.Equal(norms[b], ghost.LastNorms[b], 1e-5 * (1 + norms[b]));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 + (1e-4 * Math.Abs(expected[i])), $"[{i}] {expected[i]} vs {actual[i]}");

        // and the dropout mattered: without masks the norms differ
        var plain = new GhostClipping(tape => (net.Forward(new Tensor(x, [n, D]), t, tape) - new Tensor(y, [n, D])).Square().Sum() * (1f / D));
        plain.ClippedSum(parameters, n, c);
        Assert.Contains(Enumerable.Range(0, n), b => Math.Abs(plain.LastNorms[b] - norms[b]) > 1e-3 * (1 + norms[b]));
    }
}
