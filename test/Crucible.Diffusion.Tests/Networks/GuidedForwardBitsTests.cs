using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Networks;

/// <summary>
/// The sampling paths of <see cref="ConditionalTcnDenoiser"/> against its full forward, bit for bit: under no-grad the
/// unconditional pass adds each attention block's constant (the softmax over the null token alone is 1), and
/// <see cref="ConditionalTcnDenoiser.ForwardGuided"/> runs the conditional and the unconditional pass with a shared
/// prefix; the full forward (with autograd on, which takes neither shortcut) is the reference.
/// </summary>
public class GuidedForwardBitsTests
{
    // the tiny net takes the shortcut on the small GEMM (few rows) and falls back where the row counts' paths differ
    // (16 windows, or 3 windows longer than the configured W); the demo's width takes it on the packed GEMM
    private static readonly ConditionalTcnDenoiserConfig Tiny = new(Series: 3, Window: 6, ConditionFeatures: 3, Hidden: 8, Layers: 3, Heads: 2, AttentionEvery: 2, TimeEmbedding: 8);
    private static readonly ConditionalTcnDenoiserConfig DemoWidth = new(Series: 4, Window: 20, ConditionFeatures: 3, Hidden: 64, Layers: 4, Heads: 4, AttentionEvery: 2, TimeEmbedding: 16);

    public static TheoryData<string, int, bool> Cases => new()
    {
        { "tiny", 3, true }, { "tiny", 3, false }, { "tiny", 16, true }, { "tiny-long", 3, true },
        { "demo", 1, true }, { "demo", 5, false }, { "demo", 40, true },
    };

    /// <summary>A network whose every parameter is random (so the zero-initialised attention outputs matter).</summary>
    private static ConditionalTcnDenoiser RandomNetwork(ConditionalTcnDenoiserConfig config, int seed)
    {
        var net = new ConditionalTcnDenoiser(config, new Philox((ulong)seed));
        var rng = new Philox((ulong)seed + 1000);
        foreach (var (_, p) in net.NamedParameters())
        {
            rng.FillNormal(p.Data);
            for (int i = 0; i < p.Length; i++) p.Data[i] *= 0.3f;
        }

        return net;
    }

    private static (Tensor X, float[] Times, ConditionBatch Conditions) Inputs(ConditionalTcnDenoiserConfig config, int batch, bool sharedTime, ulong seed, int? window = null)
    {
        var rng = new Philox(seed);
        int w = window ?? config.Window;
        var x = new float[batch * config.Series * w];
        rng.FillNormal(x);
        var times = new float[sharedTime ? 1 : batch];
        for (int i = 0; i < times.Length; i++) times[i] = (float)((i + 1) * 0.137 % 1.0);
        var values = new float[batch * config.ConditionFeatures];
        rng.FillNormal(values);
        var present = new bool[values.Length];
        for (int i = 0; i < present.Length; i++) present[i] = i % 3 != 1;   // a subset of the features per sample
        return (new Tensor(x, [batch, config.Series, w]), times, new ConditionBatch(values, present, batch, config.ConditionFeatures));
    }

    private static ConditionalTcnDenoiserConfig Config(string name) => name.StartsWith("tiny", StringComparison.Ordinal) ? Tiny : DemoWidth;

    // the network sees windows of any length; "tiny-long" gives it 30 steps where it was configured for 6
    private static int? Window(string name) => name == "tiny-long" ? 30 : null;

    [Theory]
    [MemberData(nameof(Cases))]
    public void UnconditionalForward_UnderNoGrad_HasTheFullForwardsBits(string config, int batch, bool sharedTime)
    {
        var net = RandomNetwork(Config(config), 5);
        var (x, t, _) = Inputs(Config(config), batch, sharedTime, 7, Window(config));
        var reference = net.Forward(x, t, null).Data;
        float[] sampled;
        using (GradMode.NoGrad()) sampled = net.Forward(x, t, null).Data;
        Assert.Equal(reference, sampled);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardGuided_UnderNoGrad_HasTheTwoFullForwardsBits(string config, int batch, bool sharedTime)
    {
        var net = RandomNetwork(Config(config), 6);
        var (x, t, c) = Inputs(Config(config), batch, sharedTime, 8, Window(config));
        var conditional = net.Forward(x, t, c).Data;
        var unconditional = net.Forward(x, t, null).Data;
        Tensor guidedC, guidedU;
        using (GradMode.NoGrad()) (guidedC, guidedU) = net.ForwardGuided(x, t, c);
        Assert.Equal(conditional, guidedC.Data);
        Assert.Equal(unconditional, guidedU.Data);
        Assert.NotEqual(conditional, unconditional);   // the condition matters, so a swapped pair would show
    }

    [Fact]
    public void ClassifierFreeGuidance_OnTheAdapter_HasTheTwoPassArithmeticsBits()
    {
        var config = DemoWidth;
        var net = RandomNetwork(config, 9);
        var adapter = new ConditionalTcnDenoiserAdapter(net, trainSteps: 100);
        int b = 6, n = b * config.Series * config.Window;
        var (x, _, _) = Inputs(config, b, true, 10);
        float[] condition = [0.7f, float.NaN, -1.2f];
        int[] timesteps = [80, 80, 80, 80, 80, 80];
        var conditions = ConditionBatch.Repeat(condition, b);

        // the old path: two full passes (Forward with autograd on takes no shortcut), combined per element in float
        var conditional = net.Forward(x, [0.8f], conditions).Data;
        var unconditional = net.Forward(x, [0.8f], null).Data;
        const float W = 2.5f;
        var expected = new float[n];
        for (int i = 0; i < n; i++) expected[i] = unconditional[i] + (W * (conditional[i] - unconditional[i]));

        var guided = new float[n];
        new ClassifierFreeGuidance(adapter, condition, W).Predict(x.Data, b, timesteps, guided);
        Assert.Equal(expected, guided);
    }
}
