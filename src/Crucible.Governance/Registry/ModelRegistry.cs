using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Registry;

/// <summary>A registered model as the registry knows it.</summary>
/// <param name="Id">SHA-256 of <c>weights.safetensors</c>, lower-case hex: the immutable model id.</param>
/// <param name="Folder">The model's folder inside the registry.</param>
/// <param name="ManifestSha256">SHA-256 of <c>manifest.json</c> when it was registered.</param>
/// <param name="Status">The current status (the last status change in the audit log).</param>
/// <param name="RegisteredSeq">The audit entry that registered it.</param>
public sealed record ModelRecord(string Id, string Folder, string ManifestSha256, ModelStatus Status, long RegisteredSeq)
{
    /// <summary>The actor who registered the model (the <c>model.registered</c> entry's actor): its owner (MRM-10).</summary>
    public string? Owner { get; init; }

    /// <summary>The id of the registered model this one was derived or retrained from, when declared; null otherwise (MRM-10).</summary>
    public string? Parent { get; init; }

    /// <summary>The SHA-256 of the validation report of the last change to validated; null before one (MRM-10).</summary>
    public string? EvidenceSha256 { get; init; }

    /// <summary>The actor who made the last change to validated; null before one (segregation of duties).</summary>
    public string? ValidatedBy { get; init; }

    /// <summary>The weights file.</summary>
    public string WeightsPath => Path.Combine(Folder, ModelRegistry.WeightsFileName);

    /// <summary>The manifest file.</summary>
    public string ManifestPath => Path.Combine(Folder, ModelRegistry.ManifestFileName);
}

/// <summary>A status change as <see cref="ModelRegistry.RecordStatusChange"/> made it.</summary>
/// <param name="Model">The model after the change.</param>
/// <param name="Receipt">The <c>model.status_changed</c> entry that records it.</param>
public sealed record StatusChange(ModelRecord Model, AuditReceipt Receipt);

/// <summary>
/// The model registry (MRM-3, MRM-10): content-addressed, immutable model folders under <c>HOME/models/ID/</c>
/// (<c>weights.safetensors</c> + <c>manifest.json</c>, ARCHITECTURE.md), whose id is the SHA-256 of the weights.
/// Registering an id that exists is refused; loading recomputes both hashes and refuses on a mismatch. The status of a
/// model is not stored beside it: it is the last <c>model.status_changed</c> entry of the tamper-evident audit log, so
/// every change (candidate → validated → promoted → retired) is recorded there, and only there.
/// <para>When the audit log is shared in PostgreSQL (several service replicas), the registry is shared with it: the
/// registrations and status changes are its entries, and the two files of every registered model are stored in the same
/// database (<c>model_file</c>) before the registration is recorded. A replica that has not got a model's folder yet
/// writes it from there on first load (staged, renamed into place) and checks both hashes as for any load.</para>
/// </summary>
public sealed class ModelRegistry
{
    /// <summary>The weights file name in a model folder.</summary>
    public const string WeightsFileName = "weights.safetensors";

    /// <summary>The manifest file name in a model folder.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>The largest <c>manifest.json</c> a model folder may hold (64 MiB; a real one is a few kB).</summary>
    public const long MaxManifestBytes = 64L << 20;

    /// <summary>
    /// The rule of a <see cref="Load"/> through a registry whose log was opened read-only, of a model that a shared
    /// PostgreSQL store holds but whose folder this home lacks: writing the folder would write the home.
    /// </summary>
    public const string ReadOnlyLoadRule = "REG-E-READONLY";

    private readonly CrucibleHome _home;
    private readonly AuditLog _audit;

    /// <summary>
    /// A registry in <paramref name="home"/> that records into <paramref name="audit"/>. Over a log opened read-only
    /// (<see cref="AuditLog.OpenReadOnly(AuditLogOptions)"/>) it lists, finds and loads models, removes no pending marker,
    /// and refuses to register or change a status (<see cref="InvalidOperationException"/>, before anything is written);
    /// it writes nothing into the home: on PostgreSQL its <see cref="Load"/> of a model whose folder this home lacks
    /// refuses (<see cref="ReadOnlyLoadRule"/>) rather than write that folder from the database as a writer's does, and
    /// <see cref="ReadManifest"/> reads the stored manifest without writing it.
    /// </summary>
    public ModelRegistry(CrucibleHome home, AuditLog audit)
    {
        // checked here: the marker clean-up below swallows what it throws, so a null went unnoticed until the first call
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(audit);
        _home = home;
        _audit = audit;
        // a registry over a log opened read-only (AuditLog.OpenReadOnly: model list) reads only: the markers wait for a writer
        if (!audit.IsReadOnly) RemoveCommittedMarkers();
    }

    // a registration or status change through a log opened read-only would fail at its entry, after its files were copied
    // into the home (and, on PostgreSQL, stored in the database): refused before anything is written
    private void ThrowIfReadOnly()
    {
        if (_audit.IsReadOnly)
            throw new InvalidOperationException("this registry's audit log was opened read-only (AuditLog.OpenReadOnly): it lists and loads models, and registers or changes none");
    }

    // what runs and registrations killed after their entry and before removing their pending marker left: such markers
    // keep their manifest or folder out of the lost-log rule until removed (AuditLog.RemoveCommittedMarkers: safe without
    // the lock). The log is read only when a marker exists; a log that cannot be read now leaves them for later.
    private void RemoveCommittedMarkers()
    {
        try
        {
            AuditLog.RemoveCommittedMarkers(_home, _audit.ReadRunManifest, () => List().Select(m => m.Id).ToHashSet(StringComparer.Ordinal));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
        }
    }

