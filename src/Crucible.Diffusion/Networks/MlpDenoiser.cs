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
    private readonly Sequential _time;
    private readonly Linear _input;
    private readonly Linear[] _blocks;
    private readonly Linear _output;

    /// <summary>Creates the network with PyTorch's default initialisation drawn from <paramref name="rng"/>.</summary>
    public MlpDenoiser(MlpDenoiserConfig config, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        int h = config.Hidden;
        _time = RegisterModule("t", new Sequential(new Linear(config.TimeEmbedding, h, rng), new SiLU(), new Linear(h, h, rng)));
        _input = RegisterModule("inp", new Linear(config.Features, h, rng));
        _blocks = new Linear[config.Blocks];
        var blocks = RegisterModule("blocks", new ModuleList());
        for (int i = 0; i < config.Blocks; i++) _blocks[i] = blocks.Add(new Linear(h, h, rng));
        _output = RegisterModule("out", new Linear(h, config.Features, rng));
    }

    /// <summary>The architecture.</summary>
    public MlpDenoiserConfig Config { get; }

    /// <summary>The network output for x (B, D) at diffusion times <paramref name="timeFraction"/> = t/T (B).</summary>
    // x: (B, D), t: (B) -> (B, D)
    public Tensor Forward(Tensor x, ReadOnlySpan<float> timeFraction)
    {
        ArgumentNullException.ThrowIfNull(x);
        var emb = SinusoidalTimestepEmbedding.Embed(timeFraction, Config.TimeEmbedding, scale: 1000f); // (B, 128)
        var h = _input.Forward(x) + _time.Forward(emb);                                                   // (B, H)
        foreach (var block in _blocks) h = h + block.Forward(h).Silu();
        return _output.Forward(h);                                                                       // (B, D)
    }
}
