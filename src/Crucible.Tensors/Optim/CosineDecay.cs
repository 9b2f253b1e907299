namespace Crucible.Tensors.Optim;

/// <summary>
/// Cosine decay (Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017, without
/// restarts): lr(t) = lr_min + ½ (lr_max − lr_min) (1 + cos(π · min(t, T) / T)); lr_max at t = 0, lr_min from t = T on.
/// </summary>
/// <param name="MaxLr">lr_max at step 0.</param>
/// <param name="DecaySteps">T ≥ 1.</param>
/// <param name="MinLr">lr_min, reached at step T and kept afterwards.</param>
public sealed record CosineDecay(double MaxLr, long DecaySteps, double MinLr = 0) : LearningRateSchedule
{
    /// <summary>lr_max.</summary>
    public double MaxLr { get; } = NonNegative(MaxLr, nameof(MaxLr));

    /// <summary>T.</summary>
    public long DecaySteps { get; } = AtLeast(DecaySteps, 1, nameof(DecaySteps));

    /// <summary>lr_min.</summary>
    public double MinLr { get; } = NonNegative(MinLr, nameof(MinLr));

    /// <inheritdoc />
    public override double LearningRate(long step)
    {
        CheckStep(step);
        return Cosine(MaxLr, MinLr, step, DecaySteps);
    }
}