    /// <summary>
    /// The model id of the model folder <paramref name="folder"/>: the SHA-256 of its <c>weights.safetensors</c>, lower-case
    /// hex. The one definition of the id: every caller (registry, CLI, service, run manifests) computes it here. The
    /// manifest is not part of it (README, "Model identity"): a registration records the manifest's hash beside the id, and
    /// a second folder with the same weights but another manifest is refused (<c>REG-E-CONFLICT</c>).
    /// </summary>
    /// <exception cref="InvalidInputException">The weights file is missing or unreadable.</exception>
    public static string IdOf(string folder) => FileHash.Sha256(Path.Combine(folder, WeightsFileName));

    /// <summary>The rule of a registration refused because its weights' id is registered with another model's manifest.</summary>
    public const string ConflictRule = "REG-E-CONFLICT";

    /// <summary>The lock file that serialises registrations in a home (<c>HOME/models/.register.lock</c>).</summary>
    public string LockPath => Path.Combine(_home.ModelsFolder, ".register.lock");

    /// <summary>How long a registration waits for another one in the same home before it gives up.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Test hook: runs after the folder is in place and before <c>model.registered</c> is appended.</summary>
    internal Action<string>? BeforeEntry { get; set; }

    /// <summary>Test hook: runs after a status change was checked and before its <c>model.status_changed</c> is appended.</summary>
    internal Action<string>? BeforeStatusEntry { get; set; }

    /// <summary>
    /// Tests only: called with the name of each step of a registration (<see cref="RegistrationSteps"/>); the crash host of
    /// the tests kills the process with SIGKILL there.
    /// </summary>
    internal Action<string>? FaultInjection { get; set; }

    /// <summary>
    /// The steps of a registration that copies a folder, in order: the registration lock held, the weights copied into the
    /// staging folder, both files and the pending marker staged, the folder renamed into place before its
    /// <c>model.registered</c> entry, and the entry committed before the marker is removed.
    /// </summary>
    internal static readonly IReadOnlyList<string> RegistrationSteps = ["locked", "weights-copied", "staged", "renamed", "entered"];

    /// <summary>
    /// The file a registration stages beside the weights and manifest and removes once its <c>model.registered</c> entry is
    /// committed: a model folder that holds it was renamed into place by a registration that has not (or not yet) recorded
    /// its entry. It is what tells a registration killed between its rename and its entry (the folder holds it) from a
    /// registered model whose entry was lost with a deleted log (it does not): <see cref="AuditLog.ThrowIfLost(CrucibleHome)"/>
    /// and <see cref="AuditLog.Verify(CrucibleHome, string?, string?)"/> count only folders without it as evidence of
    /// entries, and a registration removes, under the registration lock, marked folders without an entry (a dead
    /// registration's) and the marker of a registered one (killed after its entry).
    /// </summary>
    public const string PendingMarkerName = ".registration-pending";

    /// <summary>
    /// Copies the model folder <paramref name="sourceFolder"/> (its weights and manifest) into the registry under its id,
    /// as a candidate, and records <c>model.registered</c>. The copy lands in a temporary folder first and is renamed
    /// into place, so a crash leaves either no model or a whole one. A registration holds the home's registration lock
    /// (and, on a shared PostgreSQL store, its advisory lock) from its existence check to its entry, so a model's id is
    /// never answered by another registrar before its entry exists; a folder without an entry (a registration that
    /// crashed between its rename and its entry) is replaced, or, when it is <paramref name="sourceFolder"/> itself, kept and
    /// registered in place. A folder that the home's other log registered (its SQLite log, for a registry on PostgreSQL; a
    /// PostgreSQL store whose <c>.postgres-registration.json</c> proof the folder holds, for one on the SQLite log) is never
    /// removed or rewritten: it is reused when it holds the same weights and manifest bytes, and the registration is refused
    /// (<c>REG-E-CONFLICT</c>) otherwise.
    /// </summary>
    /// <exception cref="InvalidInputException">
    /// <c>REG-E-EXISTS</c>: the id is registered already with this manifest, or one that differs only in its
    /// <see cref="ProvenanceKeys"/> (nothing is overwritten);
    /// <c>REG-E-CONFLICT</c>: the id is registered with a manifest that differs beyond them (same weights, another model), or
    /// the home's other log registered the id's folder with other bytes (any difference, provenance keys included: that
    /// folder is never rewritten), a <see cref="ModelConflictException"/>, which each shell words with its own name for
    /// withheld prices;
    /// <c>REG-E-FOLDER</c>: a file is missing or the manifest is not JSON;
    /// <c>REG-E-PARENT</c>: <paramref name="parent"/> is not a registered model id.
    /// </exception>
    /// <param name="sourceFolder">The model folder (weights and manifest).</param>
    /// <param name="actor">Who registers it (its owner); null: the audit log's default actor.</param>
    /// <param name="parent">The registered model this one was derived or retrained from, when known.</param>
    public ModelRecord Register(string sourceFolder, string? actor = null, string? parent = null) =>
        RegisterCore(sourceFolder, actor, parent, existingIsFine: false).Record;

    /// <summary>
    /// <see cref="Register"/>, except that a model registered already with the same weights and the same manifest, up to
    /// its <see cref="ProvenanceKeys"/> (the same data, config and seed trained again, perhaps by a later version or from a
    /// renamed file), is answered as it is (<c>IsNew</c> false) once its entry exists.
    /// </summary>
    /// <exception cref="InvalidInputException">As <see cref="Register"/>, <c>REG-E-CONFLICT</c> included; never <c>REG-E-EXISTS</c>.</exception>
    public (ModelRecord Record, bool IsNew) RegisterOrFind(string sourceFolder, string? actor = null, string? parent = null) =>
        RegisterCore(sourceFolder, actor, parent, existingIsFine: true);

