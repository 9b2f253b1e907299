using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Learned;

/// <summary>
/// The TS2Vec encoder (Yue et al., "TS2Vec: Towards Universal Representation of Time Series", AAAI 2022; the
/// <c>TSEncoder</c> of its code, which Diffusion-TS's Context-FID trains): x (B, T, D) → representations (B, T, C_out).
/// </summary>
/// <remarks>
/// <code>
/// h = x · W_inᵀ + b_in                       (B, T, H)     input projection, H = 64
/// h[b, t, :] = 0 where mask[b, t] = 0                      timestamp masking (training: Bernoulli(½) per step)
/// 11 residual blocks i = 0..10, dilation 2^i, channels H … H, then C_out = 320:
///   r = x, or a 1×1 convolution (the last block, or when channels change)
///   x = conv2(gelu(conv1(gelu(x)))) + r          conv: kernel 3, dilation 2^i, padding 2^i both sides (same length)
/// z = dropout_0.1(x)                          (B, T, C_out) (training only)
/// </code>
/// Parameters are initialised as PyTorch does (<see cref="Linear"/>, <see cref="Conv1d"/>), drawn from the
/// constructor's <see cref="Philox"/> in module order. A dilated tap whose every input lies in the zero padding
/// (dilation ≥ T) is skipped: the output is the same sum without its zero terms.
/// </remarks>
internal sealed class Ts2VecEncoder : Module
{
    private readonly Linear _input;
    private readonly ConvBlock[] _blocks;

    public Ts2VecEncoder(int inputDims, Philox rng, int hiddenDims = 64, int outputDims = 320, int depth = 10)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputDims);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenDims);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputDims);
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        InputDims = inputDims;
        OutputDims = outputDims;
        _input = RegisterModule("input_fc", new Linear(inputDims, hiddenDims, rng));
        _blocks = new ConvBlock[depth + 1];
        for (int i = 0; i <= depth; i++)
        {
            int cin = hiddenDims, cout = i == depth ? outputDims : hiddenDims;
            _blocks[i] = RegisterModule($"block{i}", new ConvBlock(cin, cout, 1 << i, final: i == depth, rng));
        }
    }

    public int InputDims { get; }

    public int OutputDims { get; }

    /// <summary>
    /// x (B, T, D) → (B, T, C_out). <paramref name="mask"/>: one 0/1 per (b, t), row-major (B, T), or null for all
    /// ones. <paramref name="dropout"/>: the generator of the output dropout while training, null to skip it.
    /// </summary>
    public Tensor Forward(Tensor x, float[]? mask, Philox? dropout)
    {
        int b = x.Shape[0], t = x.Shape[1];
        var h = _input.Forward(x); // (B, T, H)
        if (mask is not null) h *= new Tensor(mask, [b, t, 1]);
        h = h.Transpose(1, 2); // (B, H, T)
        foreach (var block in _blocks) h = block.Forward(h);
        if (dropout is not null) h = h.Dropout(0.1f, dropout, training: true);
        return h.Transpose(1, 2); // (B, T, C_out)
    }

    /// <summary>The full-series representation: the maximum over time of <see cref="Forward"/> without mask: (B, C_out).</summary>
    public Tensor EncodeFullSeries(Tensor x) => Forward(x, null, null).Max(1);

    /// <summary>A residual block of two dilated convolutions (TS2Vec's <c>ConvBlock</c> of <c>SamePadConv</c>s).</summary>
    private sealed class ConvBlock : Module<Tensor, Tensor>
    {
        private readonly Conv1d _conv1, _conv2;
        private readonly Conv1d? _projector;
        private readonly int _dilation;

        public ConvBlock(int inChannels, int outChannels, int dilation, bool final, Philox rng)
        {
            _dilation = dilation;
            _conv1 = RegisterModule("conv1", new Conv1d(inChannels, outChannels, 3, rng, dilation, dilation));
            _conv2 = RegisterModule("conv2", new Conv1d(outChannels, outChannels, 3, rng, dilation, dilation));
            if (inChannels != outChannels || final) _projector = RegisterModule("projector", new Conv1d(inChannels, outChannels, 1, rng));
        }

        // x: (B, C_in, T) -> (B, C_out, T)
        public override Tensor Forward(Tensor input)
        {
            var residual = _projector is null ? input : _projector.Forward(input);
            var x = Same(_conv1, input.Gelu());
            x = Same(_conv2, x.Gelu());
            return x + residual;
        }

        // kernel 3, padding = dilation on both sides; when dilation ≥ T the outer taps read padding only
        private Tensor Same(Conv1d conv, Tensor x) => _dilation >= x.Shape[2]
            ? Tensor.Conv1d(x, conv.Weight.Slice(2, 1, 1), conv.Bias, 1, 0, 0)
            : conv.Forward(x);
    }
}
