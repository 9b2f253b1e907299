using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Data.IO;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Scenarios;

/// <summary>
/// The metadata written beside a scenario CSV as <c>FILE.meta.json</c> (ARCHITECTURE.md "Scenario CSV"). Everything but
/// <see cref="Created"/> is a function of the model, the request and the CSV bytes.
/// </summary>
public sealed record ScenarioMetadata
{
    /// <summary>The format tag.</summary>
    public string Format { get; init; } = "crucible-scenarios/1";

    /// <summary>The model id: SHA-256 (hex) of the model's <c>weights.safetensors</c>.</summary>
    public string ModelId { get; init; } = "";

    /// <summary>The model's format and the Crucible version that trained it, e.g. <c>crucible-model/1 (0.1.0)</c>.</summary>
    public string ModelVersion { get; init; } = "";

    /// <summary>The Crucible version that generated the scenarios.</summary>
    public string LibraryVersion { get; init; } = "";

    /// <summary>The generator kind (<c>tabular</c>: each scenario is one row, one step).</summary>
    public string Kind { get; init; } = "tabular";

    /// <summary>The sampling seed.</summary>
    public ulong Seed { get; init; }

    /// <summary><c>ddim</c>, <c>ddpm</c> or <c>dpm2m</c> (DPM-Solver++(2M)).</summary>
    public string Sampler { get; init; } = "ddim";

    /// <summary>The reverse steps taken (K for DDIM and DPM-Solver, T for DDPM).</summary>
    public int SamplingSteps { get; init; }

    /// <summary>Which K timesteps were visited (<c>linear</c> or <c>uniform_angle</c>); null for DDPM.</summary>
    public string? TimestepSpacing { get; init; }

    /// <summary>DDIM's η (0 for DDPM, which has no η).</summary>
    public double Eta { get; init; }

    /// <summary>Classifier-free guidance weight; null for an unconditional model.</summary>
    public double? Guidance { get; init; }

    /// <summary>σ_g of limited-interval guidance (guidance acted only at steps with noise level ≥ σ_g); absent when it acted at every step.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? GuidanceMinNoise { get; init; }

    /// <summary>a of regime guidance (the windows' log scale amplified, <c>Sequence.RegimeGuidance</c>); absent when not used.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? RegimeGuidance { get; init; }

    /// <summary>k = exp(a · (ℓ_c − ℓ_∅)), the factor regime guidance scaled every window by (1 for an unconditional request); absent when not used.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? RegimeFactor { get; init; }

    /// <summary>The conditions NAME=VALUE; empty for an unconditional model.</summary>
    public IReadOnlyDictionary<string, double> Conditions { get; init; } = new Dictionary<string, double>();

    /// <summary>The stress specification; null when none.</summary>
    public string? Stress { get; init; }

    /// <summary>
    /// The constraints the stress specification's moves became (their labels, in log-return units), enforced by
    /// guidance during sampling; null when none.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Constraints { get; init; }

    /// <summary>The share of generated scenarios that still violate a constraint (tolerance 1e-6); null when none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? ConstraintViolationRate { get; init; }

    /// <summary>What the values are: <c>log_returns</c> in original units (not standardised).</summary>
    public string Units { get; init; } = "log_returns";

    /// <summary>When the file was written, RFC 3339 in UTC.</summary>
    public string Created { get; init; } = "";

    /// <summary>SHA-256 of the model's input data file, when it was trained from a file.</summary>
    public string? InputDataSha256 { get; init; }

    /// <summary>SHA-256 of the model's train matrix.</summary>
    public string TrainMatrixSha256 { get; init; } = "";

    /// <summary>
    /// The DP statement of a model trained with DP-SGD (RELIABILITY.md DP-10), as its manifest's <c>privacy</c> section: ε,
    /// δ, σ, C, q, steps, the accountant and conversion, the sampling scheme, the unit of privacy and what the guarantee
    /// covers (all checkpoints and everything sampled from them). Absent for a model trained without privacy, whose
    /// metadata is unchanged by this member.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PrivacyManifest? Privacy { get; init; }

    /// <summary>Data rows in the CSV (header excluded).</summary>
    public int Rows { get; init; }

    /// <summary>The number of scenarios.</summary>
    public int Scenarios { get; init; }

    /// <summary>Steps per scenario.</summary>
    public int StepsPerScenario { get; init; } = 1;

    /// <summary>The series, in CSV column order.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>The CSV's file name.</summary>
    public string CsvFile { get; init; } = "";

