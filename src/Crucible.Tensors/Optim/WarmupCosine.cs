namespace Crucible.Tensors.Optim;

/// <summary>
/// Linear warm-up then cosine decay, the usual transformer and diffusion recipe:
/// lr(t) = lr₀ + (lr_max − lr₀) · t / W for t &lt; W, then
/// lr(t) = lr_min + ½ (lr_max − lr_min) (1 + cos(π · min(t − W, T − W) / (T − W))) for t ≥ W.
/// So lr(0) = lr₀, lr(W) = lr_max, lr((W + T)/2) = (lr_max + lr_min)/2, and lr_min from step T on.
/// </summary>
/// <param name="MaxLr">lr_max, reached at the end of the warm-up.</param>
/// <param name="WarmupSteps">W ≥ 0 (0: no warm-up).</param>
/// <param name="TotalSteps">T &gt; W: the step at which lr_min is reached.</param>
/// <param name="MinLr">lr_min.</param>
/// <param name="InitialLr">lr₀ at step 0.</param>
public sealed record WarmupCosine(double MaxLr, long WarmupSteps, long TotalSteps, double MinLr = 0, double InitialLr = 0) : LearningRateSchedule
{
    /// <summary>lr_max.</summary>
    public double MaxLr { get; } = NonNegative(MaxLr, nameof(MaxLr));

    /// <summary>W.</summary>
    public long WarmupSteps { get; } = AtLeast(WarmupSteps, 0, nameof(WarmupSteps));

    /// <summary>T.</summary>
    public long TotalSteps { get; } = AtLeast(TotalSteps, Math.Max(WarmupSteps, 0) + 1, nameof(TotalSteps));

    /// <summary>lr_min.</summary>
    public double MinLr { get; } = NonNegative(MinLr, nameof(MinLr));

    /// <summary>lr₀.</summary>
    public double InitialLr { get; } = NonNegative(InitialLr, nameof(InitialLr));

    /// <inheritdoc />
    public override double LearningRate(long step)
    {
        CheckStep(step);
        if (step < WarmupSteps) return InitialLr + ((MaxLr - InitialLr) * step / WarmupSteps);
        return Cosine(MaxLr, MinLr, step - WarmupSteps, TotalSteps - WarmupSteps);
    }
}