    private (ModelRecord Record, bool IsNew) RegisterCore(string sourceFolder, string? actor, string? parent, bool existingIsFine)
    {
        ArgumentNullException.ThrowIfNull(sourceFolder);
        ThrowIfReadOnly();
        if (parent is not null && Find(parent) is null)
            throw new InvalidInputException("REG-E-PARENT", $"the parent '{parent}' is not a registered model id (64 hex digits)");
        var weights = Path.Combine(sourceFolder, WeightsFileName);
        var manifest = Path.Combine(sourceFolder, ManifestFileName);
        foreach (var f in new[] { weights, manifest })
        {
            if (!File.Exists(f)) throw new InvalidInputException("REG-E-FOLDER", "a model folder needs weights.safetensors and manifest.json", new InputLocation(f, 0, 0));
        }

        // untrusted files: a manifest larger than any model's is refused before it is read (Crucible.Diffusion's loaders
        // refuse the same size, model-manifest)
        if (new FileInfo(manifest).Length is var manifestBytes && manifestBytes > MaxManifestBytes)
            throw new InvalidInputException("REG-E-FOLDER", $"manifest.json is {manifestBytes} bytes, more than the {MaxManifestBytes} bytes a model's manifest may hold",
                new InputLocation(manifest, 0, 0));
        try
        {
            using var _ = JsonDocument.Parse(File.ReadAllBytes(manifest), CanonicalJson.NoDuplicateMembers); // a duplicate member is no JSON object
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("REG-E-FOLDER", $"manifest.json is not JSON: {e.Message}", new InputLocation(manifest, 0, 0));
        }

        var id = IdOf(sourceFolder);
        var manifestHash = FileHash.Sha256(manifest);
        var target = FolderOf(id);
        using var held = Lock();
        FaultInjection?.Invoke("locked");
        bool inPlace = string.Equals(Path.GetFullPath(sourceFolder).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(target), StringComparison.Ordinal);
        RemoveDeadRegistrations(keep: inPlace ? Path.GetFullPath(target) : null);
        if (Find(id) is { } existing)
        {
            if (!Describes(existing, manifestHash, manifest))
            {
                var (keys, prices) = ConflictDetail(ReadManifest(existing), File.ReadAllBytes(manifest));
                string head = $"model {id} is registered with another manifest.json (sha256 {existing.ManifestSha256[..16]}…, this folder's is {manifestHash[..16]}…): "
                    + "the weights agree but the model does not (transform state, config or an edited manifest, beyond the library version and input file names" + keys;
                throw new ModelConflictException(
                    withhold => head + (prices ? $"; data.last_prices is the train's last prices, which one of the two withholds ({withhold}): "
                        + "answered as one model, the registered copy would give the prices the other was trained to withhold, or lack those it records" : "")
                        + "); the id is the weights' hash, so it cannot name both",
                    new InputLocation(manifest, 0, 0));
            }

            if (existingIsFine) return (existing, false);
            throw new InvalidInputException("REG-E-EXISTS", $"model {id} is registered already; a registered model is never overwritten", new InputLocation(target, 0, 0));
        }

        Directory.CreateDirectory(_home.ModelsFolder);
        if (inPlace) return (Record(id, target, manifestHash, actor, parent), true); // the folder without an entry is the source: kept, its entry appended
        if (Directory.Exists(target) && OtherLogOf(target, id) is { } other)
        {
            // the home's other log registered this folder: never removed or rewritten under that log's entry
            if (FolderDifference(target, id, manifestHash) is not { } differs) return (Record(id, target, manifestHash, actor, parent), true); // the same bytes: reused
            throw OtherLogConflict(id, target, other, manifest, manifestHash, differs);
        }

        if (Directory.Exists(target)) RemoveUnregistered(target, id);
        var staging = Path.Combine(_home.ModelsFolder, $"{RegisteringPrefix}{id[..16]}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            CopyDurably(weights, Path.Combine(staging, WeightsFileName));
            FaultInjection?.Invoke("weights-copied");
            CopyDurably(manifest, Path.Combine(staging, ManifestFileName));
            WriteDurably(Path.Combine(staging, PendingMarkerName), Encoding.ASCII.GetBytes(id + "\n")); // renamed into place with the files
            // The copy must be the bytes that were hashed (the source could have changed under us).
            if (FileHash.Sha256(Path.Combine(staging, WeightsFileName)) != id || FileHash.Sha256(Path.Combine(staging, ManifestFileName)) != manifestHash)
                throw new InvalidInputException("REG-E-FOLDER", "the model folder changed while it was being registered", new InputLocation(sourceFolder, 0, 0));
            FaultInjection?.Invoke("staged");
            Data.IO.AtomicFile.FlushFolder(staging); // the three names on disk before the folder is renamed
            Directory.Move(staging, target); // under the lock no other registrar writes it
            Data.IO.AtomicFile.FlushFolder(_home.ModelsFolder); // the rename on disk before the entry that names it is committed
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }

        return (Record(id, target, manifestHash, actor, parent), true);
    }

    /// <summary>
    /// The manifest keys that record where a model came from, not what it is: the library version that trained it and
    /// the names of its input files (<c>data.input_file</c>, <c>state_data.input_file</c>). The same data, config and
    /// seed trained again by a later version, or read from a renamed copy of the file, give the same weights and a
    /// manifest that differs only here: the same model.
    /// </summary>
    public static readonly IReadOnlyList<string> ProvenanceKeys = ["library_version", "data.input_file", "state_data.input_file"];

