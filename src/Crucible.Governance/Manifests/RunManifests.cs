using System.Text.Json.Nodes;
using Crucible.Governance.Audit;
using Crucible.Governance.Storage;

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
    public static RunManifestBuilder Start(CrucibleHome home, RunKind kind, JsonObject config, ulong seed)
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
        var runId = FileRunId(manifestJson);
        Crucible.Data.IO.OutputPathException.CreateFolder(home.EnsureExists().RunsFolder);

        // the pending marker first: until the run's run.completed entry is committed (AppendRunCompletedJson removes it),
        // the manifest file is no evidence that the log held an entry (the lost-log rule)
        Crucible.Data.IO.AtomicFile.WriteAllBytes(PendingMarkerPath(home, runId), System.Text.Encoding.UTF8.GetBytes(runId + "\n"));
        var path = Path.Combine(home.RunsFolder, runId + ".json");
        Crucible.Data.IO.AtomicFile.WriteAllBytes(path, manifestJson);
        return path;
    }

    /// <summary>
    /// The pending marker of run <paramref name="runId"/>: <c>HOME/runs/.RUN_ID.pending</c>, written by <see cref="WriteJson"/>
    /// before the manifest and removed by <see cref="Audit.AuditLog.AppendRunCompletedJson"/> (on a log opened for the home)
    /// once the run's <c>run.completed</c> entry is committed. A manifest beside its marker was written by a run that has not
    /// (or not yet) recorded its entry, so the lost-log rule (<see cref="Audit.AuditLog.ThrowIfLost(CrucibleHome)"/>) does
    /// not count it: a home whose very first run was killed between its manifest and its entry is not taken for a home
    /// whose log was deleted.
    /// </summary>
    public static string PendingMarkerPath(CrucibleHome home, string runId)
    {
        ArgumentNullException.ThrowIfNull(home);
        return Path.Combine(home.RunsFolder, "." + runId + PendingSuffix);
    }

    /// <summary>
    /// Records a finished run in <paramref name="log"/>, the audit log of <paramref name="store"/> opened from
    /// <paramref name="home"/>: stores the manifest <paramref name="manifestJson"/> and appends <paramref name="before"/> and
    /// <c>run.completed</c> with <paramref name="payload"/> in one transaction (<see cref="AuditLog.AppendRunCompletedJson"/>),
    /// and writes the same bytes to the store's runs folder of the home (<see cref="CrucibleHome.RunsFolderFor"/>). Returns
    /// the file's path and the receipts, <c>run.completed</c>'s last. On SQLite the file goes to <c>HOME/runs/RUN_ID.json</c>
    /// with its pending marker before the entries, as <see cref="WriteJson"/> says (open the log first: opening checks
    /// <c>runs/</c>); on PostgreSQL, as the service keeps its runs, the database's copy is the record, and the file goes to
    /// <c>HOME/runs.postgres-…/RUN_ID.json</c> once the entries are committed, with no marker: that log's lost-log rule reads
    /// its exported checkpoints only, and the SQLite log's counts <c>runs/</c> only. A run killed between the commit and the
    /// file has its manifest in the database alone.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="log"/> is not a log of <paramref name="store"/>'s kind.</exception>
    /// <exception cref="Crucible.Data.InvalidInputException">As <see cref="AuditLog.AppendRunCompletedJson"/>.</exception>
    public static (string Path, IReadOnlyList<AuditReceipt> Receipts) Record(AuditLog log, CrucibleHome home, StoreLocation store, byte[] manifestJson,
        JsonObject payload, IReadOnlyList<(AuditKind Kind, JsonNode? Payload)>? before = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(manifestJson);
        if (log.Postgres is null != (store.Kind == StoreKind.Sqlite))
            throw new ArgumentException($"the audit log is not the log of the {store.Kind} store", nameof(log));
        if (store.Kind == StoreKind.Sqlite)
        {
            var path = WriteJson(home, manifestJson);
            return (path, log.AppendRunCompletedJson(manifestJson, payload, before: before));
        }

        var runId = FileRunId(manifestJson); // checked before anything is stored
        var receipts = log.AppendRunCompletedJson(manifestJson, payload, before: before);
        var folder = home.EnsureExists().RunsFolderFor(store);
        Crucible.Data.IO.OutputPathException.CreateFolder(folder);
        var file = Path.Combine(folder, runId + ".json");
        Crucible.Data.IO.AtomicFile.WriteAllBytes(file, manifestJson);
        return (file, receipts);
    }

    // the run id of manifest bytes that pass the schema check, when it is a plain file name (MANIFEST-E-VALUE otherwise)
    private static string FileRunId(byte[] manifestJson)
    {
        var runId = RunManifest.Parse(manifestJson).RunId;
        if (runId is "." or ".." || !string.Equals(Path.GetFileName(runId), runId, StringComparison.Ordinal) || runId.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new Crucible.Data.InvalidInputException("MANIFEST-E-VALUE", "field 'run_id' must be a plain file name");
        return runId;
    }

    /// <summary>The suffix of a run's pending marker (<see cref="PendingMarkerPath"/>).</summary>
    public const string PendingSuffix = ".pending";
}
