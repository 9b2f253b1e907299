using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Crucible.Governance.Manifests;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible verify-run MANIFEST [--json]</c>: recomputes the SHA-256 of every input and output file of a run manifest
/// and compares; exit 0 when all match, 3 when one differs or is missing, 2 when the manifest is unreadable or incomplete.
/// Named bytes of a service run (its request and response bodies) are listed as such: there is no file to rehash.
/// </summary>
internal static class VerifyRunCommand
{
    /// <summary>The <c>verify-run</c> command.</summary>
    public static Command Create()
    {
        var manifest = new Argument<string>("MANIFEST") { Description = "The run manifest (manifest.json) to check" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("verify-run", "Recompute a run manifest's file hashes and compare them (exit 3 on any difference)") { manifest, json };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var v = ManifestVerifier.Verify(p.GetValue(manifest)!);
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

                Console.Out.WriteLine(new JsonObject { ["ok"] = v.Ok, ["run_id"] = v.Manifest.RunId, ["files"] = files }.ToJsonString());
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

                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(v.Ok ? "verified" : "FAILED")}: run {v.Manifest.RunId}, {v.Files.Count(f => f.Result == FileCheck.Match)}/{v.Files.Count(f => f.Result != FileCheck.Named)} files match"));
            }

            return v.Ok ? ExitCode.Success : ExitCode.ThresholdFailed;
        }));
        return command;
    }
}