    /// <summary>
    /// The manifest keys, as dotted paths in ordinal order, in which two manifests differ once <see cref="ProvenanceKeys"/>
    /// are set aside: a leaf (a value or an array, compared whole) that differs or that only one of them has. Empty when
    /// either is missing or not a JSON object.
    /// </summary>
    public static IReadOnlyList<string> DifferingKeys(byte[]? manifestA, byte[]? manifestB)
    {
        static JsonObject? Parse(byte[]? bytes)
        {
            try
            {
                return bytes is null ? null : JsonNode.Parse(bytes, documentOptions: CanonicalJson.NoDuplicateMembers) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        var keys = new SortedSet<string>(StringComparer.Ordinal);
        void Walk(JsonObject a, JsonObject b, string prefix)
        {
            foreach (var name in a.Select(p => p.Key).Union(b.Select(p => p.Key), StringComparer.Ordinal))
            {
                string path = prefix + name;
                if (ProvenanceKeys.Contains(path, StringComparer.Ordinal)) continue;
                JsonNode? x = a[name], y = b[name];
                if (x is JsonObject ox && y is JsonObject oy) Walk(ox, oy, path + ".");
                else if (!a.ContainsKey(name) || !b.ContainsKey(name) || !JsonNode.DeepEquals(x, y)) keys.Add(path);
            }
        }

        JsonObject? first = Parse(manifestA), second = Parse(manifestB);
        if (first is null || second is null) return [];
        Walk(first, second, "");
        return [.. keys];
    }

    // the conflict's differing keys (": they differ in …", or nothing), and whether data.last_prices is one of them, which
    // alone is no provenance: a twin trained withholding its prices (crucible train --withhold-prices, a job's
    // withhold_prices) answered as the registered model would hand out the prices it withheld
    private static (string Keys, bool Prices) ConflictDetail(byte[]? registered, byte[] candidate)
    {
        var keys = DifferingKeys(registered, candidate);
        if (keys.Count == 0) return ("", false);
        string list = keys.Count <= 6 ? string.Join(", ", keys) : string.Join(", ", keys.Take(6)) + $" and {keys.Count - 6} more";
        return ($": they differ in {list}", keys.Contains("data.last_prices", StringComparer.Ordinal));
    }

    /// <summary>
    /// Whether two model manifests describe the same model: equal once <see cref="ProvenanceKeys"/> are set aside
    /// (compared as canonical JSON, so key order and number spelling do not matter). False when either is missing or not a JSON object.
    /// </summary>
    public static bool SameModel(byte[]? manifestA, byte[]? manifestB)
    {
        static string? Core(byte[]? bytes)
        {
            if (bytes is null) return null;
            try
            {
                if (JsonNode.Parse(bytes, documentOptions: CanonicalJson.NoDuplicateMembers) is not JsonObject o) return null;
                foreach (var key in ProvenanceKeys)
                {
                    var parts = key.Split('.');
                    var parent = o;
                    for (var i = 0; i < parts.Length - 1 && parent is not null; i++) parent = parent[parts[i]] as JsonObject;
                    parent?.Remove(parts[^1]);
                }

                return Encoding.UTF8.GetString(CanonicalJson.Serialize(o));
            }
            catch (JsonException)
            {
                return null;
            }
        }

        var a = Core(manifestA);
        return a is not null && string.Equals(a, Core(manifestB), StringComparison.Ordinal);
    }

    // the model.registered entry of a model whose folder is in place (hashes checked by the caller), under the lock
    private ModelRecord Record(string id, string target, string manifestHash, string? actor, string? parent)
    {
        if (_audit.Postgres is { } shared)
        {
            // the files first: an entry that registers a model always has its files in the shared store
            shared.PutModelFile(id, WeightsFileName, id, File.ReadAllBytes(Path.Combine(target, WeightsFileName)));
            shared.PutModelFile(id, ManifestFileName, manifestHash, File.ReadAllBytes(Path.Combine(target, ManifestFileName)));
        }

        FaultInjection?.Invoke("renamed");
        BeforeEntry?.Invoke(id);
        var registered = new JsonObject
        {
            ["model_id"] = id,
            ["manifest_sha256"] = manifestHash,
            ["status"] = ModelStatus.Candidate.WireName(),
        };
        if (parent is not null) registered["parent_id"] = parent; // only when declared: other registrations keep their keys
        // a folder the SQLite log registers is evidence of that log: a proof that the shared store wrote it goes first (a
        // kill before the entry leaves an unproved folder, which the lost-log check counts: the safe side)
        if (_audit.Postgres is null) File.Delete(Path.Combine(target, PostgresRegistrationProof.FileName));
        var receipt = _audit.Append(AuditKind.ModelRegistered, registered, actor);
        FaultInjection?.Invoke("entered");
        if (_audit.Postgres is not null) WriteRegistrationProof(target, id, receipt.Seq);
        File.Delete(Path.Combine(target, PendingMarkerName)); // the entry exists: the folder is a registered model's (no-op when absent)
        return new ModelRecord(id, target, manifestHash, ModelStatus.Candidate, receipt.Seq)
        {
            Owner = actor ?? _audit.DefaultActor, Parent = parent,
        };
    }

    // After a shared store's model.registered entry: signs a checkpoint over it (exported to the home's file for that
    // store) and writes the folder's proof that the database recorded it (PostgresRegistrationProof), so that the home's
    // SQLite lost-log check does not take this folder for its own log's (a home whose first act was a PostgreSQL
    // registration can then train locally). Written only when it holds; none when the log has no key, when the home's
    // SQLite log records this id too (its folder is that log's evidence), or when a kill comes first: the folder then
    // counts as evidence, as before (a refusal, never a deleted log passed over).
    private void WriteRegistrationProof(string target, string id, long seq)
    {
        // the checkpoint just signed; null when the head was signed already (by another replica): the last one then
        var signed = _audit.Checkpoint() ?? _audit.Checkpoints().LastOrDefault();
        if (signed is not { } checkpoint || checkpoint.Seq < seq) return;
        if (SqliteLogRegisters(id)) return;
        var entry = _audit.List(seq, 1).Single();
        var path = Path.Combine(target, PostgresRegistrationProof.FileName);
        Data.IO.AtomicFile.WriteAllBytes(path, PostgresRegistrationProof.Build(entry, AuditLog.CheckpointLine(checkpoint), _audit.InclusionProof(seq, checkpoint.Seq)));
        if (!PostgresRegistrationProof.Holds(_home, target)) File.Delete(path); // not exported to this home's file: no proof
    }

    // The home's other log that registered the model folder target (id), in words, or null: the home's SQLite log when this
    // registry records into PostgreSQL, or a PostgreSQL store whose registration proof the folder holds (when this registry
    // records into the SQLite log, or into another database, whose own entry Find would have found). Such a folder is no
    // killed registration's leftovers, although this log has no entry for it.
    private string? OtherLogOf(string target, string id)
    {
        if (_audit.Postgres is not null && SqliteLogRegisters(id)) return $"the home's SQLite log ({Path.GetFileName(_home.AuditDatabase)})";
        return PostgresRegistrationProof.Holds(_home, target) ? $"a PostgreSQL store (its proof {PostgresRegistrationProof.FileName} holds)" : null;
    }

    // how the model folder target differs from the weights of id and the manifest whose hash is manifestHash, in words; null
    // when it holds them (each file hashed once)
    private static string? FolderDifference(string target, string id, string manifestHash)
    {
        string weights = Path.Combine(target, WeightsFileName), manifest = Path.Combine(target, ManifestFileName);
        if (!File.Exists(weights) || !string.Equals(FileHash.Sha256(weights), id, StringComparison.Ordinal))
            return "that folder's weights.safetensors no longer hashes to the id";
        string? held = File.Exists(manifest) ? FileHash.Sha256(manifest) : null;
        return string.Equals(held, manifestHash, StringComparison.Ordinal)
            ? null
            : $"that folder's manifest.json (sha256 {(held is null ? "none" : held[..16] + "…")}) is not this folder's (sha256 {manifestHash[..16]}…)";
    }

    // the refusal of a registration whose id's folder in this home another of the home's logs registered with other bytes
    // (differs: FolderDifference's words)
    private ModelConflictException OtherLogConflict(string id, string target, string other, string manifest, string manifestHash, string differs)
    {
        string self = _audit.Postgres is null ? $"the home's SQLite log ({Path.GetFileName(_home.AuditDatabase)})" : "the PostgreSQL store";
        var folderManifest = Path.Combine(target, ManifestFileName);
        var (keys, prices) = File.Exists(folderManifest) ? ConflictDetail(File.ReadAllBytes(folderManifest), File.ReadAllBytes(manifest)) : ("", false);
        string head = $"model {id} is registered in this home's folder {target} by {other}, and {self} has no entry for it: {differs}{keys}. "
            + $"The folder is that log's record of the model, so {self} neither replaces nor rewrites it";
        return new ModelConflictException(
            withhold => head + (prices ? $" (data.last_prices is the train's last prices, which one of the two withholds: {withhold})" : "")
                + $"; to record the same model in {self}, register that folder itself; the id is the weights' hash, so it cannot name both",
            new InputLocation(manifest, 0, 0));
    }

    // whether the home's own SQLite log (read only) holds a model.registered entry for id
    private bool SqliteLogRegisters(string id)
    {
        if (!File.Exists(_home.AuditDatabase) || new FileInfo(_home.AuditDatabase).Length == 0) return false;
        return AuditLog.RegisteredModelIds(_home.AuditDatabase).Contains(id);
    }

    // The home's registration lock (an exclusive lock on HOME/models/.register.lock, which the OS releases when its holder
    // dies), and on a shared PostgreSQL store the database's registration lock as well (replicas have homes of their own).
    private IDisposable Lock()
    {
        Directory.CreateDirectory(_home.ModelsFolder);
        var file = ExclusiveFileLock.Acquire(LockPath, LockTimeout);
        try
        {
            return _audit.Postgres is { } shared ? new Held(file, shared.HoldLock(Audit.PostgresAuditStore.RegisterLock)) : new Held(file, null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private sealed class Held(FileStream file, IDisposable? shared) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                shared?.Dispose();
            }
            finally
            {
                file.Dispose();
            }
        }
    }

    // a model folder whose id has no model.registered entry, found under the registration lock: a registration died between
    // its rename and its entry. Nothing refers to it (no entry, so no run or load does), and it is replaced.
    private void RemoveUnregistered(string target, string id)
    {
        var trash = Path.Combine(_home.ModelsFolder, $"{UnregisteredPrefix}{id[..16]}-{Guid.NewGuid():N}");
        Directory.Move(target, trash);
        Directory.Delete(trash, recursive: true);
    }

    // the staging copy of a registration (a folder name no model id takes); Materialise stages under another name, without
    // this lock, so that it is never taken for a dead registration's
    private const string RegisteringPrefix = ".registering-";
    private const string UnregisteredPrefix = ".unregistered-";

    // Under the registration lock, what registrations killed by SIGKILL (no finally block runs) left: the staging copies of
    // those killed before their rename (a whole model's weights), the trash of those killed while removing an unregistered
    // folder, the model folders of those killed between their rename and their entry (they hold the pending marker and have
    // no entry), and the marker of those killed after their entry. Every registration holds this lock from before it
    // creates its staging folder until its marker is removed, so any of these is a dead one's. keep: the folder that this
    // registration registers in place (its own source), kept. A model folder without the marker and without an entry (an
    // earlier build's, or placed by hand) is left for a registration of its id to replace or register in place.
    private void RemoveDeadRegistrations(string? keep)
    {
        if (!Directory.Exists(_home.ModelsFolder)) return;
        foreach (var prefix in new[] { RegisteringPrefix, UnregisteredPrefix })
        {
            foreach (var dead in Directory.EnumerateDirectories(_home.ModelsFolder, prefix + "*").ToList())
                Directory.Delete(dead, recursive: true);
        }

        var marked = Directory.EnumerateDirectories(_home.ModelsFolder)
            .Where(d => FileHash.IsSha256Hex(Path.GetFileName(d)) && File.Exists(Path.Combine(d, PendingMarkerName)))
            .ToList();
        if (marked.Count == 0) return;
        var registered = List().Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in marked)
        {
            var id = Path.GetFileName(folder);
            // a marker in a folder the home's other log registered: that log's registration was killed after its entry
            if (registered.Contains(id) || OtherLogOf(folder, id) is not null) File.Delete(Path.Combine(folder, PendingMarkerName));
            else if (!string.Equals(Path.GetFullPath(folder), keep, StringComparison.Ordinal)) RemoveUnregistered(folder, id);
        }
    }

    /// <summary>
    /// Moves model <paramref name="id"/> to <paramref name="to"/> and records it in the audit log. Allowed: candidate →
    /// validated (with <paramref name="evidenceSha256"/>, the hash of the passing validation report, which must be recorded
    /// in the audit log as an evaluation of this model with predeclared, passed thresholds:
    /// <see cref="ValidationEvidence.CheckRecorded"/>), validated → promoted,
    /// and any non-retired status → retired. Segregation of duties (MRM-10): the actor who validated a model cannot promote
    /// it; the refusal is itself recorded (<c>model.status_refused</c>) before it is thrown. <paramref name="evidenceLocation"/>
    /// (the report file, when the caller read one) is where an evidence refusal points.
    /// </summary>
    /// <exception cref="InvalidInputException">
    /// <c>REG-E-UNKNOWN</c>, <c>REG-E-TRANSITION</c>, <c>REG-E-EVIDENCE</c>, or <c>REG-E-SOD</c> (promotion by the validator).
    /// </exception>
    public ModelRecord ChangeStatus(string id, ModelStatus to, string reason, string? evidenceSha256 = null, string? actor = null,
        InputLocation? evidenceLocation = null)
        => RecordStatusChange(id, to, reason, evidenceSha256, actor, evidenceLocation).Model;

    /// <summary>
    /// <see cref="ChangeStatus"/>, answering also the receipt of the <c>model.status_changed</c> entry that records the
    /// change (<c>model status --json</c>'s <c>audit_seq</c>).
    /// </summary>
    public StatusChange RecordStatusChange(string id, ModelStatus to, string reason, string? evidenceSha256 = null, string? actor = null,
        InputLocation? evidenceLocation = null)
    {
        ThrowIfReadOnly();
        // the status read, the transition checked and the entry appended under the registration lock: two changes at once
        // (two processes, two replicas) both read the old status, so a promotion checked before a concurrent retirement
        // was appended after it and brought the retired model back as promoted
        using var held = Lock();
        var current = Find(id) ?? throw new InvalidInputException("REG-E-UNKNOWN", $"no registered model {id}");
        var allowed = (current.Status, to) switch
        {
            (ModelStatus.Candidate, ModelStatus.Validated) => true,
            (ModelStatus.Validated, ModelStatus.Promoted) => true,
            (not ModelStatus.Retired, ModelStatus.Retired) => true,
            _ => false,
        };
        if (!allowed)
            throw new InvalidInputException("REG-E-TRANSITION", $"model {id[..16]}… is {current.Status.WireName()}; it cannot become {to.WireName()}");
        if (to == ModelStatus.Validated && !FileHash.IsSha256Hex(evidenceSha256))
            throw new InvalidInputException("REG-E-EVIDENCE", "validation needs the SHA-256 of the passing validation report as evidence");
        // MRM-5: the hash must be a passing evaluation of this model recorded in this audit log (not a self-declared one)
        if (to == ModelStatus.Validated) ValidationEvidence.CheckRecorded(evidenceSha256!, id, _audit, evidenceLocation);
        if (string.IsNullOrWhiteSpace(reason)) throw new InvalidInputException("REG-E-REASON", "a status change needs a reason");
        var who = actor ?? _audit.DefaultActor;
        if (to == ModelStatus.Promoted && string.Equals(current.ValidatedBy, who, StringComparison.Ordinal))
        {
            const string why = "segregation of duties: the actor who validated a model cannot promote it";
            _audit.Append(AuditKind.ModelStatusRefused, new JsonObject
            {
                ["model_id"] = id, ["from"] = current.Status.WireName(), ["to"] = to.WireName(), ["rule"] = "REG-E-SOD", ["reason"] = why,
            }, who);
            throw new InvalidInputException("REG-E-SOD",
                $"{who} validated model {id[..16]}… and cannot also promote it ({why}); another actor must approve the promotion. The refusal is recorded in the audit log");
        }

        var payload = new JsonObject
        {
            ["model_id"] = id,
            ["from"] = current.Status.WireName(),
            ["to"] = to.WireName(),
            ["reason"] = reason,
        };
        if (evidenceSha256 is not null) payload["evidence_sha256"] = evidenceSha256;
        BeforeStatusEntry?.Invoke(id);
        var receipt = _audit.Append(AuditKind.ModelStatusChanged, payload, who);
        return new StatusChange(to == ModelStatus.Validated
            ? current with { Status = to, EvidenceSha256 = evidenceSha256, ValidatedBy = who }
            : current with { Status = to }, receipt);
    }

    /// <summary>
    /// The model <paramref name="id"/> after checking that its weights and manifest still hash to what was registered.
    /// On a shared PostgreSQL store, a model that another replica registered and whose folder this home lacks is first
    /// written into the home from the database; a registry whose log was opened read-only refuses that instead
    /// (<see cref="ReadOnlyLoadRule"/>): what it returns is a folder that its callers load from, and a copy anywhere but
    /// the home's <c>models/</c> would have no owner to delete it.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>REG-E-UNKNOWN</c>, <c>REG-E-HASH</c> when a file was changed or truncated,
    /// or <c>REG-E-READONLY</c> (<see cref="ReadOnlyLoadRule"/>).</exception>
    public ModelRecord Load(string id)
    {
        var record = Find(id) ?? throw new InvalidInputException("REG-E-UNKNOWN", $"no registered model {id}");
        if (!Directory.Exists(record.Folder) && _audit.Postgres is { } shared)
        {
            if (_audit.IsReadOnly)
            {
                throw new InvalidInputException(ReadOnlyLoadRule,
                    $"model {id[..16]}… is registered in the shared store, but this home has no copy of its folder, and a registry whose audit log was opened "
                    + "read-only writes nothing into the home: load it once through a log opened for writing (AuditLog.Open, as crucible serve does), "
                    + "which writes the folder from the store, or read its manifest without loading it (ModelRegistry.ReadManifest)",
                    new InputLocation(record.Folder, 0, 0));
            }

            Materialise(shared, record);
        }

        var weights = FileHash.Sha256(record.WeightsPath);
        if (!string.Equals(weights, id, StringComparison.Ordinal))
            throw new InvalidInputException("REG-E-HASH", $"weights hash {weights[..16]}… is not the model id {id[..16]}…: the file was changed", new InputLocation(record.WeightsPath, 0, 0));
        var manifest = FileHash.Sha256(record.ManifestPath);
        if (!string.Equals(manifest, record.ManifestSha256, StringComparison.Ordinal))
            throw new InvalidInputException("REG-E-HASH", "manifest.json is not the one registered", new InputLocation(record.ManifestPath, 0, 0));
        return record;
    }

    /// <summary>
    /// The registered <c>manifest.json</c> of <paramref name="record"/>, without loading the model: the file in its folder,
    /// or, on a replica of a shared PostgreSQL store that has not written the folder yet, the bytes stored with the
    /// registration (<c>model_file</c>) when they hash to the registered <see cref="ModelRecord.ManifestSha256"/>; null
    /// when neither has it.
    /// </summary>
    /// <exception cref="IOException">The file exists but cannot be read.</exception>
    public byte[]? ReadManifest(ModelRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (File.Exists(record.ManifestPath)) return File.ReadAllBytes(record.ManifestPath);
        if (_audit.Postgres is not { } shared) return null;
        var bytes = shared.GetModelFile(record.Id, ManifestFileName, record.ManifestSha256);
        return bytes is not null && string.Equals(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), record.ManifestSha256, StringComparison.Ordinal)
            ? bytes
            : null;
    }

