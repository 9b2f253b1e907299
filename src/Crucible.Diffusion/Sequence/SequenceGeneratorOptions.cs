using System.Globalization;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Sequence;

/// <summary>The per-series affine map between log returns and the sequence model's space.</summary>
public enum SequenceTransform
{
    /// <summary>None: the model works on log returns as they are (r = x); the volatility-adaptive schedule scales the noise.</summary>
    None,

    /// <summary>r = mean_i + std_i · x with the train mean and standard deviation of each series.</summary>
    Standardize,
}

/// <summary>
/// Everything that defines a <see cref="SequenceGenerator"/>: window, transform, diffusion process, network, condition
/// dropout, training and seed. Saved in the model manifest as <c>config</c>; <c>crucible train --kind sequence
/// --config FILE</c> reads the same JSON (snake_case keys, any subset).
/// </summary>
public sealed record SequenceGeneratorOptions
{
    /// <summary>W, the window length in days (windows are cut with stride 1).</summary>
    public int Window { get; init; } = 20;

    /// <summary>The per-series affine map to model space.</summary>
    public SequenceTransform Transform { get; init; } = SequenceTransform.None;

    /// <summary>The β schedule.</summary>
    public BetaScheduleKind Schedule { get; init; } = BetaScheduleKind.Linear;

    /// <summary>T, the number of diffusion steps.</summary>
    public int DiffusionSteps { get; init; } = 1000;

    /// <summary>Scale each series' noise by its train volatility (<see cref="VolatilityAdaptiveSchedule"/>).</summary>
    public bool VolatilityAdaptive { get; init; } = true;

    /// <summary>What the network predicts (v by default, as the tabular generator).</summary>
    public Objective Objective { get; init; } = Objective.V;

    /// <summary>The hidden channel count H.</summary>
    public int Hidden { get; init; } = 64;

    /// <summary>Residual dilated convolutions (dilations 1, 2, 4, …).</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Attention heads per cross-attention block.</summary>
    public int Heads { get; init; } = 4;

    /// <summary>A cross-attention block after every this many convolutions (and after the last).</summary>
    public int AttentionEvery { get; init; } = 2;

    /// <summary>The sinusoidal timestep-embedding width (even).</summary>
    public int TimeEmbedding { get; init; } = 128;

    /// <summary>p_uncond: the probability that a training window is seen without any condition (classifier-free guidance).</summary>
    public double UnconditionalProbability { get; init; } = 0.15;

    /// <summary>The probability that a conditioned training window keeps only a random subset of its features.</summary>
    public double SubsetProbability { get; init; } = 0.35;

    /// <summary>
    /// h: the standard deviation of the Gaussian noise added to each present condition value during training, in
    /// training standard deviations (condition noise augmentation, <see cref="Conditioning.ConditionDropout.Noise"/>):
    /// the learned conditional is the kernel-smoothed one with bandwidth h, so sparse extreme states pool their
    /// neighbours. 0: none. The default 1.5 follows the rule in <c>bench/sequence/README.md</c> (the smallest h on a
    /// 0.25 grid at which the kernel-smoothed training ES rises with the VIX level).
    /// </summary>
    public double ConditionNoise { get; init; } = 1.5;

    /// <summary>
    /// The classifier-free guidance weight w of requests that give none (<see cref="SequenceSampleRequest.GuidanceScale"/>
    /// null: the CLI without <c>--guidance</c>, the service without <c>guidance</c>): 0 unconditional, 1 the plain
    /// conditional model, &gt; 1 amplified. It acts at sampling only and is recorded in each scenario's metadata. The
    /// default 4 follows the rule in <c>bench/sequence/README.md</c>: the smallest integer w at which the model
    /// conditioned on the training period's most extreme state (2008-11-20) comes within 25% of the realised ES of
    /// the gfc-2008 episode.
    /// </summary>
    public double GuidanceScale { get; init; } = 4.0;

    /// <summary>
    /// σ_g, limited-interval guidance for requests that give none (<see cref="SequenceSampleRequest.GuidanceMinNoise"/>
    /// null): guidance acts only at the steps whose noise level σ_t = √((1 − ᾱ_t)/ᾱ_t) is at least σ_g, and the plain
    /// conditional model (w = 1) samples the rest (<see cref="Conditioning.ClassifierFreeGuidance"/>). 0 (the default):
    /// every step. On the multi-asset panel σ_g = 12 (the last 300 of 1,000 linear-schedule steps) keeps the ES rising
    /// with the VIX condition at w = 4–6 and weakens the response to extreme states (bench/sequence/README.md).
    /// </summary>
    public double GuidanceMinNoise { get; init; }

