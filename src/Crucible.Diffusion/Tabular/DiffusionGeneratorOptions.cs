using System.Globalization;
using System.Text.Json.Serialization;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;

namespace Crucible.Diffusion.Tabular;

/// <summary>The per-series transform between log returns and the space the diffusion model works in.</summary>
public enum MarginalTransform
{
    /// <summary>
    /// Empirical quantiles → standard normal scores (<see cref="Crucible.Data.Transforms.QuantileNormalTransform"/>, as
    /// TabDDPM and FinDiff do): the model learns a near-Gaussian copula and the inverse transform restores the
    /// train marginals, heavy tails included. Values beyond the train range come only from the linear extrapolation of
    /// the outermost knots, and only under <see cref="TailPolicy.Extrapolate"/> (see <see cref="DiffusionGeneratorOptions.Tails"/>).
    /// The knots are train order statistics: the model file discloses each series' train quantiles.
    /// </summary>
    QuantileNormal,

    /// <summary>Subtract the train mean and divide by the train standard deviation per series.</summary>
    Standardize,

    /// <summary>None: the model works on log returns as they are (use with the volatility-adaptive schedule).</summary>
    None,
}

/// <summary>What happens to generated values beyond the train range of a series.</summary>
public enum TailPolicy
{
    /// <summary>
    /// Clamp each series to its train range in model space (the default): no generated value is beyond the train
    /// minimum and maximum of its series. The model then cannot produce a move larger than history.
    /// </summary>
    Clamp,

    /// <summary>
    /// Let the inverse transform extrapolate: for the quantile-normal transform, linearly with the slope of the two
    /// outermost knots. Values can exceed the largest train move, by an amount set by the spacing of the two most
    /// extreme observations rather than estimated from the tail.
    /// </summary>
    Extrapolate,
}

/// <summary>
/// Everything that defines a <see cref="DiffusionGenerator"/>: transform, diffusion process, network, training and seed.
/// Saved in the model manifest as <c>config</c>; <c>crucible train --config FILE</c> reads the same JSON (snake_case
/// keys, any subset; absent keys keep these defaults).
/// </summary>
public sealed record DiffusionGeneratorOptions
{
    /// <summary>The per-series transform fitted on the train split.</summary>
    public MarginalTransform Transform { get; init; } = MarginalTransform.QuantileNormal;

    /// <summary>The most knots per series of the quantile-normal transform.</summary>
    public int QuantileKnots { get; init; } = 1000;

    /// <summary>Values beyond the train range of a series.</summary>
    public TailPolicy Tails { get; init; } = TailPolicy.Clamp;

    /// <summary>
    /// ZCA-whiten the transformed rows (see <see cref="Whitening"/>) so the diffusion model works on uncorrelated
    /// unit-variance components; samples are mapped back before the inverse transform.
    /// </summary>
    public bool Whiten { get; init; }

    /// <summary>
    /// Stratified training (issue #9): series → segment label (e.g. one dimension of a segments file), or null (the
    /// default: every element weighs the same). Every segment then contributes equally to the training loss: series i in
    /// segment g of size n_g gets the loss weight D / (G · n_g) (<see cref="Crucible.Data.Segments.SegmentMap.EqualSegmentWeights"/>).
    /// Every trained series must have a label; not with <see cref="Whiten"/> (whitened components are not series).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Strata { get; init; }

    /// <summary>The β schedule.</summary>
    public BetaScheduleKind Schedule { get; init; } = BetaScheduleKind.Linear;

    /// <summary>T, the number of diffusion steps.</summary>
    public int DiffusionSteps { get; init; } = 1000;

    /// <summary>Scale each series' noise by its train volatility (<see cref="VolatilityAdaptiveSchedule"/>); false: σ = 1.</summary>
    public bool VolatilityAdaptive { get; init; } = true;

    /// <summary>
    /// What the network predicts. v (the default) keeps x̂_0 bounded at high noise; with ε, x̂_0 = (x_t − √(1−ᾱ) ε̂)/√ᾱ
    /// amplifies the network's error by 1/√ᾱ_T ≈ 160 at the first step of a linear schedule, which showed as spurious
    /// extreme rows with DDIM on the multi-asset panel.
    /// </summary>
    public Objective Objective { get; init; } = Objective.V;

