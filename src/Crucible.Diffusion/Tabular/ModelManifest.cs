using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Crucible.Diffusion.Schedules;

namespace Crucible.Diffusion.Tabular;

/// <summary>
/// <c>manifest.json</c> of a model folder (ARCHITECTURE.md "Model folder"): everything needed to rebuild the generator
/// from <c>weights.safetensors</c> and to trace it back to its data. Contains no time stamp or path, so the same
/// data, config and seed give the same bytes.
/// </summary>
public sealed record ModelManifest
{
    /// <summary>The format tag of this manifest version.</summary>
    public const string CurrentFormat = "crucible-model/1";

    /// <summary>The format tag, <see cref="CurrentFormat"/>.</summary>
    public string Format { get; init; } = CurrentFormat;

    /// <summary>The generator kind: <see cref="ModelKind.Tabular"/> (rows) here.</summary>
    public ModelKind Kind { get; init; } = ModelKind.Tabular;

    /// <summary>The Crucible version that trained the model.</summary>
    public string LibraryVersion { get; init; } = "";

    /// <summary>The seed of initialisation and training (also in <see cref="Config"/>).</summary>
    public ulong Seed { get; init; }

    /// <summary>The series, in model order.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>The full configuration.</summary>
    public DiffusionGeneratorOptions Config { get; init; } = new();

    /// <summary>The forward process, with the fitted per-series noise scales.</summary>
    public ScheduleManifest Schedule { get; init; } = new();

    /// <summary>The frozen transform pipeline (Crucible.Data's <c>TransformPipeline</c> JSON): log returns → model space.</summary>
    public JsonElement Transform { get; init; }

    /// <summary>The whitening fitted on the transformed train rows, or null when <see cref="DiffusionGeneratorOptions.Whiten"/> is off.</summary>
    public Whitening? Whitening { get; init; }

    /// <summary>The per-series range of the train rows in model space (used by <see cref="TailPolicy.Clamp"/>).</summary>
    public RangeManifest ModelSpace { get; init; } = new();

    /// <summary>The marginal calibration (<see cref="DiffusionGeneratorOptions.Calibration"/>), or null (and absent from the JSON).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MarginalCalibrationManifest? Calibration { get; init; }

    /// <summary>Where the training data came from and its hashes.</summary>
    public DataManifest Data { get; init; } = new();

    /// <summary>Training metrics.</summary>
    public TrainingMetrics Training { get; init; } = new();

    /// <summary>The weights file.</summary>
    public WeightsManifest Weights { get; init; } = new();

    /// <summary>The DP statement when the model was trained with DP-SGD, else null (and absent from the JSON).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PrivacyManifest? Privacy { get; init; }
}

/// <summary>The forward process of a saved model.</summary>
public sealed record ScheduleManifest
{
    /// <summary>The β schedule.</summary>
    public BetaScheduleKind Kind { get; init; }

    /// <summary>T.</summary>
    public int DiffusionSteps { get; init; }

    /// <summary>Whether the noise scales were fitted (volatility-adaptive) or all 1.</summary>
    public bool VolatilityAdaptive { get; init; }

    /// <summary>σ_i per series, in model space.</summary>
    public IReadOnlyList<double> NoiseScale { get; init; } = [];
}

/// <summary>A per-series range.</summary>
public sealed record RangeManifest
{
    /// <summary>The minimum per series.</summary>
    public IReadOnlyList<double> Min { get; init; } = [];

    /// <summary>The maximum per series.</summary>
    public IReadOnlyList<double> Max { get; init; } = [];
}

/// <summary>The training data of a model.</summary>
public sealed record DataManifest
{
    /// <summary>The input file's name (no folder), when trained from a file.</summary>
    public string? InputFile { get; init; }

    /// <summary>
    /// SHA-256 (hex) of the input file's bytes, when trained from a file. Null for a model trained with DP-SGD
    /// (RELIABILITY.md DP-11): an exact hash of the private data would let anyone holding a candidate dataset confirm it
    /// (e.g. which of two neighbouring datasets was used) outside the accounted mechanism; the run manifest under the
    /// home keeps the input file's hash.
    /// </summary>
    public string? InputSha256 { get; init; }

    /// <summary>What the input file's values were (prices, returns, …), when trained from a file.</summary>
    public string? InputKind { get; init; }

