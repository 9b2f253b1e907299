using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Data.Segments;
using Crucible.Data.Transforms;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Schedules;
using Crucible.Diffusion.Training;
using Crucible.Tensors;
using Crucible.Tensors.Random;
using Crucible.Tensors.Serialization;

namespace Crucible.Diffusion.Tabular;

/// <summary>Where training data came from, for the manifest.</summary>
/// <param name="FileName">The input file's name (no folder).</param>
/// <param name="FileSha256">SHA-256 (hex) of the file's bytes.</param>
/// <param name="Input">What the file's values were (prices, returns, …).</param>
public sealed record DataProvenance(string? FileName, string? FileSha256, string? Input)
{
    /// <summary>The last train price per series when the file held prices (<see cref="DataManifest.LastPrices"/>), else null.</summary>
    public IReadOnlyDictionary<string, double>? LastPrices { get; init; }

    /// <summary>
    /// Whether the last train prices were withheld on request (<c>train --withhold-prices</c>: a confidential book), so
    /// that <see cref="LastPrices"/> is null and the manifest says why (<see cref="DataManifest.LastPricesWithheld"/>).
    /// </summary>
    public bool LastPricesWithheld { get; init; }

    /// <summary>How the file's missing values were read, when not the strict default (<see cref="DataManifest.Missing"/>), else null.</summary>
    public MissingValuesManifest? Missing { get; init; }

    /// <summary>Hashes the file at <paramref name="path"/>.</summary>
    public static DataProvenance FromFile(string path, InputKind input)
    {
        using var stream = File.OpenRead(path);
        return new DataProvenance(Path.GetFileName(path), Convert.ToHexStringLower(SHA256.HashData(stream)), input.ToString());
    }

    /// <summary>
    /// <see cref="FromFile"/> for a training run that read <paramref name="read"/> from the file (its columns selected)
    /// and trains on its first <paramref name="trainReturnRows"/> log returns: with prices, also each series' last train
    /// price (<see cref="Scenarios.PricePaths.LastTrainPrices"/>), the default start of price paths, unless
    /// <paramref name="withholdPrices"/> (a confidential book: none is recorded, and <see cref="LastPricesWithheld"/> says so).
    /// </summary>
    public static DataProvenance ForTraining(string path, InputKind input, TimeSeriesFrame read, int trainReturnRows, bool withholdPrices = false) =>
        FromFile(path, input) with
        {
            LastPrices = input == InputKind.Prices && !withholdPrices ? PricePaths.LastTrainPrices(read, trainReturnRows) : null,
            LastPricesWithheld = withholdPrices,
        };
}

/// <summary>
/// A diffusion generator of rows of log returns, in the scikit-learn shape:
/// <code>
/// var generator = new DiffusionGenerator(new DiffusionGeneratorOptions { Seed = 7 }).Fit(trainReturns);
/// TimeSeriesFrame scenarios = generator.Sample(count: 10_000, seed: 1);   // log returns, original units
/// generator.Save("model");  …  var again = DiffusionGenerator.Load("model");
/// </code>
/// <see cref="Fit(TimeSeriesFrame, DataProvenance?, IProgress{TrainingProgress}?, CheckpointOptions?, CancellationToken)"/>
/// fits the per-series transform on the rows it is given (pass the train split only), then trains an MLP denoiser on
/// the transformed rows; <see cref="Sample"/> runs DDIM or DDPM and inverts the transform. The same data, options and
/// seed give bit-identical weights, manifest and samples on any number of threads.
/// </summary>
public sealed class DiffusionGenerator
{
    /// <summary>The weights file of a model folder.</summary>
    public const string WeightsFileName = "weights.safetensors";

    /// <summary>The manifest file of a model folder.</summary>
    public const string ManifestFileName = "manifest.json";

    private MlpDenoiserAdapter? _denoiser;
    private VolatilityAdaptiveSchedule? _schedule;
    private TransformPipeline? _transform;
    private ModelManifest? _manifest;
    private TransformPipeline? _calibration;
    private string[] _columns = [];

    /// <summary>Creates an unfitted generator.</summary>
    /// <exception cref="ArgumentException">An invalid option.</exception>
    public DiffusionGenerator(DiffusionGeneratorOptions? options = null)
    {
        options ??= new DiffusionGeneratorOptions();
        options.Validate();
        Options = options with { Training = options.Training with { Seed = options.Seed } };
    }

    /// <summary>The options (with the training seed set to <see cref="DiffusionGeneratorOptions.Seed"/>).</summary>
    public DiffusionGeneratorOptions Options { get; private set; }

    /// <summary>Whether the generator has been fitted or loaded.</summary>
    public bool IsFitted => _manifest is not null;

    /// <summary>The series, in model order.</summary>
    public IReadOnlyList<string> Columns => _columns;

    /// <summary>The manifest of the fitted model.</summary>
    public ModelManifest Manifest => _manifest ?? throw NotFitted();

