using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Networks;

/// <summary>Width and depth of an <see cref="MlpDenoiser"/>.</summary>
/// <param name="Features">D, the number of series per row.</param>
/// <param name="Hidden">The hidden width.</param>
/// <param name="Blocks">The number of residual SiLU blocks.</param>
/// <param name="TimeEmbedding">The sinusoidal timestep-embedding width.</param>
/// <param name="Dropout">
/// p of the inverted dropout after each block's activation (TabDDPM's MLP: Linear → activation → Dropout), in [0, 1);
/// active only in training mode and only in the forward passes given a mask generator. 0: none.
/// </param>
public sealed record MlpDenoiserConfig(int Features, int Hidden = 256, int Blocks = 3, int TimeEmbedding = 128, float Dropout = 0f);

/// <summary>
/// A TabDDPM-like denoiser for rows x (B, D): h = W_in x + MLP_t(emb(t)); h ← h + SiLU(W_k h) per block; out = W_out h.
/// The timestep embedding is sinusoidal on t/T scaled by 1000, through Linear–SiLU–Linear — exactly the peer's
/// <c>torch_ddpm.py --kind mlp</c> (306,708 parameters for D = 20, hidden 256, 3 blocks).
/// With <see cref="MlpDenoiserConfig.Dropout"/> p &gt; 0 a block is h ← h + Dropout_p(SiLU(W_k h)) in training
/// (<see cref="Module.Train"/> and a mask generator passed to the forward pass), and the plain block otherwise.
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
        if (!(config.Dropout >= 0f && config.Dropout < 1f)) throw new ArgumentOutOfRangeException(nameof(config), $"dropout {config.Dropout} is not in [0, 1)");
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
        return Blocks(h, dropout: null);
    }

    /// <summary>
    /// <see cref="Forward(Tensor, ReadOnlySpan{float})"/> with dropout: in training mode with
    /// <see cref="MlpDenoiserConfig.Dropout"/> p &gt; 0, block k is h + Dropout_p(SiLU(W_k h + b_k)) with its (B, H) mask drawn
    /// from <paramref name="dropout"/> (<see cref="Tensor.Dropout"/>: block 1's mask first, each row-major); otherwise
    /// (evaluation mode, or p = 0) it is <see cref="Forward(Tensor, ReadOnlySpan{float})"/> exactly and draws nothing.
    /// </summary>
    // x: (B, D), t: (B) -> (B, D)
    public Tensor Forward(Tensor x, ReadOnlySpan<float> timeFraction, Philox dropout)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dropout);
        var emb = SinusoidalTimestepEmbedding.Embed(timeFraction, Config.TimeEmbedding, scale: 1000f);   // (B, 128)
        var a = Tensor.Linear(emb, _time0.Weight, _time0.Bias, Activation.Silu);                          // (B, H)
        var h = Tensor.Linear(a, _time2.Weight, _time2.Bias, Activation.None, residual: _input.Forward(x)); // (B, H)
        return Blocks(h, dropout);
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
        return Blocks(h, dropout: null);
    }

    /// <summary>
    /// The same network as <see cref="Forward(Tensor, ReadOnlySpan{float})"/>, unfused, with every linear layer run
    /// through <paramref name="tape"/> so that DP-SGD can clip each example's gradient (<see cref="Privacy.GhostClipping"/>).
    /// Values equal the fused forward up to float rounding. With <paramref name="dropout"/> (training mode, p &gt; 0) the
    /// blocks drop as in <see cref="Forward(Tensor, ReadOnlySpan{float}, Philox)"/>, with the same masks: each mask
    /// element multiplies one example's activation, so example b's gradient of every layer is still its own input row
    /// times its own output-gradient row, which is what ghost clipping needs.
    /// </summary>
    // x: (B, D), t: (B) -> (B, D)
    public Tensor Forward(Tensor x, ReadOnlySpan<float> timeFraction, Privacy.LinearTape tape, Philox? dropout = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(tape);
        bool drop = Drops(dropout);
        var emb = SinusoidalTimestepEmbedding.Embed(timeFraction, Config.TimeEmbedding, scale: 1000f);
        var a = tape.Linear(emb, _time0.Weight, _time0.Bias).Silu();
        var h = tape.Linear(a, _time2.Weight, _time2.Bias) + tape.Linear(x, _input.Weight, _input.Bias);
        foreach (var block in _blocks)
        {
            var z = tape.Linear(h, block.Weight, block.Bias).Silu();
            h = h + (drop ? z.Dropout(Config.Dropout, dropout!, training: true) : z);
        }

        return tape.Linear(h, _output.Weight, _output.Bias);
    }

    // whether a forward pass given this mask generator drops: training mode, p > 0 and a generator
    private bool Drops(Philox? dropout) => dropout is not null && IsTraining && Config.Dropout > 0f;

    private Tensor Blocks(Tensor h, Philox? dropout)
    {
        if (Drops(dropout))
        {
            // h + Dropout(SiLU(W h + b)): the mask sits between the activation and the residual sum, so no fused residual
            foreach (var block in _blocks) h = h + Tensor.Linear(h, block.Weight, block.Bias, Activation.Silu).Dropout(Config.Dropout, dropout!, training: true);
        }
        else
        {
            foreach (var block in _blocks) h = Tensor.Linear(h, block.Weight, block.Bias, Activation.Silu, residual: h);
        }

        return _output.Forward(h);                                                                         // (B, D)
    }
}
