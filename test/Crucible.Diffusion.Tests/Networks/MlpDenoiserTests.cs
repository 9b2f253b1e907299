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
}