    /// <summary>The model id: SHA-256 (hex) of <c>weights.safetensors</c>.</summary>
    public string ModelId => Manifest.Weights.Sha256;

    /// <summary>The network (its weights are the EMA weights used for sampling).</summary>
    public MlpDenoiser Network => _denoiser?.Mlp ?? throw NotFitted();

    /// <summary>The frozen transform from log returns to model space, fitted on the train rows.</summary>
    public TransformPipeline Transform => _transform ?? throw NotFitted();

    /// <summary>The forward process, with the fitted noise scales.</summary>
    public VolatilityAdaptiveSchedule Schedule => _schedule ?? throw NotFitted();

    /// <summary>The Crucible version, from the assembly's informational version.</summary>
    public static string LibraryVersion { get; } =
        typeof(DiffusionGenerator).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Fits on a matrix of log returns (rows × series), an undated convenience form of <see cref="Fit(TimeSeriesFrame, DataProvenance?, IProgress{TrainingProgress}?, CheckpointOptions?, CancellationToken)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="columns"/> does not name every column of <paramref name="returns"/>,
    /// or a name is null, empty or given twice (the message names its position).</exception>
    public DiffusionGenerator Fit(double[,] returns, IReadOnlyList<string>? columns = null)
    {
        ArgumentNullException.ThrowIfNull(returns);
        int rows = returns.GetLength(0), d = returns.GetLength(1);
        columns ??= [.. Enumerable.Range(0, d).Select(i => "x" + i.ToString(CultureInfo.InvariantCulture))];
        if (columns.Count != d) throw new ArgumentException($"{columns.Count} column names for a matrix of {d} columns", nameof(columns));
        CheckColumnNames(columns, nameof(columns));
        var values = new double[rows * d];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < d; c++) values[(r * d) + c] = returns[r, c];
        }

        return Fit(new TimeSeriesFrame([], columns, values, rows));
    }

    // Each series needs a name the manifest, the transform's state and the samples' columns can carry: not null, not
    // empty, not another column's (a frame refuses duplicates itself, without saying which).
    private static void CheckColumnNames(IReadOnlyList<string> columns, string parameter)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < columns.Count; i++)
        {
            if (string.IsNullOrEmpty(columns[i]))
                throw new ArgumentException($"column name {i} is {(columns[i] is null ? "null" : "empty")}; every series needs a name", parameter);
            if (!seen.TryAdd(columns[i], i))
                throw new ArgumentException($"column names {seen[columns[i]]} and {i} are both '{columns[i]}'; each series needs its own name", parameter);
        }
    }

    /// <summary>
    /// Fits the transform and trains the denoiser on <paramref name="trainReturns"/> (log returns; pass only the train
    /// split: everything given here is seen by the model). With <paramref name="checkpoint"/>, saves the trainer's state
    /// there every <see cref="CheckpointOptions.Every"/> steps, and resumes from it when the file already exists (it must
    /// come from the same data and options).
    /// </summary>
    /// <exception cref="InvalidInputException">A series named <c>scenario</c> or <c>step</c> (<c>reserved-column</c>), fewer than 2 rows, non-finite values, a value the transform leaves beyond the
    /// float32 range (<c>model-space-range</c>), or a checkpoint of other data or options.</exception>
    /// <exception cref="ArgumentException">A column name of <paramref name="trainReturns"/> is null or empty (the message
    /// names its position).</exception>
    public DiffusionGenerator Fit(
        TimeSeriesFrame trainReturns, DataProvenance? provenance = null, IProgress<TrainingProgress>? progress = null,
        CheckpointOptions? checkpoint = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainReturns);
        CheckColumnNames(trainReturns.Columns, nameof(trainReturns));
        Scenarios.ScenarioCsv.ThrowIfReservedSeriesName(trainReturns.Columns);
        if (trainReturns.ColumnCount < 1) throw new InvalidInputException("no-series", "the training data has no series");
        if (trainReturns.RowCount < 2) throw new InvalidInputException("too-few-rows", $"the training data has {trainReturns.RowCount} rows; at least 2 are needed");
        var values = trainReturns.ValueSpan; // in place: a train split is a Head of the whole file's frame
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new InvalidInputException("non-finite",
                    $"training value at row {i / trainReturns.ColumnCount}, series '{trainReturns.Columns[i % trainReturns.ColumnCount]}' is not finite");
            }
        }

        var o = Options;
        int rows = trainReturns.RowCount, d = trainReturns.ColumnCount;
        if (o.Calibration is { } calibrating && (long)calibrating.Rows * d > DiffusionSampler.MaxSampleValues)
        {
            // the calibration draw is one draw: past its limit it stopped only after the whole training, as rule count
            throw new InvalidInputException("config", string.Create(CultureInfo.InvariantCulture,
                $"calibration.rows {calibrating.Rows} would draw {(long)calibrating.Rows * d} values of {d} series, more than the {DiffusionSampler.MaxSampleValues} values one draw holds: at most {DiffusionSampler.MaxSampleValues / d} rows for this data"));
        }

        // 0. DP-SGD: the budget is checked (and σ calibrated) before any work; a refused configuration throws here.
        //    Stream 3 is the noise of reproducible mode; in secure mode (privacy.secure_mode) the engine draws the noise, the
        //    Poisson batches and each example's (t, ε) from the OS CSPRNG instead (IDpRandom's remarks say why the last).
        //    The initialisation stays seeded in both modes: it does not depend on the data, and the guarantee holds for
        //    any starting point, so it does not carry the guarantee.
        PrivacyEngine? privacy = null;
        if (o.Privacy is { } dp)
        {
            privacy = PrivacyEngine.Create(dp.ToEngineOptions(rows, o.Training.BatchSize, o.Training.Steps), rows, new Philox(o.Seed, stream: 3));
        }

        // 1. transform, fitted on the train rows only, then frozen (under DP: a public scale from the config, never fitted)
        TransformPipeline transform;
        TimeSeriesFrame model;
        if (o.Privacy is { } publicScale)
        {
            var state = new TransformState(TransformKind.StandardScaler, [.. trainReturns.Columns],
                new Dictionary<string, double[]> { ["mean"] = new double[d], ["scale"] = Enumerable.Repeat(publicScale.PublicScale, d).ToArray() },
                new Dictionary<string, string>());
            transform = new TransformPipeline([StandardScaler.FromState(state)]);
            model = transform.Forward(trainReturns);
        }
        else
        {
            transform = new TransformPipeline(o.Transform switch
            {
                MarginalTransform.QuantileNormal => [new QuantileNormalTransform(o.QuantileKnots)],
                MarginalTransform.Standardize => [new StandardScaler()],
                _ => Array.Empty<ISeriesTransform>(),
            });
            model = transform.Fit(trainReturns);
        }

        var x0 = new float[rows * d];
        var modelValues = model.ValueSpan; // with no transform the model rows are the train rows themselves, read in place
        for (int i = 0; i < x0.Length; i++) x0[i] = (float)modelValues[i];
        if (o.Privacy is null) RequireFloatRange(x0, trainReturns, model);

        // 2. optional whitening, forward process, network, trainer
        var minimum = new double[d];
        var maximum = new double[d];
        if (o.Privacy is { } bounds)
        {
            // a per-record clip to the public bound; the model-space range is the bound itself, not the data's
            Array.Fill(minimum, -bounds.PublicBound);
            Array.Fill(maximum, bounds.PublicBound);
            for (int i = 0; i < x0.Length; i++) x0[i] = (float)Math.Clamp(x0[i], -bounds.PublicBound, bounds.PublicBound);
        }
        else
        {
            Array.Fill(minimum, double.PositiveInfinity);
            Array.Fill(maximum, double.NegativeInfinity);
            for (int i = 0; i < x0.Length; i++)
            {
                minimum[i % d] = Math.Min(minimum[i % d], x0[i]);
                maximum[i % d] = Math.Max(maximum[i % d], x0[i]);
            }
        }

        Whitening? whitening = null;
        if (o.Whiten)
        {
            whitening = Whitening.Fit(x0, rows, d);
            whitening.Apply(x0);
        }

        var baseSchedule = NoiseSchedule.Create(o.Schedule, o.DiffusionSteps);
        var schedule = o.VolatilityAdaptive ? VolatilityAdaptiveSchedule.Fit(baseSchedule, x0, rows, d) : VolatilityAdaptiveSchedule.Isotropic(baseSchedule, d);
        var network = new MlpDenoiser(new MlpDenoiserConfig(d, o.Hidden, o.Blocks, o.TimeEmbedding, (float)o.Dropout), new Philox(o.Seed, stream: 0));
        var denoiser = new MlpDenoiserAdapter(network, schedule.Steps);
        var trainer = new DiffusionTrainer(denoiser, schedule, o.Objective, o.Training, privacy)
        {
            LossWeights = StratifiedWeights(o, trainReturns.Columns),
            Smoothing = o.Smoothing > 0 ? SmoothingKernel(x0, rows, d, o.Smoothing) : null,
        };
        string trainHash = TrainMatrixSha256(trainReturns);

        // 3. train (resuming from a checkpoint of the same data and options)
        if (checkpoint is not null)
        {
            string fingerprint = Fingerprint(o, trainHash, trainReturns.Columns);
            checkpoint = checkpoint with { Metadata = new Dictionary<string, string>(checkpoint.Metadata ?? new Dictionary<string, string>()) { ["fingerprint"] = fingerprint } };
            if (File.Exists(checkpoint.Path)) Resume(trainer, checkpoint, fingerprint);
        }

        trainer.Fit(x0, rows, progress, reportEvery: Math.Max(1, Math.Min(50, o.Training.Steps / 20)), checkpoint, cancellationToken);
        trainer.Ema?.CopyTo();
        network.Eval(); // from here on (distillation's student, calibration, sampling) the network runs without dropout

        // 3b. optional sampler distillation: the trained network becomes the teacher of a student trained in place
        double? distillationLoss = null;
        if (o.Distillation is { } distill)
        {
            var teacher = new MlpDenoiser(network.Config, new Philox(o.Seed, stream: 0));
            teacher.LoadStateDict(network.StateDict());
            teacher.Eval();
            var offset = progress is null ? null : new Progress<TrainingProgress>(p =>
                progress.Report(p with { Step = o.Training.Steps + p.Step, TotalSteps = o.Training.Steps + p.TotalSteps }));
            var studentLosses = SamplerDistillation.Distill(
                new MlpDenoiserAdapter(teacher, schedule.Steps), denoiser, schedule, o.Objective, x0, rows, distill with { Seed = o.Seed },
                offset, cancellationToken);
            distillationLoss = Metrics(studentLosses).FinalLoss;
        }

        // 3c. optional marginal calibration: the model's own draws, with the sampler it is made for, measure its marginals
        MarginalCalibrationManifest? calibration = null;
        if (o.Calibration is { } calibrate)
        {
            var sampler = o.MadeForSampler with { MaxDegreeOfParallelism = EngineThreads.MaxDegreeOfParallelism, Cancellation = cancellationToken };
            ulong seed = MarginalCalibration.SeedFor(o.Seed);
            var drawn = ModelSpaceSample(denoiser, schedule, o.Objective, whitening, calibrate.Rows, seed, sampler);
            calibration = MarginalCalibration.Fit(drawn, trainReturns.Columns, calibrate, sampler, seed);
        }

        // 4. freeze into a manifest
        byte[] weights = network.SerializeSafeTensors();
        _manifest = new ModelManifest
        {
            LibraryVersion = LibraryVersion,
            Seed = o.Seed,
            Columns = [.. trainReturns.Columns],
            Config = o,
            Schedule = new ScheduleManifest
            {
                Kind = o.Schedule, DiffusionSteps = o.DiffusionSteps, VolatilityAdaptive = schedule.IsAdaptive, NoiseScale = [.. schedule.NoiseScale],
            },
            Transform = JsonDocument.Parse(transform.ToJson()).RootElement.Clone(),
            Whitening = whitening,
            ModelSpace = new RangeManifest { Min = minimum, Max = maximum },
            Calibration = calibration,
            Data = new DataManifest
            {
                InputFile = provenance?.FileName,
                // under DP no exact hash or value of the private data goes into the released manifest (DP-11)
                InputSha256 = privacy is null ? provenance?.FileSha256 : null,
                InputKind = provenance?.Input,
                LastPrices = privacy is null ? provenance?.LastPrices : null,
                LastPricesWithheld = provenance is { LastPricesWithheld: true } ? true : null,
                TrainMatrixSha256 = privacy is null ? trainHash : null,
                TrainRows = rows,
                TrainStart = trainReturns.Dates.Length > 0 ? Iso(trainReturns.Dates[0]) : null,
                TrainEnd = trainReturns.Dates.Length > 0 ? Iso(trainReturns.Dates[^1]) : null,
            },
            Training = privacy is null ? Metrics(trainer.Losses) with { DistillationFinalLoss = distillationLoss } : new TrainingMetrics { Steps = trainer.StepsDone },
            Weights = WeightsEntry(network, weights),
            Privacy = privacy is null ? null : PrivacyManifest.From(privacy, o.Privacy!),
        };
        _denoiser = denoiser;
        _schedule = schedule;
        _transform = transform;
        _calibration = calibration?.LoadMap();
        _columns = [.. trainReturns.Columns];
        return this;
    }

    // the network computes in float32: a finite training value that the transform leaves beyond its range (a log return
    // of 1e200 with "transform": "standardize", whose standard deviation overflows, or "none") would become ±∞ there and
    // fail deep in the schedule's fit as an internal error; it is bad input, named by row and series
    private static void RequireFloatRange(float[] x0, TimeSeriesFrame trainReturns, TimeSeriesFrame model)
    {
        int i = Array.FindIndex(x0, v => !float.IsFinite(v));
        if (i < 0)
        {
            RequireVaryingInFloat32(x0, trainReturns);
            return;
        }

        int d = trainReturns.ColumnCount, c = i % d;
        var (largest, row) = ModelSpaceRange.Largest(trainReturns, c);
        throw new InvalidInputException(ModelSpaceRange.Rule, string.Create(CultureInfo.InvariantCulture,
            $"series '{trainReturns.Columns[c]}': the transform maps its training value at row {i / d} to {model.ValueSpan[i]:G6}, beyond the float32 range (±3.4E+38) the network computes in; its largest value is {largest:G6} (row {row}): check the input kind and units, or use \"transform\": \"quantile_normal\""));
    }

    // a series that varies but is one value once in float32 model space (log returns of about 1e-300 with "transform":
    // "none", or "standardize" whose standard deviation underflows): the network would learn a constant and every
    // scenario would give the series one value
    private static void RequireVaryingInFloat32(float[] x0, TimeSeriesFrame trainReturns)
    {
        int d = trainReturns.ColumnCount;
        var values = trainReturns.ValueSpan;
        for (int c = 0; c < d; c++)
        {
            bool same = true, varies = false;
            for (int k = c + d; k < x0.Length && same; k += d) same = x0[k] == x0[c];
            for (int k = c + d; k < values.Length && !varies; k += d) varies = values[k] != values[c];
            if (!same || !varies) continue;
            var (largest, row) = ModelSpaceRange.Largest(trainReturns, c);
            throw new InvalidInputException(ModelSpaceRange.Rule, string.Create(CultureInfo.InvariantCulture,
                $"series '{trainReturns.Columns[c]}': its training values vary (largest {largest:G6}, row {row}), but the transform maps every one to {x0[c]:G6} in the float32 the network computes in: check the input kind and units, or use \"transform\": \"quantile_normal\""));
        }
    }

    // the smoothed bootstrap's kernel on the model-space rows; a rank-deficient covariance is a data problem, named as such
    private static SmoothedBootstrap SmoothingKernel(float[] x0, int rows, int d, double h)
    {
        try
        {
            return SmoothedBootstrap.Fit(x0, rows, d, h);
        }
        catch (ArgumentException e) when (e is not ArgumentOutOfRangeException)
        {
            throw new InvalidInputException("smoothing-rank", $"smoothing: {e.Message}");
        }
    }

    // the sampler's draws mapped back to the transform's space (whitening undone), before calibration and clamping
    private static double[] ModelSpaceSample(
        MlpDenoiserAdapter denoiser, VolatilityAdaptiveSchedule schedule, Objective objective, Whitening? whitening, int count, ulong seed, SamplerOptions sampler)
    {
        var z = DiffusionSampler.Sample(denoiser, schedule, objective, count, seed, sampler);
        // a network trained past usefulness (a learning rate far too large whose loss stayed finite) overflows here: its
        // NaN draws went through the clamp and the transform into the scenario file, with exit 0
        int bad = Array.FindIndex(z, v => !float.IsFinite(v));
        if (bad >= 0)
        {
            int d = schedule.Series;
            throw new InvalidInputException(DiffusionTrainer.DivergedRule, string.Create(CultureInfo.InvariantCulture,
                $"the model draws {z[bad]}, not a finite number (row {bad / d}, series {bad % d}): its network overflows, as one whose training diverged does; train it again with a lower training.learning_rate"));
        }

        var values = new double[z.Length];
        for (int i = 0; i < z.Length; i++) values[i] = z[i];
        whitening?.Invert(values);
        return values;
    }

    /// <summary>
    /// Draws <paramref name="count"/> rows of log returns in original units (an undated frame with <see cref="Columns"/>).
    /// The same seed and sampler settings give the same rows on any number of threads. Defaults: DDIM, 50 steps, η = 0.
    /// Several threads may sample one fitted generator at once (not while it is being fitted or loaded).
    /// A model with <see cref="DiffusionGeneratorOptions.Calibration"/> maps the draws of the sampler it was calibrated
    /// with through its marginal calibration (<see cref="IsCalibratedFor"/>); other samplers' draws are not mapped.
    /// </summary>
    public TimeSeriesFrame Sample(int count, ulong seed, SamplerOptions? sampler = null)
    {
        if (_denoiser is null || _schedule is null || _transform is null || _manifest is null) throw NotFitted();
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        sampler ??= SamplerOptions.DefaultFor(_schedule.Steps);
        if (sampler.MaxDegreeOfParallelism == -1) sampler = sampler with { MaxDegreeOfParallelism = EngineThreads.MaxDegreeOfParallelism };
        int d = _columns.Length;
        var values = ModelSpaceSample(_denoiser, _schedule, Options.Objective, _manifest.Whitening, count, seed, sampler);
        if (_calibration is not null && IsCalibratedFor(sampler)) MarginalCalibration.Apply(_calibration, values, _columns);
        if (Options.Tails == TailPolicy.Clamp)
        {
            for (int i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], _manifest.ModelSpace.Min[i % d], _manifest.ModelSpace.Max[i % d]);
        }

        return _transform.Inverse(new TimeSeriesFrame([], _columns, values, count));
    }

    /// <summary><see cref="Sample"/> with the metadata of ARCHITECTURE.md's scenario files (CSV hash and time are added on writing).</summary>
    public ScenarioSet Generate(int count, ulong seed, SamplerOptions? sampler = null)
    {
        sampler ??= SamplerOptions.DefaultFor(Schedule.Steps);
        var values = Sample(count, seed, sampler);
        var m = Manifest;
        return new ScenarioSet(values, new ScenarioMetadata
        {
            ModelId = m.Weights.Sha256,
            ModelVersion = $"{m.Format} ({m.LibraryVersion})",
            LibraryVersion = LibraryVersion,
            Kind = m.Kind,
            Seed = seed,
            Sampler = sampler.Kind.WireName(),
            SamplingSteps = sampler.Kind == SamplerKind.Ddpm ? Schedule.Steps : sampler.Steps,
            Eta = sampler.Kind == SamplerKind.Ddim ? sampler.Eta : 0,
            TimestepSpacing = sampler.Kind == SamplerKind.Ddpm ? null : JsonNamingPolicy.SnakeCaseLower.ConvertName(sampler.Spacing.ToString()),
            InputDataSha256 = m.Data.InputSha256,
            TrainMatrixSha256 = m.Data.TrainMatrixSha256,
            Privacy = m.Privacy,
            MarginalCalibration = m.Calibration is null ? null : IsCalibratedFor(sampler),
            StepsPerScenario = 1,
        });
    }

    /// <summary>
    /// Whether <paramref name="sampler"/> is the one this model's network was made for: true without
    /// <see cref="DiffusionGeneratorOptions.Distillation"/>, else only for DDIM with η = 0 and the distillation's step
    /// count and spacing (other samplers run, but on a network tuned for that grid).
    /// </summary>
    public bool IsMadeFor(SamplerOptions sampler)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        return (Options.Distillation is not { } d || sampler.IsDeterministicDdim(d.SamplingSteps, d.Spacing))
            && (Manifest.Calibration is null || IsCalibratedFor(sampler));
    }

    /// <summary>Whether the model has a marginal calibration and it applies to <paramref name="sampler"/>'s draws (<see cref="MarginalCalibration.Applies"/>).</summary>
    public bool IsCalibratedFor(SamplerOptions sampler) => Manifest.Calibration is { } c && MarginalCalibration.Applies(c, sampler);

    /// <summary>The bytes of <c>weights.safetensors</c>: the network's state dict, PyTorch names, F32.</summary>
    public byte[] WeightsBytes() => Network.SerializeSafeTensors();

    /// <summary>The bytes of <c>manifest.json</c>.</summary>
    public byte[] ManifestBytes() => DiffusionJson.FileBytes(Manifest);

    /// <summary>
    /// Writes the model folder: <c>weights.safetensors</c> and <c>manifest.json</c>. Atomic: both files go to a new
    /// temporary folder beside <paramref name="folder"/>, are flushed, and the folder is renamed into place (an
    /// existing folder is moved aside first and deleted after), so a reader never sees a half-written model.
    /// </summary>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ModelFolder.WriteAtomically(folder, [(WeightsFileName, WeightsBytes()), (ManifestFileName, ManifestBytes())]);
    }

    /// <summary>
    /// Checks, creating nothing, that <see cref="Save"/> (and the sequence generator's) can write a model folder at
    /// <paramref name="folder"/>: not a file, not a folder holding other files than a model's, and a parent folder the
    /// system takes new entries in. Bad input is an <see cref="InvalidInputException"/> (<c>OUT-E</c>), a refusal of the
    /// system an <see cref="OutputPathException"/>, both naming the folder.
    /// </summary>
    public static void CheckSaveFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ModelFolder.CheckTarget(folder, [WeightsFileName, ManifestFileName]);
    }

    /// <summary>The <c>kind</c> string of a model manifest's JSON text, or null when it names none (an object without it).</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    internal static string? ManifestKind(string manifestJson)
    {
        using var doc = JsonDocument.Parse(manifestJson);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String
            ? kind.GetString()
            : null;
    }

    /// <summary>Loads a model folder written by <see cref="Save"/>; checks the weights against the manifest's hash.</summary>
    /// <exception cref="InvalidInputException">A missing or malformed file, or weights that do not match the manifest.</exception>
    public static DiffusionGenerator Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string manifestPath = Path.Combine(folder, ManifestFileName), weightsPath = Path.Combine(folder, WeightsFileName);
        if (!File.Exists(manifestPath)) throw new InvalidInputException("model-missing", $"{manifestPath} does not exist: not a model folder", new InputLocation(manifestPath, 0, 0));
        if (!File.Exists(weightsPath)) throw new InvalidInputException("model-missing", $"{weightsPath} does not exist", new InputLocation(weightsPath, 0, 0));
        ModelFolder.CheckSizes(manifestPath, weightsPath); // untrusted files: refused by size before they are read
        ModelManifest manifest;
        try
        {
            // another kind's manifest has keys this one does not map: name the kind before deserialising
            string text = File.ReadAllText(manifestPath);
            if (ManifestKind(text) is { } kind && ModelKinds.FromWireName(kind) != ModelKind.Tabular)
                throw new InvalidInputException("model-kind", $"model kind '{kind}' is not {ModelKind.Tabular.WireName()}", new InputLocation(manifestPath, 0, 0));
            manifest = JsonSerializer.Deserialize<ModelManifest>(text, DiffusionJson.Options)
                ?? throw new InvalidInputException("model-manifest", "empty manifest", new InputLocation(manifestPath, 0, 0));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("model-manifest", $"invalid manifest: {e.Message}", new InputLocation(manifestPath, (e.LineNumber ?? -1) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }

        if (manifest.Format != ModelManifest.CurrentFormat)
            throw new InvalidInputException("model-format", $"model format '{manifest.Format}' is not {ModelManifest.CurrentFormat}", new InputLocation(manifestPath, 0, 0));
        if (manifest.Kind != ModelKind.Tabular)
            throw new InvalidInputException("model-kind", $"model kind '{manifest.Kind.WireName()}' is not {ModelKind.Tabular.WireName()}", new InputLocation(manifestPath, 0, 0));

        byte[] weights = File.ReadAllBytes(weightsPath);
        string hash = Convert.ToHexStringLower(SHA256.HashData(weights));
        if (hash != manifest.Weights?.Sha256)
            throw new InvalidInputException("model-integrity", $"weights SHA-256 {hash} differs from the manifest's {manifest.Weights?.Sha256}", new InputLocation(weightsPath, 0, 0));

        DiffusionGenerator generator;
        try
        {
            // a manifest with a part set to null ("config": null) or missing ("transform") reads as null or undefined here
            generator = new DiffusionGenerator(manifest.Config ?? throw new InvalidDataException("the manifest has no config"));
            if (manifest.Data is null) throw new InvalidDataException("the manifest has no data section");
            generator.Restore(manifest, weights, weightsPath);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or KeyNotFoundException or NullReferenceException or InvalidOperationException)
        {
            string message = e is NullReferenceException or InvalidOperationException
                ? "the manifest lacks a part the model needs (a part set to null, or the transform missing)"
                : e.Message;
            throw new InvalidInputException("model-invalid", message, new InputLocation(folder, 0, 0));
        }

        return generator;
    }

    private void Restore(ModelManifest manifest, byte[] weights, string weightsPath)
    {
        var o = manifest.Config;
        int d = manifest.Columns.Count;
        // Fit writes the schedule section from the config; the sampler runs the section's process, the metadata and the
        // sampler the model is made for read the config's: a section edited apart from it would sample another process
        foreach (var (key, section, config) in new (string, object, object)[]
        {
            ("kind", manifest.Schedule.Kind, o.Schedule),
            ("diffusion_steps", manifest.Schedule.DiffusionSteps, o.DiffusionSteps),
            ("volatility_adaptive", manifest.Schedule.VolatilityAdaptive, o.VolatilityAdaptive),
        })
        {
            if (!section.Equals(config))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"the manifest's schedule.{key} ({Json(section)}) is not its config's ({Json(config)}): the network was trained for the config's"));
            }
        }

        var baseSchedule = NoiseSchedule.Create(manifest.Schedule.Kind, manifest.Schedule.DiffusionSteps);
        var schedule = manifest.Schedule.VolatilityAdaptive
            ? VolatilityAdaptiveSchedule.FromVolatility(baseSchedule, manifest.Schedule.NoiseScale)
            : VolatilityAdaptiveSchedule.Isotropic(baseSchedule, d);
        if (schedule.Series != d || manifest.ModelSpace.Min.Count != d || manifest.ModelSpace.Max.Count != d)
            throw new InvalidDataException("the manifest's schedule or model-space range does not have one entry per series");
        for (int i = 0; i < d; i++)
        {
            // Sample clamps every draw to [min, max]: a minimum above its maximum would stop each draw in Math.Clamp
            if (!(manifest.ModelSpace.Min[i] <= manifest.ModelSpace.Max[i]))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"the manifest's model-space range of series '{manifest.Columns[i]}' has its minimum {manifest.ModelSpace.Min[i]:R} above its maximum {manifest.ModelSpace.Max[i]:R}"));
            }
        }

        if (o.Whiten != manifest.Whitening is not null
            || (manifest.Whitening is { } w && (w.Mean.Count != d || w.Matrix.Count != d * d || w.Inverse.Count != d * d)))
            throw new InvalidDataException("the manifest's whitening does not match its config or its series");
        var network = new MlpDenoiser(new MlpDenoiserConfig(d, o.Hidden, o.Blocks, o.TimeEmbedding, (float)o.Dropout), new Philox(o.Seed, stream: 0));
        network.LoadSafeTensors(SafeTensors.Load(weights, weightsPath), strict: true);
        foreach (var (name, tensor) in network.StateDict())
        {
            // a NaN or ∞ weight (a diverged run's) makes every draw NaN: generate wrote such rows with exit 0
            int bad = Array.FindIndex(tensor.Data, v => !float.IsFinite(v));
            if (bad >= 0)
            {
                throw new InvalidInputException("model-weights", string.Create(CultureInfo.InvariantCulture,
                    $"tensor '{name}' holds {tensor.Data[bad]} at element {bad}, not a finite number: the network would draw NaN scenarios"), new InputLocation(weightsPath, 0, 0));
            }
        }

        network.Eval();
        // the transform and the calibration map must be of the model's series in its order: they refused other columns
        // only when generate had drawn (TRANSFORM-E, naming no file)
        _transform = ManifestPipeline("transform", () => TransformPipeline.FromJson(manifest.Transform.GetRawText()), manifest.Columns);
        if (manifest.Calibration is { } calibration)
        {
            if (o.Calibration is null) throw new InvalidDataException("the manifest has a calibration but its config has none");
            _calibration = ManifestPipeline("calibration map", calibration.LoadMap, manifest.Columns);
        }
        else if (o.Calibration is not null)
        {
            throw new InvalidDataException("the manifest's config asks for calibration but it has none");
        }

        _schedule = schedule;
        _denoiser = new MlpDenoiserAdapter(network, schedule.Steps);
        _columns = [.. manifest.Columns];
        _manifest = manifest;
    }

    // a pipeline of the manifest (its transform, its calibration map), refused as the manifest's when it is not one or not
    // of the model's columns in order
    private static TransformPipeline ManifestPipeline(string part, Func<TransformPipeline> load, IReadOnlyList<string> columns)
    {
        TransformPipeline pipeline;
        try
        {
            pipeline = load();
        }
        catch (InvalidInputException e)
        {
            throw new InvalidDataException($"the manifest's {part}: {e.Message}", e);
        }

        foreach (var step in pipeline.ToState().Transforms)
        {
            if (!step.Columns.SequenceEqual(columns, StringComparer.Ordinal))
            {
                throw new InvalidDataException(
                    $"the manifest's {part} is of the series [{string.Join(", ", step.Columns)}], its columns are [{string.Join(", ", columns)}]");
            }
        }

        return pipeline;
    }

    private static string Json(object value) => JsonSerializer.Serialize(value, DiffusionJson.Options);

    // per-series loss weights that give every segment of o.Strata an equal share of the loss, or null
    private static float[]? StratifiedWeights(DiffusionGeneratorOptions o, IReadOnlyList<string> columns)
    {
        if (o.Strata is null) return null;
        var dimension = new SegmentDimension("strata", [.. o.Strata]);
        return LossWeights.PerSeries(SegmentMap.EqualSegmentWeights(dimension, columns), [columns.Count]);
    }

    internal static void Resume(DiffusionTrainer trainer, CheckpointOptions checkpoint, string fingerprint)
    {
        string path = checkpoint.Path;
        IReadOnlyDictionary<string, string> metadata;
        try
        {
            metadata = trainer.LoadCheckpoint(path);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidInputException("checkpoint-mismatch", e.Message, new InputLocation(path, 0, 0));
        }

        if (!metadata.TryGetValue("fingerprint", out var saved) || saved != fingerprint)
        {
            throw new InvalidInputException("checkpoint-mismatch",
                "the checkpoint was written for other data or options; delete it or choose another checkpoint file", new InputLocation(path, 0, 0));
        }

        checkpoint.Resumed?.Invoke(trainer.StepsDone);
    }

    /// <summary>SHA-256 over the options' JSON, the columns and the train-matrix hash: what a checkpoint must match.</summary>
    private static string Fingerprint(DiffusionGeneratorOptions options, string trainHash, IReadOnlyList<string> columns) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(
            JsonSerializer.Serialize(options, DiffusionJson.Options) + "\n" + string.Join("\n", columns) + "\n" + trainHash)));

    /// <summary>SHA-256 of the values as float64 little-endian, row-major.</summary>
    public static string TrainMatrixSha256(TimeSeriesFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return Hashing.ValuesSha256.Of(frame.ValueSpan); // its rows only, read in place (a Head frame's too)
    }

    internal static TrainingMetrics Metrics(IReadOnlyList<float> losses)
    {
        int n = losses.Count;
        int every = Math.Max(1, (int)Math.Ceiling(n / 100.0));
        var curve = new List<double>();
        for (int start = 0; start < n; start += every)
        {
            int end = Math.Min(n, start + every);
            double sum = 0;
            for (int i = start; i < end; i++) sum += losses[i];
            curve.Add(sum / (end - start));
        }

        int tail = Math.Max(1, n / 10);
        double final = 0;
        for (int i = n - tail; i < n; i++) final += losses[i];
        return new TrainingMetrics { Steps = n, FinalLoss = n == 0 ? double.NaN : final / tail, LossCurveEvery = every, LossCurve = curve };
    }

    private static WeightsManifest WeightsEntry(MlpDenoiser network, byte[] weights) => new()
    {
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(weights)),
        Parameters = network.ParameterCount(),
        Tensors = [.. network.StateDict().Select(kv => new TensorManifest(kv.Key, kv.Value.Shape))],
    };

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static InvalidOperationException NotFitted() => new("the generator is not fitted: call Fit or Load first");
}
