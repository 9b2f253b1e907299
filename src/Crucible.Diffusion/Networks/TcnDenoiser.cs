using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Networks;

/// <summary>Size of a <see cref="TcnDenoiser"/>.</summary>
/// <param name="Series">D, the number of series (input and output channels).</param>
/// <param name="Window">W, the number of time steps per window (the sample shape is (D, W)).</param>
/// <param name="Hidden">The hidden channel count.</param>
/// <param name="Layers">The number of residual dilated convolutions; layer i has dilation 2^i.</param>
/// <param name="TimeEmbedding">The sinusoidal timestep-embedding width.</param>
public sealed record TcnDenoiserConfig(int Series, int Window = 24, int Hidden = 64, int Layers = 4, int TimeEmbedding = 128);

/// <summary>
/// A temporal-convolution residual denoiser for windows x (B, D, W): h = Conv1×1_in(x) + MLP_t(emb(t)) broadcast over
/// time; h ← h + SiLU(Conv_k(h)) for k = 0..L−1, each a kernel-3 convolution with dilation 2^k and padding 2^k (so
/// W is kept); out = Conv1×1_out(h). The timestep embedding is sinusoidal on t/T scaled by 1000 through
/// Linear–SiLU–Linear. This is exactly the peer's <c>torch_ddpm.py --kind tcn</c> network, with its state-dict
/// names (<c>t.0</c>, <c>t.2</c>, <c>inp</c>, <c>convs.N</c>, <c>out</c>): 64,468 parameters for D = 20, hidden 64,
/// 4 layers.
/// </summary>
public sealed class TcnDenoiser : Module
{
    private readonly TcnDenoiserTrunk _trunk;

    /// <summary>Creates the network with PyTorch's default initialisation drawn from <paramref name="rng"/>.</summary>
    public TcnDenoiser(TcnDenoiserConfig config, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Window);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Hidden);
        ArgumentOutOfRangeException.ThrowIfNegative(config.Layers);
        if (config.Layers > 30) throw new ArgumentOutOfRangeException(nameof(config), "at most 30 layers (dilation 2^29)");
        Config = config;
        _trunk = new TcnDenoiserTrunk(config.Series, config.Hidden, config.Layers, config.TimeEmbedding, rng, RegisterModule);
    }

    /// <summary>The architecture.</summary>
    public TcnDenoiserConfig Config { get; }

    /// <summary>The network output for x (B, D, W) at diffusion times <paramref name="timeFraction"/> = t/T (B).</summary>
    /// <remarks>
    /// Internally time-major: x is transposed once to (B, W, D), every convolution is one fused op over the whole
    /// batch (<see cref="Tensor.Conv1dChannelsLast"/>: one GEMM reading the taps' rows in place, with bias, SiLU and
    /// the residual in its epilogue; the timestep MLP's output is the input convolution's residual, broadcast over
    /// time), and the output is transposed back.
    /// </remarks>
    // x: (B, D, W), t: (B) -> (B, D, W)
    public Tensor Forward(Tensor x, ReadOnlySpan<float> timeFraction)
    {
        CheckInput(x);
        if (timeFraction.Length != x.Shape[0]) throw new ArgumentException($"expected {x.Shape[0]} times, got {timeFraction.Length}", nameof(timeFraction));
        return _trunk.Forward(x, _trunk.Time(timeFraction).Reshape(x.Shape[0], 1, Config.Hidden));
    }

    /// <summary>
    /// The network output for x (B, D, W) when every window is at the same diffusion time t/T (as in a sampler step):
    /// the timestep MLP runs once, with values bit-identical to <see cref="Forward(Tensor, ReadOnlySpan{float})"/>.
    /// </summary>
    // x: (B, D, W) -> (B, D, W)
    public Tensor Forward(Tensor x, float timeFraction)
    {
        CheckInput(x);
        return _trunk.Forward(x, _trunk.Time([timeFraction]).Reshape(1, 1, Config.Hidden));
    }

    private void CheckInput(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3 || x.Shape[1] != Config.Series) throw new ArgumentException($"expected x of shape (B, {Config.Series}, W), got {Tensor.FormatShape(x.Shape)}", nameof(x));
    }
}