    /// <summary>The MLP denoiser's hidden width.</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>The MLP denoiser's residual blocks.</summary>
    public int Blocks { get; init; } = 3;

    /// <summary>The sinusoidal timestep-embedding width (even).</summary>
    public int TimeEmbedding { get; init; } = 128;

    /// <summary>
    /// p of the dropout in the MLP denoiser's residual blocks, after the activation as in TabDDPM's MLP
    /// (<see cref="Networks.MlpDenoiserConfig.Dropout"/>), in [0, 1); 0 (the default, not written to the manifest) is none. A
    /// regulariser against memorising train rows: active only in the main training, its masks drawn from Philox stream 5
    /// (<see cref="DiffusionTrainer.DropoutStream"/>); the sampler, the marginal calibration's draws, the distillation's
    /// teacher and its student fine-tuning (which regresses the teacher's deterministic ODE map, not data) all run the
    /// network without it. With <see cref="Privacy"/> the masks drop inside the ghost-clipped forward pass (per example,
    /// so the per-example clip stays exact); not with <see cref="DpTrainingOptions.SecureMode"/>, where every per-example
    /// draw comes from the OS CSPRNG and the masks would come from the seeded stream.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Dropout { get; init; }

    /// <summary>
    /// h of the smoothed training rows, ≥ 0; 0 (the default, not written to the manifest) trains on the rows as they are.
    /// With h &gt; 0 the main training replaces each row of each batch by x' = μ + (x − μ + h·L·z) / √(1 + h²), z ~ N(0, I)
    /// fresh per row and step from Philox stream 6 (<see cref="DiffusionTrainer.SmoothingStream"/>), μ and L (the
    /// Cholesky factor of the covariance) of the training rows in model space, after the transform and any whitening
    /// (<see cref="SmoothedBootstrap"/>): the batches keep the rows' means and covariances exactly while no row is seen
    /// twice, a regulariser against memorisation. The distillation (whose targets are the teacher's ODE map, with the
    /// rows only as starting points) and the marginal calibration (the model's own draws) do not smooth. Not with
    /// <see cref="Privacy"/>: L would be computed from the private rows outside DP-SGD's accounting.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Smoothing { get; init; }

    /// <summary>Optimiser, schedule and EMA settings; its <see cref="TrainerOptions.Seed"/> is replaced by <see cref="Seed"/>.</summary>
    public TrainerOptions Training { get; init; } = new();

    /// <summary>Seeds the network initialisation (Philox stream 0) and the training draws (stream 1).</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// DP-SGD training (null: ordinary training). Requires <see cref="Transform"/> none, no volatility-adaptive schedule
    /// and no whitening, whose parameters would be fitted on the private rows; see <see cref="WithPrivacy"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DpTrainingOptions? Privacy { get; init; }

    /// <summary>
    /// Sampler distillation after training (null: none, the default): the network is fine-tuned so that DDIM with
    /// <see cref="SamplerDistillationOptions.SamplingSteps"/> steps and the given spacing follows the trained model's
    /// probability-flow ODE instead of contracting it (<see cref="SamplerDistillation"/>). The saved network is then
    /// made for that sampler: other samplers still run but see a network that is no longer the plain noise
    /// predictor at the grid's timesteps. Its seed is replaced by <see cref="Seed"/>. Not with <see cref="Privacy"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SamplerDistillationOptions? Distillation { get; init; }

    /// <summary>
    /// Marginal calibration after training (and after <see cref="Distillation"/>; null: none, the default): the model
    /// draws <see cref="MarginalCalibrationOptions.Rows"/> rows with the sampler it is made for (DDIM with the
    /// distillation's grid, else DDIM-50 with linear spacing), and a monotone per-series map that makes those draws'
    /// marginals N(0, 1) in model space (the train marginals after the inverse transform) is stored in the manifest and
    /// applied to every later draw of that sampler (<see cref="MarginalCalibration"/>). Needs the quantile-normal
    /// transform; not with <see cref="Privacy"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MarginalCalibrationOptions? Calibration { get; init; }

