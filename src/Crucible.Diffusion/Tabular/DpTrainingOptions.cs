using System.Globalization;
using Crucible.Data;
using Crucible.Diffusion.Privacy;

namespace Crucible.Diffusion.Tabular;

/// <summary>
/// DP-SGD settings of a <see cref="DiffusionGenerator"/> (the <c>privacy</c> key of the config). The unit of privacy is
/// one train row. With these settings nothing the model file holds is fitted on the private rows outside the accounted
/// mechanism (RELIABILITY.md DP-11): the rows are divided by <see cref="PublicScale"/> and clipped to
/// ±<see cref="PublicBound"/>, both from the config, the noise schedule is isotropic and there is no whitening, and the
/// manifest withholds the training loss (final_loss 0, no curve: the losses are statistics of the private rows).
/// </summary>
public sealed record DpTrainingOptions
{
    /// <summary>C, the L2 bound of each example's gradient.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>σ (noise std / C); null: calibrated for <see cref="TargetEpsilon"/> over the planned steps.</summary>
    public double? NoiseMultiplier { get; init; }

    /// <summary>The ε to calibrate σ for when <see cref="NoiseMultiplier"/> is null.</summary>
    public double? TargetEpsilon { get; init; }

    /// <summary>δ; must be below 1/N (N = train rows).</summary>
    public double Delta { get; init; } = 1e-5;

    /// <summary>ε_max: training is refused before it starts when the projected ε exceeds it.</summary>
    public double EpsilonBudget { get; init; } = 10;

    /// <summary>q, the Poisson sampling rate; null: <c>training.batch_size</c> / N (so the expected batch is the batch size).</summary>
    public double? SampleRate { get; init; }

    /// <summary>The RDP → (ε, δ) conversion.</summary>
    public RdpConversion Conversion { get; init; } = RdpConversion.Balle2020;

    /// <summary>The public scale of the log returns: the model sees r / scale (default 0.02, a 2% daily move).</summary>
    public double PublicScale { get; init; } = 0.02;

    /// <summary>The public clip of the scaled rows: each value is clipped to ±bound before training (a per-record map).</summary>
    public double PublicBound { get; init; } = 5;

    /// <summary>
    /// Secure mode (<c>secure_mode</c>): the DP noise and the Poisson batches come from the OS CSPRNG
    /// (<see cref="SecureDpRandom"/>), so the seed the manifest records cannot regenerate them; the model then cannot be
    /// reproduced bit for bit. Off by default: experiment with it off, then turn it on and train again from scratch
    /// for a model to release (Opacus's FAQ). A checkpoint resumes in the mode it was written in.
    /// </summary>
    public bool SecureMode { get; init; }

    /// <summary>
    /// The unit of privacy (<c>unit</c>); null: <see cref="PrivacyUnit.Record"/>. A tabular model's unit is the record (one
    /// train row, a day). A sequence model takes <c>record</c> (a day: the accountant runs per window and the day's
    /// guarantee is the group bound over the k = W windows that hold it, <see cref="GroupPrivacy"/>) or <c>window</c>.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public PrivacyUnit? Unit { get; init; }

    /// <summary>
    /// The declaration that the economic state a sequence model is conditioned on is public data (<c>public_state</c>;
    /// CLI <c>--dp-public-state</c>): only the returns are private. Without it a conditional sequence model is refused
    /// under DP (DP-E-PREPROCESS). With it, every condition feature must come from the state file alone (RV20, fitted on
    /// the private returns, is refused), the standardisation of the conditions, the reference state and the crisis
    /// archetypes are computed from the state file alone (statistics of public data), and the statement records the
    /// state file by SHA-256 (<see cref="PrivacyManifest.PublicState"/>). Each window's condition is then a function of the
    /// window's own first date and the public file: part of that example, inside the accounted mechanism.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool PublicState { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting by its config key (<c>privacy.KEY</c>).</summary>
    public void Validate() => Validate(null);

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first invalid setting: by <paramref name="name"/>(key) when it
    /// returns a name (the CLI flag that set the value, e.g. <c>--dp-epsilon</c> for <c>target_epsilon</c>), else by its
    /// config key <c>privacy.KEY</c>.
    /// </summary>
    public void Validate(Func<string, string?>? name)
    {
        string N(string key) => name?.Invoke(key) ?? "privacy." + key;
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }

