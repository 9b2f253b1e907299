using System.Numerics.Tensors;

namespace Crucible.Tensors.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay: PyTorch's
/// <c>torch.optim.SGD</c> update rule (Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and
/// momentum in deep learning", ICML 2013, in PyTorch's formulation).
/// </summary>
/// <remarks>
/// For each parameter θ with gradient g, at step t (λ = weight decay, μ = momentum, τ = dampening, γ = lr):
/// <code>
/// g ← g + λ·θ                         if λ ≠ 0
/// b ← g                                on the first step (μ ≠ 0; PyTorch: buf is None)
/// b ← μ·b + (1 − τ)·g                  afterwards
/// g ← g + μ·b  (Nesterov)   or   g ← b  if μ ≠ 0
/// θ ← θ − γ·g
/// </code>
/// The parameter's <see cref="Tensor.Grad"/> is not modified (the decayed gradient lives in a scratch buffer).
/// </remarks>
public sealed class Sgd : Optimizer
{
    private readonly float[]? _scratch;

    /// <summary>Creates SGD over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">Leaf tensors that require grad.</param>
    /// <param name="lr">The learning rate γ.</param>
    /// <param name="momentum">The momentum factor μ ≥ 0.</param>
    /// <param name="dampening">The dampening τ of the momentum.</param>
    /// <param name="weightDecay">The L2 penalty λ ≥ 0 (added to the gradient).</param>
    /// <param name="nesterov">Nesterov momentum; needs μ &gt; 0 and τ = 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite hyper-parameter.</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum, or with dampening.</exception>
    public Sgd(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, lr, OptimizerBuffer.Momentum)
    {
        if (!double.IsFinite(momentum) || momentum < 0) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be finite and ≥ 0");
        if (!double.IsFinite(dampening)) throw new ArgumentOutOfRangeException(nameof(dampening), dampening, "dampening must be finite");
        if (!double.IsFinite(weightDecay) || weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be finite and ≥ 0");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("Nesterov momentum requires a momentum and zero dampening", nameof(nesterov));
        Momentum = momentum;
        Dampening = dampening;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        if (weightDecay != 0 || nesterov) _scratch = new float[Parameters.Max(p => p.Length)];
    }

    /// <summary>The momentum factor μ.</summary>
    public double Momentum { get; }

    /// <summary>The dampening τ.</summary>
    public double Dampening { get; }

    /// <summary>The L2 weight decay λ.</summary>
    public double WeightDecay { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    public override void Step()
    {
        float lr = (float)LearningRate, mu = (float)Momentum, wd = (float)WeightDecay, oneMinusDampening = (float)(1 - Dampening);
        for (int i = 0; i < Parameters.Count; i++)
        {
            var grad = GradOf(i);
            if (grad is null) continue;
            var theta = Parameters[i].Data.AsSpan();
            IncrementStep(i);
            ReadOnlySpan<float> g = grad;
            if (wd != 0)
            {
                // g ← g + λ·θ   (in scratch: the parameter's Grad stays as backward left it)
                var decayed = _scratch.AsSpan(0, theta.Length);
                TensorPrimitives.MultiplyAdd(theta, wd, g, decayed);
                g = decayed;
            }

            if (mu != 0)
            {
                // PyTorch: "if buf is None: buf = clone(g) else: buf.mul_(μ).add_(g, alpha=1 − τ)"
                bool fresh = BufferOrNull(OptimizerBuffer.Momentum, i) is null;
                var b = Buffer(OptimizerBuffer.Momentum, i).AsSpan();
                if (fresh)
                {
                    g.CopyTo(b);                                              // b ← g
                }
                else
                {
                    TensorPrimitives.Multiply(b, mu, b);                      // b ← μ·b
                    TensorPrimitives.MultiplyAdd(g, oneMinusDampening, b, b); // b ← b + (1 − τ)·g
                }

                if (Nesterov)
                {
                    var look = _scratch.AsSpan(0, theta.Length);
                    TensorPrimitives.MultiplyAdd(b, mu, g, look);             // g ← g + μ·b
                    g = look;
                }
                else
                {
                    g = b;
                }
            }

            TensorPrimitives.MultiplyAdd(g, -lr, theta, theta);              // θ ← θ − γ·g
        }
    }
}
