using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Networks;

/// <summary>
/// The trunk <see cref="TcnDenoiser"/> and <see cref="ConditionalTcnDenoiser"/> share: the timestep MLP
/// (Linear–SiLU–Linear on the sinusoidal embedding of t/T scaled by 1000), the 1×1 input convolution with the time
/// as its residual, L residual dilated kernel-3 convolutions h ← h + SiLU(Conv_k(h)) (dilation and padding 2^k) and
/// the 1×1 output convolution, time-major. Its layers are registered on the owning module under the peer's
/// state-dict names (<c>t.0</c>, <c>t.2</c>, <c>inp</c>, <c>convs.N</c>, <c>out</c>).
/// </summary>
internal sealed class TcnDenoiserTrunk
{
    private const int KernelSize = 3;

    private readonly int _timeEmbedding;
    private readonly Linear _time0;
    private readonly Linear _time2;
    private readonly Conv1d _input;
    private readonly Conv1d[] _convs;
    private readonly Conv1d _output;

    /// <summary>
    /// Draws the layers from <paramref name="rng"/> in the order t.0, t.2, inp, then per layer k its convolution
    /// followed by whatever <paramref name="afterLayer"/>(k) draws, then out; registers <c>t</c>, <c>inp</c>,
    /// <c>convs</c>, then whatever <paramref name="beforeLayers"/> registers, then <c>out</c>, through
    /// <paramref name="register"/> (the owner's <c>RegisterModule</c>).
    /// </summary>
    public TcnDenoiserTrunk(
        int series, int hidden, int layers, int timeEmbedding, Philox rng, Func<string, Module, Module> register,
        Action? beforeLayers = null, Action<int>? afterLayer = null)
    {
        _timeEmbedding = timeEmbedding;
        _time0 = new Linear(timeEmbedding, hidden, rng);
        _time2 = new Linear(hidden, hidden, rng);
        register("t", new Sequential(_time0, new SiLU(), _time2));
        _input = (Conv1d)register("inp", new Conv1d(series, hidden, 1, rng, dilation: 1, padding: 0));
        _convs = new Conv1d[layers];
        var convs = (ModuleList)register("convs", new ModuleList());
        beforeLayers?.Invoke();
        for (int i = 0; i < layers; i++)
        {
            int dilation = 1 << i;
            _convs[i] = convs.Add(new Conv1d(hidden, hidden, KernelSize, rng, dilation, padding: dilation));
            afterLayer?.Invoke(i);
        }

        _output = (Conv1d)register("out", new Conv1d(hidden, series, 1, rng, dilation: 1, padding: 0));
    }

    /// <summary>The timestep MLP's output for diffusion times t/T.</summary>
    // t: (B) -> (B, H)
    public Tensor Time(ReadOnlySpan<float> timeFraction)
    {
        var emb = SinusoidalTimestepEmbedding.Embed(timeFraction, _timeEmbedding, scale: 1000f);    // (B, TE)
        var a = Tensor.Linear(emb, _time0.Weight, _time0.Bias, Activation.Silu);
        return Tensor.Linear(a, _time2.Weight, _time2.Bias, Activation.None);
    }

    /// <summary>The number of residual dilated convolutions.</summary>
    public int Layers => _convs.Length;

    /// <summary>
    /// The trunk over x (B, D, W) with the time MLP's output as the input convolution's residual, broadcast over
    /// time; <paramref name="afterLayer"/>(k, h) replaces h after convolution k (the conditional network's attention).
    /// </summary>
    /// <remarks>
    /// x is transposed once to (B, W, D), every convolution is one fused op over the whole batch
    /// (<see cref="Tensor.Conv1dChannelsLast"/>: one GEMM reading the taps' rows in place, with bias, SiLU and the
    /// residual in its epilogue), and the output is transposed back. The same as <see cref="Input"/>, then
    /// <see cref="Layer"/> k for each k, then <see cref="Output"/>, which a caller running two passes that share a
    /// prefix calls itself.
    /// </remarks>
    // x: (B, D, W), time: (B or 1, 1, H) -> (B, D, W)
    public Tensor Forward(Tensor x, Tensor time, Func<int, Tensor, Tensor>? afterLayer = null)
    {
        var h = Input(x, time);
        for (int i = 0; i < _convs.Length; i++)
        {
            h = Layer(i, h);
            if (afterLayer is not null) h = afterLayer(i, h);
        }

        return Output(h);
    }

    /// <summary>The 1×1 input convolution of x, time-major, with the time as its residual.</summary>
    // x: (B, D, W), time: (B or 1, 1, H) -> (B, W, H)
    public Tensor Input(Tensor x, Tensor time) =>
        Tensor.Conv1dChannelsLast(x.Transpose(1, 2), _input.Weight, _input.Bias, 1, 0, 0, Activation.None, time);

    /// <summary>Residual convolution <paramref name="i"/>: h + SiLU(Conv_i(h)).</summary>
    // h: (B, W, H) -> (B, W, H)
    public Tensor Layer(int i, Tensor h)
    {
        var conv = _convs[i];
        int d = conv.Dilation;
        return Tensor.Conv1dChannelsLast(h, conv.Weight, conv.Bias, d, d, d, Activation.Silu, residual: h);
    }

    /// <summary>The 1×1 output convolution, back to series-major.</summary>
    // h: (B, W, H) -> (B, D, W)
    public Tensor Output(Tensor h) => Tensor.Conv1dChannelsLast(h, _output.Weight, _output.Bias, 1, 0, 0).Transpose(1, 2);
}