    /// <summary>SHA-256 (hex) of the CSV's bytes.</summary>
    public string CsvSha256 { get; init; } = "";
}

/// <summary>A generated scenario set: the values in original units and the metadata (without CSV hash and time).</summary>
/// <param name="Values">Rows of log returns, one column per series; row r is step (r mod steps) + 1 of scenario r / steps + 1.</param>
/// <param name="Metadata">What produced them.</param>
public sealed record ScenarioSet(TimeSeriesFrame Values, ScenarioMetadata Metadata);

/// <summary>
/// Writes scenario sets as <c>scenario,step,&lt;series…&gt;</c> CSV (1-based scenario and step; values in shortest
/// round-trip invariant form, so the bytes are a function of the values) plus <c>FILE.meta.json</c>, atomically.
/// </summary>
public static class ScenarioCsv
{
    /// <summary>The CSV bytes of <paramref name="values"/>, <paramref name="stepsPerScenario"/> rows per scenario (LF line ends).</summary>
    public static byte[] Format(TimeSeriesFrame values, int stepsPerScenario = 1)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerScenario, 1);
        if (values.RowCount % stepsPerScenario != 0)
            throw new ArgumentException($"{values.RowCount} rows are not a whole number of {stepsPerScenario}-step scenarios", nameof(values));
        var sb = new StringBuilder(values.RowCount * values.ColumnCount * 22);
        sb.Append("scenario,step");
        foreach (var c in values.Columns) sb.Append(',').Append(CsvExport.EscapeTextCell(c));
        sb.Append('\n');
        for (int r = 0; r < values.RowCount; r++)
        {
            sb.Append((r / stepsPerScenario) + 1).Append(',').Append((r % stepsPerScenario) + 1);
            foreach (double v in values.Row(r)) sb.Append(',').Append(CsvExport.FormatNumber(v));
            sb.Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>The metadata path beside <paramref name="csvPath"/>: <c>X.csv</c> → <c>X.meta.json</c> (otherwise <c>X.meta.json</c> appended).</summary>
    public static string MetadataPath(string csvPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(csvPath);
        return csvPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? csvPath[..^4] + ".meta.json" : csvPath + ".meta.json";
    }

    /// <summary>
    /// Writes the CSV and its metadata atomically (each file to a temporary file, flushed, renamed), the metadata
    /// completed with the CSV's name, row count and SHA-256 and the time <paramref name="created"/> (UTC). Returns the
    /// metadata written.
    /// </summary>
    /// <remarks>
    /// The CSV appears last, so a process killed at any moment leaves either no CSV or a complete one whose SHA-256 is
    /// the one in its <c>.meta.json</c>: an older CSV at the path is deleted first, then the metadata is written, then
    /// the CSV. A <c>.meta.json</c> without its CSV is the trace of an interrupted write.
    /// </remarks>
    public static ScenarioMetadata Write(string csvPath, ScenarioSet set, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(set);
        var bytes = Format(set.Values, set.Metadata.StepsPerScenario);
        var meta = Describe(set, bytes, Path.GetFileName(csvPath), created);
        if (File.Exists(csvPath)) File.Delete(csvPath);
        AtomicFile.WriteAllText(MetadataPath(csvPath), ToJson(meta));
        AtomicFile.WriteAllBytes(csvPath, bytes);
        return meta;
    }

    /// <summary>
    /// The metadata of <paramref name="set"/> completed for the CSV bytes <paramref name="csv"/> (from <see cref="Format"/>)
    /// named <paramref name="csvFile"/> and created at <paramref name="created"/> (UTC), without writing anything: what
    /// <see cref="Write"/> puts in <c>FILE.meta.json</c>, for callers that send the bytes elsewhere (the HTTP service).
    /// </summary>
    public static ScenarioMetadata Describe(ScenarioSet set, byte[] csv, string csvFile, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(csv);
        return set.Metadata with
        {
            Created = created.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Rows = set.Values.RowCount,
            Scenarios = set.Values.RowCount / set.Metadata.StepsPerScenario,
            Columns = [.. set.Values.Columns],
            CsvFile = csvFile,
            CsvSha256 = Convert.ToHexStringLower(SHA256.HashData(csv)),
        };
    }

    /// <summary>The metadata as JSON (snake_case, indented, LF, trailing newline).</summary>
    public static string ToJson(ScenarioMetadata metadata) =>
        JsonSerializer.Serialize(metadata, DiffusionJson.Options) + "\n";
}
