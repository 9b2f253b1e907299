using System.Text.Json.Nodes;
using Crucible.Governance;
using Crucible.Governance.Manifests;

namespace Crucible.Cli.Commands;

/// <summary>
/// The run manifests (MRM-2) that <c>train</c> and <c>generate</c> write to <c>HOME/runs/RUN_ID.json</c>: input and
/// output hashes, the canonical config and its hash, the seed and PRNG, the model id, versions and times.
/// <c>crucible verify-run HOME/runs/RUN_ID.json</c> recomputes the file hashes. Files are recorded by absolute path
/// (they live outside the runs folder).
/// </summary>
internal static class RunManifests
{
    /// <summary>Starts the manifest of a run of <paramref name="kind"/> (stamps the start time now).</summary>
    public static RunManifestBuilder Start(CrucibleHome home, string kind, JsonObject config, ulong seed) =>
        new(kind, config, seed, home.RunsFolder);

    /// <summary>Hashes the outputs, writes the manifest atomically and returns its path.</summary>
    public static string Write(CrucibleHome home, RunManifestBuilder builder)
    {
        var manifest = builder.Finish();
        Directory.CreateDirectory(home.EnsureExists().RunsFolder);
        var path = Path.Combine(home.RunsFolder, manifest.RunId + ".json");
        manifest.Write(path);
        return path;
    }
}