    /// <summary>
    /// The sampler a trained model is made for: DDIM (η = 0) with the distillation's steps and spacing, else the default
    /// DDIM-50 (<see cref="SamplerOptions.DefaultFor"/>: DDIM over every step of a model with fewer than 50).
    /// </summary>
    [JsonIgnore]
    public SamplerOptions MadeForSampler => Distillation is { } d
        ? new SamplerOptions(SamplerKind.Ddim, d.SamplingSteps, Eta: 0, Spacing: d.Spacing)
        : SamplerOptions.DefaultFor(DiffusionSteps);

    /// <summary>These options with DP-SGD training: sets <see cref="Privacy"/> and switches off every data-fitted preprocessing step.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="privacy"/> is null (it gave options without DP-SGD and
    /// without the data-fitted steps: a model with no guarantee that looked private).</exception>
    public DiffusionGeneratorOptions WithPrivacy(DpTrainingOptions privacy)
    {
        ArgumentNullException.ThrowIfNull(privacy);
        return this with { Privacy = privacy, Transform = MarginalTransform.None, VolatilityAdaptive = false, Whiten = false };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }

        Require(Enum.IsDefined(Transform), $"unknown transform {Transform}");
        Require(Enum.IsDefined(Tails), $"unknown tail policy {Tails}");
        Require(Enum.IsDefined(Schedule), $"unknown schedule {Schedule}");
        Require(Enum.IsDefined(Objective), $"unknown objective {Objective}");
        Require(QuantileKnots >= 2, "quantile_knots must be at least 2");
        Require(DiffusionSteps is >= 2 and <= 100_000, "diffusion_steps must be in 2..100000");
        Require(Hidden >= 1 && Blocks >= 0, "hidden must be positive and blocks non-negative");
        Require(TimeEmbedding >= 2 && TimeEmbedding % 2 == 0, "time_embedding must be even and at least 2");
        // the network's weights and a training batch's activations are tensors of at most int.MaxValue elements: a config
        // past that stopped in the network's constructor or the first step, an internal error
        static void RequireTensor(long elements, string what) => Require(elements <= int.MaxValue, string.Create(CultureInfo.InvariantCulture,
            $"{what} ({elements} elements), more than the {int.MaxValue} elements a tensor holds"));
        RequireTensor((long)Hidden * Hidden, string.Create(CultureInfo.InvariantCulture, $"hidden {Hidden} needs {Hidden} × {Hidden} weights per block"));
        RequireTensor((long)Hidden * TimeEmbedding, string.Create(CultureInfo.InvariantCulture, $"time_embedding {TimeEmbedding} needs {Hidden} × {TimeEmbedding} weights"));
        Require(Dropout is >= 0 and < 1, "dropout must be in [0, 1)");
        Require(Smoothing >= 0 && double.IsFinite(Smoothing), "smoothing must be a finite value ≥ 0");
        Require(Smoothing == 0 || Privacy is null,
            "smoothing cannot be combined with privacy: its kernel's covariance is computed from the private rows outside DP-SGD's accounting");
        Require(Strata is null || (Strata.Count > 0 && Strata.Values.All(l => !string.IsNullOrWhiteSpace(l))), "strata must map series to non-empty segment labels");
        Require(Strata is null || !Whiten, "strata (stratified training) cannot be combined with whiten: whitened components are not series");
        Require(Strata is null || Privacy is null, "strata (stratified training) cannot be combined with privacy: DP-SGD clips the plain per-example loss");
        Require(Training is not null, "training settings are missing");
        Require(Training!.Steps >= 1 && Training.BatchSize >= 1, "training.steps and training.batch_size must be positive");
        Require(Training.BatchSize <= TrainerOptions.MaxBatchSize,
            string.Create(CultureInfo.InvariantCulture, $"training.batch_size must be at most {TrainerOptions.MaxBatchSize}, got {Training.BatchSize}"));
        RequireTensor((long)Training.BatchSize * Math.Max(Hidden, TimeEmbedding), string.Create(CultureInfo.InvariantCulture,
            $"training.batch_size {Training.BatchSize} needs {Training.BatchSize} × {Math.Max(Hidden, TimeEmbedding)} activations"));
        Require(double.IsFinite(Training.LearningRate) && Training.LearningRate > 0, "training.learning_rate must be positive");
        Require(Training.WarmupSteps >= 0, "training.warmup_steps must be non-negative");
        Require(Training.EmaDecay is >= 0 and < 1, "training.ema_decay must be in [0, 1)");
        Require(Training.GradClipNorm >= 0 && Training.WeightDecay >= 0 && Training.MinLearningRate >= 0,
            "training.grad_clip_norm, weight_decay and min_learning_rate must be non-negative");
        // the trainer would throw from inside the fit (an internal error): the regulariser needs (D, W) windows
        Require(Training.PacfWeight == 0,
            "training.pacf_weight applies to sequence models only: the PACF regulariser compares the lags within each window, and a tabular model's samples are single rows; leave it 0");
        if (Distillation is { } distill)
        {
            Require(Privacy is null, "distillation cannot be combined with privacy: it reads the training rows outside DP-SGD's accounting");
            Require(distill.Steps >= 1 && distill.BatchSize >= 1, "distillation.steps and distillation.batch_size must be positive");
            Require(distill.BatchSize <= TrainerOptions.MaxBatchSize,
                string.Create(CultureInfo.InvariantCulture, $"distillation.batch_size must be at most {TrainerOptions.MaxBatchSize}, got {distill.BatchSize}"));
            RequireTensor((long)distill.BatchSize * Math.Max(Hidden, TimeEmbedding), string.Create(CultureInfo.InvariantCulture,
                $"distillation.batch_size {distill.BatchSize} needs {distill.BatchSize} × {Math.Max(Hidden, TimeEmbedding)} activations"));
            Require(distill.SamplingSteps >= 2 && distill.SamplingSteps <= DiffusionSteps, "distillation.sampling_steps must be in 2..diffusion_steps");
            Require(Enum.IsDefined(distill.Spacing), $"unknown distillation.spacing {distill.Spacing}");
            Require(double.IsFinite(distill.LearningRate) && distill.LearningRate > 0, "distillation.learning_rate must be positive");
            Require(distill.EmaDecay is >= 0 and < 1, "distillation.ema_decay must be in [0, 1)");
        }

