using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Diffusion;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Registry;

namespace Crucible.Cli.Commands;

/// <summary>
/// The audit entries that every command writing a run manifest (<c>train</c>, <c>generate</c>, <c>evaluate</c>,
/// <c>stress</c>, <c>ensemble</c>, <c>backtest</c>, <c>baseline</c>, <c>compare</c>, <c>model-card</c> and each step of
/// <c>demo</c>) appends after a successful run, all closed by <see cref="Complete"/>
/// (ARCHITECTURE.md "Where Crucible keeps its state"), into the audit log of the command's <c>--store</c>
/// (<see cref="RunStore"/>: the home's SQLite log by default). Payloads carry ids, hashes, counts and settings only: never data
/// values, file paths or secrets. A run that fails appends nothing: callers append only after every output is written.
/// </summary>
internal static class RunAudit
{
    /// <summary>
    /// Closes the run <paramref name="run"/> (hashes its outputs) and records it in the audit log of <paramref name="store"/>
    /// (<see cref="RunManifests.Record"/>): writes its manifest to <c>HOME/runs/RUN_ID.json</c> (serialised once: the audit
    /// store keeps the same bytes), then appends <paramref name="before"/> (the run's own entries, e.g.
    /// <c>evaluation.completed</c>) and <c>run.completed</c> with <paramref name="payload"/> plus the manifest's
    /// <c>run_id</c> and <c>manifest_sha256</c> in one transaction (<see cref="AuditLog.AppendRunCompletedJson"/>, which also
    /// stores the manifest's bytes in the log, as the service does). With a PostgreSQL store the entries and the stored
    /// manifest go to that database, and the file, once they are committed, to <c>HOME/runs.postgres-…/RUN_ID.json</c>.
    /// Returns the manifest's path and the receipts, <c>run.completed</c>'s last. Call it after every output is written.
    /// </summary>
    public static (string Manifest, IReadOnlyList<AuditReceipt> Receipts) Complete(RunStore store, RunManifestBuilder run, JsonObject payload,
        params (AuditKind Kind, JsonNode? Payload)[] before)
    {
        // serialised once: the file and the audit store's copy are the same bytes, so they are byte-identical by construction
        var bytes = run.Finish().ToCanonicalJson();
        // the log is opened before the manifest is written: opening checks that runs/ holds nothing its entries lack (AUDIT-E-LOST)
        using var log = store.OpenLog();
        return RunManifests.Record(log, store.Home, store.Location, bytes, payload, before);
    }

    /// <summary>
    /// Registers the model folder <paramref name="folder"/> in the registry of <paramref name="store"/> (a candidate;
    /// <c>model.registered</c> in the audit log) unless a model with its id (the same weights) is registered already.
    /// </summary>
    public static (ModelRecord Record, bool IsNew) Register(RunStore store, string folder)
    {
        using var log = store.OpenLog();
        var registry = new ModelRegistry(store.Home, log);
        try
        {
            return registry.RegisterOrFind(folder);
        }
        catch (ModelConflictException e)
        {
            throw e.Worded(WithholdPricesFlag); // the same weights with another manifest: REG-E-CONFLICT
        }
    }

    /// <summary>
    /// The option that withholds a model's last train prices as the CLI names it, in the advice of a registry conflict
    /// (<see cref="ModelConflictException.Worded"/>).
    /// </summary>
    public const string WithholdPricesFlag = "train --withhold-prices";

    /// <summary>
    /// <c>run.completed</c> of a <c>train</c> run whose model folder is <paramref name="folder"/> (before
    /// <see cref="Complete"/> adds the run manifest's <c>run_id</c> and <c>manifest_sha256</c>; the model manifest's hash
    /// is <c>model_manifest_sha256</c>). <paramref name="run"/> is the run's manifest builder, its first input the data
    /// file: a DP-SGD model's manifest withholds the data's hashes (RELIABILITY.md DP-11), but the audit log is internal
    /// (never released with the model), so <c>input_sha256</c> is then the run manifest's hash of the data file, and the
    /// audit trail still identifies the data (<c>train_matrix_sha256</c>, not in the run manifest, stays null).
    /// </summary>
    public static JsonObject Trained(string folder, ModelManifest m, RunManifestBuilder? run = null)
    {
        var entry = TrainedCore(folder, m.Kind, m.Weights.Sha256, m.Data, m.Seed, m.Training.Steps, run);
        if (m.Privacy is { } dp) entry["dp"] = dp.Statement; // only for DP-trained models: other entries keep their keys
        return entry;
    }

    // the keys every run.completed of a train run has, whatever the model kind
    private static JsonObject TrainedCore(string folder, ModelKind kind, string modelId, DataManifest data, ulong seed, int steps, RunManifestBuilder? run) => new()
    {
        ["command"] = "train",
        ["kind"] = kind.WireName(),
        ["model_id"] = modelId,
        ["model_manifest_sha256"] = FileHash.Sha256(Path.Combine(folder, DiffusionGenerator.ManifestFileName)),
        // withheld from a DP model's manifest (DP-11): the run manifest's hash of the data file, its first input
        ["input_sha256"] = data.InputSha256 ?? (run?.Inputs is [{ IsFile: true } input, ..] ? input.Sha256 : null),
        ["train_matrix_sha256"] = data.TrainMatrixSha256,
        ["seed"] = Seed(seed),
        ["steps"] = steps,
    };

