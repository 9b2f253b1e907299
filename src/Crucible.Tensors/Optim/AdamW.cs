namespace Crucible.Tensors.Optim;

/// <summary>
/// AdamW: Adam with decoupled weight decay (Loshchilov and Hutter, "Decoupled Weight Decay Regularization",
/// ICLR 2019), as PyTorch's <c>torch.optim.AdamW</c>: before the Adam step, θ ← θ − γ·λ·θ (= θ·(1 − γλ)), and the
/// gradient is not decayed. Otherwise identical to <see cref="Adam"/>, whose remarks give the update.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates AdamW over <paramref name="parameters"/>.</summary>
    /// <param name="parameters">Leaf tensors that require grad.</param>
    /// <param name="lr">The learning rate γ.</param>
    /// <param name="beta1">The first-moment decay β1 in [0, 1).</param>
    /// <param name="beta2">The second-moment decay β2 in [0, 1).</param>
    /// <param name="eps">The denominator term ε &gt; 0.</param>
    /// <param name="weightDecay">The decoupled decay λ ≥ 0 (θ shrinks by the factor 1 − γλ each step).</param>
    /// <param name="amsgrad">Use AMSGrad's running maximum of v.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter out of range.</exception>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: true)
    {
    }
}
