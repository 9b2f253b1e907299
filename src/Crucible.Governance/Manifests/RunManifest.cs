using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Manifests;

/// <summary>
/// A file a run read or wrote: its path (relative to the manifest's folder when inside it), SHA-256 and size. Or, when
/// <see cref="IsFile"/> is false, bytes that were never a file of their own (a service request's body, a CSV sent inside
/// it, the body of its response): <see cref="Path"/> then holds their name, written as <c>name</c> instead of <c>path</c>.
/// </summary>
public sealed record ManifestFile(string Path, string Sha256, long Bytes)
{
    /// <summary>False for named bytes (<see cref="Named"/>), which have no file to rehash.</summary>
    public bool IsFile { get; init; } = true;

    /// <summary>Describes <paramref name="bytes"/> as the named (not file) input or output <paramref name="name"/>.</summary>
    public static ManifestFile Named(string name, ReadOnlySpan<byte> bytes) =>
        new(name, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), bytes.Length) { IsFile = false };
}

/// <summary>
/// The lineage manifest of one run (MRM-2): what went in (input file hashes, the canonical config and its hash, the seed
/// and PRNG), what ran (library version, git commit when known, runtime), what came out (output file hashes, the model
/// id), when (RFC 3339 UTC), and the DP statement when training was private. Written as canonical JSON (RFC 8785).
/// </summary>
public sealed record RunManifest
{
    /// <summary>The schema tag of this format.</summary>
    public const string Schema = "crucible-run-manifest-v1";

    /// <summary>The PRNG every Crucible run draws from (Crucible.Tensors.Random.Philox, 10 rounds).</summary>
    public const string PhiloxPrng = "philox4x32-10";

    /// <summary>A unique id of the run.</summary>
    public required string RunId { get; init; }

    /// <summary>What ran (written as its wire name: <c>train</c>, <c>generate</c>, <c>evaluate</c>, <c>stress</c>, …).</summary>
    public required RunKind Kind { get; init; }

    /// <summary>RFC 3339 UTC start time.</summary>
    public required string StartedUtc { get; init; }

    /// <summary>RFC 3339 UTC end time.</summary>
    public required string FinishedUtc { get; init; }

    /// <summary>The files (or named bytes) read.</summary>
    public required IReadOnlyList<ManifestFile> Inputs { get; init; }

    /// <summary>The files (or named bytes) written.</summary>
    public required IReadOnlyList<ManifestFile> Outputs { get; init; }

    /// <summary>The run's configuration (canonicalised when written).</summary>
    public required JsonObject Config { get; init; }