        if (Calibration is { } calibration)
        {
            Require(Privacy is null, "calibration cannot be combined with privacy: with DP-SGD the model space is a public scaling, not the quantile-normal transform whose N(0, 1) marginals calibration restores");
            Require(Transform == MarginalTransform.QuantileNormal, "calibration needs transform quantile_normal: it maps the model's marginals onto the N(0, 1) that transform gives the train rows");
            Require(calibration.Rows >= 100, "calibration.rows must be at least 100");
            // a config that sets calibration.rows below 1000 alone meets the knots' default: the message says so
            Require(calibration.Knots >= 2 && calibration.Knots <= calibration.Rows, string.Create(CultureInfo.InvariantCulture,
                $"calibration.knots must be in 2..calibration.rows (2..{calibration.Rows} here), got {calibration.Knots} (calibration.knots is {new MarginalCalibrationOptions().Knots} when not given)"));
        }

        if (Privacy is not null)
        {
            Privacy.Validate();
            Require(Dropout == 0 || !Privacy.SecureMode,
                "dropout cannot be combined with privacy.secure_mode: in secure mode every per-example draw comes from the OS CSPRNG, and the dropout masks come from the seeded Philox stream");
            Require(Privacy.Unit is null or global::Crucible.Diffusion.Privacy.PrivacyUnit.Record, "privacy.unit: a tabular model's unit of privacy is the record (one train row); window and entity are for other kinds");
            Require(Transform == MarginalTransform.None && !VolatilityAdaptive && !Whiten,
                "with privacy, transform must be none, volatility_adaptive false and whiten false: their parameters would be fitted on the private rows outside the DP guarantee (rows are scaled by privacy.public_scale instead)");
        }
    }
}
