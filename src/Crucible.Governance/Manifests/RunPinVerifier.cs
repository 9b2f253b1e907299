using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Manifests;

/// <summary>What makes a run manifest's pin fail (<see cref="RunPinVerification.Problems"/>).</summary>
public enum PinProblem
{
    /// <summary>No <c>run.completed</c> entry of the audit log pins the run (or its entry names no manifest hash).</summary>
    Unpinned,

    /// <summary>
    /// The audit log does not verify (<see cref="AuditLog.Verify(CrucibleHome, string?, string?)"/>, as
    /// <c>crucible audit verify</c>): the pin proves nothing, wherever the first bad entry lies.
    /// </summary>
    ChainBroken,

    /// <summary>The manifest file does not hash as its pin says (the file was edited).</summary>
    FileEdited,

    /// <summary>
    /// The manifest file is another run's: its <c>run_id</c> (<see cref="RunPinVerification.FileRunId"/>) is not the run
    /// checked. Reported instead of <see cref="FileEdited"/>: the file was never the one pinned for this run.
    /// </summary>
    OtherRun,

    /// <summary>The audit store's copy of the manifest (table <c>runs</c>) does not hash as its pin says (the stored copy was edited).</summary>
    StoredCopyEdited,

    /// <summary>The audit store holds no copy of the pinned manifest (its row was deleted, or the log predates the <c>runs</c> table).</summary>
    StoredCopyMissing,
}

/// <summary>The outcome of <see cref="RunPinVerifier.Verify(CrucibleHome, string, string, string?, string?)"/>: the three things a pin relies on, each checked.</summary>
/// <param name="RunId">The run checked.</param>
/// <param name="Chain">The verification of the whole audit log, hash chain and signed checkpoints.</param>
/// <param name="PinSeq">The <c>run.completed</c> entry that pins the run, or null when none does.</param>
/// <param name="Pinned">The <c>manifest_sha256</c> that entry records, or null.</param>
/// <param name="File">The SHA-256 of the manifest file's bytes now.</param>
/// <param name="Stored">The SHA-256 of the audit store's copy of the manifest, or null when it holds none.</param>
public sealed record RunPinVerification(string RunId, AuditVerification Chain, long? PinSeq, string? Pinned, string File, string? Stored)
{
    /// <summary>
    /// The <c>run_id</c> the manifest file records, or null when it records none (not a JSON object with a string
    /// <c>run_id</c>: then only its hash is compared).
    /// </summary>
    public string? FileRunId { get; init; }

    /// <summary>Whether the manifest file records another run's id than <see cref="RunId"/> (<see cref="PinProblem.OtherRun"/>).</summary>
    public bool OtherRunsFile => FileRunId is not null && !string.Equals(FileRunId, RunId, StringComparison.Ordinal);

    /// <summary>Whether the manifest file hashes as pinned (false when unpinned).</summary>
    public bool FileMatches => Pinned is not null && string.Equals(File, Pinned, StringComparison.Ordinal);

    /// <summary>Whether the stored copy hashes as pinned (false when unpinned or missing).</summary>
    public bool StoredMatches => Pinned is not null && string.Equals(Stored, Pinned, StringComparison.Ordinal);

    /// <summary>
    /// Every reason the pin fails, in the order chain, the file's run, pin, file, stored copy; empty when it holds. A file of
    /// another run (<see cref="PinProblem.OtherRun"/>) is not also reported as edited.
    /// </summary>
    public IReadOnlyList<PinProblem> Problems
    {
        get
        {
            var problems = new List<PinProblem>();
            if (!Chain.Ok) problems.Add(PinProblem.ChainBroken);
            if (OtherRunsFile) problems.Add(PinProblem.OtherRun);
            if (Pinned is null)
            {
                problems.Add(PinProblem.Unpinned);
                return problems;
            }

            if (!FileMatches && !OtherRunsFile) problems.Add(PinProblem.FileEdited);
            if (Stored is null) problems.Add(PinProblem.StoredCopyMissing);
            else if (!StoredMatches) problems.Add(PinProblem.StoredCopyEdited);
            return problems;
        }
    }