    /// <summary>SHA-256 of the canonical JSON of <see cref="Config"/>.</summary>
    public string ConfigSha256 => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(CanonicalJson.Serialize(Config)));

    /// <summary>The seed.</summary>
    public required ulong Seed { get; init; }

    /// <summary>The PRNG algorithm id.</summary>
    public string Prng { get; init; } = PhiloxPrng;

    /// <summary>The model the run trained or used, when one.</summary>
    public string? ModelId { get; init; }

    /// <summary>The Crucible library version.</summary>
    public required string LibraryVersion { get; init; }

    /// <summary>The git commit of the code, when known.</summary>
    public string? GitCommit { get; init; }

    /// <summary>The runtime: .NET version, OS, architecture, processor count.</summary>
    public required JsonObject Runtime { get; init; }

    /// <summary>The DP statement (σ, q, steps, δ, ε, accountant, …) when training was private.</summary>
    public JsonObject? Dp { get; init; }

    /// <summary>
    /// What the run decided along the way, when it decides anything (e.g. every attempt of a recalibration loop: the
    /// setting tried, the figure measured, the verdict); null otherwise.
    /// </summary>
    public JsonObject? Outcome { get; init; }

    /// <summary>The canonical JSON bytes of the manifest.</summary>
    public byte[] ToCanonicalJson()
    {
        var root = new JsonObject
        {
            ["schema"] = Schema,
            ["run_id"] = RunId,
            ["kind"] = Kind.WireName(),
            ["started_utc"] = StartedUtc,
            ["finished_utc"] = FinishedUtc,
            ["inputs"] = Files(Inputs),
            ["outputs"] = Files(Outputs),
            ["config"] = JsonNode.Parse(Encoding.UTF8.GetString(CanonicalJson.Serialize(Config))),
            ["config_sha256"] = ConfigSha256,
            ["seed"] = Seed.ToString(CultureInfo.InvariantCulture), // a string: seeds beyond 2^53 must survive JSON readers
            ["prng"] = Prng,
            ["library_version"] = LibraryVersion,
            ["runtime"] = Runtime.DeepClone(),
        };
        if (ModelId is not null) root["model_id"] = ModelId;
        if (GitCommit is not null) root["git_commit"] = GitCommit;
        if (Dp is not null) root["dp"] = Dp.DeepClone();
        if (Outcome is not null) root["outcome"] = Outcome.DeepClone();
        return CanonicalJson.Serialize(root);

        static JsonArray Files(IEnumerable<ManifestFile> files)
        {
            var a = new JsonArray();
            foreach (var f in files) a.Add(new JsonObject { [f.IsFile ? "path" : "name"] = f.Path, ["sha256"] = f.Sha256, ["bytes"] = f.Bytes });
            return a;
        }
    }

    /// <summary>Writes the manifest atomically and returns the SHA-256 of its bytes.</summary>
    public string Write(string path)
    {
        var bytes = ToCanonicalJson();
        AtomicFile.WriteAllBytes(path, bytes);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
    }

    /// <summary>Reads and schema-checks a manifest: every required field present and well-formed.</summary>
    /// <exception cref="InvalidInputException"><c>MANIFEST-E-JSON</c>, <c>MANIFEST-E-FIELD</c> (names the field) or <c>MANIFEST-E-VALUE</c>.</exception>
    public static RunManifest Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = Data.IO.InputFile.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidInputException("MANIFEST-E-FILE", "file not found", new InputLocation(path, 0, 0));
        }

        return Parse(bytes, new InputLocation(path, 0, 0));
    }

    /// <summary>Schema-checks the manifest <paramref name="json"/> (e.g. as <c>GET /v1/runs/{id}</c> answers it), as <see cref="Load"/> does.</summary>
    /// <exception cref="InvalidInputException"><c>MANIFEST-E-JSON</c>, <c>MANIFEST-E-FIELD</c> (names the field) or <c>MANIFEST-E-VALUE</c>.</exception>
    public static RunManifest Parse(byte[] json) => Parse(json, null);

    private static RunManifest Parse(byte[] json, InputLocation? at)
    {
        JsonObject root;
        try
        {
            // duplicate member names are refused here: a JsonObject holding them throws ArgumentException when first read
            root = JsonNode.Parse(json, documentOptions: CanonicalJson.NoDuplicateMembers) as JsonObject ?? throw new InvalidInputException("MANIFEST-E-JSON", "not a JSON object", at);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("MANIFEST-E-JSON", $"not valid JSON: {e.Message}", at);
        }

        try
        {
            if (Str(root, "schema") != Schema) throw new InvalidInputException("MANIFEST-E-VALUE", $"schema is not {Schema}", at);
            var manifest = new RunManifest
            {
                RunId = Str(root, "run_id"),
                Kind = RunKinds.FromWireName(Str(root, "kind")) ?? throw Value("kind", $"must be one of {string.Join(", ", RunKinds.All.Select(k => k.WireName()))}"),
                StartedUtc = Time(root, "started_utc"),
                FinishedUtc = Time(root, "finished_utc"),
                Inputs = FilesOf(root, "inputs"),
                Outputs = FilesOf(root, "outputs"),
                Config = Required(root, "config") as JsonObject ?? throw Value("config", "must be an object"),
                Seed = ulong.TryParse(Str(root, "seed"), NumberStyles.None, CultureInfo.InvariantCulture, out var seed) ? seed : throw Value("seed", "must be a decimal integer string"),
                Prng = Str(root, "prng"),
                ModelId = root["model_id"] is null ? null : Hash(root, "model_id"),
                LibraryVersion = Str(root, "library_version"),
                GitCommit = (string?)root["git_commit"],
                Runtime = Required(root, "runtime") as JsonObject ?? throw Value("runtime", "must be an object"),
                Dp = OptionalObject(root, "dp"),
                Outcome = OptionalObject(root, "outcome"),
            };
            if (!string.Equals(Hash(root, "config_sha256"), manifest.ConfigSha256, StringComparison.Ordinal))
                throw Value("config_sha256", "does not match the config");
            return manifest;
        }
        catch (InvalidInputException e) when (e.Location is null && at is not null)
        {
            throw new InvalidInputException(e.Rule, e.Message, at);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidInputException("MANIFEST-E-VALUE", e.Message, at);
        }
    }

    private static InvalidInputException Value(string field, string what) => new("MANIFEST-E-VALUE", $"field '{field}' {what}");

    private static JsonNode Required(JsonObject o, string field) =>
        o[field] ?? throw new InvalidInputException("MANIFEST-E-FIELD", $"missing field '{field}'");

    // an optional member that, when present, must be an object (a dp or outcome of another type was dropped silently)
    private static JsonObject? OptionalObject(JsonObject o, string field) =>
        o[field] switch
        {
            null => null,
            JsonObject obj => obj,
            _ => throw Value(field, "must be an object"),
        };

    private static string Str(JsonObject o, string field) =>
        Required(o, field) is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : throw Value(field, "must be a non-empty string");

    private static string Hash(JsonObject o, string field) =>
        FileHash.IsSha256Hex(Str(o, field)) ? Str(o, field) : throw Value(field, "must be 64 lower-case hex digits");

    private static string Time(JsonObject o, string field)
    {
        var s = Str(o, field);
        return DateTimeOffset.TryParseExact(s, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out _) ? s : throw Value(field, "must be an RFC 3339 UTC time like 2026-01-02T03:04:05.0000000Z");
    }

    private static List<ManifestFile> FilesOf(JsonObject o, string field)
    {
        if (Required(o, field) is not JsonArray array) throw Value(field, "must be an array");
        var files = new List<ManifestFile>();
        foreach (var item in array)
        {
            if (item is not JsonObject f) throw Value(field, "must hold objects");
            var bytes = Required(f, "bytes") is JsonValue b && b.GetValueKind() == JsonValueKind.Number && b.TryGetValue<long>(out var n) && n >= 0
                ? n
                : throw Value("bytes", $"of a file in '{field}' must be a non-negative integer");
            bool named = f["path"] is null && f["name"] is not null; // named bytes, not a file (ManifestFile.Named)
            files.Add(new ManifestFile(Str(f, named ? "name" : "path"), Hash(f, "sha256"), bytes) { IsFile = !named });
        }

        return files;
    }
}

