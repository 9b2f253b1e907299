using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Sequence;

/// <summary>
/// <c>manifest.json</c> of a sequence model folder: the tabular manifest's parts (<see cref="ScheduleManifest"/>,
/// <see cref="DataManifest"/>, <see cref="TrainingMetrics"/>, <see cref="WeightsManifest"/>) with the sequence config,
/// the affine map to model space and the condition space. No time stamp or path: the same data, config and seed give
/// the same bytes.
/// </summary>
public sealed record SequenceManifest
{
    /// <summary>The format tag, <see cref="ModelManifest.CurrentFormat"/>.</summary>
    public string Format { get; init; } = ModelManifest.CurrentFormat;

    /// <summary>The generator kind: <see cref="ModelKind.Sequence"/>.</summary>
    public ModelKind Kind { get; init; } = ModelKind.Sequence;

    /// <summary>The Crucible version that trained the model.</summary>
    public string LibraryVersion { get; init; } = "";

    /// <summary>The seed of initialisation and training.</summary>
    public ulong Seed { get; init; }

    /// <summary>The series, in model order (row i of a window is series i).</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>The full configuration.</summary>
    public SequenceGeneratorOptions Config { get; init; } = new();

    /// <summary>The forward process, with the fitted per-series noise scales (model space).</summary>
    public ScheduleManifest Schedule { get; init; } = new();

    /// <summary>The transform state: r_i = offset_i + scale_i · x_i.</summary>
    public SeriesAffine Affine { get; init; } = new([], []);

    /// <summary>The condition space (empty names: an unconditional model).</summary>
    public ConditionManifest Conditions { get; init; } = new();

    /// <summary>The public-state volatility scaling (<see cref="SequenceGeneratorOptions.StateScale"/>); null when none.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public StateScaleManifest? StateScale { get; init; }

    /// <summary>The return data and its hashes.</summary>
    public DataManifest Data { get; init; } = new();

    /// <summary>The state data the conditions came from, when conditioned.</summary>
    public DataManifest? StateData { get; init; }

    /// <summary>Training windows (stride 1) and how many had a known condition.</summary>
    public WindowManifest Windows { get; init; } = new();

    /// <summary>Training metrics.</summary>
    public TrainingMetrics Training { get; init; } = new();

    /// <summary>The weights file.</summary>
    public WeightsManifest Weights { get; init; } = new();

    /// <summary>The DP statement (DP-10) when the model was trained with DP-SGD (<see cref="SequenceGeneratorOptions.Privacy"/>); null otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public PrivacyManifest? Privacy { get; init; }

    /// <summary>The evidence for <see cref="SequenceGeneratorOptions.GuidanceScale"/> when it was calibrated on the training
    /// data (<see cref="SequenceGenerator.CalibrateGuidance"/>); null when the default is the configured one.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public GuidanceCalibration? GuidanceCalibration { get; init; }
}

/// <summary>
/// The condition space of a sequence model, as plain JSON (the fields of <c>Conditioning.ConditionSpace</c>): feature
/// names, their mean and standard deviation over the training windows, the reference state and the archetypes.
/// </summary>
public sealed record ConditionManifest
{
    /// <summary>The condition features, in the network's token order.</summary>
    public IReadOnlyList<string> Names { get; init; } = [];

    /// <summary>The mean of each feature over the training windows with a known state.</summary>
    public IReadOnlyList<double> Mean { get; init; } = [];

    /// <summary>The standard deviation (n − 1) of each feature over those windows.</summary>
    public IReadOnlyList<double> Std { get; init; } = [];

    /// <summary>
    /// The smallest value of each feature over the condition vectors the model was trained on (the conditioned training
    /// windows'); with <see cref="Max"/> the training range a request's conditions are checked against
    /// (<see cref="SequenceGenerator.ConditionWarnings"/>). Null in a manifest written before it was recorded: no range check.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double>? Min { get; init; }

    /// <summary>The largest value of each feature over the same condition vectors (see <see cref="Min"/>); null in an older manifest.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double>? Max { get; init; }

    /// <summary>The reference state: the features of the last training window with a known state.</summary>
    public IReadOnlyDictionary<string, double> Reference { get; init; } = new Dictionary<string, double>();

    /// <summary>The date of the reference state (ISO), when dated.</summary>
    public string? ReferenceDate { get; init; }

    /// <summary>Named condition vectors passed to Fit (archetype → feature → value).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Archetypes { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, double>>();
}

/// <summary>The training windows of a sequence model.</summary>
public sealed record WindowManifest
{
    /// <summary>Windows cut from the train returns (stride 1).</summary>
    public int Count { get; init; }

    /// <summary>
    /// Windows whose start date had a known state (the others train the unconditional model only). Kept under DP: a
    /// function of the window dates (released as the train period and <see cref="Count"/>, N in the DP statement) and
    /// of the public state, not of the private returns.
    /// </summary>
    public int Conditioned { get; init; }

    /// <summary>SHA-256 of the standardised condition matrix (windows × features, float32 little-endian, NaN = unknown); null when unconditioned, and withheld (null) for a model trained with DP-SGD (DP-11).</summary>
    public string? ConditionMatrixSha256 { get; init; }
}

/// <summary>The per-series affine map between the model's space and log returns: r_i = Offset[i] + Scale[i] · x_i.</summary>
/// <param name="Offset">The offset of each series.</param>
/// <param name="Scale">The scale of each series (&gt; 0).</param>
public sealed record SeriesAffine(IReadOnlyList<double> Offset, IReadOnlyList<double> Scale);

/// <summary>
/// The public-state volatility scaling of a sequence model (<see cref="SequenceGeneratorOptions.StateScale"/>): a window
/// conditioned on the feature's value v is r = s · r̃ with s = v / <see cref="Reference"/> and r̃ the model's window in
/// returns (offset + scale · x). Computed from the conditions' statistics rows only (the public state under DP), never
/// from the returns.
/// </summary>
public sealed record StateScaleManifest
{
    /// <summary>The feature whose level scales the windows (e.g. <c>VIXCLS</c>).</summary>
    public string Feature { get; init; } = "";

    /// <summary>v̄: the feature's mean over the conditions' statistics rows (s = 1 at v = v̄).</summary>
    public double Reference { get; init; }

    /// <summary>
    /// The feature's levels that requests without it draw from (each window takes one uniformly): the
    /// (q + ½) / <see cref="SequenceGenerator.StateScaleLevels"/> quantiles (q = 0, 1, …) of the statistics rows.
    /// </summary>
    public IReadOnlyList<double> Levels { get; init; } = [];

    /// <summary>Training windows scaled by their own state (the others, whose state lacks the feature, keep s = 1).</summary>
    public int ScaledWindows { get; init; }
}
