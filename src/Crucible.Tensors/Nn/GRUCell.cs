using Crucible.Tensors.Random;

namespace Crucible.Tensors.Nn;

/// <summary>
/// One step of a gated recurrent unit (Cho et al. 2014, "Learning phrase representations using RNN
/// encoder-decoder"), with PyTorch's <c>nn.GRUCell</c> equations exactly:
/// <code>
/// r  = σ(W_ir x + b_ir + W_hr h + b_hr)
/// z  = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h' = (1 − z) ⊙ n + z ⊙ h
/// </code>
/// Parameters, in state-dict order: <c>weight_ih</c> (3H, in) = [W_ir; W_iz; W_in], <c>weight_hh</c> (3H, H),
/// <c>bias_ih</c> (3H), <c>bias_hh</c> (3H): gate order r, z, n along the first axis.
/// </summary>
/// <remarks>All four are initialised U(−1/√H, 1/√H), in that order, from the constructor's <see cref="Philox"/>.</remarks>
public sealed class GRUCell : Module
{
    /// <summary>Creates the cell and initialises it from <paramref name="rng"/>.</summary>
    public GRUCell(int inputSize, int hiddenSize, Philox rng, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        float k = 1f / MathF.Sqrt(hiddenSize);
        WeightIh = RegisterParameter("weight_ih", Init.Uniform(Tensor.Zeros([3 * hiddenSize, inputSize]), rng, -k, k));
        WeightHh = RegisterParameter("weight_hh", Init.Uniform(Tensor.Zeros([3 * hiddenSize, hiddenSize]), rng, -k, k));
        if (bias)
        {
            BiasIh = RegisterParameter("bias_ih", Init.Uniform(Tensor.Zeros([3 * hiddenSize]), rng, -k, k));
            BiasHh = RegisterParameter("bias_hh", Init.Uniform(Tensor.Zeros([3 * hiddenSize]), rng, -k, k));
        }
    }

    /// <summary>The input width.</summary>
    public int InputSize { get; }

    /// <summary>H, the hidden width.</summary>
    public int HiddenSize { get; }

    /// <summary>[W_ir; W_iz; W_in]: (3H, in).</summary>
    public Tensor WeightIh { get; }

    /// <summary>[W_hr; W_hz; W_hn]: (3H, H).</summary>
    public Tensor WeightHh { get; }

    /// <summary>[b_ir; b_iz; b_in]: (3H), or null.</summary>
    public Tensor? BiasIh { get; }

    /// <summary>[b_hr; b_hz; b_hn]: (3H), or null.</summary>
    public Tensor? BiasHh { get; }

    /// <summary>One step: input (B, in), hidden (B, H) or null for zeros → h' (B, H).</summary>
    public Tensor Forward(Tensor input, Tensor? hidden = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 2 || input.Shape[1] != InputSize)
        {
            throw new ArgumentException($"GRUCell expects input (B, {InputSize}), got {Tensor.FormatShape(input.Shape)}", nameof(input));
        }

        // a state of another shape broadcast silently: (1, H) gave every row the first row's state
        if (hidden is not null && (hidden.Rank != 2 || hidden.Shape[0] != input.Shape[0] || hidden.Shape[1] != HiddenSize))
        {
            throw new ArgumentException(
                $"GRUCell expects hidden ({input.Shape[0]}, {HiddenSize}) for input {Tensor.FormatShape(input.Shape)}, got {Tensor.FormatShape(hidden.Shape)}", nameof(hidden));
        }

        var h = hidden ?? Tensor.Zeros([input.Shape[0], HiddenSize]);
        var gi = Tensor.Linear(input, WeightIh, BiasIh); // (B, 3H)
        return Step(gi, h, WeightHh, BiasHh, HiddenSize);
    }

    /// <summary>The gate equations given the input projection gi = W_i x + b_i (B, 3H) and h (B, H).</summary>
    internal static Tensor Step(Tensor gi, Tensor h, Tensor weightHh, Tensor? biasHh, int hiddenSize)
    {
        var gh = Tensor.Linear(h, weightHh, biasHh); // (B, 3H)
        var i = gi.Split(1, hiddenSize, hiddenSize, hiddenSize);
        var g = gh.Split(1, hiddenSize, hiddenSize, hiddenSize);
        var r = (i[0] + g[0]).Sigmoid();
        var z = (i[1] + g[1]).Sigmoid();
        var n = (i[2] + (r * g[2])).Tanh();

        // h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
        return n + (z * (h - n));
    }
}
