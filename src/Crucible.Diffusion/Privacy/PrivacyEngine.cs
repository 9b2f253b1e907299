using System.Globalization;
using Crucible.Data;
using Crucible.Diffusion.Tabular;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Privacy;

/// <summary>
/// DP-SGD (Abadi et al. 2016) as Opacus implements it: Poisson-sampled batches, each example's gradient clipped to L2
/// norm ≤ C over all parameters together (scale min(1, C/(‖g‖ + 1e-6))), the clipped gradients summed, Gaussian noise
/// N(0, σ²C²) added once per coordinate per step, and the result divided by the <i>expected</i> batch size q·N. Every
/// step, empty batches included, is recorded in the RDP accountant. A configuration whose projected ε over the planned
/// steps exceeds the declared budget, or whose δ is not below 1/N, is refused before training starts.
/// </summary>
/// <remarks>
/// The engine writes the private gradient into each parameter's <see cref="Tensor.Grad"/>; any optimiser then steps
/// as usual (post-processing keeps the guarantee). By default the noise comes from a seeded <see cref="Philox"/> stream
/// and the batches from the stream the sampler is given: reproducible, but anyone who knows the seeds can regenerate
/// them, so the guarantee holds only against a reader who does not. With <see cref="DpSgdOptions.SecureMode"/> both come
/// from one <see cref="SecureDpRandom"/> (the OS CSPRNG; Opacus's <c>secure_mode</c>, RELIABILITY.md §2.3 item 8) and the
/// given streams are not used for them: not reproducible by design.
/// </remarks>
public sealed class PrivacyEngine
{
    private RdpAccountant _accountant;
    private readonly IDpRandom _noise;

    private PrivacyEngine(DpSgdOptions options, int datasetSize, double sigma, RdpAccountant accountant, IDpRandom noise, PrivacySpent projected)
    {
        Options = options;
        DatasetSize = datasetSize;
        NoiseMultiplier = sigma;
        _accountant = accountant;
        _noise = noise;
        Projected = projected;
    }

    /// <summary>The declared configuration.</summary>
    public DpSgdOptions Options { get; }

    /// <summary>The source of the noise (and, in secure mode, of the batches).</summary>
    public IDpRandom Noise => _noise;

    /// <summary>N, the number of records (privacy units).</summary>
    public int DatasetSize { get; }

    /// <summary>σ in use (given, or calibrated for the target ε).</summary>
    public double NoiseMultiplier { get; }

    /// <summary>q = expected batch size / N.</summary>
    public double SampleRate => Options.ExpectedBatchSize / DatasetSize;

    /// <summary>ε projected over the planned steps when the engine was created.</summary>
    public PrivacySpent Projected { get; }

    /// <summary>The steps taken so far.</summary>
    public long StepsTaken => _accountant.Steps;

    /// <summary>The accountant (its <see cref="RdpAccountant.ToJson"/> state goes with each checkpoint).</summary>
    public RdpAccountant Accountant => _accountant;

