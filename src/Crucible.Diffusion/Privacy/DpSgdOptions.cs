using Crucible.Data;

namespace Crucible.Diffusion.Privacy;

/// <summary>What one training record of the privacy guarantee is (DP-8).</summary>
public enum PrivacyUnit
{
    /// <summary>One row / example: each appears in one training example.</summary>
    Record,

    /// <summary>One window of a time series: overlapping windows share days, so a day is not protected at this unit.</summary>
    Window,

    /// <summary>One entity (a client, a position, a series): all its examples are aggregated and clipped once.</summary>
    Entity,
}

/// <summary>The declared DP-SGD configuration: clipping norm, noise (or target ε), sampling, horizon and budget.</summary>
public sealed record DpSgdOptions
{
    /// <summary>C, the L2 bound each example's gradient is clipped to.</summary>
    public required double MaxGradNorm { get; init; }

    /// <summary>σ, noise std / C. Null: calibrated from <see cref="TargetEpsilon"/> with <see cref="NoiseCalibration"/>.</summary>
    public double? NoiseMultiplier { get; init; }

    /// <summary>The ε to calibrate σ for, when <see cref="NoiseMultiplier"/> is null.</summary>
    public double? TargetEpsilon { get; init; }

    /// <summary>δ; must be below 1/N.</summary>
    public required double Delta { get; init; }

    /// <summary>The expected batch size q·N (q is derived from it and the dataset size).</summary>
    public required double ExpectedBatchSize { get; init; }

    /// <summary>The number of steps the run is planned for: ε is projected over all of them before the first.</summary>
    public required long Steps { get; init; }

    /// <summary>ε_max: a configuration whose projected ε exceeds it is refused (default 10, TF Privacy's "less than 10").</summary>
    public double EpsilonBudget { get; init; } = 10;

    /// <summary>The unit of privacy the guarantee is stated for.</summary>
    public PrivacyUnit Unit { get; init; } = PrivacyUnit.Record;

    /// <summary>The RDP to (ε, δ) conversion.</summary>
    public RdpConversion Conversion { get; init; } = RdpConversion.Balle2020;

    /// <summary>
    /// Secure mode: the noise and the Poisson draws come from the OS CSPRNG (<see cref="SecureDpRandom"/>), never from the
    /// seeded stream the engine is given, so no recorded seed can regenerate them; training is then not reproducible.
    /// Off (the default) for experiments; on, and trained again from scratch, for a model to release (Opacus's FAQ).
    /// </summary>
    public bool SecureMode { get; init; }

    /// <summary>Checks the values that do not depend on the data.</summary>
    /// <exception cref="InvalidInputException">A value is out of range.</exception>
    public void Validate()
    {
        if (!(MaxGradNorm > 0) || double.IsInfinity(MaxGradNorm)) throw Bad("max_grad_norm must be a finite number > 0");
        if (NoiseMultiplier is { } s && (!(s >= 0) || double.IsInfinity(s))) throw Bad("noise_multiplier must be a finite number ≥ 0");
        if (NoiseMultiplier is null && !(TargetEpsilon is { } e && double.IsFinite(e) && e > 0))
            throw Bad("target_epsilon must be a finite number > 0 when no noise_multiplier is given");
        if (!(Delta > 0 && Delta < 1)) throw Bad("delta must be in (0, 1)");
        if (!(ExpectedBatchSize > 0)) throw Bad("expected_batch_size must be > 0");
        if (Steps < 1) throw Bad("steps must be at least 1");
        if (!(EpsilonBudget > 0)) throw Bad("epsilon_budget must be > 0"); // ∞ allowed here: the σ = 0 references of the tests

        static InvalidInputException Bad(string message) => new("DP-E-CONFIG", message);
    }
}
