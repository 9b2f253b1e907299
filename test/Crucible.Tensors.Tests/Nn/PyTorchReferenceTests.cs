using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Nn;

/// <summary>Forward outputs and state-dict keys against PyTorch 1.13 (fixtures from make_reference.py), to 1e-5.</summary>
public class PyTorchReferenceTests
{
    private static readonly Philox Rng = new(99);

    private static T Loaded<T>(T module, string caseName)
        where T : Module
    {
        var c = Reference.Case(caseName);
        Assert.Equal(Reference.Keys(c), Reference.Keys(module));
        module.LoadStateDict(Reference.State(c));
        module.Eval();
        return module;
    }

    [Theory]
    [InlineData("gru_1layer")]
    [InlineData("gru_2layer_h0")]
    public void GRU_MatchesPyTorch(string name)
    {
        var c = Reference.Case(name);
        var x = Reference.Tensor(c, "input");
        int layers = name.Contains("2layer", StringComparison.Ordinal) ? 2 : 1;
        var hn = Reference.Tensor(c, "h_n");
        var gru = Loaded(new GRU(x.Shape[2], hn.Shape[2], Rng, numLayers: layers), name);
        var h0 = c.TryGetProperty("h0", out var h0e) ? Reference.Tensor(h0e) : null;
        var (output, hN) = gru.Forward(x, h0);
        Reference.Close(name + " output", Reference.Tensor(c, "output"), output);
        Reference.Close(name + " h_n", hn, hN);
    }

    [Fact]
    public void GRU_TimeFirst_MatchesBatchFirst()
    {
        var c = Reference.Case("gru_2layer_h0");
        var x = Reference.Tensor(c, "input");
        var gru = Loaded(new GRU(3, 4, Rng, numLayers: 2, batchFirst: false), "gru_2layer_h0");
        var (output, hN) = gru.Forward(x.Transpose(0, 1), Reference.Tensor(c, "h0"));
        Reference.Close("time-first output", Reference.Tensor(c, "output"), output.Transpose(0, 1));
        Reference.Close("time-first h_n", Reference.Tensor(c, "h_n"), hN);
    }

    [Fact]
    public void GRUCell_MatchesPyTorch()
    {
        var c = Reference.Case("gru_cell");
        var cell = Loaded(new GRUCell(2, 3, Rng), "gru_cell");
        Reference.Close("gru cell", Reference.Tensor(c, "output"), cell.Forward(Reference.Tensor(c, "input"), Reference.Tensor(c, "h0")));
    }

    [Theory]
    [InlineData("mha_self")]
    [InlineData("mha_masks")]
    [InlineData("mha_bool_mask")]
    [InlineData("mha_cross")]
    public void MultiheadAttention_MatchesPyTorch(string name)
    {
        var c = Reference.Case(name);
        var (q, k, v) = (Reference.Tensor(c, "query"), Reference.Tensor(c, "key"), Reference.Tensor(c, "value"));
        var mha = Loaded(new MultiheadAttention(4, 2, Rng, kdim: k.Shape[2], vdim: v.Shape[2]), name);
        var kpm = c.TryGetProperty("key_padding_mask", out var kp) ? Reference.BoolMatrix(kp) : null;
        Tensor? mask = c.TryGetProperty("attn_mask", out var am) ? Reference.Tensor(am)
            : c.TryGetProperty("attn_mask_bool", out var ab) ? MultiheadAttention.MaskFromBool(Reference.BoolMatrix(ab)) : null;
        var (output, weights) = mha.Forward(q, k, v, kpm, mask);
        Reference.Close(name + " output", Reference.Tensor(c, "output"), output);
        Reference.Close(name + " weights", Reference.Tensor(c, "weights"), weights!);
        Assert.Null(mha.Forward(q, k, v, kpm, mask, needWeights: false).Weights);
    }

    public static TheoryData<string, Func<Module<Tensor, Tensor>>> SimpleLayers() => new()
    {
        { "linear", () => new Linear(3, 2, Rng) },
        { "conv1d_pad1_dil2", () => new Conv1d(2, 3, 3, Rng, dilation: 2, padding: 1) },
        { "layer_norm", () => new LayerNorm(5) },
        { "group_norm", () => new GroupNorm(2, 4) },
        { "sequential", () => new Sequential(new Linear(3, 4, Rng), new SiLU(), new Linear(4, 2, Rng), new GELU(), new Tanh()) },
    };

    [Theory]
    [MemberData(nameof(SimpleLayers))]
    public void Layer_MatchesPyTorch(string name, Func<Module<Tensor, Tensor>> create)
    {
        var c = Reference.Case(name);
        var layer = Loaded(create(), name);
        Reference.Close(name, Reference.Tensor(c, "output"), layer.Forward(Reference.Tensor(c, "input")));
    }

    [Theory]
    [InlineData("timestep_scale1")]
    [InlineData("timestep_scale1000")]
    public void SinusoidalTimestepEmbedding_MatchesPeerCode(string name)
    {
        var c = Reference.Case(name);
        var embedding = new SinusoidalTimestepEmbedding(c.GetProperty("dim").GetInt32(), c.GetProperty("scale").GetSingle());
        var y = embedding.Forward(Reference.Tensor(c, "input"));

        // sin and cos of a float32 argument a are only as exact as a: a 1-ulp difference in PyTorch's exp(f_i)
        // moves a by |a|·2⁻²³. Allow 4 ulp of the largest argument (max |t| · scale, as f_0 = 1).
        var t = Reference.Tensor(c, "input");
        double maxArg = t.Data.Max(v => Math.Abs((double)v)) * embedding.Scale;
        double atol = Math.Max(1e-6, 4 * maxArg * Math.Pow(2, -23));
        Reference.Close(name, Reference.Tensor(c, "output"), y, atol, 0);
        Assert.Equal([t.Length, embedding.Dim], y.Shape);
    }
}