        Require(double.IsFinite(MaxGradNorm) && MaxGradNorm > 0, $"{N("max_grad_norm")} must be a finite number > 0");
        Require(NoiseMultiplier is null || (double.IsFinite(NoiseMultiplier.Value) && NoiseMultiplier.Value >= 0), $"{N("noise_multiplier")} must be a finite number >= 0");
        Require(NoiseMultiplier is not null || TargetEpsilon is not null, "privacy.noise_multiplier or target_epsilon must be given");
        Require(NoiseMultiplier is null || TargetEpsilon is null, "privacy.noise_multiplier and target_epsilon are both given: give one");
        // an infinite ε (target or budget) is no guarantee, and no manifest or run record can hold it as JSON
        Require(TargetEpsilon is null || (double.IsFinite(TargetEpsilon.Value) && TargetEpsilon.Value > 0), $"{N("target_epsilon")} must be a finite number > 0");
        Require(Delta is > 0 and < 1, $"{N("delta")} must be in (0, 1)");
        Require(double.IsFinite(EpsilonBudget) && EpsilonBudget > 0, $"{N("epsilon_budget")} must be a finite number > 0");
        Require(SampleRate is null || SampleRate is > 0 and <= 1, $"{N("sample_rate")} must be in (0, 1]");
        Require(Enum.IsDefined(Conversion), "privacy.unknown conversion");
        Require(double.IsFinite(PublicScale) && PublicScale > 0, "privacy.public_scale must be a finite number > 0");
        Require(double.IsFinite(PublicBound) && PublicBound > 0, "privacy.public_bound must be a finite number > 0");
        Require(Unit is null || Enum.IsDefined(Unit.Value), "privacy.unknown unit");
    }

    /// <summary>
    /// Where a <c>DP-E-BUDGET</c> refusal of the engine or the sequence plan points: the config key it concerns,
    /// <c>privacy.KEY</c> (<c>delta</c>, <c>epsilon_budget</c>, <c>target_epsilon</c>), as the error's location, so that a
    /// shell can name the setting as its user gave it (<see cref="Relocate"/>).
    /// </summary>
    public static InputLocation Setting(string key) => new("privacy." + key, 0, 0);

    /// <summary>The key of <paramref name="e"/>'s <see cref="Setting"/> location, or null when it points elsewhere.</summary>
    public static string? SettingOf(InvalidInputException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Location is { Line: 0, File: var file } && file.StartsWith("privacy.", StringComparison.Ordinal) ? file["privacy.".Length..] : null;
    }

    /// <summary>
    /// <paramref name="e"/> pointing at <paramref name="name"/>(key) when it names the setting (a CLI flag the user gave,
    /// a service's request field), as <see cref="Validate(Func{string, string})"/> names it; <paramref name="e"/> itself
    /// when its location is no <see cref="Setting"/> or the name is null.
    /// </summary>
    public static InvalidInputException Relocate(InvalidInputException e, Func<string, string?> name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return SettingOf(e) is { } key && name(key) is { } named ? new InvalidInputException(e.Rule, e.Message, new InputLocation(named, 0, 0)) : e;
    }

    /// <summary>The engine's options for <paramref name="rows"/> train rows, <paramref name="batchSize"/> and <paramref name="steps"/>.</summary>
    public DpSgdOptions ToEngineOptions(int rows, int batchSize, long steps) => new()
    {
        MaxGradNorm = MaxGradNorm,
        NoiseMultiplier = NoiseMultiplier,
        TargetEpsilon = TargetEpsilon,
        Delta = Delta,
        ExpectedBatchSize = SampleRate is { } q ? q * rows : batchSize,
        Steps = steps,
        EpsilonBudget = EpsilonBudget,
        Unit = Unit ?? PrivacyUnit.Record,
        Conversion = Conversion,
        SecureMode = SecureMode,
    };
}

/// <summary>The DP statement of a privately trained model, as stored in its manifest (RELIABILITY.md DP-10).</summary>
public sealed record PrivacyManifest
{
    /// <summary>ε spent over all steps taken.</summary>
    public double Epsilon { get; init; }

    /// <summary>δ.</summary>
    public double Delta { get; init; }

    /// <summary>The declared budget ε_max.</summary>
    public double EpsilonBudget { get; init; }

    /// <summary>The target ε σ was calibrated for, or null when σ was given.</summary>
    public double? TargetEpsilon { get; init; }

    /// <summary>σ, noise std / C.</summary>
    public double NoiseMultiplier { get; init; }

    /// <summary>C.</summary>
    public double MaxGradNorm { get; init; }

    /// <summary>q.</summary>
    public double SampleRate { get; init; }

    /// <summary>q·N, the normaliser of the noisy sum.</summary>
    public double ExpectedBatchSize { get; init; }

