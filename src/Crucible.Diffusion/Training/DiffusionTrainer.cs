using System.Diagnostics;
using System.Globalization;
using Crucible.Data;
using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Regularisation;
using Crucible.Diffusion.Schedules;
using Crucible.Tensors;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Training;

/// <summary>
/// Trains an <see cref="ITrainableDenoiser"/> on samples x_0 with the simple DDPM loss (Ho et al. 2020, Algorithm 1):
/// t ~ U{0..T−1}, ε ~ N(0, I), x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) σ ⊙ ε (σ = 1 unless the schedule is volatility-adaptive),
/// L = ‖f_θ(x_t / σ, t) − target‖² (the network sees unit-scale inputs) with the target of the <see cref="Objective"/>. AdamW, warm-up + cosine learning rate,
/// gradient clipping and an EMA of the weights. Checkpoints (<see cref="SaveCheckpoint"/>) hold everything the next
/// step depends on, so a run resumed from one is bit-identical to an uninterrupted run.
/// </summary>
public sealed class DiffusionTrainer
{
    private readonly ITrainableDenoiser _denoiser;
    private readonly VolatilityAdaptiveSchedule _schedule;
    private readonly Objective _objective;
    private readonly TrainerOptions _options;
    private readonly AdamW _optimizer;
    private readonly WarmupCosine _learningRate;
    private readonly ExponentialMovingAverage? _ema;
    private readonly Philox _rng;
    private readonly Philox _dropout;
    private readonly Philox _smoothing;
    private readonly List<float> _losses = [];

    // whether the last DP-SGD step drew an empty Poisson batch (its loss, 0 / 0, is NaN without any divergence)
    private bool _emptyBatch;
    private readonly TensorArena _arena = new();

    // the batch buffers, reused every step: x_t (B, S), target (B, S), t (B), ε for one sample (S); S = Π SampleShape
    private readonly Tensor[] _parameters;
    private readonly string[] _parameterNames;
    private readonly int[] _sampleShape;
    private readonly double[] _scale;
    private readonly float[] _xt;
    private readonly float[] _target;
    private readonly int[] _timesteps;
    private readonly int[] _rows;
    private readonly float[] _eps;
    private readonly float[] _x0;
    private readonly float[] _smoothed;
    private readonly PrivacyEngine? _privacy;
    private readonly PoissonSampler? _sampler;
    private readonly double[]? _clippedSum; // the private steps' clipped sum, reused every step
    private readonly float[]? _exampleInput;  // a private microbatch-of-one step's x_t / σ (S) and target (S), reused by every example
    private readonly float[]? _exampleTarget;
    private readonly float[]? _lossWeights;
    private int _step;

    // the PACF regulariser's target, computed from the training data of the first step (PacfWeight > 0 only)
    private PacfPenalty? _pacf;
    private TrainingData? _pacfData;

    // the last array passed to Fit(float[], …) or Step(float[], …), as training data (one wrapper per array, not per step)
    private ArrayTrainingData? _array;

    /// <summary>Prepares training of an <see cref="MlpDenoiser"/> under the isotropic process of <paramref name="schedule"/>.</summary>
    public DiffusionTrainer(MlpDenoiser network, NoiseSchedule schedule, Objective objective, TrainerOptions options)
        : this(
            new MlpDenoiserAdapter(network ?? throw new ArgumentNullException(nameof(network)), (schedule ?? throw new ArgumentNullException(nameof(schedule))).Steps),
            VolatilityAdaptiveSchedule.Isotropic(schedule, network.Config.Features), objective, options)
    {
    }

    /// <summary>Prepares training of <paramref name="denoiser"/> under the forward process of <paramref name="schedule"/>.</summary>
    public DiffusionTrainer(ITrainableDenoiser denoiser, VolatilityAdaptiveSchedule schedule, Objective objective, TrainerOptions options)
        : this(denoiser, schedule, objective, options, privacy: null)
    {
    }