    /// <summary>Whether the log verifies, pins the run, and the file and the stored copy both hash as pinned.</summary>
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Checks a run manifest file against the audit log of a home that pins it (the <c>--home</c> half of
/// <c>crucible verify-run</c>): the pin is only as good as the chain that holds it and the copy it pins, so this checks
/// (1) the whole log with <see cref="AuditLog.Verify(CrucibleHome, string?, string?)"/> (the check of
/// <c>crucible audit verify</c>: seqs, links, entry hashes, signed checkpoints in the database and the exported file,
/// truncation), (2) the manifest file's SHA-256 against the <c>manifest_sha256</c> of the run's <c>run.completed</c>
/// entry, and (3) the SHA-256 of the copy of the manifest that <see cref="AuditLog.AppendRunCompleted"/> stored in the
/// same transaction (table <c>runs</c>) against the same pin. A manifest file whose own <c>run_id</c> is another run's is
/// named as such (<see cref="PinProblem.OtherRun"/>), not as an edited file. Each disagreement is reported separately
/// (<see cref="PinProblem"/>). Read only: nothing is created or written.
/// </summary>
/// <remarks>
/// The whole log must verify, not only its entries up to the pin: the signed checkpoints after the pinning entry are what
/// protect it against a rewrite (a recomputed chain is consistent with itself), and a chain broken after the pin would
/// stop the verification before the checkpoint that catches the rewrite.
/// </remarks>
public static class RunPinVerifier
{
    /// <summary>
    /// Checks the manifest at <paramref name="manifestPath"/>, of run <paramref name="runId"/>, against the audit log of
    /// <paramref name="home"/>; <paramref name="publicKeyPath"/> and <paramref name="checkpointFile"/> are as for
    /// <see cref="AuditLog.Verify(CrucibleHome, string?, string?)"/> (default: the home's own).
    /// </summary>
    /// <exception cref="Crucible.Data.InvalidInputException"><c>AUDIT-E-NOLOG</c>: the home has no audit log; a bad public key; or
    /// <c>FILE-E-SIZE</c>: a manifest file larger than any manifest (<see cref="Data.IO.InputFile.MaxJsonBytes"/>).</exception>
    public static RunPinVerification Verify(CrucibleHome home, string manifestPath, string runId, string? publicKeyPath = null, string? checkpointFile = null)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(runId);
        var entries = AuditLog.Read(home.AuditDatabase); // AUDIT-E-NOLOG when there is none; nothing is created
        var chain = AuditLog.Verify(home, publicKeyPath, checkpointFile);
        var stored = AuditLog.ReadRunManifest(home.AuditDatabase, runId);
        return Pin(manifestPath, runId, chain, entries, stored);
    }

    /// <summary>
    /// Checks the manifest at <paramref name="manifestPath"/>, of run <paramref name="runId"/>, against the audit log of
    /// <paramref name="store"/> as seen from <paramref name="home"/>: on SQLite <see cref="Verify(CrucibleHome, string, string, string?, string?)"/>
    /// (the store's folder is the home); on PostgreSQL the same three checks against the shared database's log, read only
    /// (its verification as <c>crucible audit verify --store postgres:…</c> runs it: <paramref name="publicKeyPath"/>
    /// defaults to the home's public key, when there is one, and <paramref name="checkpointFile"/> to that database's export
    /// in the home, <see cref="CrucibleHome.AuditCheckpointsFor"/>), and its stored copy of the manifest.
    /// </summary>
    /// <exception cref="Crucible.Data.InvalidInputException">As the SQLite overload; on PostgreSQL <c>AUDIT-E-NOLOG</c> when the
    /// database holds no log, <c>AUDIT-E-LOST</c> when it is shorter than the home's exports, <c>STORE-E-CONNECT</c>.</exception>
    public static RunPinVerification Verify(CrucibleHome home, Storage.StoreLocation store, string manifestPath, string runId,
        string? publicKeyPath = null, string? checkpointFile = null)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(runId);
        if (store.Kind == Storage.StoreKind.Sqlite) return Verify(home, manifestPath, runId, publicKeyPath, checkpointFile);
        using var log = AuditLog.OpenReadOnly(AuditLogOptions.ForStore(home, store)); // AUDIT-E-NOLOG when there is none; nothing is created
        var entries = log.ListKinds(AuditKind.RunCompleted);
        var keyPath = publicKeyPath ?? Path.Combine(home.KeysFolder, AuditSigningKey.PublicFileName);
        using var key = publicKeyPath is not null || File.Exists(keyPath) ? AuditSigningKey.LoadPublic(keyPath) : null;
        var chain = AuditLog.VerifyPostgres(store.Value, key, checkpointFile ?? home.AuditCheckpointsFor(store), AuditLog.IsCheckpointCopy(home, checkpointFile));
        return Pin(manifestPath, runId, chain, entries, log.ReadRunManifest(runId));
    }

