using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Scenarios;
using Crucible.Diffusion.Sequence;
using Crucible.Diffusion.Tabular;
using Crucible.Evaluation.Reporting;
using Crucible.Governance;
using Crucible.Governance.Manifests;

namespace Crucible.Cli.Commands;

/// <summary>
/// <c>crucible verify-run MANIFEST [--home DIR [--public-key FILE] [--checkpoints FILE]] [--json]</c>: recomputes the
/// SHA-256 of every input and output file of a run manifest and compares; with <c>--home</c>, also checks what the pin of
/// the manifest in that home relies on (<see cref="RunPinVerifier"/>): the home's whole audit log verifies (the check of
/// <c>crucible audit verify</c>, signed checkpoints included), a <c>run.completed</c> entry pins the run, and both the
/// manifest file and the audit store's copy of it hash as pinned; each disagreement (chain broken, file edited, stored
/// copy edited or missing, unpinned) is named. Exit 0 when all match, 3 when one differs or is missing, 2 when the
/// manifest is unreadable or incomplete, or the home has no audit log. Named bytes of a service run (its request and
/// response bodies) are listed as such: there is no file to rehash. <c>--recompute</c> runs the run again (RELIABILITY
/// MRM-2: the independent validator recomputes the output): a generate run (<c>crucible generate</c>, the demo's
/// generate steps) draws the scenarios again from the manifest's model, config and seed (the CSV must be byte-identical,
/// the metadata too but for its creation time and library version, taken from the recorded file); a <c>crucible
/// evaluate</c> run evaluates its recorded inputs again (report.json and report.html byte-identical).
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
            Description = "With --home: the trusted public key PEM for the log's checkpoint signatures (default: HOME/keys/audit-checkpoint.pub.pem)",
        };
        var checkpoints = new Option<string>("--checkpoints")
        {
            Description = "With --home: the exported checkpoint file to check the log against (default: HOME/audit-checkpoints.jsonl)",
        };
        var recompute = new Option<bool>("--recompute")
        {
            Description = "Also run a generate run again from its manifest (model, config, seed) and compare the scenarios with the recorded output, byte for byte",
        };
        var command = new Command("verify-run", "Recompute a run manifest's file hashes and compare them (exit 3 on any difference)")
        {
            manifest, home, publicKey, checkpoints, recompute, json,
        };
        command.SetAction(parse => CliRunner.Run(parse, p =>
        {
            var path = p.GetValue(manifest)!;
            var v = ManifestVerifier.Verify(path);
            if (p.GetValue(home) is null && (p.GetValue(publicKey) is not null || p.GetValue(checkpoints) is not null))
                throw new Crucible.Data.InvalidInputException("OPT-E", "--public-key and --checkpoints check the audit log of --home: give --home too");
            var pin = p.GetValue(home) is { } dir
                ? RunPinVerifier.Verify(CrucibleHome.Resolve(dir), path, v.Manifest.RunId, p.GetValue(publicKey), p.GetValue(checkpoints))
                : null;
            var again = p.GetValue(recompute) ? Recompute(v.Manifest, path) : null;
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

    /// <summary>One output of a run drawn again: its recorded and recomputed SHA-256.</summary>
    internal sealed record Recomputed(string Path, string Expected, string Actual, string? Note = null)
    {
        public bool Matches => Expected == Actual;
    }

    /// <summary>
    /// Draws a generate run's scenarios again from the model its manifest names (the folder of its recorded
    /// <c>weights.safetensors</c>), its config and seed, through the code of <c>generate</c>; returns the CSV's recorded
    /// and recomputed hashes and, when the recorded metadata file is there, the metadata's, with its <c>created</c> time
    /// and <c>library_version</c> taken from that file (the fields a second run, possibly by a later build, cannot
    /// reproduce; a different library version is named in the result's note).
    /// </summary>
    internal static IReadOnlyList<Recomputed> Recompute(RunManifest m, string manifestPath)
    {
        var where = new InputLocation(manifestPath, 0, 0);
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(manifestPath))!;
        string Full(string p) => System.IO.Path.IsPathRooted(p) ? p : System.IO.Path.Combine(folder, p);
        if (m.Kind == "evaluate") return RecomputeEvaluation(m, Full, where);
        if (m.Kind == "train") return RecomputeTraining(m, Full, where);
        if (m.Kind != "generate")
            throw new InvalidInputException("VERIFY-E-RECOMPUTE", $"--recompute runs train, generate and evaluate runs again; run {m.RunId} is a '{m.Kind}' run", where);
        var weights = m.Inputs.FirstOrDefault(i => i.IsFile && System.IO.Path.GetFileName(i.Path) == DiffusionGenerator.WeightsFileName)
            ?? throw new InvalidInputException("VERIFY-E-RECOMPUTE", "the manifest names no model weights to generate with", where);
        var csv = m.Outputs.FirstOrDefault(o => o.IsFile && o.Path.EndsWith(".csv", StringComparison.Ordinal))
            ?? throw new InvalidInputException("VERIFY-E-RECOMPUTE", "the manifest names no scenario CSV to compare with", where);
        var model = System.IO.Path.GetDirectoryName(Full(weights.Path))!;
        var c = m.Config;
        T? Value<T>(string key) => c[key] is JsonValue v ? v.GetValue<T>() : default;
        string[]? conditions = c["conditions"] is JsonArray a ? [.. a.Select(x => x!.GetValue<string>())] : null;
        var generation = GenerateCommand.Generation.Load(model, Value<string>("sampler"), Value<int>("sampling_steps"), Value<double>("eta"),
            Value<string>("spacing") == "angle" ? DdimSpacing.UniformAngle : DdimSpacing.Linear);
        var set = generation.Draw(Value<int>("count"), m.Seed, conditions, Value<double?>("guidance"), Value<double?>("guidance_min_noise"),
            Value<double?>("regime_guidance"), Value<string>("stress"), model);
        var bytes = ScenarioCsv.Format(set.Values, set.Metadata.StepsPerScenario);
        var results = new List<Recomputed> { new(csv.Path, csv.Sha256, Sha(bytes)) };
        if (m.Outputs.FirstOrDefault(o => o.IsFile && o.Path.EndsWith(".meta.json", StringComparison.Ordinal)) is { } meta && File.Exists(Full(meta.Path)))
        {
            var recorded = JsonSerializer.Deserialize<ScenarioMetadata>(File.ReadAllText(Full(meta.Path)), DiffusionJson.Options)
                ?? throw new InvalidInputException("VERIFY-E-RECOMPUTE", "the recorded metadata file is empty", new InputLocation(Full(meta.Path), 0, 0));
            var created = DateTimeOffset.Parse(recorded.Created, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            var again = ScenarioCsv.Describe(set, bytes, System.IO.Path.GetFileName(csv.Path), created);
            string? note = again.LibraryVersion == recorded.LibraryVersion ? null
                : $"recorded by library {recorded.LibraryVersion}, drawn again by {again.LibraryVersion}: compared with the recorded version";
            var json = ScenarioCsv.ToJson(again with { LibraryVersion = recorded.LibraryVersion });
            results.Add(new(meta.Path, meta.Sha256, Sha(Encoding.UTF8.GetBytes(json)), note));
        }

        return results;
    }

    // an evaluate run (crucible evaluate) evaluated again from its recorded inputs (by their input_roles) and options; the
    // report and the page are functions of them, so both must come out byte-identical
    private static IReadOnlyList<Recomputed> RecomputeEvaluation(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (c["command"] is not JsonValue command || command.GetValue<string>() != "evaluate")
            throw new InvalidInputException("VERIFY-E-RECOMPUTE", $"--recompute runs crucible evaluate runs again; run {m.RunId} is '{c["command"]}' (the demo's evaluation step composes more sections)", where);
        if (c["input_roles"] is not JsonArray roles || roles.Count != m.Inputs.Count)
            throw new InvalidInputException("VERIFY-E-RECOMPUTE", "the manifest does not name its inputs' roles (input_roles): it was written by an earlier version", where);
        var byRole = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < roles.Count; i++) byRole[roles[i]!.GetValue<string>()] = full(m.Inputs[i].Path);
        T? Value<T>(string key) => c[key] is JsonValue v ? v.GetValue<T>() : default;
        string? Role(string role) => byRole.TryGetValue(role, out var p) ? p : null;
        var segments = Value<string>("segments") switch { "default" => "default", "file" => Role("segments"), _ => null };
        string[]? sensitive = c["sensitive"] is JsonArray a ? [.. a.Select(x => x!.GetValue<string>())] : null;
        var request = new EvaluateCommand.EvaluationRequest(Role("real")!, Role("synthetic")!, Role("train"), Role("thresholds"), segments, sensitive,
            Value<int>("shadow_models"), Value<int?>("shadow_steps"), Role("model_weights") is { } w ? System.IO.Path.GetDirectoryName(w) : null,
            Value<double>("alpha"));
        var (report, verdicts) = request.Prepare().Evaluate();
        var results = new List<Recomputed>();
        foreach (var output in m.Outputs.Where(o => o.IsFile))
        {
            string? text = output.Path.EndsWith(".html", StringComparison.OrdinalIgnoreCase) ? ReportHtml.ToHtml(report, verdicts)
                : output.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ReportJson.ToJson(report, verdicts) : null;
            if (text is not null) results.Add(new(output.Path, output.Sha256, Sha(new UTF8Encoding(false).GetBytes(text))));
        }

        return results.Count > 0 ? results : throw new InvalidInputException("VERIFY-E-RECOMPUTE", "the manifest names no report to compare with", where);
    }

    // a train run (crucible train, either kind) trained again from its recorded data, state file and final options:
    // training is deterministic, so the weights must come out byte-identical, and the model manifest too but for its
    // library_version (taken from the recorded manifest, like a scenario's metadata)
    private static IReadOnlyList<Recomputed> RecomputeTraining(RunManifest m, Func<string, string> full, InputLocation where)
    {
        var c = m.Config;
        if (c["command"] is not JsonValue command || command.GetValue<string>() != "train" || c["generator"] is not JsonObject generator)
            throw new InvalidInputException("VERIFY-E-RECOMPUTE", $"--recompute runs crucible train runs again; run {m.RunId} was not recorded by crucible train", where);
        T? Value<T>(string key) => c[key] is JsonValue v ? v.GetValue<T>() : default;
        string data = full(m.Inputs[0].Path);
        var input = Enum.Parse<InputKind>(Value<string>("input") ?? nameof(InputKind.Prices));
        var (train, all, _) = TrainCommand.ReadReturns(data, input, Value<string>("columns"), TrainCommand.TrainEndOf(Value<string>("train_end")));
        var provenance = DataProvenance.FromFile(data, input);
        byte[] weights;
        Func<string, byte[]> manifest; // the model manifest's bytes with a given library version
        if (Value<string>("kind") == SequenceGenerator.KindName)
        {
            var options = generator.Deserialize<SequenceGeneratorOptions>(DiffusionJson.Options)!;
            var state = m.Inputs.Count > 1 ? SequenceState.Load(full(m.Inputs[1].Path)) : null;
            var names = Value<string>("state_columns")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var calibration = Value<string>("calibrate_guidance") is { } episode
                ? SequenceTraining.CalibrationFor(episode, Value<string>("calibration_rule") is { } rule ? SequenceTraining.RuleOf(rule) : null)
                : null;
            var trained = SequenceTraining.Train(train, all, options, state, names, calibration, provenance).Generator;
            weights = trained.WeightsBytes();
            manifest = version => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(trained.Manifest with { LibraryVersion = version }, DiffusionJson.Options) + "\n");
        }
        else
        {
            var options = generator.Deserialize<DiffusionGeneratorOptions>(DiffusionJson.Options)!;
            var trained = new DiffusionGenerator(options).Fit(train, provenance);
            weights = trained.WeightsBytes();
            manifest = version => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(trained.Manifest with { LibraryVersion = version }, DiffusionJson.Options) + "\n");
        }

        var results = new List<Recomputed>();
        foreach (var output in m.Outputs.Where(o => o.IsFile))
        {
            switch (System.IO.Path.GetFileName(output.Path))
            {
                case DiffusionGenerator.WeightsFileName:
                    results.Add(new(output.Path, output.Sha256, Sha(weights)));
                    break;
                case DiffusionGenerator.ManifestFileName:
                    string path = full(output.Path);
                    string? recorded = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?["library_version"]?.GetValue<string>() : null;
                    string current = DiffusionGenerator.LibraryVersion;
                    results.Add(new(output.Path, output.Sha256, Sha(manifest(recorded ?? current)),
                        recorded is not null && recorded != current ? $"recorded by library {recorded}, trained again by {current}: compared with the recorded version" : null));
                    break;
            }
        }

        return results.Count > 0 ? results : throw new InvalidInputException("VERIFY-E-RECOMPUTE", "the manifest names no model files to compare with", where);
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

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

        if (c.Pinned is null)
        {
            yield return $"UNPINNED  manifest: no run.completed entry pins run {c.RunId} in the audit log";
            yield break;
        }

        var blame = chain.Ok;
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
        PinProblem.StoredCopyEdited => "stored copy edited",
        _ => "stored copy missing",
    };

    private static string Snake(PinProblem problem) => problem switch
    {
        PinProblem.ChainBroken => "chain_broken",
        PinProblem.Unpinned => "unpinned",
        PinProblem.FileEdited => "file_edited",
        PinProblem.StoredCopyEdited => "stored_copy_edited",
        _ => "stored_copy_missing",
    };
}
