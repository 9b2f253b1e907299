using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Diffusion;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;
using Crucible.Governance;
using Crucible.Governance.Storage;

namespace Crucible.Cli.Commands;

/// <summary>
/// The model inventory (MRM-10), in the home or, with <c>--store postgres:CONNSTRING</c>, in the replicas' shared
/// database: <c>crucible model list [--home DIR] [--json]</c> lists registered models with their
/// status, owner (who registered it), parent (declared by <c>model register --parent ID</c>; null otherwise) and
/// validation report hash; <c>crucible model status --id ID --status validated|promoted|retired --reason TEXT [--evidence report.json]
/// [--home DIR]</c> moves a model along candidate → validated → promoted (any live model → retired) and records the
/// change as <c>model.status_changed</c> in the audit log. <c>model register --json</c> and <c>model status --json</c> print
/// the model as <c>model list --json</c> lists it, with the audit entry (<c>audit_seq</c>), as one JSON document
/// (<see cref="JsonResult"/>), the summary line going to stderr. Validation needs an evaluation report of this model, recorded
/// in this home's audit log, whose predeclared thresholds all passed (<see cref="ValidationEvidence"/>); its SHA-256 goes
/// into the entry. The actor who validated a model cannot promote it (REG-E-SOD; the refusal is logged). The id may be shortened to
/// a unique prefix of at least 8 hex digits. Exit 0 done, 2 unknown model, refused transition, bad evidence or segregation of duties.
/// </summary>
internal static class ModelCommand
{
    /// <summary>The <c>model</c> command with <c>list</c> and <c>status</c>.</summary>
    public static Command Create() => new("model", "Register models, list them or change their status (each change is an audit entry)")
    {
        CreateRegister(), CreateList(), CreateStatus(),
    };

