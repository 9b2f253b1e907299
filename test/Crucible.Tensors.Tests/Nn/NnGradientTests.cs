using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Nn;

/// <summary>Central-difference checks of every module through its input and its parameters (float32: eps 1e-2, rtol 1e-2).</summary>
public class NnGradientTests
{
    private static void CheckModule(string label, Module module, Func<Tensor, Tensor> forward, int[] inputShape, int seed = 1)
    {
        var rng = new System.Random(seed);
        var x = GradCheck.Random(inputShape, rng);
        Tensor[] inputs = [x, .. module.Parameters()];
        Assert.True(inputs.Length > 1 || module.ParameterCount() == 0);
        GradCheck.Check(label, xs => forward(xs[0]), inputs, rng);
    }

    [Fact]
    public void Linear_Gradients()
    {
        var lin = new Linear(4, 3, new Philox(1));
        CheckModule("linear", lin, lin.Forward, [2, 5, 4]);
    }

    [Theory]
    [InlineData(Conv1dPadding.Valid, 1)]
    [InlineData(Conv1dPadding.Same, 2)]
    [InlineData(Conv1dPadding.Causal, 3)]
    public void Conv1d_Gradients(Conv1dPadding padding, int dilation)
    {
        var conv = new Conv1d(2, 3, 3, new Philox(2), dilation: dilation, padding: padding);
        CheckModule($"conv1d {padding} d={dilation}", conv, conv.Forward, [2, 2, 9]);
    }

    [Fact]
    public void Conv1d_ExplicitPadding_ShapeAndGradients()
    {
        var conv = new Conv1d(2, 3, 3, new Philox(2), dilation: 1, padding: 2);
        Assert.Equal([1, 3, 9], conv.Forward(Tensor.Zeros([1, 2, 7])).Shape);
        CheckModule("conv1d pad 2", conv, conv.Forward, [1, 2, 7]);
    }

    [Fact]
    public void LayerNorm_Gradients()
    {
        var ln = new LayerNorm(6);
        RandomizeAffine(ln);
        CheckModule("layer norm", ln, ln.Forward, [3, 6]);
    }

    [Fact]
    public void GroupNorm_Gradients()
    {
        var gn = new GroupNorm(2, 4);
        RandomizeAffine(gn);
        CheckModule("group norm", gn, gn.Forward, [2, 4, 5]);
    }

    // move γ, β off (1, 0) so that their gradients are not a special case
    private static void RandomizeAffine(Module m)
    {
        var rng = new Philox(77);
        foreach (var p in m.Parameters()) Init.Uniform(p, rng, 0.5f, 1.5f);
    }

    [Fact]
    public void Sequential_Gradients()
    {
        var rng = new Philox(3);
        var seq = new Sequential(new Linear(3, 5, rng), new SiLU(), new Linear(5, 4, rng), new GELU(), new Linear(4, 2, rng), new Tanh(), new Linear(2, 2, rng), new Sigmoid());
        CheckModule("sequential", seq, seq.Forward, [4, 3]);
    }

    [Fact]
    public void GRUCell_Gradients()
    {
        var cell = new GRUCell(3, 4, new Philox(4));
        var h = GradCheck.Random([2, 4], new System.Random(9));
        var rng = new System.Random(5);
        Tensor[] inputs = [GradCheck.Random([2, 3], rng), h, .. cell.Parameters()];
        GradCheck.Check("gru cell", xs => cell.Forward(xs[0], xs[1]), inputs, rng);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public void GRU_Gradients_ThroughOutputAndFinalState(int layers, bool batchFirst)
    {
        var gru = new GRU(3, 4, new Philox(5), numLayers: layers, batchFirst: batchFirst);
        var rng = new System.Random(6);
        var h0 = GradCheck.Random([layers, batchFirst ? 2 : 3, 4], rng, scale: 0.5f); // input is (2, 3, 3): (B, T, in) or (T, B, in)
        Tensor[] inputs = [GradCheck.Random([2, 3, 3], rng), h0, .. gru.Parameters()];
        GradCheck.Check($"gru {layers} layers", xs =>
        {
            var (output, hn) = gru.Forward(xs[0], xs[1]);
            return Tensor.Concat([output.Reshape(-1), hn.Reshape(-1)], 0);
        }, inputs, rng);
    }

    [Theory]
    [InlineData(4, 4, false)]
    [InlineData(4, 4, true)]
    [InlineData(5, 3, true)]
    public void MultiheadAttention_Gradients(int kdim, int vdim, bool masks)
    {
        var mha = new MultiheadAttention(4, 2, new Philox(7), kdim: kdim, vdim: vdim);
        var prng = new Philox(8);
        foreach (var p in mha.Parameters()) Init.Uniform(p, prng, -0.6f, 0.6f); // nonzero biases
        var rng = new System.Random(8);
        bool[,]? kpm = masks ? new bool[2, 3] { { false, false, true }, { true, false, false } } : null;
        Tensor? mask = masks ? MultiheadAttention.MaskFromBool(new bool[2, 3] { { false, true, false }, { false, false, false } }) : null;
        Tensor[] inputs = [GradCheck.Random([2, 2, 4], rng), GradCheck.Random([2, 3, kdim], rng), GradCheck.Random([2, 3, vdim], rng), .. mha.Parameters()];
        GradCheck.Check($"mha k={kdim} v={vdim} masks={masks}", xs =>
        {
            var (output, weights) = mha.Forward(xs[0], xs[1], xs[2], kpm, mask);
            return Tensor.Concat([output.Reshape(-1), weights!.Reshape(-1)], 0);
        }, inputs, rng);
    }

    [Fact]
    public void Embedding_Gradient_AccumulatesRepeatedRows()
    {
        var emb = new Embedding(4, 3, new Philox(9));
        int[] idx = [2, 0, 2, 3];
        var rng = new System.Random(10);
        GradCheck.Check("embedding", _ => emb.Forward(idx, [2, 2]), [emb.Weight], rng);
        Assert.Equal([2, 2, 3], emb.Forward(idx, [2, 2]).Shape);
    }

    [Fact]
    public void Dropout_Gradient_WithFixedMask()
    {
        // a fresh generator with the same seed on every evaluation fixes the mask
        var rng = new System.Random(11);
        var x = GradCheck.Random([4, 25], rng);
        GradCheck.Check("dropout", xs => xs[0].Dropout(0.3f, new Philox(123), training: true), [x], rng);
        var y = x.Dropout(0.3f, new Philox(123), training: true);
        x.ZeroGrad();
        y.Sum().Backward();

        // dL/dx = m / (1 − p): 0 where dropped, 1/0.7 where kept, matching the forward mask
        for (int i = 0; i < x.Length; i++) Assert.Equal(y.Data[i] == 0f ? 0f : 1f / 0.7f, x.Grad![i], 5);
    }
}
