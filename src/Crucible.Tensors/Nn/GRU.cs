using System.Globalization;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Nn;

/// <summary>
/// A multi-layer gated recurrent unit over a sequence (PyTorch's <c>nn.GRU</c>): at every step t each layer l
/// applies the <see cref="GRUCell"/> equations to its input (x_t for layer 0, layer l−1's h_t above) and its own
/// h_{t−1}. Returns (output, h_n): output holds the last layer's h_t for every t; h_n (layers, B, H) every layer's
/// final state.
/// </summary>
/// <remarks>
/// Parameters, in PyTorch's state-dict order, for each layer k: <c>weight_ih_lk</c> (3H, in_k),
/// <c>weight_hh_lk</c> (3H, H), <c>bias_ih_lk</c> (3H), <c>bias_hh_lk</c> (3H), gates r, z, n along the first axis;
/// in_0 = inputSize, in_k = H after. All are initialised U(−1/√H, 1/√H) in that order from the constructor's
/// <see cref="Philox"/>. Unidirectional, without inter-layer dropout.
/// </remarks>
public sealed class GRU : Module
{
    private readonly Tensor[] _weightIh, _weightHh;
    private readonly Tensor?[] _biasIh, _biasHh;

    /// <summary>Creates the network and initialises it from <paramref name="rng"/>.</summary>
    public GRU(int inputSize, int hiddenSize, Philox rng, int numLayers = 1, bool bias = true, bool batchFirst = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        BatchFirst = batchFirst;
        _weightIh = new Tensor[numLayers];
        _weightHh = new Tensor[numLayers];
        _biasIh = new Tensor?[numLayers];
        _biasHh = new Tensor?[numLayers];
        float k = 1f / MathF.Sqrt(hiddenSize);
        for (int l = 0; l < numLayers; l++)
        {
            string s = l.ToString(CultureInfo.InvariantCulture);
            int inL = l == 0 ? inputSize : hiddenSize;
            _weightIh[l] = RegisterParameter("weight_ih_l" + s, Init.Uniform(Tensor.Zeros([3 * hiddenSize, inL]), rng, -k, k));
            _weightHh[l] = RegisterParameter("weight_hh_l" + s, Init.Uniform(Tensor.Zeros([3 * hiddenSize, hiddenSize]), rng, -k, k));
            if (bias)
            {
                _biasIh[l] = RegisterParameter("bias_ih_l" + s, Init.Uniform(Tensor.Zeros([3 * hiddenSize]), rng, -k, k));
                _biasHh[l] = RegisterParameter("bias_hh_l" + s, Init.Uniform(Tensor.Zeros([3 * hiddenSize]), rng, -k, k));
            }
        }
    }

    /// <summary>The input width.</summary>
    public int InputSize { get; }

    /// <summary>H, the hidden width.</summary>
    public int HiddenSize { get; }

    /// <summary>The number of stacked layers.</summary>
    public int NumLayers { get; }

    /// <summary>True: sequences are (B, T, ·); false: (T, B, ·).</summary>
    public bool BatchFirst { get; }

    /// <summary>
    /// Runs the sequence: input (B, T, in) ((T, B, in) unless <see cref="BatchFirst"/>), h0 (layers, B, H) or
    /// null for zeros → (output (B, T, H) (or (T, B, H)), h_n (layers, B, H)).
    /// </summary>
    public (Tensor Output, Tensor HN) Forward(Tensor input, Tensor? h0 = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Shape[2] != InputSize)
        {
            throw new ArgumentException($"GRU expects input {(BatchFirst ? "(B, T, " : "(T, B, ")}{InputSize}), got {Tensor.FormatShape(input.Shape)}", nameof(input));
        }

        var x = BatchFirst ? input : input.Transpose(0, 1); // (B, T, in)
        int b = x.Shape[0], t = x.Shape[1], hs = HiddenSize;
        if (h0 is not null && !Tensor.SameShape(h0.Shape, [NumLayers, b, hs]))
        {
            throw new ArgumentException($"GRU expects h0 ({NumLayers}, {b}, {hs}), got {Tensor.FormatShape(h0.Shape)}", nameof(h0));
        }

        var finals = new Tensor[NumLayers];
        for (int l = 0; l < NumLayers; l++)
        {
            // input projections of every step at once: (B, T, in) -> (B, T, 3H)
            var gi = Tensor.Linear(x, _weightIh[l], _biasIh[l]);
            var h = h0 is null ? Tensor.Zeros([b, hs]) : h0.Slice(0, l, 1).Reshape(b, hs); // (B, H)
            var steps = new Tensor[t];
            for (int s = 0; s < t; s++)
            {
                var gis = gi.Slice(1, s, 1).Reshape(b, 3 * hs); // (B, 3H)
                h = GRUCell.Step(gis, h, _weightHh[l], _biasHh[l], hs);
                steps[s] = h;
            }

            finals[l] = h;
            x = Tensor.Stack(steps, 1); // (B, T, H): the next layer's input
        }

        var output = BatchFirst ? x : x.Transpose(0, 1);
        return (output, Tensor.Stack(finals, 0));
    }
}
