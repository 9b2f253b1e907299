namespace Crucible.Tensors.Optim;

/// <summary>
/// Linear warm-up (Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017):
/// lr(t) = lr₀ + (lr_max − lr₀) · t / W for t &lt; W, then lr_max for t ≥ W.
/// </summary>
/// <param name="MaxLr">lr_max, reached at step W.</param>
/// <param name="WarmupSteps">W ≥ 1.</param>
/// <param name="InitialLr">lr₀ at step 0 (0 by default, as in Hugging Face's <c>get_linear_schedule_with_warmup</c>).</param>
public sealed record LinearWarmup(double MaxLr, long WarmupSteps, double InitialLr = 0) : LearningRateSchedule
{
    /// <summary>lr_max.</summary>
    public double MaxLr { get; } = NonNegative(MaxLr, nameof(MaxLr));

    /// <summary>W.</summary>
    public long WarmupSteps { get; } = AtLeast(WarmupSteps, 1, nameof(WarmupSteps));

    /// <summary>lr₀.</summary>
    public double InitialLr { get; } = NonNegative(InitialLr, nameof(InitialLr));

    /// <inheritdoc />
    public override double LearningRate(long step)
    {
        CheckStep(step);
        if (step >= WarmupSteps) return MaxLr;
        return InitialLr + ((MaxLr - InitialLr) * step / WarmupSteps);
    }
}
