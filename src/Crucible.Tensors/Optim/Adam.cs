using System.Numerics.Tensors;

namespace Crucible.Tensors.Optim;

/// <summary>
/// Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1) with PyTorch's
/// <c>torch.optim.Adam</c> placement of ε, L2 weight decay added to the gradient, and optional AMSGrad
/// (Reddi, Kale and Kumar, "On the Convergence of Adam and Beyond", ICLR 2018).
/// </summary>
/// <remarks>
/// For each parameter θ with gradient g, at its step t = 1, 2, … (γ = lr, λ = weight decay):
/// <code>
/// g ← g + λ·θ                                   (L2; <see cref="AdamW"/> instead decays θ, see there)
/// m ← β1·m + (1 − β1)·g                          (computed as PyTorch's lerp: m + (1 − β1)·(g − m))
/// v ← β2·v + (1 − β2)·g²
/// v̂ ← max(v̂, v) with AMSGrad, else v̂ = v
/// θ ← θ − (γ / (1 − β1^t)) · m / (√v̂ / √(1 − β2^t) + ε)
/// </code>
/// i.e. θ ← θ − γ·m̂/(√v̂ + ε) with bias-corrected m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t). The bias corrections are
/// computed in double; the element-wise update runs in float32 as one fused SIMD pass that allocates nothing.
/// The parameter's <see cref="Tensor.Grad"/> is not modified.
/// </remarks>
public class Adam : Optimizer
{
    private readonly bool _decoupled;

    /// <summary>Creates Adam over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">Leaf tensors that require grad.</param>
    /// <param name="lr">The learning rate γ.</param>
    /// <param name="beta1">The first-moment decay β1 in [0, 1).</param>
    /// <param name="beta2">The second-moment decay β2 in [0, 1).</param>
    /// <param name="eps">The denominator term ε &gt; 0 (added after the square root, as PyTorch does).</param>
    /// <param name="weightDecay">The L2 penalty λ ≥ 0, added to the gradient.</param>
    /// <param name="amsgrad">Use AMSGrad's running maximum of v.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter out of range.</exception>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : this(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: false)
    {
    }

    private protected Adam(IEnumerable<Tensor> parameters, double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad, bool decoupled)
        : base(parameters, lr, OptimizerBuffer.ExpAvg, OptimizerBuffer.ExpAvgSq, OptimizerBuffer.MaxExpAvgSq)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "β1 must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "β2 must be in [0, 1)");
        if (!(eps > 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "ε must be finite and > 0");
        if (!double.IsFinite(weightDecay) || weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be finite and ≥ 0");
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
        Amsgrad = amsgrad;
        _decoupled = decoupled;
    }

    /// <summary>The first-moment decay β1.</summary>
    public double Beta1 { get; }

    /// <summary>The second-moment decay β2.</summary>
    public double Beta2 { get; }

    /// <summary>The denominator term ε.</summary>
    public double Eps { get; }

    /// <summary>The weight decay λ (L2 for <see cref="Adam"/>, decoupled for <see cref="AdamW"/>).</summary>
    public double WeightDecay { get; }

    /// <summary>Whether AMSGrad is used.</summary>
    public bool Amsgrad { get; }

    /// <inheritdoc />
    public override void Step()
    {
        double lr = LearningRate;
        float l2 = _decoupled ? 0f : (float)WeightDecay;
        float w1 = (float)(1 - Beta1), beta2 = (float)Beta2, w2 = (float)(1 - Beta2), eps = (float)Eps;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var grad = GradOf(i);
            if (grad is null) continue;
            var theta = Parameters[i].Data.AsSpan();
            long t = IncrementStep(i);
            if (_decoupled && WeightDecay != 0)
            {
                TensorPrimitives.Multiply(theta, (float)(1 - (lr * WeightDecay)), theta); // θ ← θ·(1 − γλ)
            }

            double biasCorrection1 = 1 - Math.Pow(Beta1, t);
            double biasCorrection2 = 1 - Math.Pow(Beta2, t);
            float negStepSize = (float)(-lr / biasCorrection1);
            float bc2Sqrt = (float)Math.Sqrt(biasCorrection2);
            AdamKernel.Update(
                theta, grad, Buffer(OptimizerBuffer.ExpAvg, i), Buffer(OptimizerBuffer.ExpAvgSq, i),
                Amsgrad ? Buffer(OptimizerBuffer.MaxExpAvgSq, i) : [], l2, w1, beta2, w2, negStepSize, bc2Sqrt, eps);
        }
    }
}