    /// <summary>
    /// Validates <paramref name="options"/> for a dataset of <paramref name="datasetSize"/> privacy units, calibrates σ when a
    /// target ε is given, projects ε over the planned steps and refuses when it exceeds the budget.
    /// </summary>
    /// <param name="options">The declared configuration.</param>
    /// <param name="datasetSize">N.</param>
    /// <param name="noise">The noise stream (seeded; one per run); not used in secure mode, where a fresh <see cref="SecureDpRandom"/> is.</param>
    /// <param name="resumeFrom">An accountant restored from a checkpoint, to continue its history.</param>
    /// <exception cref="InvalidInputException">
    /// Rule <c>DP-E-BUDGET</c>: projected ε &gt; budget, or δ ≥ 1/N, located at the config key it concerns
    /// (<see cref="DpTrainingOptions.Setting"/>: <c>privacy.epsilon_budget</c>, <c>privacy.delta</c>, <c>privacy.target_epsilon</c>);
    /// <c>DP-E-CONFIG</c>: a value is out of range.
    /// </exception>
    public static PrivacyEngine Create(DpSgdOptions options, int datasetSize, Philox noise, RdpAccountant? resumeFrom = null)
    {
        options.Validate();
        if (datasetSize < 1) throw new InvalidInputException("DP-E-CONFIG", "the dataset is empty");
        var q = options.ExpectedBatchSize / datasetSize;
        if (!(q <= 1))
        {
            // the expected batch is training.batch_size unless privacy.sample_rate sets it (q · N, never above N)
            throw new InvalidInputException("DP-E-CONFIG", string.Create(CultureInfo.InvariantCulture,
                $"the expected batch of {options.ExpectedBatchSize:G6} examples is more than the {datasetSize} examples trained on (Poisson sampling needs a rate q = {options.ExpectedBatchSize:G6}/{datasetSize} of at most 1): lower training.batch_size, or give privacy.sample_rate (--dp-sample-rate)"));
        }
        if (options.Delta >= 1.0 / datasetSize)
            throw new InvalidInputException("DP-E-BUDGET", string.Create(CultureInfo.InvariantCulture,
                $"delta {options.Delta:G3} is not below 1/N = {1.0 / datasetSize:G3}: a mechanism that publishes one record outright would satisfy it"), DpTrainingOptions.Setting("delta"));
        double sigma;
        try
        {
            sigma = options.NoiseMultiplier
                ?? NoiseCalibration.NoiseMultiplier(options.TargetEpsilon!.Value, options.Delta, q, options.Steps, conversion: options.Conversion);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new InvalidInputException("DP-E-BUDGET", "the target epsilon cannot be reached with any noise multiplier up to 1e6", DpTrainingOptions.Setting("target_epsilon"));
        }

        var accountant = resumeFrom ?? new RdpAccountant();
        var projection = RdpAccountant.FromJson(accountant.ToJson());
        var remaining = options.Steps - projection.Steps;
        if (remaining > 0) projection.Step(sigma, q, remaining);
        var projected = projection.GetEpsilon(options.Delta, options.Conversion);
        if (projected.Epsilon > options.EpsilonBudget)
            throw new InvalidInputException("DP-E-BUDGET", string.Create(CultureInfo.InvariantCulture,
                $"the configuration spends epsilon = {projected.Epsilon:G6} over {options.Steps} steps (sigma {sigma:G6}, q {q:G6}, delta {options.Delta:G3}), above the declared budget {options.EpsilonBudget:G6}"), DpTrainingOptions.Setting("epsilon_budget"));
        ArgumentNullException.ThrowIfNull(noise);
        IDpRandom source = options.SecureMode ? new SecureDpRandom() : new PhiloxDpRandom(noise);
        return new PrivacyEngine(options, datasetSize, sigma, accountant, source, projected);
    }

    /// <summary>A Poisson sampler over the dataset at rate q drawing from <paramref name="rng"/>, or in secure mode from the engine's secure source.</summary>
    public PoissonSampler CreateSampler(Philox rng) => _noise.IsSecure ? new(DatasetSize, SampleRate, _noise) : new(DatasetSize, SampleRate, rng);

    /// <summary>
    /// One private step: computes the per-example gradients of the <paramref name="batchSize"/> sampled examples with
    /// <paramref name="gradients"/>, clips, sums, adds noise, divides by q·N and writes the result into each parameter's
    /// Grad; records the step in the accountant. An empty batch (0) still gets noise and is accounted.
    /// </summary>
    /// <exception cref="InvalidOperationException">The planned number of steps has been taken (the budget would be exceeded).</exception>
    public void Step(IReadOnlyList<Tensor> parameters, int batchSize, IPerSampleGradients gradients)
    {
        if (StepsTaken >= Options.Steps)
            throw new InvalidOperationException($"all {Options.Steps} planned steps are taken: another would spend beyond the declared budget");
        var perSample = batchSize == 0 ? [] : gradients.Compute(parameters, batchSize);
        var p = parameters.Sum(t => t.Length);
        NoiseWriteAndAccount(parameters, ClipAndSum(perSample, batchSize, p, Options.MaxGradNorm));
    }

