namespace Crucible.Tensors.Optim;

/// <summary>
/// A learning-rate schedule: a pure function from the step (0, 1, 2, …: the number of optimiser steps already
/// taken) to a learning rate, computed in double. Call <see cref="Apply"/> before each <see cref="Optimizer.Step"/>.
/// The schedules are <see cref="LinearWarmup"/>, <see cref="CosineDecay"/> and <see cref="WarmupCosine"/>; their
/// parameters are validated when the record is constructed.
/// </summary>
public abstract record LearningRateSchedule
{
    /// <summary>The learning rate for step <paramref name="step"/> (≥ 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public abstract double LearningRate(long step);

    /// <summary>Sets <paramref name="optimizer"/>'s <see cref="Optimizer.LearningRate"/> to <see cref="LearningRate"/>(<paramref name="step"/>).</summary>
    public void Apply(Optimizer optimizer, long step)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.LearningRate = LearningRate(step);
    }

    private protected static double NonNegative(double value, string name) =>
        double.IsFinite(value) && value >= 0 ? value : throw new ArgumentOutOfRangeException(name, value, "must be finite and ≥ 0");

    private protected static long AtLeast(long value, long min, string name) =>
        value >= min ? value : throw new ArgumentOutOfRangeException(name, value, $"must be ≥ {min}");

    private protected static void CheckStep(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "the step must be ≥ 0");
    }

    /// <summary>lr_min + ½ (lr_max − lr_min) (1 + cos(π · min(t, T) / T)).</summary>
    private protected static double Cosine(double maxLr, double minLr, long t, long steps)
    {
        double progress = Math.Min(t, steps) / (double)steps;
        return minLr + (0.5 * (maxLr - minLr) * (1 + Math.Cos(Math.PI * progress)));
    }
}
