using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;
using Crucible.Governance.Storage;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible audit verify [--home DIR] [--store sqlite:PATH|postgres:CONNSTRING] [--public-key FILE] [--checkpoints FILE] [--json]</c>: checks the audit log;
/// exit 0 when it verifies, 3 when it does not (the first bad entry is printed), 2 when there is no log or a bad key.
/// <c>crucible audit log [--home DIR] [--store sqlite:PATH|postgres:CONNSTRING] [--from SEQ] [--limit N] [--kind KIND] [--json]</c>: lists entries.
/// </summary>
internal static class AuditCommand
{
    /// <summary>The <c>audit</c> command with <c>verify</c> and <c>log</c>.</summary>
    public static Command Create() => new("audit", "Check or list the tamper-evident audit log") { CreateVerify(), CreateLog() };

    private static Command CreateVerify()
    {
        var home = HomeOption.Create();
        var publicKey = new Option<string>("--public-key")
        {
            Description = "The trusted public key PEM to check checkpoint signatures with (default: HOME/keys/audit-checkpoint.pub.pem; "
                + "give an independently kept copy to catch a replaced key)",
        };
        var checkpoints = new Option<string>("--checkpoints")
        {
            Description = "The exported checkpoint file to check against (default: HOME/audit-checkpoints.jsonl; give the off-machine copy)",
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var store = new Option<string>("--store")
        {
            Description = "The log to verify: sqlite:HOME_FOLDER (default: the home's audit.db) or postgres:CONNECTION_STRING (the replicas' shared log)",
        };
        var verify = new Command("verify", "Verify the audit log: hash chain, links, signed checkpoints, truncation (exit 3 when it fails)")
        {
            home, publicKey, checkpoints, store, json,
        };
        verify.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var location = p.GetValue(store) is { } s ? StoreLocation.Parse(s) : null;
            AuditLog.RequireNamedCheckpointFile(p.GetValue(checkpoints));
            AuditVerification v;
            if (location is { Kind: StoreKind.Postgres })
            {
                var h = HomeOption.Resolve(p, home);
                var keyPath = p.GetValue(publicKey) ?? Path.Combine(h.KeysFolder, AuditSigningKey.PublicFileName);
                using var key = File.Exists(keyPath) || p.GetValue(publicKey) is not null ? AuditSigningKey.LoadPublic(keyPath) : null;
                v = AuditLog.VerifyPostgres(location.Value, key, p.GetValue(checkpoints) ?? h.AuditCheckpoints);
            }
            else
            {
                var h = location is null ? HomeOption.Resolve(p, home) : Governance.CrucibleHome.ResolveStoreFolder(location.Value);
                v = AuditLog.Verify(h.RequireExisting(), p.GetValue(publicKey), p.GetValue(checkpoints));
            }

            if (p.GetValue(json))
            {
                Console.Out.WriteLine(new JsonObject
                {
                    ["ok"] = v.Ok,
                    ["problem"] = v.Problem.ToString(),
                    ["first_bad_seq"] = v.FirstBadSeq,
                    ["checkpoint_seq"] = v.CheckpointSeq,
                    ["entries"] = v.Entries,
                    ["checkpoints_checked"] = v.CheckpointsChecked,
                    ["message"] = v.Message,
                }.ToJsonString());
            }
            else if (v.Ok)
            {
                Console.Out.WriteLine(v.Message);
            }
            else
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"FAILED: first bad entry {v.FirstBadSeq?.ToString(CultureInfo.InvariantCulture) ?? "?"} ({v.Problem}): {v.Message}"));
            }

            if (!v.Ok) Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit log verification failed ({v.Problem})"));
            return v.Ok ? ExitCode.Success : ExitCode.ThresholdFailed;
        }));
        return verify;
    }

    private static Command CreateLog()
    {
        var home = HomeOption.Create();
        var from = new Option<long>("--from") { Description = "First seq to list (default 1)", DefaultValueFactory = _ => 1 };
        var limit = new Option<int>("--limit") { Description = "Most entries to list (default all)", DefaultValueFactory = _ => int.MaxValue };
        var kind = new Option<string>("--kind") { Description = "Only entries of this kind, e.g. model.status_changed" };
        var json = new Option<bool>("--json") { Description = "Print the entries as a JSON array" };
        var store = new Option<string>("--store")
        {
            Description = "The log to list: sqlite:HOME_FOLDER (default: the home's audit.db) or postgres:CONNECTION_STRING (the replicas' shared log)",
        };
        var log = new Command("log", "List audit log entries") { home, from, limit, kind, json, store };
        log.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var location = p.GetValue(store) is { } s ? StoreLocation.Parse(s) : null;
            var h = location is { Kind: StoreKind.Sqlite } ? Governance.CrucibleHome.ResolveStoreFolder(location.Value) : HomeOption.Resolve(p, home);
            var kindName = p.GetValue(kind);
            if (kindName is not null && AuditKinds.FromWireName(kindName) is null)
                throw new InvalidInputException("OPT-E", $"--kind: unknown kind '{kindName}'");
            if (p.GetValue(from) < 1 || p.GetValue(limit) < 1) throw new InvalidInputException("OPT-E", "--from and --limit must be at least 1");
            if (location is not { Kind: StoreKind.Postgres } && !h.Exists)
            {
                // as model list: a named home that is not there is a mistake; the default one not created yet has no entries
                if (h.Source != Governance.HomeSource.Default) _ = h.RequireExisting();
                if (p.GetValue(json)) Console.Out.WriteLine("[]");
                return ExitCode.Success;
            }

            var read = location is { Kind: StoreKind.Postgres }
                ? AuditLog.ReadPostgres(location.Value, p.GetValue(from), p.GetValue(limit))
                : AuditLog.Read(h.AuditDatabase, p.GetValue(from), p.GetValue(limit));
            var entries = read.Where(e => kindName is null || string.Equals(e.Kind, kindName, StringComparison.Ordinal)).ToList();
            if (p.GetValue(json))
            {
                var array = new JsonArray();
                foreach (var e in entries)
                {
                    array.Add(new JsonObject
                    {
                        ["seq"] = e.Seq,
                        ["ts_utc"] = e.TimestampUtc,
                        ["kind"] = e.Kind,
                        ["actor"] = e.Actor,
                        ["payload"] = JsonNode.Parse(e.Payload),
                        ["prev_hash"] = Convert.ToHexStringLower(e.PrevHash),
                        ["entry_hash"] = e.EntryHashHex,
                    });
                }

                Console.Out.WriteLine(array.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            }
            else
            {
                foreach (var e in entries)
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{e.Seq,6}  {e.TimestampUtc}  {e.Kind,-22} {e.Actor,-16} {e.EntryHashHex[..16]}  {e.Payload}"));
            }

            return ExitCode.Success;
        }));
        return log;
    }
}
