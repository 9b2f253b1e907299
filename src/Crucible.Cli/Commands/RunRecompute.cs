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
/// (<see cref="TrainCommand.Recompute"/>, <see cref="GenerateCommand.Recompute"/>, <see cref="EvaluateCommand.Recompute"/>),
/// and each output is compared byte for byte with its recorded hash. Relative paths are read from the manifest's folder.
/// </summary>
internal static class RunRecompute
{
    /// <summary>The rule of a run that cannot be done again (not a train, generate or evaluate run, or one recorded without what it needs).</summary>
    public const string Rule = "VERIFY-E-RECOMPUTE";

    /// <summary>Does the run of <paramref name="m"/> (read from <paramref name="manifestPath"/>) again; returns each output's comparison.</summary>
    public static IReadOnlyList<Recomputed> Run(RunManifest m, string manifestPath)
    {
        var where = new InputLocation(manifestPath, 0, 0);
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        string Full(string p) => Path.IsPathRooted(p) ? p : Path.Combine(folder, p);
        return m.Kind switch
        {
            "train" => TrainCommand.Recompute(m, Full, where),
            "generate" => GenerateCommand.Recompute(m, Full, where),
            "evaluate" => EvaluateCommand.Recompute(m, Full, where),
            _ => throw new InvalidInputException(Rule, $"--recompute runs train, generate and evaluate runs again; run {m.RunId} is a '{m.Kind}' run", where),
        };
    }

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
