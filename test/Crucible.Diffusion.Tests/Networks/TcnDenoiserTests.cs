using Crucible.Diffusion.Networks;
using Crucible.Tensors;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Tests.Networks;

/// <summary>The TCN denoiser against the peer's PyTorch network (fixture from TestData/make_tcn_reference.py).</summary>
public class TcnDenoiserTests
{
    private static readonly Lazy<SafeTensorsFile> Fixture = new(() =>
        SafeTensors.Load(Path.Combine(AppContext.BaseDirectory, "Networks", "TestData", "tcn_reference.safetensors")));

    private static readonly string[] PeerNames =
    [
        "t.0.weight", "t.0.bias", "t.2.weight", "t.2.bias", "inp.weight", "inp.bias",
        "convs.0.weight", "convs.0.bias", "convs.1.weight", "convs.1.bias", "convs.2.weight", "convs.2.bias",
        "convs.3.weight", "convs.3.bias", "out.weight", "out.bias",
    ];

    /// <summary>The fixture's weights: element i over the state dict is ((i·7919 mod 2001) − 1000)/1000 · s in float32.</summary>
    internal static TcnDenoiser PeerNetworkWithFormulaWeights()
    {
        var net = new TcnDenoiser(new TcnDenoiserConfig(Series: 20), new Philox(0));
        long offset = 0;
        foreach (var (_, p) in net.NamedParameters())
        {
            float scale = p.Rank > 1 ? (float)(1.0 / Math.Sqrt(p.Length / p.Shape[0])) : 0.1f;
            for (int i = 0; i < p.Length; i++)
            {
                p.Data[i] = (float)((((offset + i) * 7919) % 2001) - 1000) / 1000f * scale;
            }

            offset += p.Length;
        }

        return net;
    }

    private static Tensor Load(string name) => new(Fixture.Value.GetFloat32(name), Fixture.Value.GetShape(name));

    [Fact]
    public void PeerArchitecture_HasThePeersParameterCount_NamesAndShapes()
    {
        var net = new TcnDenoiser(new TcnDenoiserConfig(Series: 20), new Philox(0));
        Assert.Equal(64_468, net.ParameterCount());   // torch_ddpm.py --kind tcn --hidden 64 --layers 4
        var named = net.NamedParameters().ToArray();
        Assert.Equal(PeerNames, named.Select(p => p.Name));
        foreach (var (name, p) in named) Assert.Equal(Fixture.Value.GetShape("grad." + name), p.Shape);
    }

    [Fact]
    public void Forward_AndGradients_MatchPyTorch()
    {
        var net = PeerNetworkWithFormulaWeights();
        var x = Load("x");
        var t = Fixture.Value.GetFloat32("t");
        var y = net.Forward(x, t);
        Assert.Equal([4, 20, 24], y.Shape);
        GradClose("output", Fixture.Value.GetFloat32("output"), y.Data, 2e-5, 1e-4);

        var loss = Losses.MseLoss(y, Load("target"));
        Assert.Equal(Fixture.Value.GetFloat32("loss")[0], loss.Item(), 5);
        loss.Backward();
        foreach (var (name, p) in net.NamedParameters())
        {
            GradClose("grad." + name, Fixture.Value.GetFloat32("grad." + name), p.Grad!, 2e-6, 1e-3);
        }
    }

    [Fact]
    public void Adapter_PredictsTheNetworkOutput_AtTOverT()
    {
        var net = PeerNetworkWithFormulaWeights();
        var adapter = new TcnDenoiserAdapter(net, trainSteps: 1000);
        Assert.Equal([20, 24], adapter.SampleShape);
        var x = Load("x");
        var output = new float[x.Length];
        adapter.Predict(x.Data, 4, [0, 123, 500, 999], output);
        GradClose("adapter", Fixture.Value.GetFloat32("output"), output, 2e-5, 1e-4);
    }

    [Fact]
    public void SmallConfiguration_KeepsTheWindow_AndBackpropagatesToEveryParameter()
    {
        var net = new TcnDenoiser(new TcnDenoiserConfig(Series: 3, Window: 10, Hidden: 8, Layers: 2, TimeEmbedding: 16), new Philox(4));
        Assert.Equal(["t.0.weight", "t.0.bias", "t.2.weight", "t.2.bias", "inp.weight", "inp.bias",
            "convs.0.weight", "convs.0.bias", "convs.1.weight", "convs.1.bias", "out.weight", "out.bias"],
            net.NamedParameters().Select(p => p.Name));
        var y = net.Forward(Tensor.Ones([2, 3, 10]), [0.25f, 0.75f]);
        Assert.Equal([2, 3, 10], y.Shape);
        y.Square().Mean().Backward();
        Assert.All(net.Parameters(), p => Assert.True(p.Grad is not null && p.Grad.Any(g => g != 0f)));
    }

    [Fact]
    public void SharedTime_AndAdapter_AreBitIdenticalToPerSampleTimes()
    {
        var net = PeerNetworkWithFormulaWeights();
        var x = Tensor.FromArray(Enumerable.Range(0, 33 * 480).Select(i => MathF.Cos(i * 0.11f)).ToArray(), [33, 20, 24]);
        var perSample = net.Forward(x, Enumerable.Repeat(0.25f, 33).ToArray());
        Assert.Equal(Bits(perSample.Data), Bits(net.Forward(x, 0.25f).Data));
        var adapter = new TcnDenoiserAdapter(net, trainSteps: 1000);
        var output = new float[x.Length];
        for (int call = 0; call < 2; call++)
        {
            adapter.Predict(x.Data, 33, Enumerable.Repeat(250, 33).ToArray(), output);   // the second call reuses buffers
            Assert.Equal(Bits(perSample.Data), Bits(output));
        }
    }

    private static int[] Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>|actual − expected| ≤ atol + rtol·|expected| everywhere; the message names the worst element.</summary>
    internal static void GradClose(string label, float[] expected, float[] actual, double atol, double rtol)
    {
        Assert.Equal(expected.Length, actual.Length);
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double excess = Math.Abs(actual[i] - expected[i]) - (atol + (rtol * Math.Abs(expected[i])));
            if (excess > worstExcess || double.IsNaN(actual[i])) { worstExcess = excess; worst = i; }
        }

        Assert.True(worst < 0, worst < 0 ? "" : $"{label}: element {worst} expected {expected[worst]} actual {actual[worst]}");
    }
}
