using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Manifests;

namespace Crucible.Cli.Commands;

/// <summary>One output of a run done again: its recorded and recomputed SHA-256, and a note on what was taken as recorded.</summary>
internal sealed record Recomputed(string Path, string Expected, string Actual, string? Note = null)
{
    public bool Matches => Expected == Actual;
}

/// <summary>
/// <c>crucible verify-run --recompute</c> (RELIABILITY.md MRM-2: the independent validator recomputes the output): a run
/// is done again from its manifest by the command that recorded it, which reads back the config keys it wrote
/// (<see cref="TrainCommand.Recompute"/>, <see cref="GenerateCommand.Recompute"/>, <see cref="EvaluateCommand.Recompute"/>,
/// <see cref="StressCommand.Recompute"/>, <see cref="EnsembleCommand.Recompute"/>, <see cref="BacktestCommand.Recompute"/>,
/// <see cref="BaselineCommand.Recompute"/>, <see cref="CompareCommand.Recompute"/>, <see cref="ModelCardCommand.Recompute"/>),
/// and each output is compared byte for byte with its recorded hash. Relative paths are read from the manifest's folder.
/// Every input file must still hash as recorded (<see cref="CheckInputs"/>) before anything is run.
/// </summary>
internal static class RunRecompute
{
    /// <summary>The rule of a run that cannot be done again (a service run, a changed input, or one recorded without what it needs).</summary>
    public const string Rule = "VERIFY-E-RECOMPUTE";

    /// <summary>Does the run of <paramref name="m"/> (read from <paramref name="manifestPath"/>) again; returns each output's comparison.</summary>
    public static IReadOnlyList<Recomputed> Run(RunManifest m, string manifestPath)
    {
        var where = new InputLocation(manifestPath, 0, 0);
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        string Full(string p) => Path.IsPathRooted(p) ? p : Path.Combine(folder, p);
        // the service's runs (service.scenarios, service.evaluate, service.ensemble, service.train) record the request
        // and its files by hash only: nothing to do them again from, whatever kind they are (each kind's own refusal
        // would name a missing key or file, or the demo, not why)
        if (Value<string>(m.Config, "command") is { } command && command.StartsWith(ServiceCommandPrefix, StringComparison.Ordinal))
        {
            throw new InvalidInputException(Rule, $"run {m.RunId} was recorded by the service ('{command}'), which keeps its request and the files it "
                + "carried by SHA-256 only: there is nothing to do it again from; send the same request again (the same request and seed give the same "
                + "bytes) or do the run with the CLI", where);
        }

        CheckInputs(m, Full, where);
        return m.Kind switch
        {
            RunKind.Train when Value<string>(m.Config, "command") == "demo.train" => DemoCommand.RecomputeTrain(m, Full, where),
            RunKind.Train => TrainCommand.Recompute(m, Full, where),
            RunKind.Generate => GenerateCommand.Recompute(m, Full, where),
            RunKind.Evaluate when Value<string>(m.Config, "command") == "demo.evaluate" => DemoCommand.RecomputeEvaluation(m, Full, where),
            RunKind.Evaluate => EvaluateCommand.Recompute(m, Full, where),
            RunKind.Stress => StressCommand.Recompute(m, Full, where),
            RunKind.Ensemble => EnsembleCommand.Recompute(m, Full, where),
            RunKind.Backtest => BacktestCommand.Recompute(m, Full, where),
            RunKind.Baseline => BaselineCommand.Recompute(m, Full, where),
            RunKind.Compare => CompareCommand.Recompute(m, Full, where),
            RunKind.ModelCard => ModelCardCommand.Recompute(m, Full, where),
            _ => throw new ArgumentOutOfRangeException(nameof(m), m.Kind, "unknown run kind"), // RunManifest refuses a kind it does not know
        };
    }

    /// <summary>The prefix of the <c>command</c> config key of the service's runs (<c>service.scenarios</c>, …), which are not done again.</summary>
    public const string ServiceCommandPrefix = "service.";

    /// <summary>
    /// Refuses a run whose input files are missing or no longer hash as recorded: what would be run again is not what ran
    /// (an input error naming the file, its recorded and its present hash).
    /// </summary>
    public static void CheckInputs(RunManifest m, Func<string, string> full, InputLocation where)
    {
        foreach (var input in m.Inputs.Where(i => i.IsFile))
        {
            string path = full(input.Path);
            if (!File.Exists(path))
                throw new InvalidInputException(Rule, $"the input {input.Path} is missing: the run cannot be done again from its recorded inputs", where);
            string now = Governance.FileHash.Sha256(path);
            if (now != input.Sha256)
            {
                throw new InvalidInputException(Rule,
                    $"the input {input.Path} no longer hashes as recorded ({input.Sha256[..16]}…, now {now[..16]}…): refusing to run again from a changed input", where);
            }
        }
    }

