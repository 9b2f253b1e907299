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
        return WriteJson(home, manifest.ToCanonicalJson());
    }

    /// <summary>
    /// Writes a manifest already serialised to <paramref name="manifestJson"/> (its <see cref="RunManifest.ToCanonicalJson"/>
    /// bytes, exactly) atomically to <c>HOME/runs/RUN_ID.json</c> and returns its path; the run id is read from the bytes,
    /// which must pass the manifest's schema check. Handing the same bytes to
    /// <see cref="Audit.AuditLog.AppendRunCompletedJson"/>
    /// makes the file and the audit store's copy byte-identical by construction.
    /// </summary>
    /// <exception cref="Crucible.Data.InvalidInputException">The bytes are not a valid run manifest (<c>MANIFEST-E-…</c>).</exception>
    public static string WriteJson(CrucibleHome home, byte[] manifestJson)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(manifestJson);
        var runId = RunManifest.Parse(manifestJson).RunId;
        if (runId is "." or ".." || !string.Equals(Path.GetFileName(runId), runId, StringComparison.Ordinal) || runId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new Crucible.Data.InvalidInputException("MANIFEST-E-VALUE", "field 'run_id' must be a plain file name");
        Crucible.Data.IO.OutputPathException.CreateFolder(home.EnsureExists().RunsFolder);

        var path = Path.Combine(home.RunsFolder, runId + ".json");
        Crucible.Data.IO.AtomicFile.WriteAllBytes(path, manifestJson);
        return path;
    }
}
