using Crucible.Diffusion.Networks;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Networks;

public class MlpDenoiserTests
{
    [Fact]
    public void PeerArchitecture_HasThePeersParameterCount_AndNames()
    {
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 20), new Philox(0));
        Assert.Equal(306_708, net.ParameterCount());   // torch_ddpm.py --kind mlp prints params 306708
        var names = net.NamedParameters().Select(p => p.Name).ToArray();
        Assert.Equal(
            ["t.0.weight", "t.0.bias", "t.2.weight", "t.2.bias", "inp.weight", "inp.bias",
             "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "blocks.2.weight", "blocks.2.bias",
             "out.weight", "out.bias"],
            names);
    }

    [Fact]
    public void Forward_HasTheInputShape_AndBackpropagatesToEveryParameter()
    {
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 5, Hidden: 16, Blocks: 2, TimeEmbedding: 8), new Philox(1));
        var x = Tensor.Ones([4, 5]);
        var y = net.Forward(x, [0.1f, 0.2f, 0.5f, 0.9f]);
        Assert.Equal([4, 5], y.Shape);
        y.Square().Mean().Backward();
        Assert.All(net.Parameters(), p => Assert.True(p.Grad is not null && p.Grad.Any(g => g != 0f)));
    }

    private static int[] Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Fact]
    public void FusedForward_IsBitIdenticalToTheLayerComposition()
    {
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 20), new Philox(2));
        var p = net.NamedParameters().ToDictionary(q => q.Name, q => q.Parameter);
        var x = Tensor.FromArray(Enumerable.Range(0, 300 * 20).Select(i => MathF.Sin(i * 0.37f)).ToArray(), [300, 20]);
        var t = Enumerable.Range(0, 300).Select(i => (i * 7 % 1000) / 1000f).ToArray();

        // the peer's forward written with the unfused ops: inp(x) + t(emb), then h + SiLU(W h + b), then out(h)
        var emb = Crucible.Tensors.Nn.SinusoidalTimestepEmbedding.Embed(t, 128, scale: 1000f);
        var te = Tensor.Linear(Tensor.Linear(emb, p["t.0.weight"], p["t.0.bias"]).Silu(), p["t.2.weight"], p["t.2.bias"]);
        var h = Tensor.Linear(x, p["inp.weight"], p["inp.bias"]) + te;
        for (int k = 0; k < 3; k++) h = h + Tensor.Linear(h, p[$"blocks.{k}.weight"], p[$"blocks.{k}.bias"]).Silu();
        var expected = Tensor.Linear(h, p["out.weight"], p["out.bias"]);

        Assert.Equal(Bits(expected.Data), Bits(net.Forward(x, t).Data));
    }

    [Fact]
    public void SharedTime_AndAdapter_AreBitIdenticalToPerRowTimes()
    {
        var net = new MlpDenoiser(new MlpDenoiserConfig(Features: 20), new Philox(2));
        var x = Tensor.FromArray(Enumerable.Range(0, 300 * 20).Select(i => MathF.Cos(i * 0.11f)).ToArray(), [300, 20]);
        var perRow = net.Forward(x, Enumerable.Repeat(0.417f, 300).ToArray());
        Assert.Equal(Bits(perRow.Data), Bits(net.Forward(x, 0.417f).Data));

        var adapter = new MlpDenoiserAdapter(net, trainSteps: 1000);
        var output = new float[x.Length];
        adapter.Predict(x.Data, 300, Enumerable.Repeat(417, 300).ToArray(), output);
        Assert.Equal(Bits(net.Forward(x, 417 / 1000f).Data), Bits(output));
        var mixed = Enumerable.Range(0, 300).Select(i => i).ToArray();
        adapter.Predict(x.Data, 300, mixed, output);
        Assert.Equal(Bits(net.Forward(x, mixed.Select(i => (float)i / 1000).ToArray()).Data), Bits(output));
    }
}