    private static Command CreateRegister()
    {
        var model = new Option<string>("--model") { Description = "The model folder written by crucible train", Required = true };
        var home = HomeOption.Create();
        var store = StoreOption.Create();
        var parent = new Option<string>("--parent")
        {
            Description = "The registered model (id, or a unique prefix of at least 8 hex digits) this one was derived or retrained from",
        };
        var json = JsonResult.Create();
        var command = new Command("register", "Register a model folder in the home's registry as a candidate") { model, parent, home, store, json };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var folder = p.GetValue(model)!;
            // a folder that does not load (bad manifest, weights not matching it) is refused here
            if (SequenceGenerator.ReadKind(folder) == ModelKind.Sequence) _ = SequenceGenerator.Load(folder);
            else _ = DiffusionGenerator.Load(folder);
            var (h, opened) = StoreOption.OpenLog(p, home, store);
            using var log = opened;
            var registry = new ModelRegistry(h, log);
            var parentId = p.GetValue(parent) is { } given ? registry.Resolve(given).Id : null;
            ModelRecord record;
            try
            {
                record = registry.Register(folder, parent: parentId);
            }
            catch (ModelConflictException e)
            {
                throw e.Worded(RunAudit.WithholdPricesFlag);
            }

            var line = string.Create(CultureInfo.InvariantCulture, $"registered: {record.Id} (candidate, audit entry {record.RegisteredSeq})");
            if (!p.GetValue(json))
            {
                Console.Out.WriteLine(line);
                return ExitCode.Success;
            }

            // --json: the record as model list --json lists it (owner and parent read back from the registry), the
            // registry's copy and the folder registered as absolute paths, the model.registered entry as audit_seq
            Console.Error.WriteLine(line);
            var listed = registry.Find(record.Id) ?? record;
            var document = Listed(listed);
            document["command"] = "model register";
            document["source"] = JsonResult.Full(folder);
            document["folder"] = JsonResult.Full(listed.Folder);
            document["audit_seq"] = listed.RegisteredSeq;
            document["audit_database"] = AuditDatabase(p, home, store, h);
            JsonResult.Write(Console.Out, document);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command CreateList()
    {
        var home = HomeOption.Create();
        var json = new Option<bool>("--json") { Description = "Print the models as JSON" };
        var store = StoreOption.Create();
        var list = new Command("list", "List registered models: id, status, owner, parent, validation report hash, registration entry") { home, json, store };
        list.SetAction(parse => CliRunner.Run(parse, p =>
        {
            if (StoreOption.Resolve(p, home, store) is ({ Exists: false } missing, { Kind: StoreKind.Sqlite }))
            {
                // a home named by --home, --store or CRUCIBLE_HOME that is not there is a mistake (HOME-E-MISSING); the default
                // home not created yet is a new user's empty inventory, and listing it creates nothing
                if (missing.Source != HomeSource.Default) _ = missing.RequireExisting();
                Console.Out.WriteLine(p.GetValue(json) ? "[]" : $"no models registered (no Crucible home at {missing.Root} yet)");
                return ExitCode.Success;
            }

            // read-only: no log, table, signing key or checkpoint export is created, and none is appended to
            var (h, opened) = StoreOption.OpenLogReadOnly(p, home, store);
            using var log = opened;
            var registry = log is null ? null : new ModelRegistry(h, log);
            IReadOnlyList<ModelRecord> models = registry is null ? [] : registry.List();
            // the list is the log's; a model whose files in the home are gone or changed is flagged (and only such a one)
            var problems = models.ToDictionary(m => m.Id, m => registry!.FilesProblem(m), StringComparer.Ordinal);
            if (p.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var m in models)
                {
                    var listed = Listed(m);
                    if (problems[m.Id] is { } problem) listed["files_problem"] = problem;
                    array.Add(listed);
                }

                Console.Out.WriteLine(array.ToJsonString());
            }
            else
            {
                if (models.Count == 0) Console.Out.WriteLine($"no models registered in {h.ModelsFolder}");
                foreach (var m in models)
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{m.Id}  {m.Status.WireName(),-9}  owner {m.Owner ?? "-"}  parent {(m.Parent is null ? "-" : m.Parent[..16] + "…")}  report {(m.EvidenceSha256 is null ? "-" : m.EvidenceSha256[..16] + "…")}  registered at entry {m.RegisteredSeq}")
                        + (problems[m.Id] is { } problem ? $"  FILES: {problem}; generate --model refuses it" : ""));
                }
            }

            return ExitCode.Success;
        }));
        return list;
    }

    private static Command CreateStatus()
    {
        var home = HomeOption.Create();
        var id = new Option<string>("--id") { Description = "The model id (SHA-256 of its weights), or a unique prefix of at least 8 hex digits", Required = true };
        var status = new Option<string>("--status") { Description = "The new status: validated, promoted or retired", Required = true };
        status.AcceptOnlyFromAmong([.. ModelStatuses.All.Where(s => s != ModelStatus.Candidate).Select(s => s.WireName())]); // a model is registered a candidate
        var reason = new Option<string>("--reason") { Description = "Why (recorded in the audit entry)", Required = true };
        var evidence = new Option<string>("--evidence")
        {
            Description = "For validated: the report.json that evaluate --thresholds wrote for this model in this home, every declared threshold passed (its SHA-256 is recorded)",
        };
        var store = StoreOption.Create();
        var json = JsonResult.Create();
        var command = new Command("status", "Change a registered model's status (candidate → validated → promoted; any → retired)")
        {
            home, id, status, reason, evidence, store, json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var to = ModelStatuses.FromWireName(p.GetValue(status)) ?? throw new InvalidOperationException("--status passed the parser's check");
            var evidencePath = p.GetValue(evidence);
            if (to == ModelStatus.Validated && evidencePath is null)
                throw new InvalidInputException("REG-E-EVIDENCE", "--status validated needs --evidence report.json (an evaluation with passed thresholds)");
            if (StoreOption.Resolve(p, home, store) is (var named, { Kind: StoreKind.Sqlite })) _ = named.RequireExisting(); // a model to change must be registered there
            var (h, opened) = StoreOption.OpenLog(p, home, store);
            using var log = opened;
            var registry = new ModelRegistry(h, log);
            var model = registry.Resolve(p.GetValue(id)!);
            // the report's own verdicts here; the registry checks that it is recorded in this home's audit log, for this
            // model, with predeclared passing thresholds (ValidationEvidence.CheckRecorded, once)
            string? evidenceSha = evidencePath is null ? null : ValidationEvidence.CheckVerdicts(evidencePath);
            var before = model.Status;
            var (after, receipt) = registry.RecordStatusChange(model.Id, to, p.GetValue(reason)!, evidenceSha,
                evidenceLocation: evidencePath is null ? null : new InputLocation(evidencePath, 0, 0));
            var line = string.Create(CultureInfo.InvariantCulture,
                $"model {after.Id}: {before.WireName()} → {after.Status.WireName()}{(evidenceSha is null ? "" : $" (evidence {evidenceSha[..16]}…)")}");
            if (!p.GetValue(json))
            {
                Console.Out.WriteLine(line);
                return ExitCode.Success;
            }

            // --json: the change and the model.status_changed entry that records it
            Console.Error.WriteLine(line);
            var document = Listed(after);
            document["command"] = "model status";
            document["from"] = before.WireName();
            document["reason"] = p.GetValue(reason);
            document["audit_seq"] = receipt.Seq;
            document["audit_database"] = AuditDatabase(p, home, store, h);
            JsonResult.Write(Console.Out, document);
            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// The folder of <paramref name="modelOption"/>: the folder itself when it exists, else the registered model whose id
    /// starts with it in the registry of <paramref name="store"/>, after the registry's hash check (<c>REG-E-HASH</c> when
    /// its files changed). With a PostgreSQL store, a model registered there whose folder the home lacks is first written
    /// into the home from the database (<see cref="ModelRegistry.Load"/>).
    /// </summary>
    /// <exception cref="InvalidInputException"><c>REG-E-RETIRED</c>: the model is retired and <paramref name="allowRetired"/> is false.</exception>
    internal static string FolderOf(RunStore store, string modelOption, bool allowRetired = false)
    {
        if (Directory.Exists(modelOption) || (store.IsSqlite && !File.Exists(store.Home.AuditDatabase)) || modelOption.Length < 8 || !modelOption.All(char.IsAsciiHexDigit))
            return modelOption;
        using var log = store.OpenLog();
        var registry = new ModelRegistry(store.Home, log);
        var record = registry.Resolve(modelOption);
        if (record.Status == ModelStatus.Retired && !allowRetired)
            throw new InvalidInputException("REG-E-RETIRED",
                $"model {record.Id[..16]}… is retired; pass --allow-retired to draw from it anyway (e.g. to reproduce a past run)");
        return registry.Load(record.Id).Folder;
    }

    // a model as model list --json lists it (the --json of register and status start from it)
    private static JsonObject Listed(ModelRecord m) => new()
    {
        ["id"] = m.Id, ["status"] = m.Status.WireName(), ["manifest_sha256"] = m.ManifestSha256, ["registered_seq"] = m.RegisteredSeq,
        ["parent"] = m.Parent, ["owner"] = m.Owner, ["validation_report_sha256"] = m.EvidenceSha256,
    };

    // the SQLite audit log the entries went to (absolute); null when --store postgres: kept them in the shared database
    private static string? AuditDatabase(ParseResult parse, Option<string> home, Option<string> store, CrucibleHome h)
        => StoreOption.Resolve(parse, home, store).Store.Kind == StoreKind.Sqlite ? JsonResult.Full(h.AuditDatabase) : null;
}
