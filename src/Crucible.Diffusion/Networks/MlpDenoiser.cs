using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Networks;

/// <summary>Width and depth of an <see cref="MlpDenoiser"/>.</summary>
/// <param name="Features">D, the number of series per row.</param>
/// <param name="Hidden">The hidden width.</param>
/// <param name="Blocks">The number of residual SiLU blocks.</param>
/// <param name="TimeEmbedding">The sinusoidal timestep-embedding width.</param>
public sealed record MlpDenoiserConfig(int Features, int Hidden = 256, int Blocks = 3, int TimeEmbedding = 128);

/// <summary>
/// A TabDDPM-like denoiser for rows x (B, D): h = W_in x + MLP_t(emb(t)); h ← h + SiLU(W_k h) per block; out = W_out h.
/// The timestep embedding is sinusoidal on t/T scaled by 1000, through Linear–SiLU–Linear — exactly the peer's
/// <c>torch_ddpm.py --kind mlp</c> (306,708 parameters for D = 20, hidden 256, 3 blocks).
/// </summary>
public sealed class MlpDenoiser : Module
{
    private readonly Linear _time0;
    private readonly Linear _time2;
    private readonly Linear _input;
    private readonly Linear[] _blocks;
    private readonly Linear _output;

    /// <summary>Creates the network with PyTorch's default initialisation drawn from <paramref name="rng"/>.</summary>
    public MlpDenoiser(MlpDenoiserConfig config, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        int h = config.Hidden;
        _time0 = new Linear(config.TimeEmbedding, h, rng);
        _time2 = new Linear(h, h, rng);
        RegisterModule("t", new Sequential(_time0, new SiLU(), _time2));
        _input = RegisterModule("inp", new Linear(config.Features, h, rng));
        _blocks = new Linear[config.Blocks];
        var blocks = RegisterModule("blocks", new ModuleList());
        for (int i = 0; i < config.Blocks; i++) _blocks[i] = blocks.Add(new Linear(h, h, rng));
        _output = RegisterModule("out", new Linear(h, config.Features, rng));
    }

    /// <summary>The architecture.</summary>
    public MlpDenoiserConfig Config { get; }

    /// <summary>The network output for x (B, D) at diffusion times <paramref name="timeFraction"/> = t/T (B).</summary>
    /// <remarks>
    /// Each layer is one fused op (<see cref="Tensor.Linear(Tensor, Tensor, Tensor?, Activation, Tensor?)"/>): the
    /// values are bit-identical to the composition <c>inp(x) + t(emb)</c>, then <c>h + SiLU(W_k h + b_k)</c>.
    /// </remarks>
    // x: (B, D), t: (B) -> (B, D)
    public Tensor Forward(Tensor x, ReadOnlySpan<float> timeFraction)
    {
        ArgumentNullException.ThrowIfNull(x);
        var emb = SinusoidalTimestepEmbedding.Embed(timeFraction, Config.TimeEmbedding, scale: 1000f);   // (B, 128)
        var a = Tensor.Linear(emb, _time0.Weight, _time0.Bias, Activation.Silu);                          // (B, H)
        var h = Tensor.Linear(a, _time2.Weight, _time2.Bias, Activation.None, residual: _input.Forward(x)); // (B, H)
        return Blocks(h);
    }

    /// <summary>
    /// The network output for x (B, D) when every row is at the same diffusion time t/T (as in a sampler step): the
    /// timestep MLP runs once and its output is broadcast, with values bit-identical to <see cref="Forward(Tensor, ReadOnlySpan{float})"/>.
    /// </summary>
    // x: (B, D) -> (B, D)
    public Tensor Forward(Tensor x, float timeFraction)
    {
        ArgumentNullException.ThrowIfNull(x);
        var emb = SinusoidalTimestepEmbedding.Embed([timeFraction], Config.TimeEmbedding, scale: 1000f); // (1, 128)
        var a = Tensor.Linear(emb, _time0.Weight, _time0.Bias, Activation.Silu);                           // (1, H)
        var h = _input.Forward(x) + Tensor.Linear(a, _time2.Weight, _time2.Bias);                          // (B, H)
        return Blocks(h);
    }

    /// <summary>
    /// The same network as <see cref="Forward(Tensor, ReadOnlySpan{float})"/>, unfused, with every linear layer run
    /// through <paramref name="tape"/> so that DP-SGD can clip each example's gradient (<see cref="Privacy.GhostClipping"/>).
    /// Values equal the fused forward up to float rounding.
    /// </summary>
    // x: (B, D), t: (B) -> (B, D)
    public Tensor Forward(Tensor x, ReadOnlySpan<float> timeFraction, Privacy.LinearTape tape)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(tape);
        var emb = SinusoidalTimestepEmbedding.Embed(timeFraction, Config.TimeEmbedding, scale: 1000f);
        var a = tape.Linear(emb, _time0.Weight, _time0.Bias).Silu();
        var h = tape.Linear(a, _time2.Weight, _time2.Bias) + tape.Linear(x, _input.Weight, _input.Bias);
        foreach (var block in _blocks) h = h + tape.Linear(h, block.Weight, block.Bias).Silu();
        return tape.Linear(h, _output.Weight, _output.Bias);
    }

    private Tensor Blocks(Tensor h)
    {
        foreach (var block in _blocks) h = Tensor.Linear(h, block.Weight, block.Bias, Activation.Silu, residual: h);
        return _output.Forward(h);                                                                         // (B, D)
    }
}