    /// <summary>
    /// a, regime guidance for requests that give none (<see cref="SequenceSampleRequest.RegimeGuidance"/> null): the
    /// windows of a conditional request are scaled by k = exp(a · (ℓ_c − ℓ_∅)), the conditional model's shift of the
    /// windows' log scale amplified a-fold (<see cref="Sequence.RegimeGuidance"/>). 0 (the default): none. Set by
    /// <see cref="SequenceGenerator.CalibrateGuidance"/> with <see cref="GuidanceCalibrationRule.Regime"/>.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double RegimeGuidance { get; init; }

    /// <summary>
    /// Public-state volatility scaling (the <c>state_scale</c> key; null: none, the default): the name of a condition
    /// feature read from the state file (e.g. <c>VIXCLS</c>) whose level carries the returns' volatility. Each training
    /// window's log returns are divided by s = v / v̄, v its value in the window's condition (the state before its first
    /// day) and v̄ the feature's mean in the conditions' statistics (<see cref="ConditionManifest.Mean"/>: under DP the
    /// public state file's rows up to the train end), before the transform; a generated window is multiplied by the s of
    /// the requested value, or, when the request does not set the feature, by the s of a level drawn from the public
    /// distribution recorded in the manifest (<see cref="StateScaleManifest"/>). The model then learns roughly
    /// volatility-standardised returns, and the requested level sets the volatility by a fixed function of public data
    /// that no training (and no DP noise) can weaken. Windows whose state lacks the feature keep s = 1.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? StateScale { get; init; }

    /// <summary>
    /// The sequence generator's default training: 3,000 steps, batches of 128 windows, peak learning rate 2e-3, 100
    /// warm-up steps (the rest as <see cref="TrainerOptions"/>'s defaults, which are the tabular generator's). Change one
    /// setting with <c>DefaultTraining with { Steps = 500 }</c>: a <c>new TrainerOptions(Steps: 500)</c> would also
    /// take the tabular batch size and learning rate.
    /// </summary>
    public static TrainerOptions DefaultTraining { get; } = new(Steps: 3000, BatchSize: 128, LearningRate: 2e-3, WarmupSteps: 100);

    /// <summary>Optimiser, schedule and EMA settings (default <see cref="DefaultTraining"/>); its seed is replaced by <see cref="Seed"/>.</summary>
    public TrainerOptions Training { get; init; } = DefaultTraining;

    /// <summary>Seeds the network initialisation (Philox stream 0) and the training draws (stream 1).</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// DP-SGD training (the <c>privacy</c> key, the tabular generator's shape; null: none, the default). Each window is one
    /// example of DP-SGD; <see cref="DpTrainingOptions.Unit"/> says what the guarantee is stated for: <c>record</c> (the
    /// default: a day, which lies in up to k = W windows, so ε per day is the group bound k·ε_window,
    /// <see cref="GroupPrivacy"/>) or <c>window</c> (<c>entity</c> is refused: the data has no entity column). Nothing
    /// else is fitted on the private returns (RELIABILITY.md DP-11): the model space is r / <c>public_scale</c> clipped to
    /// ±<c>public_bound</c>, the noise is isotropic, and the PACF regulariser and guidance calibration are refused;
    /// conditions only on a state declared public (<see cref="DpTrainingOptions.PublicState"/>, from the state file alone,
    /// RV20 refused); see <see cref="WithPrivacy"/>.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public DpTrainingOptions? Privacy { get; init; }

    /// <summary>These options with DP-SGD training: sets <see cref="Privacy"/> and switches off the data-fitted transform and noise scales.</summary>
    public SequenceGeneratorOptions WithPrivacy(DpTrainingOptions privacy) =>
        this with { Privacy = privacy, Transform = SequenceTransform.None, VolatilityAdaptive = false };

    /// <summary>The unit of privacy of <see cref="Privacy"/> (record when it names none).</summary>
    /// <remarks>
    /// Derived, not a setting: never written into a manifest's <c>config</c> (where it read "record" for a model trained
    /// without DP, and the model card listed it as a training setting).
    /// </remarks>
    [System.Text.Json.Serialization.JsonIgnore]
    public PrivacyUnit PrivacyUnitOrDefault => Privacy?.Unit ?? PrivacyUnit.Record;

