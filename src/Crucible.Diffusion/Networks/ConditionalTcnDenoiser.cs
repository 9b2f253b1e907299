using Crucible.Diffusion.Conditioning;
using Crucible.Tensors;
using Crucible.Tensors.Kernels;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Networks;

/// <summary>Size of a <see cref="ConditionalTcnDenoiser"/>.</summary>
/// <param name="Series">D, the number of series (input and output channels).</param>
/// <param name="Window">W, the number of time steps per window (the sample shape is (D, W)).</param>
/// <param name="ConditionFeatures">K, the number of condition features (economic-state variables); 0: none.</param>
/// <param name="Hidden">H, the hidden channel count (divisible by <paramref name="Heads"/>).</param>
/// <param name="Layers">The number of residual dilated convolutions; layer i has dilation 2^i.</param>
/// <param name="Heads">Attention heads of each cross-attention block.</param>
/// <param name="AttentionEvery">A cross-attention block follows every this many convolutions (and the last one).</param>
/// <param name="TimeEmbedding">The sinusoidal timestep-embedding width.</param>
public sealed record ConditionalTcnDenoiserConfig(
    int Series, int Window = 20, int ConditionFeatures = 0, int Hidden = 64, int Layers = 4, int Heads = 4, int AttentionEvery = 2, int TimeEmbedding = 128);

/// <summary>
/// <see cref="TcnDenoiser"/>'s residual dilated convolutions over windows x (B, D, W) with cross-attention from the
/// hidden sequence to condition tokens (the conditioning of Rombach et al. 2022's latent diffusion, over time instead
/// of pixels):
/// <code>
/// h = Conv1×1_in(x) + MLP_t(emb(t))                            h: (B, W, H), time-major
/// for k = 0..L−1:  h ← h + SiLU(Conv_k(h))                      kernel 3, dilation 2^k
///                  after every A-th (and the last): h ← h + MHA(LN(h), tokens, tokens, mask)
/// out = Conv1×1_out(h)                                          (B, D, W)
/// tokens = [n, MLP_c(e_j + z_j · u_j) for each present feature j]   (B, 1 + K, H)
/// </code>
/// Each economic-state variable j is one token: a learned feature embedding e_j plus its standardised value z_j times a
/// learned direction u_j, through a shared two-layer SiLU MLP. The learned null token n is always present, so a sample
/// may be conditioned on any subset of the variables (absent ones are masked out of the attention) and the empty set
/// is the unconditional model that classifier-free guidance needs. The attention blocks are pre-norm with a residual;
/// their output projection starts at zero, so the untrained network is the plain TCN.
/// </summary>
public sealed class ConditionalTcnDenoiser : Module
{
    private readonly TcnDenoiserTrunk _trunk;
    private readonly ConditionTokens _tokens;
    private readonly MultiheadAttention?[] _attention;
    private readonly LayerNorm?[] _norms;