    /// <summary>
    /// <c>run.completed</c> of a sequence model saved in <paramref name="folder"/> (<paramref name="run"/>: as for the
    /// tabular kind, the data file's hash when the DP manifest withholds it).
    /// </summary>
    public static JsonObject Trained(string folder, SequenceManifest m, RunManifestBuilder? run = null)
    {
        var entry = TrainedCore(folder, m.Kind, m.Weights.Sha256, m.Data, m.Seed, m.Training.Steps, run);
        entry["state_sha256"] = m.StateData?.InputSha256;
        if (m.Privacy is { } dp) entry["dp"] = dp.Statement; // only for DP-trained models, as for the tabular kind
        return entry;
    }

    /// <summary>
    /// <c>scenarios.generated</c> of a scenario CSV described by <paramref name="meta"/>, with the model's manifest hash
    /// and registry standing (<c>model_manifest_sha256</c>, <c>registered</c>) when the metadata records them.
    /// </summary>
    public static JsonObject Generated(ScenarioMetadata meta) => WithModel(new()
    {
        ["model_id"] = meta.ModelId,
        ["csv_sha256"] = meta.CsvSha256,
        ["count"] = meta.Scenarios,
        ["rows"] = meta.Rows,
        ["seed"] = Seed(meta.Seed),
        ["sampler"] = meta.Sampler,
        ["sampling_steps"] = meta.SamplingSteps,
    }, meta);

    /// <summary>
    /// <c>run.completed</c> of a generation (<c>generate</c>, a <c>demo</c> generate step) that wrote the scenario CSV
    /// described by <paramref name="meta"/>; its <c>scenarios.generated</c> entry comes just before.
    /// </summary>
    public static JsonObject GenerateCompleted(string command, ScenarioMetadata meta) => WithModel(new()
    {
        ["command"] = command,
        ["model_id"] = meta.ModelId,
        ["csv_sha256"] = meta.CsvSha256,
    }, meta);

    private static JsonObject WithModel(JsonObject payload, ScenarioMetadata meta)
    {
        if (meta.ModelManifestSha256 is { } manifest) payload["model_manifest_sha256"] = manifest;
        if (meta.Registered is { } registered) payload["registered"] = registered;
        return payload;
    }

    /// <summary>
    /// The model's identity beyond its id, for the metadata of what <paramref name="folder"/> generates: the SHA-256 of its
    /// <c>manifest.json</c> and whether <paramref name="store"/>'s registry holds that model (<see cref="ModelRegistry.Standing"/>:
    /// the same weights and manifest up to provenance); and the registered model that has these weights with another
    /// manifest, when one does (for a note to the user). <see cref="WithStanding"/> records it in a scenario set.
    /// </summary>
    public static RegistryStanding StandingOf(RunStore store, string folder)
    {
        ModelRecord? registered = null;
        bool same = false;
        if (!store.IsSqlite || File.Exists(store.Home.AuditDatabase))
        {
            using var log = store.OpenLog();
            (registered, same) = new ModelRegistry(store.Home, log).Standing(folder);
        }

        return new(FileHash.Sha256(Path.Combine(folder, DiffusionGenerator.ManifestFileName)), same, same ? null : registered);
    }

    /// <summary><paramref name="set"/> with <paramref name="standing"/> recorded in its metadata.</summary>
    public static ScenarioSet WithStanding(ScenarioSet set, RegistryStanding standing) =>
        set with { Metadata = set.Metadata with { ModelManifestSha256 = standing.ManifestSha256, Registered = standing.Registered } };

    /// <summary>
    /// <c>evaluation.completed</c>: <paramref name="inputs"/> names each input's hash (e.g. <c>real_sha256</c>; null
    /// when absent); <paramref name="thresholdsPassed"/> is null when no thresholds were declared.
    /// </summary>
    public static JsonObject Evaluated(IEnumerable<(string Key, string? Sha256)> inputs, string reportJson, string? thresholdsSha256, bool? thresholdsPassed)
    {
        var payload = new JsonObject();
        foreach (var (key, sha) in inputs) payload[key] = sha;
        payload["report_sha256"] = FileHash.Sha256(reportJson);
        payload["thresholds_sha256"] = thresholdsSha256;
        payload["thresholds_passed"] = thresholdsPassed;
        return payload;
    }

    /// <summary>A seed as a decimal string: a 64-bit seed can exceed the 2^53 that a canonical JSON number keeps exactly.</summary>
    private static string Seed(ulong seed) => seed.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What <see cref="RunAudit.StandingOf"/> found for a model folder.</summary>
/// <param name="ManifestSha256">The SHA-256 of the folder's <c>manifest.json</c>.</param>
/// <param name="Registered">Whether the store's registry holds this model (same weights, manifest up to provenance).</param>
/// <param name="Conflicting">The registered model with these weights and another manifest, or null.</param>
internal sealed record RegistryStanding(string ManifestSha256, bool Registered, ModelRecord? Conflicting);