    /// <summary>Every registered model with its current status, in registration order.</summary>
    public IReadOnlyList<ModelRecord> List()
    {
        var models = new Dictionary<string, ModelRecord>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var e in _audit.ListKinds(AuditKind.ModelRegistered, AuditKind.ModelStatusChanged))
        {
            if (e.Kind == AuditKind.ModelRegistered.WireName())
            {
                using var doc = JsonDocument.Parse(e.Payload);
                var id = doc.RootElement.GetProperty("model_id").GetString()!;
                var manifest = doc.RootElement.GetProperty("manifest_sha256").GetString()!;
                var parent = doc.RootElement.TryGetProperty("parent_id", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                models[id] = new ModelRecord(id, FolderOf(id), manifest, ModelStatus.Candidate, e.Seq) { Owner = e.Actor, Parent = parent };
                order.Add(id);
            }
            else if (e.Kind == AuditKind.ModelStatusChanged.WireName())
            {
                using var doc = JsonDocument.Parse(e.Payload);
                var id = doc.RootElement.GetProperty("model_id").GetString()!;
                if (!models.TryGetValue(id, out var m)) continue;
                var to = Parse(doc.RootElement.GetProperty("to").GetString()!);
                models[id] = to == ModelStatus.Validated
                    ? m with
                    {
                        Status = to, ValidatedBy = e.Actor,
                        EvidenceSha256 = doc.RootElement.TryGetProperty("evidence_sha256", out var ev) && ev.ValueKind == JsonValueKind.String ? ev.GetString() : null,
                    }
                    : m with { Status = to };
            }
        }

        return order.Select(id => models[id]).ToList();
    }