    /// <summary>
    /// SHA-256 (hex) of the train matrix: the train log returns as float64 little-endian, row-major. Null for a model
    /// trained with DP-SGD (withheld like <see cref="InputSha256"/>, DP-11).
    /// </summary>
    public string? TrainMatrixSha256 { get; init; } = "";

    /// <summary>Rows of the train matrix.</summary>
    public int TrainRows { get; init; }

    /// <summary>The first train date (ISO), when the data is dated.</summary>
    public string? TrainStart { get; init; }

    /// <summary>The last train date (ISO), when the data is dated.</summary>
    public string? TrainEnd { get; init; }

    /// <summary>
    /// The last train price of each series (its value on <see cref="TrainEnd"/>), when the model was trained on prices: the
    /// default start P_0 of <c>generate --prices</c>. Absent when unknown (trained on returns, or an older manifest) and
    /// for a model trained with DP-SGD (private values, DP-11).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? LastPrices { get; init; }

    /// <summary>
    /// True when the last train prices were withheld on request (<c>train --withhold-prices</c>): <c>generate --prices</c>
    /// then needs explicit start prices. Absent otherwise, so other manifests keep their bytes.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? LastPricesWithheld { get; init; }

    /// <summary>
    /// How the file's missing values were read, when not the strict default (a sequence model's state file read with
    /// <c>--state-missing ffill</c> or <c>--state-na</c>); absent otherwise, so earlier manifests keep their bytes.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MissingValuesManifest? Missing { get; init; }
}

/// <summary>How a file's missing values were read (<see cref="DataManifest.Missing"/>).</summary>
public sealed record MissingValuesManifest
{
    /// <summary>The policy: <c>reject</c> or <c>forward_fill</c>.</summary>
    public Crucible.Data.Csv.MissingValuePolicy Policy { get; init; }

    /// <summary>With forward fill: the most consecutive missing rows of a series filled.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ForwardFillLimit { get; init; }

    /// <summary>The tokens read as missing besides the empty field, when any.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Na { get; init; }

    /// <summary>How many values were filled.</summary>
    public long Filled { get; init; }
}

/// <summary>Training metrics (deterministic; wall time is reported by the caller, not stored).</summary>
public sealed record TrainingMetrics
{
    /// <summary>Optimiser steps done.</summary>
    public int Steps { get; init; }

    /// <summary>The mean loss over the last tenth of the steps (at least one step).</summary>
    public double FinalLoss { get; init; }

    /// <summary>Steps per point of <see cref="LossCurve"/>.</summary>
    public int LossCurveEvery { get; init; }

    /// <summary>The mean loss of each block of <see cref="LossCurveEvery"/> steps.</summary>
    public IReadOnlyList<double> LossCurve { get; init; } = [];

    /// <summary>With sampler distillation: the student's mean loss over the last tenth of its steps (else null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? DistillationFinalLoss { get; init; }
}

/// <summary>The weights file of a model.</summary>
public sealed record WeightsManifest
{
    /// <summary>The file name in the model folder.</summary>
    public string File { get; init; } = DiffusionGenerator.WeightsFileName;

    /// <summary>SHA-256 (hex) of the file: the model id.</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>The number of parameters.</summary>
    public long Parameters { get; init; }

    /// <summary>Each tensor's state-dict name and shape, in the network's order.</summary>
    public IReadOnlyList<TensorManifest> Tensors { get; init; } = [];
}

/// <summary>One saved tensor.</summary>
/// <param name="Name">The state-dict name (PyTorch's dotted form).</param>
/// <param name="Shape">The shape.</param>
public sealed record TensorManifest(string Name, IReadOnlyList<int> Shape);

/// <summary>The JSON settings of Crucible.Diffusion's documents: snake_case keys and enum values, indented, LF.</summary>
public static class DiffusionJson
{
    /// <summary>
    /// Options for manifests and configs: unknown keys are errors, so a typo in a config is caught. Characters are
    /// written as they are (no \uXXXX for '+' or non-ASCII series names): these files are never embedded in HTML. A
    /// <see cref="ModelKind"/> is its wire name (<see cref="ModelKindJsonConverter"/>, ahead of the other enums' converter).
    /// </summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NewLine = "\n",
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        Converters = { new ModelKindJsonConverter(), new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
    };

    /// <summary>A document's file bytes: <see cref="Options"/>' JSON, UTF-8, with a final newline (model manifests).</summary>
    public static byte[] FileBytes<T>(T document) => System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(document, Options) + "\n");
}