    /// <summary>Steps taken and accounted (empty batches included).</summary>
    public long Steps { get; init; }

    /// <summary>N, train rows.</summary>
    public int DatasetSize { get; init; }

    /// <summary>The accountant, <c>rdp</c>.</summary>
    public DpAccountantKind Accountant { get; init; } = DpAccountantKind.Rdp;

    /// <summary>The RDP formula (<c>opacus</c>).</summary>
    public RdpFormula RdpFormula { get; init; }

    /// <summary>The RDP → (ε, δ) conversion.</summary>
    public RdpConversion Conversion { get; init; }

    /// <summary>The Rényi order at which ε was reached.</summary>
    public double BestOrder { get; init; }

    /// <summary>The sampling of the batches, <c>poisson</c>.</summary>
    public DpSampling Sampling { get; init; } = DpSampling.Poisson;

    /// <summary>How gradients were clipped.</summary>
    public string Clipping { get; init; } = "flat per-example L2 over all parameters, factor min(1, C/(norm + 1e-6)); one (t, noise) draw per example";

    /// <summary>The neighbouring relation (<see cref="DpStatement.Adjacency"/>): <c>add_remove_one</c>, or a group statement's.</summary>
    public string Adjacency { get; init; } = DpStatement.ExampleAdjacency;

    /// <summary>The unit of privacy (<c>record</c>: one train row).</summary>
    public PrivacyUnit Unit { get; init; }

    /// <summary>
    /// k, the number of examples (windows) one unit lies in when the guarantee is a group bound (a sequence model's
    /// <c>record</c>, a day: k = W); null when each unit is one example.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? GroupSize { get; init; }

    /// <summary>ε per example (window) from the accountant, when the guarantee is a group bound (<see cref="GroupSize"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? ExampleEpsilon { get; init; }

    /// <summary>δ per example (window) the accountant's ε is stated at, when the guarantee is a group bound.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? ExampleDelta { get; init; }

    /// <summary>The number of units (days) when the guarantee is a group bound; <see cref="DatasetSize"/> is then the number of examples (windows).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? Units { get; init; }

    /// <summary>
    /// The public economic state a conditional sequence model was conditioned on (<see cref="DpTrainingOptions.PublicState"/>),
    /// by file and SHA-256, with what was computed from it; null for a model without conditions.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public PublicStateManifest? PublicState { get; init; }

    /// <summary>The public scale of the rows (config, not data).</summary>
    public double PublicScale { get; init; }

    /// <summary>The public clip of the scaled rows (config, not data).</summary>
    public double PublicBound { get; init; }

    /// <summary>What the guarantee covers.</summary>
    public string Covers { get; init; } = DpStatement.Coverage;

    /// <summary>The statement in one line.</summary>
    public string Statement { get; init; } = "";

    /// <summary>True when the noise and the batches came from the OS CSPRNG (secure mode; the model is not reproducible).</summary>
    public bool SecureMode { get; init; }

    /// <summary>The generator of the noise and the batches (<see cref="SecureDpRandom.Name"/> or <see cref="PhiloxDpRandom.Name"/>).</summary>
    public string NoiseGenerator { get; init; } = PhiloxDpRandom.Name;

    /// <summary>
    /// The RDP accountant of the training this statement describes (Opacus's <c>privacy_engine.accountant</c>), rebuilt
    /// from its numbers: <see cref="Steps"/> steps of σ = <see cref="NoiseMultiplier"/> at q = <see cref="SampleRate"/>
    /// with <see cref="RdpFormula"/> over the default orders, as training recorded them. Its
    /// <see cref="RdpAccountant.GetEpsilon"/> at <see cref="Delta"/> with <see cref="Conversion"/> is <see cref="Epsilon"/>;
    /// for a group statement (<see cref="GroupSize"/> set) it accounts per example (window): at <see cref="ExampleDelta"/>
    /// it gives <see cref="ExampleEpsilon"/>, and <see cref="GroupPrivacy"/> turns that into the unit's bound.
    /// </summary>
    public RdpAccountant RebuildAccountant()
    {
        var accountant = new RdpAccountant(formula: RdpFormula);
        accountant.Step(NoiseMultiplier, SampleRate, Steps);
        return accountant;
    }

