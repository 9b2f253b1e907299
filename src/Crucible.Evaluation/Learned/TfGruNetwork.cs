using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Learned;

/// <summary>
/// The post-hoc network of the published discriminative and predictive scores: one TensorFlow-1 <c>GRUCell</c>
/// (<c>tf.compat.v1.nn.rnn_cell.GRUCell</c>, tanh) run over the sequence, and a dense layer to one output
/// (<c>tf.compat.v1.layers.dense</c>), as in Diffusion-TS's <c>Utils/discriminative_metric.py</c> and
/// <c>Utils/predictive_metric.py</c>.
/// </summary>
/// <remarks>
/// TensorFlow's GRU applies the reset gate to the state before the candidate's matrix product (PyTorch's
/// <see cref="GRUCell"/> applies it after), with one bias per gate block:
/// <code>
/// [r, u] = σ([x, h] · W_g + b_g)        W_g: (in + H, 2H), b_g initialised to 1
/// c      = tanh([x, r ⊙ h] · W_c + b_c)  W_c: (in + H, H),  b_c initialised to 0
/// h'     = u ⊙ h + (1 − u) ⊙ c
/// </code>
/// The kernels and the dense weight are initialised Glorot-uniform over their whole shapes, TensorFlow's default
/// (bound √(6 / (fan_in + fan_out))), the dense bias to 0. Here each kernel is held as its input part and its state
/// part, in <see cref="Tensor.Linear(Tensor, Tensor, Tensor?)"/>'s (out, in) layout, drawn from the <see cref="Philox"/> in the order W_g, W_c,
/// dense weight. Sequences are time-major: x (T, B, in).
/// </remarks>
internal sealed class TfGruNetwork : Module
{
    private readonly Tensor _gateX, _gateH, _gateBias, _candX, _candH, _candBias, _denseW, _denseB;

    public TfGruNetwork(int inputSize, int hiddenSize, Philox rng)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        var h = hiddenSize;
        var gateBound = Glorot(inputSize + h, 2 * h);
        var candBound = Glorot(inputSize + h, h);
        _gateX = RegisterParameter("gates_kernel_x", Init.Uniform(Tensor.Zeros([2 * h, inputSize]), rng, -gateBound, gateBound));
        _gateH = RegisterParameter("gates_kernel_h", Init.Uniform(Tensor.Zeros([2 * h, h]), rng, -gateBound, gateBound));
        _gateBias = RegisterParameter("gates_bias", Tensor.Ones([2 * h]));
        _candX = RegisterParameter("candidate_kernel_x", Init.Uniform(Tensor.Zeros([h, inputSize]), rng, -candBound, candBound));
        _candH = RegisterParameter("candidate_kernel_h", Init.Uniform(Tensor.Zeros([h, h]), rng, -candBound, candBound));
        _candBias = RegisterParameter("candidate_bias", Tensor.Zeros([h]));
        var denseBound = Glorot(h, 1);
        _denseW = RegisterParameter("dense_kernel", Init.Uniform(Tensor.Zeros([1, h]), rng, -denseBound, denseBound));
        _denseB = RegisterParameter("dense_bias", Tensor.Zeros([1]));
    }

    public int InputSize { get; }

    public int HiddenSize { get; }

    /// <summary>Every parameter, by name, for tests that set or read them.</summary>
    public IReadOnlyDictionary<string, Tensor> Named => NamedParameters().ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);

    /// <summary>Runs the cell from a zero state over x (T, B, in) → the states h_1..h_T, each (B, H).</summary>
    public Tensor[] States(Tensor x)
    {
        int steps = x.Shape[0], batch = x.Shape[1], h = HiddenSize;
        var flat = x.Reshape(steps * batch, InputSize);
        var gx = Tensor.Linear(flat, _gateX, _gateBias);   // (T·B, 2H): the input part of every step at once
        var cx = Tensor.Linear(flat, _candX, _candBias);   // (T·B, H)
        var state = Tensor.Zeros([batch, h]);
        var states = new Tensor[steps];
        for (var t = 0; t < steps; t++)
        {
            var gates = (gx.Slice(0, t * batch, batch) + Tensor.Linear(state, _gateH, null)).Sigmoid();
            var ru = gates.Split(1, h, h);
            var c = (cx.Slice(0, t * batch, batch) + Tensor.Linear(ru[0] * state, _candH, null)).Tanh();
            state = c + (ru[1] * (state - c)); // u ⊙ h + (1 − u) ⊙ c
            states[t] = state;
        }
        return states;
    }

    /// <summary>The dense layer's logit for states (…, H) → (…, 1).</summary>
    public Tensor Dense(Tensor states) => Tensor.Linear(states, _denseW, _denseB);

    private static float Glorot(int fanIn, int fanOut) => (float)Math.Sqrt(6.0 / (fanIn + fanOut));
}