    /// <summary>
    /// What is wrong with the files of <paramref name="record"/> in this home, or null when they are the registered ones:
    /// the check <see cref="Load"/> makes (both hashes), without refusing. <see cref="List"/> answers from the audit log
    /// alone, so a model whose folder was deleted or whose files were changed is listed as registered; <c>model list</c>
    /// flags it with this. On a shared PostgreSQL store a folder this home lacks is no problem (the first load writes it
    /// from the store).
    /// </summary>
    public string? FilesProblem(ModelRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!Directory.Exists(record.Folder)) return _audit.Postgres is null ? "its folder is missing" : null;
        if (!File.Exists(record.WeightsPath)) return WeightsFileName + " is missing";
        if (!File.Exists(record.ManifestPath)) return ManifestFileName + " is missing";
        if (!string.Equals(FileHash.Sha256(record.WeightsPath), record.Id, StringComparison.Ordinal))
            return WeightsFileName + " was changed (its SHA-256 is not the model id)";
        return string.Equals(FileHash.Sha256(record.ManifestPath), record.ManifestSha256, StringComparison.Ordinal)
            ? null
            : ManifestFileName + " is not the one registered";
    }

    /// <summary>The model <paramref name="id"/> without the hash check, or null.</summary>
    public ModelRecord? Find(string id) => FileHash.IsSha256Hex(id) ? List().FirstOrDefault(m => m.Id == id) : null;

    /// <summary>
    /// The registered model whose id is <paramref name="idOrPrefix"/> or starts with it (at least 8 hex digits, either
    /// case, surrounding spaces ignored; the one model that matches), without the hash check (<see cref="Load"/> checks).
    /// </summary>
    /// <exception cref="InvalidInputException"><c>REG-E-UNKNOWN</c>: not an id or a prefix of 8 digits or more, no model
    /// matches, or several do.</exception>
    public ModelRecord Resolve(string idOrPrefix)
    {
        ArgumentNullException.ThrowIfNull(idOrPrefix);
        var key = idOrPrefix.Trim().ToLowerInvariant();
        if (key.Length < 8 || !key.All(char.IsAsciiHexDigitLower))
            throw new InvalidInputException(UnknownRule, $"'{idOrPrefix}' is not a model id (64 hex digits) or a prefix of at least 8");
        var matches = List().Where(m => m.Id.StartsWith(key, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new InvalidInputException(UnknownRule, $"no registered model {key}"),
            _ => throw new InvalidInputException(UnknownRule, $"{matches.Count} registered models start with {key}; give more digits"),
        };
    }

    /// <summary>The rule of <see cref="Resolve"/>'s refusals: no registered model is named.</summary>
    public const string UnknownRule = "REG-E-UNKNOWN";

    /// <summary>
    /// Where the folder <paramref name="folder"/> stands in the registry: the registered model with its weights' id (null
    /// when the id is not registered), and whether that model is this folder's, i.e. registered with the same
    /// <c>manifest.json</c> or one that differs only in <see cref="ProvenanceKeys"/> (<see cref="SameModel"/>). A registered
    /// id with another manifest is the same weights as another model: what the folder generates must not be recorded as
    /// that model's. No hash check of the registered files (see <see cref="Load"/>).
    /// </summary>
    /// <exception cref="InvalidInputException">The folder's weights file is missing or unreadable.</exception>
    public (ModelRecord? Registered, bool SameModel) Standing(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var manifest = Path.Combine(folder, ManifestFileName);
        if (Find(IdOf(folder)) is not { } record) return (null, false);
        return (record, File.Exists(manifest) && Describes(record, FileHash.Sha256(manifest), manifest));
    }

    // whether the registered record describes the model whose manifest.json (hash manifestHash) is at manifestPath: the
    // same manifest, or one that differs only in its provenance keys (the one rule of RegisterCore and Standing)
    private bool Describes(ModelRecord record, string manifestHash, string manifestPath) =>
        string.Equals(record.ManifestSha256, manifestHash, StringComparison.Ordinal) || SameModel(ReadManifest(record), File.ReadAllBytes(manifestPath));

    private string FolderOf(string id) => Path.Combine(_home.ModelsFolder, id);

    /// <summary>The lock file that serialises the writing of registered models' folders from a shared PostgreSQL store
    /// into this home (<c>HOME/models/.materialise.lock</c>).</summary>
    public string MaterialiseLockPath => Path.Combine(_home.ModelsFolder, ".materialise.lock");

    /// <summary>
    /// The steps of writing a registered model's folder from the shared store (a replica's first load of it), in order:
    /// the weights written into the staging folder, both files staged before the rename. The crash host kills there.
    /// </summary>
    internal static readonly IReadOnlyList<string> MaterialiseSteps = ["materialise-weights-written", "materialise-staged"];

    // the staging folder of Materialise (a name no model id takes, nor a registration's staging)
    private const string MaterialisePrefix = ".staging-";

    /// <summary>
    /// Writes a model's folder from the shared store (another replica registered it); the caller checks the hashes. Under
    /// the home's materialise lock (<see cref="MaterialiseLockPath"/>, held from before the staging folder is created until
    /// it is renamed or removed, released by the OS when its holder dies), so any <c>.staging-…</c> folder found under it
    /// is a copy killed by SIGKILL (no finally block ran) and is removed; a live copy of another process is never seen.
    /// It then leaves the registration's proof in the folder (as <see cref="Register"/> does). A writer's only: a registry
    /// over a log opened read-only refuses before it (<see cref="Load"/>).
    /// </summary>
    private void Materialise(Audit.PostgresAuditStore shared, ModelRecord record)
    {
        var weights = shared.GetModelFile(record.Id, WeightsFileName, record.Id);
        var manifest = shared.GetModelFile(record.Id, ManifestFileName, record.ManifestSha256);
        if (weights is null || manifest is null)
            throw new InvalidInputException("REG-E-HASH", $"model {record.Id[..16]}… is registered but its files are not in the shared store", new InputLocation(record.Folder, 0, 0));
        Directory.CreateDirectory(_home.ModelsFolder);
        using var held = ExclusiveFileLock.Acquire(MaterialiseLockPath, LockTimeout);
        foreach (var dead in Directory.EnumerateDirectories(_home.ModelsFolder, MaterialisePrefix + "*").ToList())
            Directory.Delete(dead, recursive: true);
        if (Directory.Exists(record.Folder)) return; // another request of this replica wrote it while this one waited; the load checks its hashes
        var staging = Path.Combine(_home.ModelsFolder, $"{MaterialisePrefix}{record.Id[..16]}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            WriteDurably(Path.Combine(staging, WeightsFileName), weights);
            FaultInjection?.Invoke("materialise-weights-written");
            WriteDurably(Path.Combine(staging, ManifestFileName), manifest);
            FaultInjection?.Invoke("materialise-staged");
            Data.IO.AtomicFile.FlushFolder(staging);
            Directory.Move(staging, record.Folder);
            Data.IO.AtomicFile.FlushFolder(_home.ModelsFolder);
        }
        catch (IOException) when (Directory.Exists(record.Folder))
        {
            // another request of this replica wrote it first; the load checks its hashes
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }

        // the database's folder, as a registration's is: proved so that the home's SQLite lost-log check does not count it
        // (the registration's code, under the materialise lock)
        WriteRegistrationProof(record.Folder, record.Id, record.RegisteredSeq);
    }

    private static void WriteDurably(string path, byte[] bytes)
    {
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        output.Write(bytes);
        output.Flush(flushToDisk: true);
    }

    private static ModelStatus Parse(string s) =>
        ModelStatuses.FromWireName(s) ?? throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"unknown model status '{s}' in the audit log"));

    private static void CopyDurably(string source, string destination)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        input.CopyTo(output);
        output.Flush(flushToDisk: true);
    }
}