    /// <summary>
    /// One private step with the clipped sum computed by <paramref name="gradients"/> (e.g. <see cref="GhostClipping"/>,
    /// which never materialises the per-example gradients, or <see cref="MicrobatchClipping"/>, which holds one example's
    /// at a time); otherwise as the <see cref="IPerSampleGradients"/> overload.
    /// </summary>
    /// <exception cref="InvalidOperationException">The planned number of steps has been taken.</exception>
    public void Step(IReadOnlyList<Tensor> parameters, int batchSize, IClippedGradientSum gradients)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(gradients);
        if (StepsTaken >= Options.Steps)
            throw new InvalidOperationException($"all {Options.Steps} planned steps are taken: another would spend beyond the declared budget");
        var p = TotalLength(parameters);
        var sum = batchSize == 0 ? new double[p] : gradients.ClippedSum(parameters, batchSize, Options.MaxGradNorm);
        if (sum.Length != p) throw new InvalidOperationException($"the clipped sum has {sum.Length} values for {p} parameters");
        NoiseWriteAndAccount(parameters, sum);
    }

    private static int TotalLength(IReadOnlyList<Tensor> parameters)
    {
        var p = 0;
        for (var k = 0; k < parameters.Count; k++) p += parameters[k].Length;
        return p;
    }

    private void NoiseWriteAndAccount(IReadOnlyList<Tensor> parameters, double[] sum)
    {
        AddNoiseAndNormalise(sum, NoiseMultiplier * Options.MaxGradNorm, Options.ExpectedBatchSize, _noise);
        var offset = 0;
        for (var k = 0; k < parameters.Count; k++) // indexed: foreach over the interface boxes an enumerator every step
        {
            var t = parameters[k];
            var g = t.Grad ??= new float[t.Length];
            for (var i = 0; i < g.Length; i++) g[i] = (float)sum[offset + i];
            offset += t.Length;
        }

        _accountant.Step(NoiseMultiplier, SampleRate);
    }

    /// <summary>
    /// The state a checkpoint must hold to resume this engine exactly: the accountant's history (JSON) and the noise
    /// generator's position, as one string. In secure mode there is no position to record (the noise string is
    /// <see cref="SecureNoiseState"/>): a resumed engine continues the accountant and draws with a fresh secure source,
    /// which is all DP needs (the draws only have to be independent and unknown).
    /// </summary>
    public (string Accountant, string Noise) CaptureState()
    {
        if (_noise is not PhiloxDpRandom philox) return (_accountant.ToJson(), SecureNoiseState);
        var n = philox.Stream.GetState();
        return (_accountant.ToJson(), string.Join(',',
            n.Seed.ToString(CultureInfo.InvariantCulture), n.Stream.ToString(CultureInfo.InvariantCulture), n.Counter.ToString(CultureInfo.InvariantCulture),
            n.BufferIndex.ToString(CultureInfo.InvariantCulture), n.HasCachedNormal ? "1" : "0",
            BitConverter.DoubleToInt64Bits(n.CachedNormal).ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>The noise state of a secure-mode checkpoint: nothing that could regenerate the draws.</summary>
    public const string SecureNoiseState = "secure";

    /// <summary>Restores what <see cref="CaptureState"/> returned (e.g. from a checkpoint of the same run).</summary>
    /// <exception cref="InvalidDataException">
    /// The state is malformed, uses another RDP formula, has more steps than planned, or is of the other noise mode.
    /// </exception>
    public void RestoreState(string accountant, string noise)
    {
        ArgumentNullException.ThrowIfNull(accountant);
        ArgumentNullException.ThrowIfNull(noise);
        bool savedSecure = noise == SecureNoiseState;
        if (savedSecure && !_noise.IsSecure)
            throw new InvalidDataException("the checkpoint is of a secure-mode run, whose noise position is never recorded: resume it in secure mode");
        if (!savedSecure && _noise.IsSecure)
            throw new InvalidDataException("the checkpoint is of a reproducible run, whose noise anyone with the seed can regenerate: train again from scratch in secure mode");
        RdpAccountant restored;
        PhiloxState state = default;
        try
        {
            restored = RdpAccountant.FromJson(accountant);
            if (!savedSecure) state = ParseNoise(noise);
        }
        catch (Exception e) when (e is FormatException or OverflowException or System.Text.Json.JsonException or ArgumentException or InvalidInputException)
        {
            throw new InvalidDataException($"malformed DP-SGD state: {e.Message}", e);
        }

        if (restored.Formula != _accountant.Formula) throw new InvalidDataException("the saved accountant uses another RDP formula");
        if (restored.Steps > Options.Steps) throw new InvalidDataException($"the saved accountant has {restored.Steps} steps, more than the {Options.Steps} planned");
        foreach (var segment in restored.History)
        {
            if (segment.NoiseMultiplier != NoiseMultiplier || segment.SampleRate != SampleRate)
                throw new InvalidDataException("the saved accountant's steps used another noise multiplier or sampling rate");
        }

        if (_noise is PhiloxDpRandom philox)
        {
            try
            {
                philox.Stream.SetState(state);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"the saved noise state is not this engine's: {e.Message}", e);
            }
        }

        _accountant = restored;
    }

    private static PhiloxState ParseNoise(string noise)
    {
        var f = noise.Split(',');
        if (f.Length != 6) throw new FormatException("the noise state needs 6 fields");
        return new PhiloxState(ulong.Parse(f[0], CultureInfo.InvariantCulture), ulong.Parse(f[1], CultureInfo.InvariantCulture),
            ulong.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture), f[4] == "1",
            BitConverter.Int64BitsToDouble(long.Parse(f[5], CultureInfo.InvariantCulture)));
    }

    /// <summary>ε spent so far.</summary>
    public PrivacySpent Spent() => _accountant.GetEpsilon(Options.Delta, Options.Conversion);

    /// <summary>The DP statement for the manifest and model card, with the ε spent so far.</summary>
    public DpStatement Statement()
    {
        var spent = Spent();
        return new DpStatement(spent.Epsilon, Options.Delta, NoiseMultiplier, Options.MaxGradNorm, SampleRate, StepsTaken, DatasetSize,
            spent.BestOrder, _accountant.Formula, Options.Conversion, Options.Unit) { SecureMode = _noise.IsSecure };
    }

    /// <summary>
    /// Flat clipping (Opacus <c>clip_and_accumulate</c>): each row of <paramref name="perSample"/> (count × P) is scaled by
    /// min(1, C/(‖row‖₂ + 1e-6)) and the rows are summed, in double.
    /// </summary>
    public static double[] ClipAndSum(ReadOnlySpan<float> perSample, int count, int parameterCount, double maxNorm)
    {
        var sum = new double[parameterCount];
        for (var b = 0; b < count; b++)
        {
            var row = perSample.Slice(b * parameterCount, parameterCount);
            var factor = ClipFactor(row, maxNorm);
            for (var i = 0; i < parameterCount; i++) sum[i] += factor * row[i];
        }

        return sum;
    }

    /// <summary>min(1, C/(‖g‖₂ + 1e-6)), the norm computed in double.</summary>
    public static double ClipFactor(ReadOnlySpan<float> gradient, double maxNorm)
    {
        var sq = 0.0;
        foreach (var v in gradient) sq += (double)v * v;
        return ClipFactorOfSquaredNorm(sq, maxNorm);
    }

    /// <summary>min(1, C/(√<paramref name="squaredNorm"/> + 1e-6)): <see cref="ClipFactor"/> of a gradient whose ‖g‖₂² (in double) is given.</summary>
    public static double ClipFactorOfSquaredNorm(double squaredNorm, double maxNorm) => Math.Min(1.0, maxNorm / (Math.Sqrt(squaredNorm) + 1e-6));

    /// <summary>sum[i] ← (sum[i] + N(0, std²)) / expectedBatchSize, drawing the normals from <paramref name="rng"/> in order.</summary>
    public static void AddNoiseAndNormalise(Span<double> sum, double std, double expectedBatchSize, Philox rng) =>
        AddNoiseAndNormalise(sum, std, expectedBatchSize, new PhiloxDpRandom(rng));

    /// <summary>
    /// sum[i] ← (sum[i] + N(0, std²)) / expectedBatchSize, drawing the normals from <paramref name="rng"/> in order, 256 at a
    /// time (<see cref="IDpRandom.NextNormals"/>; none when std is 0).
    /// </summary>
    public static void AddNoiseAndNormalise(Span<double> sum, double std, double expectedBatchSize, IDpRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Span<double> noise = stackalloc double[256];
        for (var start = 0; start < sum.Length; start += noise.Length)
        {
            var part = sum.Slice(start, Math.Min(noise.Length, sum.Length - start));
            var z = noise[..part.Length];
            if (std == 0) z.Clear();
            else rng.NextNormals(z);
            for (var i = 0; i < part.Length; i++) part[i] = (part[i] + (std * z[i])) / expectedBatchSize; // std = 0: z is 0, sum + 0
        }
    }
}