    /// <summary>
    /// The manifest of run <paramref name="runId"/> as <paramref name="log"/> stores it (<see cref="AuditLog.ReadRunManifest(string)"/>),
    /// with the <c>run.completed</c> entry that pins the run (the last that names it) and the hash that entry records, or
    /// null when the log stores no manifest of that run. The log's chain is not verified here (<c>crucible audit verify</c>).
    /// </summary>
    public static StoredRunManifest? ReadStored(AuditLog log, string runId)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(runId);
        if (log.ReadRunManifest(runId) is not { } bytes) return null;
        var entry = PinEntry(log.ListKinds(AuditKind.RunCompleted), runId);
        return new StoredRunManifest(runId, bytes, Convert.ToHexStringLower(SHA256.HashData(bytes)), entry?.Seq,
            entry is null ? null : Field(() => JsonNode.Parse(entry.Payload, documentOptions: CanonicalJson.NoDuplicateMembers), "manifest_sha256"));
    }

    // the pin of run runId in entries (the last run.completed that names it), against the file and the stored copy
    private static RunPinVerification Pin(string manifestPath, string runId, AuditVerification chain, IReadOnlyList<AuditEntry> entries, byte[]? stored)
    {
        var entry = PinEntry(entries, runId);
        var bytes = Data.IO.InputFile.ReadAllBytes(manifestPath);
        return new RunPinVerification(runId, chain, entry?.Seq, entry is null ? null : Field(() => JsonNode.Parse(entry.Payload, documentOptions: CanonicalJson.NoDuplicateMembers), "manifest_sha256"), Convert.ToHexStringLower(SHA256.HashData(bytes)),
            stored is null ? null : Convert.ToHexStringLower(SHA256.HashData(stored)))
        {
            FileRunId = Field(() => JsonNode.Parse(bytes, documentOptions: CanonicalJson.NoDuplicateMembers), "run_id"),
        };
    }

    // the run.completed entry that pins run runId: the last that names it
    private static AuditEntry? PinEntry(IEnumerable<AuditEntry> entries, string runId)
    {
        var completed = AuditKind.RunCompleted.WireName();
        return entries.LastOrDefault(e => string.Equals(e.Kind, completed, StringComparison.Ordinal)
            && string.Equals(Field(() => JsonNode.Parse(e.Payload, documentOptions: CanonicalJson.NoDuplicateMembers), "run_id"), runId, StringComparison.Ordinal));
    }

    // a string member of a JSON object (null when absent, not a string, or the bytes are no JSON object): an entry's
    // payload, or the manifest file
    private static string? Field(Func<JsonNode?> parse, string name)
    {
        try
        {
            return parse() is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        }
        catch (JsonException)
        {
            return null; // a tampered payload: the chain check reports it; a file that is no JSON: its hash differs
        }
    }
}

/// <summary>A run's manifest as an audit log stores it (<see cref="RunPinVerifier.ReadStored"/>).</summary>
/// <param name="RunId">The run.</param>
/// <param name="Bytes">The stored manifest's bytes (the canonical JSON its run wrote).</param>
/// <param name="Sha256">Their SHA-256.</param>
/// <param name="PinSeq">The <c>run.completed</c> entry that pins the run, or null when none does.</param>
/// <param name="PinnedSha256">The manifest hash that entry records, or null.</param>
public sealed record StoredRunManifest(string RunId, byte[] Bytes, string Sha256, long? PinSeq, string? PinnedSha256)
{
    /// <summary>Whether a <c>run.completed</c> entry pins the run with these bytes' hash.</summary>
    public bool Pinned => PinSeq is not null && string.Equals(PinnedSha256, Sha256, StringComparison.Ordinal);
}
