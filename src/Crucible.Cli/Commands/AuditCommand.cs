using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Data.IO;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Storage;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible audit verify [--home DIR] [--store sqlite:PATH|postgres:CONNSTRING] [--public-key FILE] [--checkpoints FILE] [--fail-on-key-break] [--json]</c>:
/// checks the audit log; exit 0 when it verifies, 3 when it does not (the first bad entry is printed) or, with
/// <c>--fail-on-key-break</c>, when it holds a lost-key break, 2 when there is no log or a bad key.
/// <c>crucible audit log [--home DIR] [--store sqlite:PATH|postgres:CONNSTRING] [--from SEQ] [--limit N] [--kind KIND] [--json]</c>: lists entries.
/// <c>crucible audit run RUN_ID [--home DIR] [--store …] [--out FILE [--json]]</c>: writes the manifest the log stores for
/// a run, exit 3 when no <c>run.completed</c> entry pins those bytes.
/// <c>crucible audit rotate-key [--home DIR] [--store …] [--lost-key [--old-public-key FILE]] [--reason TEXT] [--json]</c>: rotates
/// the checkpoint signing key (<see cref="AuditLog.RotateKey"/>), or starts a new key epoch after a lost key
/// (<see cref="AuditLog.StartKeyEpochAfterLoss"/>).
/// </summary>
internal static class AuditCommand
{
    /// <summary>The <c>audit</c> command with <c>verify</c> and <c>log</c>.</summary>
    public static Command Create() => new("audit", "Check or list the tamper-evident audit log, write a run's stored manifest, or rotate its signing key")
    {
        CreateVerify(), CreateLog(), CreateRun(), CreateRotateKey(),
    };

