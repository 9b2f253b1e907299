using Crucible.Tensors.Random;

namespace Crucible.Tensors.Nn;

/// <summary>
/// 1-d convolution with stride 1 (PyTorch's <c>nn.Conv1d</c>, a cross-correlation):
/// y[b, o, t] = bias[o] + Σ_c Σ_k W[o, c, k] · x_pad[b, c, t + dilation·k]; x (B, C_in, L) → (B, C_out, L_out).
/// Parameters, in state-dict order: <c>weight</c> (C_out, C_in, K), <c>bias</c> (C_out).
/// </summary>
/// <remarks>
/// Initialisation as PyTorch: fan_in = C_in·K; weight U(−1/√fan_in, 1/√fan_in) (kaiming_uniform, a = √5), then
/// bias with the same bound, drawn in that order from the constructor's <see cref="Philox"/>.
/// </remarks>
public sealed class Conv1d : Module<Tensor, Tensor>
{
    private readonly Conv1dPadding? _paddingMode;
    private readonly int _padding;

    /// <summary>A convolution padded by mode (<see cref="Conv1dPadding.Valid"/>, Same or Causal).</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, Philox rng, int dilation = 1,
        Conv1dPadding padding = Conv1dPadding.Valid, bool bias = true)
        : this(inChannels, outChannels, kernelSize, rng, dilation, bias)
    {
        _paddingMode = padding;
    }

    /// <summary>A convolution with <paramref name="padding"/> zeros on both sides (PyTorch's <c>padding=p</c>).</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, Philox rng, int dilation, int padding, bool bias = true)
        : this(inChannels, outChannels, kernelSize, rng, dilation, bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        _padding = padding;
    }

    private Conv1d(int inChannels, int outChannels, int kernelSize, Philox rng, int dilation, bool bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dilation);
        Dilation = dilation;
        Weight = RegisterParameter("weight", Init.KaimingUniform(Tensor.Zeros([outChannels, inChannels, kernelSize]), rng));
        if (bias)
        {
            float bound = 1f / MathF.Sqrt(inChannels * kernelSize);
            Bias = RegisterParameter("bias", Init.Uniform(Tensor.Zeros([outChannels]), rng, -bound, bound));
        }
    }

    /// <summary>The spacing between kernel taps.</summary>
    public int Dilation { get; }

    /// <summary>W: (C_out, C_in, K).</summary>
    public Tensor Weight { get; }

    /// <summary>b: (C_out), or null without bias.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    // input: (B, C_in, L) -> (B, C_out, L_out)
    public override Tensor Forward(Tensor input) => _paddingMode is { } mode
        ? Tensor.Conv1d(input, Weight, Bias, Dilation, mode)
        : Tensor.Conv1d(input, Weight, Bias, Dilation, _padding, _padding);
}