    /// <summary>
    /// The run's input files by role, from the config's <c>input_roles</c> (one role per input, in order); a manifest
    /// without them (written by an earlier version) is refused naming the key.
    /// </summary>
    public static Dictionary<string, string> Roles(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var roles = Strings(m.Config, "input_roles");
        if (roles is null || roles.Length != m.Inputs.Count)
            throw new InvalidInputException(Rule, "the manifest does not name its inputs' roles (input_roles): it was written by an earlier version", where);
        var byRole = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < roles.Length; i++) byRole[roles[i]] = full(m.Inputs[i].Path);
        return byRole;
    }

    /// <summary>A config key the run cannot be done again without: absent (a manifest of an earlier version) is refused naming it.</summary>
    public static T? Required<T>(JsonObject config, string key, InputLocation where) => config.ContainsKey(key)
        ? Value<T>(config, key)
        : throw new InvalidInputException(Rule, $"the manifest's config has no '{key}', which the run needs to be done again: it was written by an earlier version", where);

    /// <summary>The input file of <paramref name="role"/> (an input error when the manifest names none).</summary>
    public static string Input(Dictionary<string, string> roles, string role, InputLocation where) =>
        roles.TryGetValue(role, out var path) ? path : throw new InvalidInputException(Rule, $"the manifest names no '{role}' input", where);

    /// <summary>
    /// The comparisons of a model folder trained again: <c>weights.safetensors</c> against <paramref name="weights"/>, and
    /// <c>manifest.json</c> against <paramref name="manifest"/> under the library version the recorded file names (a
    /// different one is named in the note).
    /// </summary>
    public static IReadOnlyList<Recomputed> ModelOutputs(RunManifest m, Func<string, string> full, byte[] weights, Func<string, byte[]> manifest, InputLocation where)
    {
        var results = new List<Recomputed>();
        foreach (var output in m.Outputs.Where(o => o.IsFile))
        {
            switch (Path.GetFileName(output.Path))
            {
                case Crucible.Diffusion.Tabular.DiffusionGenerator.WeightsFileName:
                    results.Add(new(output.Path, output.Sha256, Sha256(weights)));
                    break;
                case Crucible.Diffusion.Tabular.DiffusionGenerator.ManifestFileName:
                    string path = full(output.Path);
                    string current = Crucible.Diffusion.Tabular.DiffusionGenerator.LibraryVersion;
                    string recorded = (File.Exists(path) ? RecordedLibraryVersion(path) : null) ?? current;
                    results.Add(new(output.Path, output.Sha256, Sha256(manifest(recorded)), VersionNote(recorded, current, "trained")));
                    break;
            }
        }

        return results.Count > 0 ? results : throw new InvalidInputException(Rule, "the manifest names no model files to compare with", where);
    }

    /// <summary>
    /// The <c>library_version</c> of the recorded model manifest at <paramref name="path"/> (null when it records none): a
    /// file that is not a JSON object, or whose <c>library_version</c> is not a string, is refused naming it (rule
    /// <c>model-manifest</c>, as a model folder's manifest is, at the line and column System.Text.Json gives), not an
    /// internal error.
    /// </summary>
    public static string? RecordedLibraryVersion(string path)
    {
        const string ManifestRule = "model-manifest";
        string text = Crucible.Data.IO.InputFile.ReadAllText(path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw Crucible.Data.IO.JsonNonFinite.Refusal(text, e, path) ?? new InvalidInputException(ManifestRule, $"the recorded model manifest is not valid JSON: {e.Message}",
                new InputLocation(path, (e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }

        if (root is not JsonObject manifest) throw new InvalidInputException(ManifestRule, "the recorded model manifest is not a JSON object", new InputLocation(path, 1, 1));
        return manifest["library_version"] switch
        {
            null => null,
            JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
            var other => throw new InvalidInputException(ManifestRule,
                $"the recorded model manifest's library_version is not a string: {other.ToJsonString()}", new InputLocation(path, 0, 0)),
        };
    }

    /// <summary>The recomputed UTF-8 (no BOM) text of the recorded output <paramref name="output"/>.</summary>
    public static Recomputed Compare(ManifestFile output, string text) =>
        new(output.Path, output.Sha256, Sha256(new System.Text.UTF8Encoding(false).GetBytes(text)));

    /// <summary>A scalar of a run config (default when absent or null).</summary>
    public static T? Value<T>(JsonObject config, string key) => config[key] is JsonValue v ? v.GetValue<T>() : default;

    /// <summary>A string array of a run config, or null.</summary>
    public static string[]? Strings(JsonObject config, string key) => config[key] is JsonArray a ? [.. a.Select(x => x!.GetValue<string>())] : null;

    /// <summary>SHA-256 (lowercase hex) of <paramref name="bytes"/>.</summary>
    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The note of an output compared under the recorded library version rather than this build's.</summary>
    public static string? VersionNote(string recorded, string current, string verb) =>
        recorded == current ? null : $"recorded by library {recorded}, {verb} again by {current}: compared with the recorded version";
}
