using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Governance;
using Crucible.Governance.Manifests;
using Crucible.Governance.Storage;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible verify-run MANIFEST [--home DIR] [--store sqlite:DIR|postgres:CONNSTRING] [--public-key FILE] [--checkpoints FILE] [--json]</c>: recomputes the
/// SHA-256 of every input and output file of a run manifest and compares; with <c>--home</c>, also checks what the pin of
/// the manifest in that home relies on (<see cref="RunPinVerifier"/>): the home's whole audit log verifies (the check of
/// <c>crucible audit verify</c>, signed checkpoints included), a <c>run.completed</c> entry pins the run, and both the
/// manifest file and the audit store's copy of it hash as pinned; each disagreement (chain broken, file edited, stored
/// copy edited or missing, unpinned) is named. With <c>--store postgres:…</c> the same pin is checked in that database's
/// log (the home, <c>--home</c> or the default, gives the public key and that database's checkpoint export), where
/// <c>train</c>, <c>generate</c> and the other run commands record a run given that <c>--store</c>. Exit 0 when all match, 3 when one differs or is missing, 2 when the
/// manifest is unreadable or incomplete, or the home has no audit log. Named bytes of a service run (its request and
/// response bodies) are listed as such: there is no file to rehash. <c>--recompute</c> runs a train, generate, evaluate,
/// stress, ensemble, backtest, baseline, compare or model-card run again and compares its outputs byte for byte (<see cref="RunRecompute"/>; RELIABILITY MRM-2: the
/// independent validator recomputes the output).
/// </summary>
internal static class VerifyRunCommand
{
    /// <summary>The <c>verify-run</c> command.</summary>
    public static Command Create()
    {
        var manifest = new Argument<string>("MANIFEST") { Description = "The run manifest (manifest.json) to check" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var home = new Option<string>("--home")
        {
            Description = "Also check the manifest against its pin in this home's audit log: the log verifies (as 'audit verify'), "
                + "a run.completed entry pins the run, and the file and the audit store's copy both hash as pinned",
        };
        var publicKey = new Option<string>("--public-key")
        {
            Description = "With --home or --store: the trusted public key PEM for the log's checkpoint signatures (default: HOME/keys/audit-checkpoint.pub.pem)",
        };
        var checkpoints = new Option<string>("--checkpoints")
        {
            Description = "With --home or --store: the exported checkpoint file to check the log against (default: HOME/audit-checkpoints.jsonl, with --store postgres: that database's HOME/audit-checkpoints.postgres-….jsonl)",
        };
        var store = StoreOption.Create(); // the pin is checked in this store's log (postgres: that database's, from the home's key and export)
        var recompute = new Option<bool>("--recompute")
        {
            Description = "Also run the run again from its manifest (inputs, config, seed) and compare its outputs with the recorded ones, byte for byte: train, generate, evaluate, stress, ensemble, backtest, baseline, compare and model-card runs",
        };
        var command = new Command("verify-run", "Recompute a run manifest's file hashes and compare them (exit 3 on any difference)")
        {
            manifest, home, store, publicKey, checkpoints, recompute, json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var path = p.GetValue(manifest)!;
            var v = ManifestVerifier.Verify(path);
            if (p.GetValue(home) is null && p.GetValue(store) is null && (p.GetValue(publicKey) is not null || p.GetValue(checkpoints) is not null))
                throw new Crucible.Data.InvalidInputException("OPT-E", "--public-key and --checkpoints check the audit log of --home or --store: give one too");
            RunPinVerification? pin = null;
            if (p.GetValue(store) is not null)
            {
                var (h, location) = StoreOption.Resolve(p, home, store);
                pin = RunPinVerifier.Verify(location.Kind == StoreKind.Sqlite ? h.RequireExisting() : h, location, path, v.Manifest.RunId,
                    p.GetValue(publicKey), p.GetValue(checkpoints));
            }
            else if (p.GetValue(home) is { } dir)
            {
                pin = RunPinVerifier.Verify(CrucibleHome.Resolve(dir).RequireExisting(), path, v.Manifest.RunId, p.GetValue(publicKey), p.GetValue(checkpoints));
            }

            var again = p.GetValue(recompute) ? RunRecompute.Run(v.Manifest, path) : null;
            bool ok = v.Ok && pin is null or { Ok: true } && (again is null || again.All(r => r.Matches));
            if (p.GetValue(json))
            {
                var files = new JsonArray();
                foreach (var f in v.Files)
                {
                    files.Add(new JsonObject
                    {
                        ["role"] = f.Role, [f.Result == FileCheck.Named ? "name" : "path"] = f.Path, ["expected"] = f.Expected, ["actual"] = f.Actual,
                        ["result"] = f.Result.ToString().ToLowerInvariant(),
                    });
                }

                var result = new JsonObject { ["ok"] = ok, ["run_id"] = v.Manifest.RunId, ["files"] = files };
                if (pin is { } c) AddPin(result, c);
                if (again is not null)
                {
                    var outputs = new JsonArray();
                    foreach (var r in again)
                    {
                        outputs.Add(new JsonObject
                        {
                            ["path"] = r.Path, ["expected"] = r.Expected, ["actual"] = r.Actual, ["result"] = r.Matches ? "match" : "mismatch", ["note"] = r.Note,
                        });
                    }

                    result["recompute"] = outputs;
                }

                Console.Out.WriteLine(result.ToJsonString());
            }
            else
            {
                foreach (var f in v.Files)
                {
                    Console.Out.WriteLine(f.Result switch
                    {
                        FileCheck.Match => $"ok        {f.Role,-6} {f.Path}",
                        FileCheck.Missing => $"MISSING   {f.Role,-6} {f.Path}",
                        FileCheck.Named => $"named     {f.Role,-6} {f.Path} (not a file: recorded {f.Expected[..16]}…, nothing to rehash)",
                        _ => $"MISMATCH  {f.Role,-6} {f.Path}: recorded {f.Expected[..16]}…, now {f.Actual![..16]}…",
                    });
                }

                if (pin is { } c)
                {
                    foreach (var line in PinLines(c)) Console.Out.WriteLine(line);
                }

                foreach (var r in again ?? [])
                {
                    Console.Out.WriteLine((r.Matches
                        ? $"recomputed {r.Path}: identical to the recorded output"
                        : $"MISMATCH  recomputed {r.Path}: recorded {r.Expected[..16]}…, drawn again {r.Actual[..16]}…") + (r.Note is null ? "" : $" ({r.Note})"));
                }

                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(ok ? "verified" : "FAILED")}: run {v.Manifest.RunId}, {v.Files.Count(f => f.Result == FileCheck.Match)}/{v.Files.Count(f => f.Result != FileCheck.Named)} files match{(pin is null ? "" : pin.Ok ? ", manifest pinned" : $", manifest NOT pinned ({string.Join("; ", pin.Problems.Select(Describe))})")}{(again is null ? "" : string.Create(CultureInfo.InvariantCulture, $", {again.Count(r => r.Matches)}/{again.Count} outputs recomputed identically"))}"));
            }

            return ok ? ExitCode.Success : ExitCode.ThresholdFailed;
        }));
        return command;
    }

    // pin: the file against the pin; stored: the audit store's copy against the pin; chain: the log's verification; problems: snake_case
    private static void AddPin(JsonObject result, RunPinVerification c)
    {
        result["pin"] = new JsonObject
        {
            ["seq"] = c.PinSeq, ["expected"] = c.Pinned, ["actual"] = c.File,
            ["result"] = c.Pinned is null ? "unpinned" : c.FileMatches ? "match" : "mismatch",
        };
        result["stored"] = new JsonObject
        {
            ["expected"] = c.Pinned, ["actual"] = c.Stored,
            ["result"] = c.Stored is null ? "missing" : c.Pinned is null ? "unpinned" : c.StoredMatches ? "match" : "mismatch",
        };
        result["chain"] = new JsonObject
        {
            ["ok"] = c.Chain.Ok, ["problem"] = c.Chain.Problem.ToString(), ["first_bad_seq"] = c.Chain.FirstBadSeq,
            ["checkpoint_seq"] = c.Chain.CheckpointSeq, ["entries"] = c.Chain.Entries, ["checkpoints_checked"] = c.Chain.CheckpointsChecked,
            ["message"] = c.Chain.Message,
        };
        var problems = new JsonArray();
        foreach (var problem in c.Problems) problems.Add(Snake(problem));
        result["problems"] = problems;
    }

    // one line each for the chain, the file's pin and the stored copy; what disagrees is named, and only blamed on an
    // edit when the chain verifies (a broken chain leaves the pin itself in doubt)
    private static IEnumerable<string> PinLines(RunPinVerification c)
    {
        var inv = CultureInfo.InvariantCulture;
        var chain = c.Chain;
        if (chain.Ok)
        {
            yield return string.Create(inv, $"chain     audit log verifies ({chain.Message})");
        }
        else
        {
            var where = chain.FirstBadSeq is { } bad && c.PinSeq is { } seq
                ? string.Create(inv, $"first bad entry {bad}, {(bad <= seq ? "at or before" : "after")} the pinning entry {seq}")
                : chain.FirstBadSeq is { } b ? string.Create(inv, $"first bad entry {b}") : "no entry named";
            yield return string.Create(inv, $"BROKEN    audit chain ({chain.Problem}, {where}): {chain.Message}; its pin proves nothing");
        }

        if (c.OtherRunsFile) yield return $"OTHER RUN manifest: the file is the manifest of run {c.FileRunId}, not of run {c.RunId}";
        if (c.Pinned is null)
        {
            yield return $"UNPINNED  manifest: no run.completed entry pins run {c.RunId} in the audit log";
            yield break;
        }

        var blame = chain.Ok && !c.OtherRunsFile;
        var untrusted = chain.Ok ? "" : " (untrusted: the chain is broken)";
        yield return c.FileMatches
            ? string.Create(inv, $"pinned    manifest by audit entry {c.PinSeq}{untrusted}")
            : string.Create(inv, $"MISMATCH  manifest: audit entry {c.PinSeq} pins {Short(c.Pinned)}, the file is now {Short(c.File)}{(blame ? " (the manifest file was edited)" : "")}");
        yield return c.Stored is null
            ? $"MISSING   stored copy: the audit store holds no copy of run {c.RunId}"
            : c.StoredMatches
                ? "stored    copy in the audit store hashes as pinned" + untrusted
                : string.Create(inv, $"MISMATCH  stored copy: audit entry {c.PinSeq} pins {Short(c.Pinned)}, the audit store's copy is now {Short(c.Stored)}{(blame ? " (the stored copy was edited)" : "")}");
    }

    private static string Short(string sha256) => sha256.Length > 16 ? sha256[..16] + "…" : sha256;

    private static string Describe(PinProblem problem) => problem switch
    {
        PinProblem.ChainBroken => "audit chain broken",
        PinProblem.Unpinned => "no run.completed entry pins it",
        PinProblem.FileEdited => "manifest file edited",
        PinProblem.OtherRun => "the file is another run's manifest",
        PinProblem.StoredCopyEdited => "stored copy edited",
        _ => "stored copy missing",
    };

    private static string Snake(PinProblem problem) => problem switch
    {
        PinProblem.ChainBroken => "chain_broken",
        PinProblem.Unpinned => "unpinned",
        PinProblem.FileEdited => "file_edited",
        PinProblem.OtherRun => "other_run",
        PinProblem.StoredCopyEdited => "stored_copy_edited",
        _ => "stored_copy_missing",
    };
}