    /// <summary>Creates the network with PyTorch's default initialisation drawn from <paramref name="rng"/>.</summary>
    public ConditionalTcnDenoiser(ConditionalTcnDenoiserConfig config, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Window);
        ArgumentOutOfRangeException.ThrowIfNegative(config.ConditionFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Hidden);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.Heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(config.AttentionEvery);
        ArgumentOutOfRangeException.ThrowIfNegative(config.Layers);
        if (config.Layers > 30) throw new ArgumentOutOfRangeException(nameof(config), "at most 30 layers (dilation 2^29)");
        if (config.Hidden % config.Heads != 0) throw new ArgumentException($"hidden {config.Hidden} is not divisible by {config.Heads} heads", nameof(config));
        Config = config;
        int h = config.Hidden;
        _attention = new MultiheadAttention?[config.Layers];
        _norms = new LayerNorm?[config.Layers];
        ModuleList? attention = null, norms = null;
        _trunk = new TcnDenoiserTrunk(
            config.Series, h, config.Layers, config.TimeEmbedding, rng, RegisterModule,
            beforeLayers: () =>
            {
                attention = RegisterModule("attn", new ModuleList());
                norms = RegisterModule("norm", new ModuleList());
            },
            afterLayer: i =>
            {
                // a cross-attention block after every A-th convolution and the last, drawn right after it
                if ((i + 1) % config.AttentionEvery != 0 && i != config.Layers - 1) return;
                _norms[i] = norms!.Add(new LayerNorm(h));
                var mha = attention!.Add(new MultiheadAttention(h, config.Heads, rng));
                Init.Zeros(mha.OutProj.Weight);
                _attention[i] = mha;
            });
        _tokens = RegisterModule("cond", new ConditionTokens(config.ConditionFeatures, h, rng));
    }

    /// <summary>The architecture.</summary>
    public ConditionalTcnDenoiserConfig Config { get; }

    /// <summary>
    /// The network output for x (B, D, W) at diffusion times <paramref name="timeFraction"/> = t/T (B, or 1 for a
    /// time shared by the batch), conditioned per sample on <paramref name="conditions"/> or unconditional when null.
    /// Unconditional under no-grad (sampling), each attention block adds its constant output instead of attending
    /// (the same bits; see <see cref="ForwardGuided"/>).
    /// </summary>
    // x: (B, D, W), t: (B) or (1) -> (B, D, W)
    public Tensor Forward(Tensor x, ReadOnlySpan<float> timeFraction, ConditionBatch? conditions)
    {
        Check(x, timeFraction, conditions);
        int b = x.Shape[0];
        var time = _trunk.Time(timeFraction).Reshape(timeFraction.Length, 1, Config.Hidden);                // (B|1, 1, H)
        if (conditions?.AnyPresent != true)
        {
            var nullAttention = NullAttention(b, x.Shape[2]);
            if (nullAttention is not null) return _trunk.Forward(x, time, (i, h) => _attention[i] is null ? h : h + nullAttention[i]!);
        }

        var (tokens, mask) = _tokens.Forward(b, conditions?.AnyPresent == true ? conditions : null);        // (B, 1+K', H)

        // h: (B, W, H) after each convolution; + MHA(LN(h), tokens) where a block follows it
        return _trunk.Forward(x, time, (i, h) => _attention[i] is null ? h : h + Attend(i, h, tokens, mask));
    }

    /// <summary>
    /// The conditional and the unconditional output for the same x (B, D, W) and times, as <see cref="Forward"/> with
    /// <paramref name="conditions"/> and with none computes them, bit for bit, at less cost: the two passes share
    /// the timestep MLP and every layer before the first cross-attention block (they differ only from there on), and
    /// the unconditional pass's attention is the constant of <see cref="Forward"/>'s no-grad path. For sampling
    /// (classifier-free guidance); without conditions present, both outputs are the unconditional one.
    /// </summary>
    // x: (B, D, W), t: (B) or (1) -> ((B, D, W), (B, D, W))
    public (Tensor Conditional, Tensor Unconditional) ForwardGuided(Tensor x, ReadOnlySpan<float> timeFraction, ConditionBatch? conditions)
    {
        if (conditions?.AnyPresent != true || GradMode.IsEnabled)
        {
            var c = Forward(x, timeFraction, conditions);
            return (c, conditions?.AnyPresent == true ? Forward(x, timeFraction, null) : c);
        }

        var conditional = ForwardPair(x, timeFraction, conditions, out var unconditional);
        return (conditional, unconditional);
    }

    // the conditional pass, also returning the unconditional output computed beside it from the first attention block
    private Tensor ForwardPair(Tensor x, ReadOnlySpan<float> timeFraction, ConditionBatch conditions, out Tensor unconditional)
    {
        Check(x, timeFraction, conditions);
        int b = x.Shape[0];
        var time = _trunk.Time(timeFraction).Reshape(timeFraction.Length, 1, Config.Hidden);                // (B|1, 1, H)
        var (tokens, mask) = _tokens.Forward(b, conditions);                                                  // (B, 1+K', H)
        var nullAttention = NullAttention(b, x.Shape[2]);
        var nullTokens = nullAttention is null ? _tokens.Forward(b, null).Tokens : null;                     // (B, 1, H), where attended

        // one h up to the first attention block, then the conditional h and the unconditional u
        var h = _trunk.Input(x, time);                                                                        // (B, W, H)
        Tensor? u = null;
        for (int i = 0; i < _trunk.Layers; i++)
        {
            h = _trunk.Layer(i, h);
            if (u is not null) u = _trunk.Layer(i, u);
            if (_attention[i] is null) continue;
            var hu = u ?? h;
            u = nullAttention is null ? hu + Attend(i, hu, nullTokens!, null) : hu + nullAttention[i]!;
            h = h + Attend(i, h, tokens, mask);
        }

        unconditional = _trunk.Output(u ?? h);
        return _trunk.Output(h);
    }

    // MHA(LN(h), tokens, tokens): (B, W, H)
    private Tensor Attend(int i, Tensor h, Tensor tokens, bool[,]? mask) =>
        _attention[i]!.Forward(_norms[i]!.Forward(h), tokens, tokens, keyPaddingMask: mask, needWeights: false).Output;

    /// <summary>
    /// Without conditions the keys are the null token alone: the softmax over one key is exactly 1, so each attention
    /// block's output is the same row for every query, OutProj(V(n)), whatever h. Under no-grad (sampling) it is computed
    /// once from one query (1, 1, H) and broadcast; the value and output projections then run on 1 row instead of
    /// B and B·W, which gives each row the same bits when the GEMM takes the same path for both row counts (else null:
    /// the full attention). Per layer, the (1, 1, H) output of its block, null where there is none.
    /// </summary>
    private Tensor?[]? NullAttention(int batch, int window)
    {
        int hidden = Config.Hidden;
        if (GradMode.IsEnabled || batch < 1
            || !Kernels.SameRowArithmetic(1, batch, hidden, hidden)
            || !Kernels.SameRowArithmetic(1, batch * window, hidden, hidden)) return null;
        var token = _tokens.Forward(1, null).Tokens;                                                          // (1, 1, H)
        var query = Tensor.Zeros([1, 1, hidden]);
        var result = new Tensor?[_attention.Length];
        for (int i = 0; i < _attention.Length; i++)
        {
            if (_attention[i] is { } mha) result[i] = mha.Forward(query, token, token, needWeights: false).Output;
        }

        return result;
    }

    private void Check(Tensor x, ReadOnlySpan<float> timeFraction, ConditionBatch? conditions)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3 || x.Shape[1] != Config.Series) throw new ArgumentException($"expected x of shape (B, {Config.Series}, W), got {Tensor.FormatShape(x.Shape)}", nameof(x));
        int b = x.Shape[0];
        if (timeFraction.Length != b && timeFraction.Length != 1) throw new ArgumentException($"expected {b} times (or one), got {timeFraction.Length}", nameof(timeFraction));
        if (conditions is not null && (conditions.Count != b || conditions.Features != Config.ConditionFeatures))
            throw new ArgumentException($"expected conditions for {b} samples × {Config.ConditionFeatures} features, got {conditions.Count} × {conditions.Features}", nameof(conditions));
    }
}
