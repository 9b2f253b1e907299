using System.Text.Json.Nodes;

namespace Crucible.Governance.Manifests;

/// <summary>
/// The run manifests (MRM-2) of a home. The CLI's <c>train</c>, <c>generate</c>, <c>evaluate</c>, <c>stress</c>,
/// <c>ensemble</c>, <c>backtest</c>, <c>baseline</c>, <c>compare</c>, <c>model-card</c> and each step of <c>demo</c> write
/// theirs to <c>HOME/runs/RUN_ID.json</c> (<see cref="Write"/>) and pin its hash in the audit chain with the
/// <c>run.completed</c> entry of <see cref="Audit.AuditLog.AppendRunCompleted"/>, which also stores the bytes
/// (<c>crucible verify-run [--home HOME] HOME/runs/RUN_ID.json</c> recomputes the file hashes and checks the pin; files
/// are recorded by absolute path, since they live outside the runs folder). The service starts its runs here too and
/// stores them with the audit log only.
/// </summary>
public static class RunManifests
{
    /// <summary>Starts the manifest of a run of <paramref name="kind"/> (stamps the start time now).</summary>
    public static RunManifestBuilder Start(CrucibleHome home, string kind, JsonObject config, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(home);
        return new(kind, config, seed, home.RunsFolder);
    }

    /// <summary>
    /// Writes the finished <paramref name="manifest"/> atomically to <c>HOME/runs/RUN_ID.json</c> and returns its path (for a
    /// caller that also hands the same manifest to <see cref="Audit.AuditLog.AppendRunCompleted"/>).
    /// </summary>
    public static string Write(CrucibleHome home, RunManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(manifest);
        Directory.CreateDirectory(home.EnsureExists().RunsFolder);
        var path = Path.Combine(home.RunsFolder, manifest.RunId + ".json");
        manifest.Write(path);
        return path;
    }
}
