using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible verify-run MANIFEST [--home DIR] [--json]</c>: recomputes the SHA-256 of every input and output file of a
/// run manifest and compares; with <c>--home</c>, also compares the SHA-256 of the manifest's own bytes with the one
/// that the run's <c>run.completed</c> entry in that home's audit log pins (so an edited manifest is caught). Exit 0 when
/// all match, 3 when one differs or is missing (or the run is not pinned there), 2 when the manifest is unreadable or
/// incomplete, or the home has no audit log. Named bytes of a service run (its request and response bodies) are listed
/// as such: there is no file to rehash.
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
            Description = "Also check the manifest's bytes against the run.completed entry that pins them in this home's audit log",
        };
        var command = new Command("verify-run", "Recompute a run manifest's file hashes and compare them (exit 3 on any difference)") { manifest, home, json };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var path = p.GetValue(manifest)!;
            var v = ManifestVerifier.Verify(path);
            var pin = p.GetValue(home) is { } dir ? Pin(CrucibleHome.Resolve(dir), v.Manifest.RunId, path) : null;
            bool ok = v.Ok && pin is null or { Result: PinCheck.Match };
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
                if (pin is { } c)
                {
                    result["pin"] = new JsonObject
                    {
                        ["seq"] = c.Seq, ["expected"] = c.Expected, ["actual"] = c.Actual, ["result"] = c.Result.ToString().ToLowerInvariant(),
                    };
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
                    Console.Out.WriteLine(c.Result switch
                    {
                        PinCheck.Match => string.Create(CultureInfo.InvariantCulture, $"pinned    manifest by audit entry {c.Seq}"),
                        PinCheck.Unpinned => $"UNPINNED  manifest: no run.completed entry pins run {v.Manifest.RunId} in the audit log",
                        _ => string.Create(CultureInfo.InvariantCulture,
                            $"MISMATCH  manifest: audit entry {c.Seq} pins {c.Expected![..16]}…, the file is now {c.Actual[..16]}…"),
                    });
                }

                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(ok ? "verified" : "FAILED")}: run {v.Manifest.RunId}, {v.Files.Count(f => f.Result == FileCheck.Match)}/{v.Files.Count(f => f.Result != FileCheck.Named)} files match{(pin is null ? "" : pin.Result == PinCheck.Match ? ", manifest pinned" : ", manifest NOT pinned")}"));
            }

            return ok ? ExitCode.Success : ExitCode.ThresholdFailed;
        }));
        return command;
    }

    private enum PinCheck
    {
        Match,
        Mismatch,
        Unpinned,
    }

    // the pinning entry's seq and hash (null when none pins the run) and the manifest file's hash now
    private sealed record PinResult(long? Seq, string? Expected, string Actual, PinCheck Result);

    // the manifest file's SHA-256 against the manifest_sha256 of the last run.completed entry of its run in the home's log
    // (read only: a home without a log is AUDIT-E-NOLOG, exit 2)
    private static PinResult Pin(CrucibleHome home, string runId, string manifestPath)
    {
        var actual = FileHash.Sha256(manifestPath);
        var entry = AuditLog.Read(home.AuditDatabase).LastOrDefault(e => e.Kind == AuditKind.RunCompleted.WireName() && RunIdOf(e) == runId);
        if (entry is null) return new(null, null, actual, PinCheck.Unpinned);
        var expected = JsonNode.Parse(entry.Payload)?["manifest_sha256"]?.GetValue<string>();
        if (expected is null) return new(entry.Seq, null, actual, PinCheck.Unpinned);
        return new(entry.Seq, expected, actual, expected == actual ? PinCheck.Match : PinCheck.Mismatch);
    }

    private static string? RunIdOf(AuditEntry entry) =>
        JsonNode.Parse(entry.Payload) is JsonObject payload && payload["run_id"] is JsonValue id && id.TryGetValue<string>(out var s) ? s : null;
}