/// <summary>Collects a run's lineage while it runs; <see cref="Finish"/> hashes the outputs and stamps the end time.</summary>
public sealed class RunManifestBuilder
{
    private readonly string _baseFolder;
    private readonly TimeProvider _clock;
    private readonly List<ManifestFile> _inputs = [];
    private readonly List<string> _inputPaths = []; // the input files as the command named them (OutputGuard)
    private readonly List<(string? Path, ManifestFile? Described)> _outputs = [];
    private readonly string _started;

    /// <summary>Starts a manifest for a run of <paramref name="kind"/>; file paths are recorded relative to <paramref name="baseFolder"/> when inside it.</summary>
    public RunManifestBuilder(RunKind kind, JsonObject config, ulong seed, string baseFolder, TimeProvider? clock = null)
    {
        _ = kind.WireName(); // a defined kind, or ArgumentOutOfRangeException now rather than when the manifest is written
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(baseFolder);
        Kind = kind;
        Config = config;
        Seed = seed;
        _baseFolder = Path.GetFullPath(baseFolder);
        _clock = clock ?? TimeProvider.System;
        _started = AuditLog.Rfc3339(_clock.GetUtcNow());
        RunId = Guid.NewGuid().ToString("N");
    }

    /// <summary>The run id.</summary>
    public string RunId { get; init; }

    /// <summary>The run kind.</summary>
    public RunKind Kind { get; }

    /// <summary>The configuration.</summary>
    public JsonObject Config { get; }

    /// <summary>The seed.</summary>
    public ulong Seed { get; }

    /// <summary>The model id, when the run has one.</summary>
    public string? ModelId { get; set; }

    /// <summary>The DP statement, when training is private.</summary>
    public JsonObject? Dp { get; set; }

    /// <summary>What the run decided along the way (<see cref="RunManifest.Outcome"/>), or null.</summary>
    public JsonObject? Outcome { get; set; }

    /// <summary>The inputs recorded so far, in order, with the hashes taken when they were added.</summary>
    public IReadOnlyList<ManifestFile> Inputs => _inputs;