    /// <summary>
    /// ε of the same training at another δ (Opacus's <c>get_epsilon(delta)</c>), e.g. to state a model trained for
    /// δ = 1e-5 at δ = 1e-6: <see cref="RebuildAccountant"/>'s ε at <paramref name="delta"/> with <see cref="Conversion"/>.
    /// At <see cref="Delta"/> it is <see cref="Epsilon"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not in (0, 1).</exception>
    /// <exception cref="InvalidOperationException">
    /// A group statement (<see cref="GroupSize"/> set): its δ bounds k·e^{(k−1)ε}·δ per example, so another δ is no
    /// single accountant query; use <see cref="RebuildAccountant"/> and <see cref="GroupPrivacy.ForGroup"/>.
    /// </exception>
    public PrivacySpent EpsilonAt(double delta)
    {
        if (!(delta is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in (0, 1)");
        if (GroupSize is > 1)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"a group statement (k = {GroupSize}) has no epsilon at another delta from one accountant query: use RebuildAccountant() per example and GroupPrivacy.ForGroup"));
        return RebuildAccountant().GetEpsilon(delta, Conversion);
    }

    /// <summary>The manifest entry from the engine's statement at the end of training.</summary>
    public static PrivacyManifest From(PrivacyEngine engine, DpTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return From(engine, options, engine.Statement());
    }

    /// <summary>
    /// The manifest entry of <paramref name="s"/>, a statement of <paramref name="engine"/>'s training (its own, or the group
    /// bound over it, <see cref="DpStatement.ForGroup"/>).
    /// </summary>
    public static PrivacyManifest From(PrivacyEngine engine, DpTrainingOptions options, DpStatement s)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(s);
        bool group = s.GroupSize > 1;
        return new PrivacyManifest
        {
            Epsilon = s.Epsilon, Delta = s.Delta, EpsilonBudget = options.EpsilonBudget, TargetEpsilon = options.TargetEpsilon,
            NoiseMultiplier = s.NoiseMultiplier, MaxGradNorm = s.MaxGradNorm, SampleRate = s.SampleRate,
            ExpectedBatchSize = engine.Options.ExpectedBatchSize, Steps = s.Steps, DatasetSize = s.DatasetSize,
            RdpFormula = s.Formula, Conversion = s.Conversion, BestOrder = s.BestOrder, Unit = s.Unit,
            PublicScale = options.PublicScale, PublicBound = options.PublicBound,
            SecureMode = s.SecureMode, NoiseGenerator = s.NoiseGenerator,
            Adjacency = s.Adjacency,
            GroupSize = group ? s.GroupSize : null, ExampleEpsilon = s.ExampleEpsilon, ExampleDelta = s.ExampleDelta, Units = s.Units,
            Statement = s.ToString() + string.Create(CultureInfo.InvariantCulture, $"; δ < 1/N = {1.0 / (s.Units ?? s.DatasetSize):G3}; {s.Mode}"),
        };
    }
}

/// <summary>
/// The public inputs of a DP-trained conditional sequence model (the <c>public_state</c> of its DP statement): the economic
/// state file declared public, by name and SHA-256, and the rows of it the condition statistics were computed from.
/// </summary>
public sealed record PublicStateManifest
{
    /// <summary>What the declaration means for the guarantee.</summary>
    public const string Meaning =
        "the economic state is declared public data (privacy.public_state); only the returns are private. Each window's condition is "
        + "the state known before its first day, a function of that window and the public file, inside DP-SGD's accounting; the "
        + "standardisation of the conditions (mean, std), the reference state and the crisis archetypes are statistics of the state file "
        + "alone, not of the private returns; no condition feature is derived from the returns";

    /// <summary>The state file's name.</summary>
    public string? File { get; init; }

    /// <summary>The state file's SHA-256.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The condition features (none derived from the returns).</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>The state rows (all features known) the mean, std and reference state were computed from.</summary>
    public int StatisticsRows { get; init; }

    /// <summary>The date of the first of those rows (the day after the state row: the first day a window sees it).</summary>
    public string? StatisticsStart { get; init; }

    /// <summary>The date of the last of those rows, the reference state's.</summary>
    public string? StatisticsEnd { get; init; }

    /// <summary>What the declaration means (<see cref="Meaning"/>).</summary>
    public string Covers { get; init; } = Meaning;

    /// <summary>Value equality, the features compared element by element (a manifest read back equals the one written).</summary>
    public bool Equals(PublicStateManifest? other) =>
        other is not null && File == other.File && Sha256 == other.Sha256 && Features.SequenceEqual(other.Features, StringComparer.Ordinal)
        && StatisticsRows == other.StatisticsRows && StatisticsStart == other.StatisticsStart && StatisticsEnd == other.StatisticsEnd && Covers == other.Covers;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(File, Sha256, string.Join(",", Features), StatisticsRows, StatisticsStart, StatisticsEnd, Covers);
}
