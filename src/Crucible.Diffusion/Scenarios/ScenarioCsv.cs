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

    /// <summary>
    /// SHA-256 (hex) of the <c>manifest.json</c> the scenarios were drawn with (the id covers the weights only, so two
    /// folders with equal weights and different manifests share it); absent when the writer did not record it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ModelManifestSha256 { get; init; }

    /// <summary>
    /// Whether the model was the one registered under <see cref="ModelId"/> in the writer's home (the same weights and
    /// manifest, up to provenance): false for an unregistered folder, and for a folder whose weights a registered model
    /// has with another manifest, so that such scenarios do not pass for the registered model's. Absent when the writer
    /// did not check.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Registered { get; init; }

    /// <summary>The model's format and the Crucible version that trained it, e.g. <c>crucible-model/1 (0.1.0)</c>.</summary>
    public string ModelVersion { get; init; } = "";

    /// <summary>The Crucible version that generated the scenarios.</summary>
    public string LibraryVersion { get; init; } = "";

    /// <summary>The generator kind (<see cref="ModelKind.Tabular"/>: each scenario is one row, one step).</summary>
    public ModelKind Kind { get; init; } = ModelKind.Tabular;

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

    /// <summary>Classifier-free guidance weight; null when none was applied: an unconditional model, or a request that named no condition.</summary>
    public double? Guidance { get; init; }

    /// <summary>σ_g of limited-interval guidance (guidance acted only at steps with noise level ≥ σ_g); absent when it acted at every step.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? GuidanceMinNoise { get; init; }

    /// <summary>a of regime guidance (the windows' log scale amplified, <c>Sequence.RegimeGuidance</c>); absent when not used.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? RegimeGuidance { get; init; }

    /// <summary>k = exp(a · (ℓ_c − ℓ_∅)), the factor regime guidance scaled every window by ; absent when not used (an unconditional request included).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? RegimeFactor { get; init; }

    /// <summary>The conditions NAME=VALUE; empty for an unconditional model.</summary>
    public IReadOnlyDictionary<string, double> Conditions { get; init; } = new Dictionary<string, double>();

    /// <summary>
    /// The requested conditions outside the model's training range (sequence models that record it): each names the
    /// feature, the value, the range and how many training sd it lies beyond the nearer end; the scenarios extrapolate.
    /// Absent when every condition is inside the range (or the model records no range).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Sequence.ConditionRangeWarning>? ConditionWarnings { get; init; }

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

    /// <summary>What the values are: <c>log_returns</c> in original units (not standardised); price columns, when any, are named in <see cref="Prices"/>.</summary>
    public string Units { get; init; } = "log_returns";

    /// <summary>
    /// The price paths added after the return columns (<c>generate --prices</c>: <see cref="PricePaths"/>): their columns and
    /// where each start P_0 came from; absent when the CSV has returns only.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PricesMetadata? Prices { get; init; }

    /// <summary>When the file was written, RFC 3339 in UTC.</summary>
    public string Created { get; init; } = "";

    /// <summary>SHA-256 of the model's input data file, when it was trained from a file (null for a DP-SGD model: DP-11).</summary>
    public string? InputDataSha256 { get; init; }

    /// <summary>SHA-256 of the model's train matrix (null for a DP-SGD model, whose manifest withholds it: DP-11).</summary>
    public string? TrainMatrixSha256 { get; init; } = "";

    /// <summary>
    /// The DP statement of a model trained with DP-SGD (RELIABILITY.md DP-10), as its manifest's <c>privacy</c> section: ε,
    /// δ, σ, C, q, steps, the accountant and conversion, the sampling scheme, the unit of privacy and what the guarantee
    /// covers (all checkpoints and everything sampled from them). Absent for a model trained without privacy, whose
    /// metadata is unchanged by this member.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PrivacyManifest? Privacy { get; init; }

    /// <summary>
    /// For a tabular model with a marginal calibration: whether it was applied (true when the request's sampler is the
    /// one it was measured with). Absent for a model without one, whose metadata is unchanged by this member.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? MarginalCalibration { get; init; }

    /// <summary>Data rows in the CSV (header excluded).</summary>
    public int Rows { get; init; }

    /// <summary>The number of scenarios.</summary>
    public int Scenarios { get; init; }

    /// <summary>Steps per scenario.</summary>
    public int StepsPerScenario { get; init; } = 1;

    /// <summary>The columns after <c>scenario,step</c>, in CSV order: the series, then their price columns when <see cref="Prices"/> is present.</summary>
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
    /// <summary>
    /// The series names a scenario file reserves, <c>scenario</c> and <c>step</c> (the two columns it begins with), each
    /// with what it is: <see cref="CsvReadOptions.ReservedColumns"/> of a file a model is trained on, so that such a
    /// series is refused at its header cell.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ReservedColumns { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["scenario"] = ReservedColumnWhat,
        ["step"] = ReservedColumnWhat,
    };

    private const string ReservedColumnWhat = "a scenario file's own column (scenario,step,<series…>): its scenarios could not be read back";

    /// <summary>
    /// Refuses (rule <c>reserved-column</c>) a series named <c>scenario</c> or <c>step</c>, the two columns a scenario file
    /// begins with: its file's header would name the column twice, and every reader of scenario files refuses it.
    /// </summary>
    public static void ThrowIfReservedSeriesName(IReadOnlyList<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        foreach (var name in columns)
        {
            if (ReservedColumns.TryGetValue(name, out var what))
                throw new InvalidInputException(CsvRules.ReservedColumn, $"series '{name}' has the name of {what}; rename the series");
        }
    }

    /// <summary>The CSV bytes of <paramref name="values"/>, <paramref name="stepsPerScenario"/> rows per scenario (LF line ends).</summary>
    public static byte[] Format(TimeSeriesFrame values, int stepsPerScenario = 1)
    {
        using var bytes = new MemoryStream();
        WriteTo(bytes, values, stepsPerScenario);
        return bytes.ToArray();
    }

    /// <summary>
    /// Streams the bytes of <see cref="Format"/> to <paramref name="stream"/> through a 64 KiB buffer (memory does not
    /// grow with the row count) and returns their SHA-256 (hex), computed on the way.
    /// </summary>
    public static string WriteTo(Stream stream, TimeSeriesFrame values, int stepsPerScenario = 1)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerScenario, 1);
        if (values.RowCount % stepsPerScenario != 0)
            throw new ArgumentException($"{values.RowCount} rows are not a whole number of {stepsPerScenario}-step scenarios", nameof(values));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        int used = 0;
        void Flush()
        {
            stream.Write(buffer, 0, used);
            hash.AppendData(buffer, 0, used);
            used = 0;
        }

        // a number, an integer or an ASCII byte at the end of the buffer (each fits in 32 bytes: "R" is at most 24 characters)
        void Room()
        {
            if (buffer.Length - used < 32) Flush();
        }

        var header = new StringBuilder("scenario,step");
        foreach (var c in values.Columns) header.Append(',').Append(CsvExport.EscapeTextCell(c));
        header.Append('\n');
        var headerBytes = Encoding.UTF8.GetBytes(header.ToString());
        stream.Write(headerBytes);
        hash.AppendData(headerBytes);
        for (int r = 0; r < values.RowCount; r++)
        {
            Room();
            used += Integer((r / stepsPerScenario) + 1);
            buffer[used++] = (byte)',';
            used += Integer((r % stepsPerScenario) + 1);
            foreach (double v in values.Row(r))
            {
                Room();
                buffer[used++] = (byte)',';
                if (!v.TryFormat(buffer.AsSpan(used), out int written, "R", CultureInfo.InvariantCulture))
                    throw new InvalidOperationException("a number did not fit its 32-byte slot"); // cannot happen: "R" is at most 24 characters
                used += written;
            }

            Room();
            buffer[used++] = (byte)'\n';
        }

        Flush();
        return Convert.ToHexStringLower(hash.GetHashAndReset());

        int Integer(int value)
        {
            value.TryFormat(buffer.AsSpan(used), out int written, default, CultureInfo.InvariantCulture);
            return written;
        }
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
        ArgumentException.ThrowIfNullOrEmpty(csvPath);

        // the CSV is streamed to a temporary file (hashed on the way: the metadata needs its SHA-256), then the older CSV
        // is removed and the metadata written, then the CSV is renamed into place, so it still appears last
        ScenarioMetadata? meta = null;
        AtomicFile.Write(csvPath, stream => WriteTo(stream, set.Values, set.Metadata.StepsPerScenario), sha =>
        {
            meta = Describe(set, sha, Path.GetFileName(csvPath), created);
            if (File.Exists(csvPath)) File.Delete(csvPath);
            AtomicFile.WriteAllText(MetadataPath(csvPath), ToJson(meta));
        });
        return meta!;
    }

    /// <summary>
    /// The metadata of <paramref name="set"/> completed for the CSV bytes <paramref name="csv"/> (from <see cref="Format"/>)
    /// named <paramref name="csvFile"/> and created at <paramref name="created"/> (UTC), without writing anything: what
    /// <see cref="Write"/> puts in <c>FILE.meta.json</c>, for callers that send the bytes elsewhere (the HTTP service).
    /// </summary>
    public static ScenarioMetadata Describe(ScenarioSet set, byte[] csv, string csvFile, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(csv);
        return Describe(set, Convert.ToHexStringLower(SHA256.HashData(csv)), csvFile, created);
    }

    // the same for CSV bytes already hashed (streamed by Write)
    private static ScenarioMetadata Describe(ScenarioSet set, string csvSha256, string csvFile, DateTimeOffset created)
    {
        ArgumentNullException.ThrowIfNull(set);
        return set.Metadata with
        {
            Created = created.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Rows = set.Values.RowCount,
            Scenarios = set.Values.RowCount / set.Metadata.StepsPerScenario,
            Columns = [.. set.Values.Columns],
            CsvFile = csvFile,
            CsvSha256 = csvSha256,
        };
    }

    /// <summary>The metadata as JSON (snake_case, indented, LF, trailing newline).</summary>
    public static string ToJson(ScenarioMetadata metadata) =>
        JsonSerializer.Serialize(metadata, DiffusionJson.Options) + "\n";
}