    /// <summary>
    /// Prepares training with DP-SGD when <paramref name="privacy"/> is given (RELIABILITY.md §2.3): each step takes a
    /// Poisson batch (rate q from the engine, drawn from the trainer's stream, or in the engine's secure mode from its OS
    /// CSPRNG source), draws one (t, ε) per example, clips each
    /// example's gradient of its own loss ℓ_b = mean over the sample of the squared error (ghost clipping for an
    /// <see cref="IGhostClippingDenoiser"/> without conditions, a microbatch-of-one loop for any other denoiser), adds the engine's noise,
    /// divides by q·N and lets AdamW step on the result (post-processing). <see cref="TrainerOptions.GradClipNorm"/> is
    /// not applied (the per-example clip replaces it); <see cref="TrainerOptions.BatchSize"/> is not used (the engine's
    /// expected batch size is). The engine must be planned for exactly <see cref="TrainerOptions.Steps"/> steps.
    /// Checkpoints also hold the engine's accountant and noise position, so a resumed run is bit-identical and its ε
    /// continues from the saved history (RELIABILITY.md DP-9); in secure mode there is no noise position to hold: the
    /// accountant resumes and the noise continues from a fresh secure source. In secure mode the per-example (t, ε) draws
    /// come from the engine's secure source as well (they are assigned by position in the secret batch); the
    /// initialisation stays seeded (it does not depend on the data).
    /// </summary>
    public DiffusionTrainer(ITrainableDenoiser denoiser, VolatilityAdaptiveSchedule schedule, Objective objective, TrainerOptions options, PrivacyEngine? privacy)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Steps < 1 || options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "Steps and BatchSize must be positive");
        _denoiser = denoiser;
        _schedule = schedule;
        _objective = objective;
        _options = options;
        _sampleShape = [.. denoiser.SampleShape];
        _scale = schedule.ElementScales(_sampleShape);
        var named = denoiser.Network.NamedParameters().ToArray();
        _parameters = [.. named.Select(p => p.Parameter)];
        _parameterNames = [.. named.Select(p => p.Name)];
        _optimizer = new AdamW(_parameters, lr: options.LearningRate, weightDecay: options.WeightDecay);
        _learningRate = new WarmupCosine(options.LearningRate, Math.Min(options.WarmupSteps, options.Steps - 1), options.Steps, options.MinLearningRate);
        _ema = options.EmaDecay > 0 ? new ExponentialMovingAverage(_parameters, options.EmaDecay, warmup: true) : null;
        _rng = new Philox(options.Seed, stream: 1);
        _dropout = new Philox(options.Seed, stream: DropoutStream);
        _smoothing = new Philox(options.Seed, stream: SmoothingStream);
        int size = _scale.Length;
        _xt = new float[options.BatchSize * size];
        _target = new float[options.BatchSize * size];
        _timesteps = new int[options.BatchSize];
        _rows = new int[options.BatchSize];
        _eps = new float[size];
        _x0 = new float[size];
        _smoothed = new float[size];
        if (privacy is not null)
        {
            if (privacy.Options.Steps != options.Steps)
                throw new ArgumentException($"the privacy engine is planned for {privacy.Options.Steps} steps, the trainer for {options.Steps}", nameof(privacy));
            _privacy = privacy;
            _sampler = privacy.CreateSampler(_rng);
            _clippedSum = new double[_parameters.Sum(p => p.Length)];
            _exampleInput = new float[size];
            _exampleTarget = new float[size];
        }
        if (options.PacfWeight < 0 || !double.IsFinite(options.PacfWeight)) throw new ArgumentOutOfRangeException(nameof(options), "PacfWeight must be finite and ≥ 0");
        if (options.PacfWeight > 0 && (_sampleShape.Length != 2 || options.PacfLags < 1 || options.PacfLags >= _sampleShape[1]))
            throw new ArgumentException($"the PACF regulariser needs windows (D, W) with 1 ≤ PacfLags < W; samples are ({string.Join(", ", _sampleShape)}), PacfLags {options.PacfLags}", nameof(options));
    }

    /// <summary>
    /// The Philox stream of the dropout masks (<see cref="MlpDenoiserConfig.Dropout"/>): step s draws its masks from
    /// <c>new Philox(Seed, stream: 5).Split(s)</c>, a pure function of the seed and the step, so a resumed checkpoint
    /// draws the same masks without saving a generator position, and a network without dropout draws nothing (its
    /// training is exactly what it is without this stream).
    /// </summary>
    public const ulong DropoutStream = 5;

    /// <summary>
    /// The Philox stream of the smoothing kernel's draws (<see cref="Smoothing"/>): step s draws its batch's z from
    /// <c>new Philox(Seed, stream: 6).Split(s)</c>, row by row in batch order, a pure function of the seed and the step
    /// (a resumed checkpoint draws the same z without saving a generator position; without smoothing nothing is drawn).
    /// </summary>
    public const ulong SmoothingStream = 6;

    /// <summary>
    /// The smoothed bootstrap of the training rows (null: the default, rows as they are): each row of each batch is
    /// replaced by <see cref="SmoothedBootstrap.Smooth"/> of it before the forward process noises it, with a fresh z per
    /// row per step from <see cref="SmoothingStream"/>; the (row, t, ε) draws of the trainer's own stream are unchanged.
    /// Its kernel is fitted on the data passed to
    /// <see cref="Fit(TrainingData, IProgress{TrainingProgress}?, int, CheckpointOptions?, CancellationToken)"/> (the
    /// caller's job: <see cref="SmoothedBootstrap.Fit"/>).
    /// Not with DP-SGD (its covariance comes from the private rows outside the accounting): a private step throws.
    /// The PACF regulariser's target still comes from the unsmoothed rows.
    /// </summary>
    public SmoothedBootstrap? Smoothing { get; init; }

    /// <summary>The DP-SGD engine, or null when training is not private.</summary>
    public PrivacyEngine? Privacy => _privacy;

    /// <summary>
    /// Per-element weights of the loss (stratified training), one per element of a sample (Π SampleShape, row-major),
    /// or null (the default) for the plain mean squared error. With weights w the loss is
    /// (1 / (B·S)) Σ_b Σ_j w_j (f_θ − target)²_bj, so weights that average 1 keep the loss on the scale of the MSE;
    /// <see cref="Crucible.Diffusion.Training.LossWeights.PerSeries"/> builds them from per-series weights. They are not
    /// part of a checkpoint: a trainer resumed from one must be given the same weights (the generator's checkpoint
    /// fingerprint covers them through its options).
    /// </summary>
    /// <exception cref="ArgumentException">Not one finite, non-negative weight per sample element.</exception>
    public float[]? LossWeights
    {
        get => _lossWeights is null ? null : (float[])_lossWeights.Clone();
        init
        {
            if (value is not null && (value.Length != _scale.Length || value.Any(w => !float.IsFinite(w) || w < 0)))
                throw new ArgumentException($"loss weights must be {_scale.Length} finite non-negative values, one per sample element", nameof(value));
            _lossWeights = value is null ? null : (float[])value.Clone();
        }
    }

    /// <summary>
    /// The per-row conditions of the training data and their dropout, for an <see cref="ITrainableConditionalDenoiser"/>
    /// (null: unconditional training, unchanged). Each step draws its batch's dropout from the trainer's generator after
    /// the batch, so a resumed checkpoint stays bit-identical. Under DP-SGD each example of the Poisson batch gets its own
    /// draw and its gradient is that of a microbatch of one under its own condition; in secure mode the dropout is drawn
    /// from the engine's secure source, as the examples' (t, ε) are.
    /// </summary>
    public ConditionDropout? Conditions { get; init; }

    /// <summary>The EMA of the weights, or null when disabled.</summary>
    public ExponentialMovingAverage? Ema => _ema;

    /// <summary>The options this trainer runs with.</summary>
    public TrainerOptions Options => _options;

    /// <summary>Steps done so far.</summary>
    public int StepsDone => _step;

    /// <summary>The loss of every step done so far, including those before a resumed checkpoint.</summary>
    public IReadOnlyList<float> Losses => _losses;

    /// <summary>
    /// Runs all remaining steps on <paramref name="data"/> (rows × Π SampleShape, row-major) and returns the loss of
    /// each step it ran: <see cref="Fit(TrainingData, IProgress{TrainingProgress}?, int, CheckpointOptions?, CancellationToken)"/>
    /// on the array held whole (<see cref="ArrayTrainingData"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not <paramref name="rows"/> × Π SampleShape values.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (between steps).</exception>
    /// <exception cref="InvalidInputException"><see cref="DivergedRule"/>: a step's loss was not finite.</exception>
    public IReadOnlyList<float> Fit(
        float[] data, int rows, IProgress<TrainingProgress>? progress = null, int reportEvery = 50,
        CheckpointOptions? checkpoint = null, CancellationToken cancellationToken = default) =>
        Fit(Wrap(data, rows), progress, reportEvery, checkpoint, cancellationToken);

    /// <summary>
    /// Runs all remaining steps on <paramref name="data"/> (samples of Π SampleShape values) and returns the loss of
    /// each step it ran. Reports progress every <paramref name="reportEvery"/> steps; saves a checkpoint every
    /// <see cref="CheckpointOptions.Every"/> steps and after the last one when <paramref name="checkpoint"/> is given,
    /// first deleting the checkpoint's temporary files that a killed run left (<see cref="Crucible.Data.IO.AtomicFile.DeleteDeadTemporaries"/>).
    /// The steps read only the rows they draw (<see cref="TrainingData.CopyRow"/>); the PACF regulariser's target reads
    /// every row once.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (between steps).</exception>
    /// <exception cref="InvalidInputException"><see cref="DivergedRule"/>: a step's loss was not finite.</exception>
    public IReadOnlyList<float> Fit(
        TrainingData data, IProgress<TrainingProgress>? progress = null, int reportEvery = 50,
        CheckpointOptions? checkpoint = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(reportEvery, 1);
        if (checkpoint is not null) ArgumentOutOfRangeException.ThrowIfLessThan(checkpoint.Every, 1);
        // a run killed while writing a checkpoint left its temporary file (megabytes) beside it: removed, unless live
        if (checkpoint is not null) Crucible.Data.IO.AtomicFile.DeleteDeadTemporaries(checkpoint.Path);
        var losses = new List<float>(_options.Steps - _step);
        var clock = Stopwatch.StartNew();
        double window = 0;
        int windowStart = _step;
        while (_step < _options.Steps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            float loss = Step(data);
            if (!float.IsFinite(loss) && !_emptyBatch) throw Diverged(); // an empty Poisson batch's loss is NaN by design
            losses.Add(loss);
            window += loss;
            if (progress is not null && (_step % reportEvery == 0 || _step == _options.Steps))
            {
                int n = _step - windowStart;
                // under DP-SGD the loss is a statistic of the private batches outside the accountant (RELIABILITY DP-11),
                // withheld as the manifest withholds it: progress reports NaN, never the value
                double reported = _privacy is null ? window / n : double.NaN;
                progress.Report(new TrainingProgress(_step, _options.Steps, reported, n / Math.Max(1e-9, clock.Elapsed.TotalSeconds)));
                window = 0;
                windowStart = _step;
                clock.Restart();
            }

            if (checkpoint is not null && (_step % checkpoint.Every == 0 || _step == _options.Steps))
            {
                SaveCheckpoint(checkpoint.Path, checkpoint.Metadata);
            }
        }

        return losses;
    }

    /// <summary>
    /// The rule of a training run whose loss stopped being a finite number (<see cref="Fit(TrainingData, IProgress{TrainingProgress}, int, CheckpointOptions, CancellationToken)"/>):
    /// the weights it would go on from are ∞ or NaN, and the model they make generates nothing.
    /// </summary>
    public const string DivergedRule = "training-diverged";

    // the step just done (_step, from 1) gave a loss that is not finite: nothing it would save is a model. The value is not
    // named (under DP-SGD it is a statistic of the private batch); that it diverged is what the caller must act on
    private InvalidInputException Diverged() => new(DivergedRule, string.Create(CultureInfo.InvariantCulture,
        $"the training loss is not a finite number at step {_step} of {_options.Steps}: training diverged at learning rate {_options.LearningRate:R}: lower training.learning_rate"));

    /// <summary>One optimiser step on a random batch of <paramref name="data"/> (rows × Π SampleShape, row-major); returns its loss.</summary>
    public float Step(float[] data, int rows) => Step(Wrap(data, rows));

    /// <summary>One optimiser step on a random batch of <paramref name="data"/>; returns its loss.</summary>
    public float Step(TrainingData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int b = _options.BatchSize, size = _scale.Length, rows = data.Rows;
        if (rows < 1 || data.RowSize != size) throw new ArgumentException($"data must hold rows of {size} values, not {data.RowSize}", nameof(data));
        if (_step >= _options.Steps) throw new InvalidOperationException($"all {_options.Steps} steps are done");
        if (Conditions is not null && (Conditions.Rows != rows || _denoiser is not ITrainableConditionalDenoiser))
            throw new ArgumentException($"conditions for {Conditions.Rows} rows need a conditional denoiser and {Conditions.Rows} data rows, got {rows}", nameof(data));
        if (!_denoiser.Network.IsTraining) _denoiser.Network.Train();
        if (_privacy is not null) return PrivateStep(data);
        float[] xt = _xt, target = _target, eps = _eps;
        if (Smoothing is { } smooth && smooth.Features != size)
            throw new ArgumentException($"the smoothing kernel is for rows of {smooth.Features} values, the samples have {size}", nameof(data));
        var kernel = Smoothing is null ? null : _smoothing.Split((ulong)_step);
        for (int i = 0; i < b; i++)
        {
            // Algorithm 1: x_0 ~ q(x_0), t ~ U{0..T−1}, ε ~ N(0, I); with smoothing x_0 is the row's smoothed draw
            int row = _rng.NextInt(rows);
            _rows[i] = row;
            int t = _rng.NextInt(_schedule.Steps);
            _rng.FillNormal(eps);
            double abar = _schedule.Base.AlphasCumprod[t];
            data.CopyRow(row, _x0);
            ReadOnlySpan<float> x0 = _x0;
            if (kernel is not null)
            {
                Smoothing!.Smooth(x0, kernel, _smoothed);
                x0 = _smoothed;
            }

            var xti = xt.AsSpan(i * size, size);
            _schedule.AddNoise(x0, eps, t, _scale, xti);
            for (int j = 0; j < size; j++) xti[j] = (float)(xti[j] / _scale[j]); // the network sees x_t / σ, as in the samplers
            for (int j = 0; j < size; j++) target[(i * size) + j] = ObjectiveMath.Target(_objective, abar, x0[j], eps[j], _scale[j]);
            _timesteps[i] = t;
        }

        int[] shape = [b, .. _sampleShape];
        _learningRate.Apply(_optimizer, _step);
        float value;

        // every intermediate tensor of the step (activations, their gradients, backward scratch) lives in the arena,
        // so that the steps after the first allocate no tensor buffers; the graph is used once and the loss read
        // before the reset hands the buffers back. Parameters and their gradients are leaves: never in the arena.
        using (_arena.Use())
        {
            try
            {
                var output = Conditions is { } c && _denoiser is ITrainableConditionalDenoiser conditional
                    ? conditional.Forward(new Tensor(xt, shape), _timesteps, c.Draw(_rows, _rng))
                    : _denoiser is IDropoutDenoiser { HasDropout: true } withDropout
                        ? withDropout.Forward(new Tensor(xt, shape), _timesteps, _dropout.Split((ulong)_step))
                        : _denoiser.Forward(new Tensor(xt, shape), _timesteps);
                var loss = _lossWeights is null
                    ? Crucible.Tensors.Losses.MseLoss(output, new Tensor(target, shape))
                    : (Crucible.Tensors.Losses.MseLoss(output, new Tensor(target, shape), Reduction.None) * new Tensor(_lossWeights, [1, .. _sampleShape])).Mean();
                if (_options.PacfWeight > 0) loss += PacfTerm(output, data) * (float)_options.PacfWeight;
                // the parameters' gradient buffers are zeroed in place and reused (PyTorch 1.13's zero_grad), not dropped and
                // allocated again by every backward pass: leaves live outside the arena, so that was a step's garbage
                _optimizer.ZeroGrad(setToNone: false);
                loss.Backward();
                value = loss.Item();
            }
            finally
            {
                _arena.Reset();
            }
        }

        if (_options.GradClipNorm > 0) GradClip.ClipGradNorm(_parameters, _options.GradClipNorm);
        _optimizer.Step();
        _ema?.Update();
        _step++;
        _losses.Add(value);
        return value;
    }

    // the trainer's wrapper of an array (the same one while the array is: the PACF target is computed once per data)
    private ArrayTrainingData Wrap(float[] data, int rows)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (rows < 1 || data.Length != (long)rows * _scale.Length) throw new ArgumentException($"data must hold rows × {_scale.Length} values", nameof(data));
        if (_array is null || !ReferenceEquals(_array.Values, data)) _array = new ArrayTrainingData(data, rows, _scale.Length);
        return _array;
    }

    private float PrivateStep(TrainingData data)
    {
        int size = _scale.Length, rows = data.Rows;
        if (Smoothing is not null)
            throw new InvalidOperationException("smoothing cannot be combined with DP-SGD: the kernel's covariance is computed from the private rows outside the accounting");
        if (rows != _privacy!.DatasetSize)
            throw new ArgumentException($"the privacy engine was planned for {_privacy.DatasetSize} records, the data has {rows}", nameof(data));
        var batch = _sampler!.Next();
        int m = batch.Length;
        // secure mode: each example's (t, ε) is secret too, since it is assigned by position in the secret batch (a reader
        // who knew the draws could match them to records); reproducible mode draws them from the seeded stream
        var secure = _privacy.Noise as SecureDpRandom;
        var xt = new float[m * size];
        var target = new float[m * size];
        var timesteps = new int[m];
        var eps = _eps;
        for (int i = 0; i < m; i++)
        {
            int t;
            if (secure is null)
            {
                t = _rng.NextInt(_schedule.Steps);
                _rng.FillNormal(eps);
            }
            else
            {
                t = secure.NextInt(_schedule.Steps);
                for (int j = 0; j < eps.Length; j++) eps[j] = (float)secure.NextNormal();
            }

            double abar = _schedule.Base.AlphasCumprod[t];
            data.CopyRow(batch[i], _x0);
            ReadOnlySpan<float> x0 = _x0;
            var xti = xt.AsSpan(i * size, size);
            _schedule.AddNoise(x0, eps, t, _scale, xti);
            for (int j = 0; j < size; j++) xti[j] = (float)(xti[j] / _scale[j]);
            for (int j = 0; j < size; j++) target[(i * size) + j] = ObjectiveMath.Target(_objective, abar, x0[j], eps[j], _scale[j]);
            timesteps[i] = t;
        }

        // the conditions' dropout (and condition noise) per example, after the (t, ε) draws as in the plain step; in secure
        // mode from the secure source, since they too are assigned by position in the secret batch
        ConditionBatch? conditions = null;
        if (m > 0 && Conditions is { } dropout)
        {
            if (_denoiser is not ITrainableConditionalDenoiser)
                throw new InvalidOperationException("conditions need a conditional denoiser");
            conditions = secure is null ? dropout.Draw(batch, _rng) : dropout.Draw(batch, secure);
        }

        _learningRate.Apply(_optimizer, _step);
        double lossSum = double.NaN;
        int[] shape = [m, .. _sampleShape];
        float inverseSize = 1f / size;
        _emptyBatch = m == 0;
        if (m == 0)
        {
            _privacy.Step(_parameters, 0, NoGradients.Instance); // noise only, still accounted
        }
        else if (conditions is null && _denoiser is IGhostClippingDenoiser ghost)
        {
            var masks = DropoutMasks();
            // the parameters' gradient buffers and the clipped sum are reused by every step (the engine overwrites the
            // gradients with the noised sum); the activations are not in the arena: their sizes follow the Poisson batch
            // size m, and an arena, which hands back buffers of exactly one length, would keep a set for every m drawn
            _privacy.Step(_parameters, m, new GhostClipping(tape =>
            {
                var output = ghost.Forward(new Tensor(xt, shape), timesteps, tape, masks);
                var loss = (output - new Tensor(target, shape)).Square().Sum() * inverseSize;
                lossSum = loss.Item();
                return loss;
            })
            {
                KeepGradientBuffers = true,
                Sum = _clippedSum,
            });
        }
        else
        {
            lossSum = 0;
            int[] one = [1, .. _sampleShape];
            // each example's input and target are copied into the same two buffers: its graph is done with them (its
            // backward has run) before the next example's are copied in
            float[] exampleInput = _exampleInput!, exampleTarget = _exampleTarget!;
            var input = new Tensor(exampleInput, one);
            var targetOne = new Tensor(exampleTarget, one);
            // each example's gradient is clipped and added as soon as its backward is done (O(P) held, not count × P); its
            // activations live in the arena, reset after each example (a microbatch of one has one shape whatever m is);
            // the parameters' gradient buffers and the clipped sum are reused by every example and step
            _privacy.Step(_parameters, m, new MicrobatchClipping(b =>
            {
                // a microbatch of one: the example's own input, timestep and condition (none mixes with another example)
                xt.AsSpan(b * size, size).CopyTo(exampleInput);
                target.AsSpan(b * size, size).CopyTo(exampleTarget);
                var output = conditions is not null && _denoiser is ITrainableConditionalDenoiser conditional
                    ? conditional.Forward(input, timesteps.AsSpan(b, 1), conditions.Row(b))
                    : _denoiser.Forward(input, timesteps.AsSpan(b, 1));
                var loss = Crucible.Tensors.Losses.MseLoss(output, targetOne);
                lossSum += loss.Item();
                return loss;
            })
            {
                KeepGradientBuffers = true,
                Sum = _clippedSum,
                Arena = _arena,
            });
        }

        _optimizer.Step();
        _ema?.Update();
        _step++;
        float value = (float)(lossSum / m);
        _losses.Add(value);
        return value;
    }

    // this step's dropout mask generator, or null when the denoiser has no dropout
    private Philox? DropoutMasks() =>
        _denoiser is IDropoutDenoiser { HasDropout: true } ? _dropout.Split((ulong)_step) : null;

    private sealed class NoGradients : IClippedGradientSum
    {
        public static readonly NoGradients Instance = new();

        public double[] ClippedSum(IReadOnlyList<Tensor> parameters, int count, double maxNorm) =>
            throw new InvalidOperationException("an empty batch has no gradients");
    }

    /// <summary>
    /// R of <see cref="PacfPenalty"/> for this batch: x̂_0 = A ⊙ output + C from the network output by the objective
    /// (x_t = σ ⊙ the network input; ε: x̂_0 = (x_t − √(1−ᾱ) σ ε̂)/√ᾱ; x0: x̂_0 = output; v: x̂_0 = √ᾱ x_t − √(1−ᾱ) σ v̂),
    /// differentiable in the output, each window weighted by its ᾱ_t.
    /// </summary>
    private Tensor PacfTerm(Tensor output, TrainingData data)
    {
        int b = _options.BatchSize, size = _scale.Length;
        if (!ReferenceEquals(_pacfData, data))
        {
            _pacf = PacfPenalty.FromWindows(data, _sampleShape[0], _sampleShape[1], _options.PacfLags, AutocovarianceEstimator.Biased, PacfEpsilon());
            _pacfData = data;
        }

        var a = new float[b * size];
        var c = new float[b * size];
        var weights = new double[b];
        for (int i = 0; i < b; i++)
        {
            double abar = _schedule.Base.AlphasCumprod[_timesteps[i]], sa = Math.Sqrt(abar), so = Math.Sqrt(1.0 - abar);
            weights[i] = abar;
            for (int j = 0; j < size; j++)
            {
                int k = (i * size) + j;
                double s = _scale[j], x = _xt[k] * s;
                (a[k], c[k]) = _objective switch
                {
                    Objective.Epsilon => ((float)(-so * s / sa), (float)(x / sa)),
                    Objective.X0 => (1f, 0f),
                    _ => ((float)(-so * s), (float)(sa * x)),
                };
            }
        }

        int[] shape = [b, .. _sampleShape];
        var x0 = (output * new Tensor(a, shape)) + new Tensor(c, shape);
        return _pacf!.Evaluate(x0, weights);
    }

    // ε of γ_0: 10⁻⁶ of the mean noise variance, far below any real window's variance
    private float PacfEpsilon()
    {
        double mean = 0;
        foreach (double s in _scale) mean += s * s;
        return (float)(1e-6 * mean / _scale.Length);
    }

    /// <summary>
    /// Writes everything the next step depends on to <paramref name="path"/> (a safetensors file, atomically): the
    /// weights, the EMA, the optimiser's moments and step counts, the generator position, the step and the loss
    /// history. <paramref name="metadata"/> is stored beside them (e.g. a data fingerprint to check on resume).
    /// </summary>
    /// <remarks>A private trainer also saves the privacy engine's accountant and noise position (keys <c>dp.*</c>).</remarks>
    public void SaveCheckpoint(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (_privacy is not null)
        {
            var (accountant, noise) = _privacy.CaptureState();
            metadata = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { [DpAccountantKey] = accountant, [DpNoiseKey] = noise };
        }

        TrainerCheckpoint.Save(path, Capture(), metadata);
    }

    private const string DpAccountantKey = "dp.accountant";
    private const string DpNoiseKey = "dp.noise";

    /// <summary>
    /// Restores the state saved by <see cref="SaveCheckpoint"/> into this trainer, which must have been built with the
    /// same network architecture and options. Returns the checkpoint's caller metadata.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this network and these options.</exception>
    public IReadOnlyDictionary<string, string> LoadCheckpoint(string path)
    {
        var (state, metadata) = TrainerCheckpoint.Load(path);
        var hasDp = metadata.ContainsKey(DpAccountantKey) && metadata.ContainsKey(DpNoiseKey);
        if (hasDp != (_privacy is not null))
            throw new InvalidDataException($"{path}: the checkpoint {(hasDp ? "is" : "is not")} of DP-SGD training, this trainer {(hasDp ? "is not" : "is")}");
        if (_privacy is not null) _privacy.RestoreState(metadata[DpAccountantKey], metadata[DpNoiseKey]);
        Restore(state, path);
        if (_privacy is not null && _privacy.StepsTaken != _step)
            throw new InvalidDataException($"{path}: the accountant has {_privacy.StepsTaken} steps, the trainer {_step}");
        return metadata;
    }

    // the training options that differ, by their config keys, with the numbers as the config writes them: the records'
    // own ToString listed every option in the current culture (LearningRate = 0,001 under de-DE)
    private static string OptionsDifference(TrainerOptions saved, TrainerOptions current)
    {
        var json = new System.Text.Json.JsonSerializerOptions { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };
        var a = System.Text.Json.JsonSerializer.SerializeToElement(saved, json);
        var b = System.Text.Json.JsonSerializer.SerializeToElement(current, json);
        return string.Join("; ", a.EnumerateObject()
            .Select(p => (p.Name, Saved: p.Value.GetRawText(), Current: b.GetProperty(p.Name).GetRawText()))
            .Where(p => p.Saved != p.Current)
            .Select(p => $"training.{p.Name} {p.Saved} in the checkpoint, {p.Current} here"));
    }

    private TrainerState Capture() => new(
        _options, _step, _rng.GetState(), _parameterNames,
        [.. _parameters.Select(p => (p.Shape, (float[])p.Data.Clone()))],
        _ema?.StateDict(), _optimizer.StateDict(), [.. _losses]);

    private void Restore(TrainerState state, string source)
    {
        if (state.Options != _options)
            throw new InvalidDataException($"{source}: the checkpoint was written with other training options: {OptionsDifference(state.Options, _options)}");
        if (!state.ParameterNames.SequenceEqual(_parameterNames, StringComparer.Ordinal))
            throw new InvalidDataException($"{source}: the checkpoint's parameters [{string.Join(", ", state.ParameterNames)}] are not this network's");
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (!state.Weights[i].Shape.SequenceEqual(_parameters[i].Shape))
                throw new InvalidDataException($"{source}: parameter {_parameterNames[i]} has shape ({string.Join(", ", state.Weights[i].Shape)}), the network's is ({string.Join(", ", _parameters[i].Shape)})");
        }

        if ((state.Ema is null) != (_ema is null)) throw new InvalidDataException($"{source}: the checkpoint and the trainer disagree on the EMA");
        // all or nothing: a state that does not fit leaves the trainer as it was (the weights were overwritten first, so a
        // refused resume left a half-restored trainer behind)
        var (ema, optimizer, rng) = (_ema?.StateDict(), _optimizer.StateDict(), _rng.GetState());
        try
        {
            if (state.Ema is not null) _ema!.LoadStateDict(state.Ema);
            _optimizer.LoadStateDict(state.Optimizer);
            _rng.SetState(state.Rng);
        }
        catch (ArgumentException e)
        {
            if (ema is not null) _ema!.LoadStateDict(ema);
            _optimizer.LoadStateDict(optimizer);
            _rng.SetState(rng);
            throw new InvalidDataException($"{source}: the checkpoint's state does not fit this trainer: {e.Message}", e);
        }

        for (int i = 0; i < _parameters.Length; i++) state.Weights[i].Data.CopyTo(_parameters[i].Data, 0);
        _step = state.Step;
        _losses.Clear();
        _losses.AddRange(state.Losses);
    }
}

/// <summary>
/// When <see cref="DiffusionTrainer.Fit(TrainingData, IProgress{TrainingProgress}?, int, CheckpointOptions?, CancellationToken)"/>
/// saves checkpoints.
/// </summary>
/// <param name="Path">The checkpoint file (replaced atomically each time).</param>
/// <param name="Every">Save after every this many steps (and after the last step).</param>
/// <param name="Metadata">Caller metadata stored in the file (e.g. a data fingerprint to verify on resume).</param>
public sealed record CheckpointOptions(string Path, int Every = 500, IReadOnlyDictionary<string, string>? Metadata = null)
{
    /// <summary>
    /// Called once, before training, when a generator's fit resumes from an existing <see cref="Path"/> (after the file
    /// is loaded and matched), with the steps the checkpoint had done; not called for a fresh start. A shell says so.
    /// </summary>
    public Action<int>? Resumed { get; init; }
}