    // manifests and run manifests written before session 21 carry the derived key "privacy_unit_or_default" in their
    // config: accepted on reading (unknown keys are errors) and dropped; it has no state, so it is never written and
    // takes no part in the record's equality
    [System.Text.Json.Serialization.JsonInclude]
    [System.Text.Json.Serialization.JsonPropertyName("privacy_unit_or_default")]
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    private PrivacyUnit? LegacyPrivacyUnitOrDefault
    {
        get => null;
        init { }
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }

        Require(Window is >= 2 and <= 4096, "window must be in 2..4096");
        Require(Enum.IsDefined(Transform), $"unknown transform {Transform}");
        Require(Enum.IsDefined(Schedule), $"unknown schedule {Schedule}");
        Require(Enum.IsDefined(Objective), $"unknown objective {Objective}");
        Require(DiffusionSteps is >= 2 and <= 100_000, "diffusion_steps must be in 2..100000");
        Require(Hidden >= 1 && Heads >= 1 && Hidden % Heads == 0, "hidden must be a positive multiple of heads");
        Require(Layers is >= 1 and <= 30 && AttentionEvery >= 1, "layers must be in 1..30 and attention_every positive");
        Require(TimeEmbedding >= 2 && TimeEmbedding % 2 == 0, "time_embedding must be even and at least 2");
        Require(UnconditionalProbability is >= 0 and <= 1 && SubsetProbability is >= 0 and <= 1, "unconditional_probability and subset_probability must be in [0, 1]");
        Require(double.IsFinite(GuidanceScale) && GuidanceScale >= 0, "guidance_scale must be finite and non-negative");
        Require(double.IsFinite(GuidanceMinNoise) && GuidanceMinNoise >= 0, "guidance_min_noise must be finite and non-negative");
        Require(double.IsFinite(ConditionNoise) && ConditionNoise >= 0, "condition_noise must be finite and non-negative");
        Require(double.IsFinite(RegimeGuidance) && RegimeGuidance >= 0, "regime_guidance must be finite and non-negative");
        Require(StateScale is null || (StateScale.Length > 0 && !EconomicState.IsReturnDerived(StateScale)),
            "state_scale must name a feature of the state file (e.g. VIXCLS), not an empty name or a feature computed from the returns (RV20)");
        Require(Training is not null, "training settings are missing");
        Require(Training!.Steps >= 1 && Training.BatchSize >= 1, "training.steps and training.batch_size must be positive");
        Require(Training.BatchSize <= TrainerOptions.MaxBatchSize,
            string.Create(CultureInfo.InvariantCulture, $"training.batch_size must be at most {TrainerOptions.MaxBatchSize}, got {Training.BatchSize}"));
        Require(double.IsFinite(Training.LearningRate) && Training.LearningRate > 0, "training.learning_rate must be positive");
        Require(Training.WarmupSteps >= 0, "training.warmup_steps must be non-negative");
        Require(Training.EmaDecay is >= 0 and < 1, "training.ema_decay must be in [0, 1)");
        Require(Training.GradClipNorm >= 0 && Training.WeightDecay >= 0 && Training.MinLearningRate >= 0,
            "training.grad_clip_norm, weight_decay and min_learning_rate must be non-negative");
        // the PACF regulariser compares lags 1..K of each window: K must be below W (the trainer would throw from inside the fit)
        Require(double.IsFinite(Training.PacfWeight) && Training.PacfWeight >= 0, "training.pacf_weight must be finite and non-negative");
        Require(Training.PacfWeight == 0 || (Training.PacfLags >= 1 && Training.PacfLags < Window), string.Create(CultureInfo.InvariantCulture,
            $"training.pacf_lags must be in 1..{Window - 1} (below the window of {Window}) when training.pacf_weight is set, got {Training.PacfLags}"));
        if (Privacy is not null)
        {
            Privacy.Validate();
            Require(Privacy.Unit is not PrivacyUnit.Entity,
                "privacy.unit entity is not available for sequence models: the data has no entity column; use record (a day, group privacy over the W windows that hold it) or window");
            Require(Transform == SequenceTransform.None && !VolatilityAdaptive,
                "with privacy, transform must be none and volatility_adaptive false: the standardisation and the per-series noise scales would be fitted on the private returns outside the DP guarantee (returns are scaled by privacy.public_scale instead)");
            Require(Training.PacfWeight == 0,
                "with privacy, training.pacf_weight must be 0: the PACF regulariser's targets are statistics of the private returns outside the DP guarantee");
            Require(RegimeGuidance == 0, "with privacy, regime_guidance must be 0: it is calibrated on the private returns");
        }
    }
}
