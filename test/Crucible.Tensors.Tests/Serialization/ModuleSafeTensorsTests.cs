using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Tensors.Tests.Serialization;

public class ModuleSafeTensorsTests
{
    private sealed class Net : Module
    {
        public Net(Philox rng)
        {
            RegisterModule("gru", new GRU(3, 4, rng));
            RegisterModule("attn", new MultiheadAttention(4, 2, rng));
            RegisterModule("conv", new Conv1d(4, 2, 3, rng, dilation: 2, padding: Conv1dPadding.Causal));
            RegisterModule("norm", new LayerNorm(2));
        }
    }

    [Fact]
    public void StateDict_RoundTripsThroughSafeTensors_BitForBit()
    {
        var source = new Net(new Philox(11));
        source.Parameters().First().Data[0] = float.NaN;        // payloads such as NaN and −0 must survive
        source.Parameters().Skip(1).First().Data[0] = -0f;
        var path = Path.Combine(Path.GetTempPath(), $"crucible-{Guid.NewGuid():N}.safetensors");
        try
        {
            source.SaveSafeTensors(path, new Dictionary<string, string> { ["format"] = "pt" });
            var target = new Net(new Philox(99));               // different initial weights
            var result = target.LoadSafeTensors(SafeTensors.Load(path));
            Assert.Empty(result.MissingKeys);
            Assert.Empty(result.UnexpectedKeys);
            var a = source.StateDict();
            var b = target.StateDict();
            Assert.Equal(a.Keys, b.Keys);
            foreach (var key in a.Keys)
            {
                Assert.Equal(a[key].Shape, b[key].Shape);
                var bitsA = a[key].Data.Select(BitConverter.SingleToInt32Bits);
                var bitsB = b[key].Data.Select(BitConverter.SingleToInt32Bits);
                Assert.Equal(bitsA, bitsB);
            }

            Assert.Equal(source.SerializeSafeTensors(new Dictionary<string, string> { ["format"] = "pt" }), File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