    // audit run RUN_ID: the manifest the log stores for a run (each run.completed stores its manifest's bytes), for a run
    // whose file is gone or, under --store postgres:, was never written (killed between the commit and the file)
    private static Command CreateRun()
    {
        var home = HomeOption.Create();
        var store = StoreOption.Create();
        var runId = new Argument<string>("RUN_ID") { Description = "The run's id (32 hex digits: the manifest's run_id, run.completed's run_id)" };
        var output = new Option<string>("--out") { Description = "Write the manifest to this file (atomically); without it the manifest's bytes go to standard output" };
        var json = new Option<bool>("--json") { Description = "With --out: print the result as JSON" };
        var run = new Command("run", "Write a run's manifest as the audit log stores it (exit 3 when no run.completed entry pins those bytes); check it with verify-run")
        {
            runId, home, store, output, json,
        };
        run.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var id = p.GetValue(runId)!;
            if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower))
                throw new InvalidInputException("OPT-E", $"RUN_ID must be a run id (32 lower-case hex digits), got '{id}'");
            var path = p.GetValue(output);
            if (p.GetValue(json) && path is null) throw new InvalidInputException("OPT-E", "--json goes with --out (without it the manifest itself is the output)");
            var (h, opened) = StoreOption.OpenLogReadOnly(p, home, store);
            using var log = opened ?? throw new InvalidInputException(AuditLog.NoLogRule, "no audit log here", new InputLocation(h.AuditDatabase, 0, 0));
            var stored = RunPinVerifier.ReadStored(log, id)
                ?? throw new InvalidInputException("AUDIT-E-NORUN", $"the audit log stores no manifest of run {id}");
            if (!stored.Pinned)
            {
                Console.Error.WriteLine(stored.PinSeq is { } seq
                    ? string.Create(CultureInfo.InvariantCulture, $"run {id}: the stored manifest hashes {stored.Sha256}, but its run.completed entry {seq} pins {stored.PinnedSha256 ?? "no hash"}: not written (run crucible audit verify)")
                    : $"run {id}: no run.completed entry pins the stored manifest: not written (run crucible audit verify)");
                return ExitCode.ThresholdFailed;
            }

            if (path is null)
            {
                using var stdout = Console.OpenStandardOutput();
                stdout.Write(stored.Bytes);
                return ExitCode.Success;
            }

            AtomicFile.WriteAllBytes(path, stored.Bytes);
            if (p.GetValue(json))
            {
                JsonResult.Write(Console.Out, new JsonObject
                {
                    ["command"] = "audit run", ["run_id"] = id, ["manifest"] = JsonResult.Full(path), ["sha256"] = stored.Sha256, ["pin_seq"] = stored.PinSeq,
                });
            }
            else
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {id}: manifest written to {path} (SHA-256 {stored.Sha256[..16]}…, pinned by entry {stored.PinSeq})"));
            }

            return ExitCode.Success;
        }));
        return run;
    }

    private static Command CreateRotateKey()
    {
        var home = HomeOption.Create();
        var store = StoreOption.Create();
        var lost = new Option<bool>("--lost-key")
        {
            Description = "The private key is lost for good: start a new key epoch, recorded as a key break that 'audit verify' reports "
                + "(the old key cannot sign the change). Without it, the current key signs the rotation",
        };
        var oldPublic = new Option<string>("--old-public-key")
        {
            Description = "With --lost-key: the lost key's public key PEM (default: HOME/keys/audit-checkpoint.pub.pem or keys/retired/KEYID.pub.pem)",
        };
        var reason = new Option<string>("--reason") { Description = "Why the key changes (recorded in the entry), e.g. \"yearly rotation\"" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var rotate = new Command("rotate-key", "Rotate the audit checkpoint signing key (the old key signs the change), or replace a lost one (--lost-key)")
        {
            home, store, lost, oldPublic, reason, json,
        };
        rotate.SetAction(parse => CliRunner.Run(parse, p =>
        {
            if (p.GetValue(oldPublic) is not null && !p.GetValue(lost)) throw new InvalidInputException("OPT-E", "--old-public-key goes with --lost-key");
            var (h, location) = StoreOption.Resolve(p, home, store);
            h.RequireExisting();
            var options = AuditLogOptions.ForStore(h, location);
            if (location.Kind == StoreKind.Sqlite && !File.Exists(h.AuditDatabase))
                throw new InvalidInputException("AUDIT-E-NOLOG", "no audit log here", new InputLocation(h.AuditDatabase, 0, 0));
            AuditKeyRotation r;
            if (p.GetValue(lost))
            {
                r = AuditLog.StartKeyEpochAfterLoss(options, p.GetValue(oldPublic), p.GetValue(reason));
            }
            else
            {
                using var log = AuditLog.Open(options);
                r = log.RotateKey(p.GetValue(reason));
            }

            var publicPath = AuditSigningKey.PublicPathFor(options.SigningKeyPath!);
            if (p.GetValue(json))
            {
                Console.Out.WriteLine(new JsonObject
                {
                    ["kind"] = r.Kind.WireName(),
                    ["seq"] = r.Seq,
                    ["old_key_id"] = r.OldKeyId,
                    ["new_key_id"] = r.NewKeyId,
                    // absolute, as every --json path: a relative --home gave paths a script in another folder could not open
                    ["retired_public_key"] = JsonResult.Full(r.RetiredPublicKeyPath),
                    ["public_key"] = JsonResult.Full(publicPath),
                }.ToJsonString());
            }
            else if (r.Kind == AuditKind.KeyRotated)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"rotated the audit signing key at entry {r.Seq}: {r.OldKeyId} -> {r.NewKeyId} (checkpoint {r.Seq} signed by {r.OldKeyId}; its private key is destroyed, its public key kept in {r.RetiredPublicKeyPath})"));
                Console.Out.WriteLine($"give your verifiers the new public key {publicPath}; restart a running 'crucible serve' (it refuses to append with the old key)");
            }
            else
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"started a new audit key epoch at entry {r.Seq}: key {r.OldKeyId} is lost, {r.NewKeyId} replaces it; 'crucible audit verify' reports this key break"));
                Console.Out.WriteLine($"give your verifiers the new public key {publicPath}");
            }

            return ExitCode.Success;
        }));
        return rotate;
    }

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
            Description = "The exported checkpoint file to check against (default: HOME/audit-checkpoints.jsonl, with --store postgres: that "
                + "database's HOME/audit-checkpoints.postgres-….jsonl; give the off-machine copy)",
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var failOnKeyBreak = new Option<bool>("--fail-on-key-break")
        {
            Description = "Exit 3, as for a failed verification, when the log holds a lost-key break (audit.key_lost); "
                + "without it a key break is a warning and the exit code is 0",
        };
        var store = StoreOption.Create("The log to verify: sqlite:HOME_FOLDER (default: the home's audit.db) or postgres:CONNECTION_STRING (the replicas' shared log)");
        var verify = new Command("verify", "Verify the audit log: hash chain, links, signed checkpoints, truncation (exit 3 when it fails)")
        {
            home, publicKey, checkpoints, store, failOnKeyBreak, json,
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
                v = AuditLog.VerifyPostgres(location.Value, key, p.GetValue(checkpoints) ?? h.AuditCheckpointsFor(location), AuditLog.IsCheckpointCopy(h, p.GetValue(checkpoints)));
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
                    // every independent finding (the first is the one above): a cut log with a tampered checkpoint reports both
                    ["findings"] = new JsonArray([.. v.Findings.Select(f => (JsonNode)new JsonObject
                    {
                        ["problem"] = f.Problem.ToString(),
                        ["first_bad_seq"] = f.FirstBadSeq,
                        ["checkpoint_seq"] = f.CheckpointSeq,
                        ["message"] = f.Message,
                    })]),
                    ["key_changes"] = new JsonArray([.. v.KeyChanges.Select(c => (JsonNode)new JsonObject
                    {
                        ["seq"] = c.Seq,
                        ["old_key_id"] = c.OldKeyId,
                        ["new_key_id"] = c.NewKeyId,
                        ["signed_by_old_key"] = c.SignedByOldKey,
                    })]),
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
                foreach (var f in v.Findings.Skip(1))
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"ALSO: entry {f.FirstBadSeq?.ToString(CultureInfo.InvariantCulture) ?? "?"} ({f.Problem}): {f.Message}"));
                }
            }

            if (!v.Ok) Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"audit log verification failed ({v.Problem})"));
            // a key break does not fail verification (the log verified with the keys it names) but is never silent
            foreach (var b in v.KeyBreaks)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"warning: key break at entry {b.Seq}: key {b.OldKeyId} was lost and did not sign the change to {b.NewKeyId}; the checkpoints after it are vouched for by {b.NewKeyId} alone"));
            }

            if (!v.Ok) return ExitCode.ThresholdFailed;
            if (p.GetValue(failOnKeyBreak) && v.KeyBreaks.Count > 0)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"audit log refused (--fail-on-key-break): {v.KeyBreaks.Count} key break(s), the first at entry {v.KeyBreaks[0].Seq}"));
                return ExitCode.ThresholdFailed;
            }

            return ExitCode.Success;
        }));
        return verify;
    }

    private static Command CreateLog()
    {
        var home = HomeOption.Create();
        var from = new Option<long>("--from") { Description = "First seq to list (default 1)", DefaultValueFactory = _ => 1 };
        var limit = new Option<int?>("--limit") { Description = "Most entries to list (default all)" };
        var kind = new Option<string>("--kind") { Description = "Only entries of this kind, e.g. model.status_changed" };
        var json = new Option<bool>("--json") { Description = "Print the entries as a JSON array" };
        var store = StoreOption.Create("The log to list: sqlite:HOME_FOLDER (default: the home's audit.db) or postgres:CONNECTION_STRING (the replicas' shared log)");
        var log = new Command("log", "List audit log entries") { home, from, limit, kind, json, store };
        log.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var location = p.GetValue(store) is { } s ? StoreLocation.Parse(s) : null;
            var h = location is { Kind: StoreKind.Sqlite } ? Governance.CrucibleHome.ResolveStoreFolder(location.Value) : HomeOption.Resolve(p, home);
            var kindName = p.GetValue(kind);
            if (kindName is not null && AuditKinds.FromWireName(kindName) is null)
                throw new InvalidInputException("OPT-E", $"--kind: unknown kind '{kindName}'");
            if (p.GetValue(from) < 1 || p.GetValue(limit) is < 1) throw new InvalidInputException("OPT-E", "--from and --limit must be at least 1");
            if (location is not { Kind: StoreKind.Postgres } && !h.Exists)
            {
                // as model list: a named home that is not there is a mistake; the default one not created yet has no entries
                if (h.Source != Governance.HomeSource.Default) _ = h.RequireExisting();
                if (p.GetValue(json)) Console.Out.WriteLine("[]");
                return ExitCode.Success;
            }

            // --limit counts the entries listed: with --kind, those of the kind (so the read itself is not limited then)
            var readLimit = kindName is null ? p.GetValue(limit) ?? int.MaxValue : int.MaxValue;
            var read = location is { Kind: StoreKind.Postgres }
                ? AuditLog.ReadPostgres(location.Value, p.GetValue(from), readLimit)
                : AuditLog.Read(h.AuditDatabase, p.GetValue(from), readLimit);
            var entries = read.Where(e => kindName is null || string.Equals(e.Kind, kindName, StringComparison.Ordinal))
                .Take(p.GetValue(limit) ?? int.MaxValue).ToList();
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