    /// <summary>Records an input file and its hash now (before the run reads it).</summary>
    public RunManifestBuilder AddInput(string path)
    {
        _inputs.Add(Describe(path));
        _inputPaths.Add(path);
        return this;
    }

    /// <summary>
    /// Refuses (<see cref="OutputGuard.Rule"/>, bad input) to write <paramref name="outputs"/> (the file the option
    /// <paramref name="option"/> names, then the sidecars the run writes beside it) when one of them is an input recorded
    /// so far, and refuses a destination that cannot be written (<see cref="Crucible.Data.IO.AtomicFile.CheckWritable"/>);
    /// then deletes the outputs' temporary files that a killed run left (<see cref="Crucible.Data.IO.AtomicFile.DeleteDeadTemporaries"/>).
    /// Call it after the inputs are added and before anything is written.
    /// </summary>
    public RunManifestBuilder CheckOutput(string option, params string[] outputs)
    {
        OutputGuard.Check(option, _inputPaths, outputs);
        foreach (var output in outputs) Crucible.Data.IO.AtomicFile.CheckWritable(output); // every destination before the first write
        foreach (var output in outputs) Crucible.Data.IO.AtomicFile.DeleteDeadTemporaries(output); // what a killed run left
        return this;
    }

    /// <summary>Records an input described already: named bytes (<see cref="ManifestFile.Named"/>), e.g. a request body.</summary>
    public RunManifestBuilder AddInput(ManifestFile described)
    {
        ArgumentNullException.ThrowIfNull(described);
        _inputs.Add(described);
        return this;
    }

    /// <summary>Names an output file; it is hashed at <see cref="Finish"/>.</summary>
    public RunManifestBuilder AddOutput(string path)
    {
        _outputs.Add((path, null));
        return this;
    }

    /// <summary>Records an output described already: named bytes (<see cref="ManifestFile.Named"/>), e.g. a response body.</summary>
    public RunManifestBuilder AddOutput(ManifestFile described)
    {
        ArgumentNullException.ThrowIfNull(described);
        _outputs.Add((null, described));
        return this;
    }

    /// <summary>Hashes the outputs and returns the manifest.</summary>
    public RunManifest Finish() => new()
    {
        RunId = RunId,
        Kind = Kind,
        StartedUtc = _started,
        FinishedUtc = AuditLog.Rfc3339(_clock.GetUtcNow()),
        Inputs = _inputs.ToList(),
        Outputs = _outputs.Select(o => o.Described ?? Describe(o.Path!)).ToList(),
        Config = Config,
        Seed = Seed,
        ModelId = ModelId,
        LibraryVersion = RunEnvironment.LibraryVersion,
        GitCommit = RunEnvironment.GitCommit,
        Runtime = RunEnvironment.Describe(),
        Dp = Dp,
        Outcome = Outcome,
    };

    private ManifestFile Describe(string path)
    {
        var full = Path.GetFullPath(path);
        var relative = Path.GetRelativePath(_baseFolder, full);
        var stored = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
        return new ManifestFile(stored.Replace('\\', '/'), FileHash.Sha256(full), new FileInfo(full).Length);
    }
}

/// <summary>What a manifest records about the software and machine.</summary>
public static class RunEnvironment
{
    /// <summary>The environment variable that names the git commit when the build does not carry one.</summary>
    public const string GitCommitVariable = "CRUCIBLE_GIT_COMMIT";

    private static string Informational =>
        typeof(RunEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The library version (without build metadata).</summary>
    public static string LibraryVersion => Informational.Split('+')[0];

    /// <summary>The git commit: the build's source revision (version "+sha"), else <c>CRUCIBLE_GIT_COMMIT</c>, else null.</summary>
    public static string? GitCommit
    {
        get
        {
            var plus = Informational.IndexOf('+', StringComparison.Ordinal);
            if (plus >= 0 && plus + 1 < Informational.Length) return Informational[(plus + 1)..];
            var env = Environment.GetEnvironmentVariable(GitCommitVariable);
            return string.IsNullOrWhiteSpace(env) ? null : env.Trim();
        }
    }

    /// <summary>.NET version, OS, architecture and processor count.</summary>
    public static JsonObject Describe() => new()
    {
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["os"] = RuntimeInformation.OSDescription,
        ["arch"] = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
        ["processors"] = Environment.ProcessorCount,
        ["device"] = "cpu",
    };
}
