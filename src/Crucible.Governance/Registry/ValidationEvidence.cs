using System.Globalization;
using System.Text.Json;
using Crucible.Data;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Registry;

/// <summary>
/// The evidence a model needs to become validated (MRM-5: thresholds predeclared in config, their hash in the manifest;
/// "a model without a PASS record cannot be promoted"). A report file is accepted only when all of these hold:
/// <list type="number">
/// <item>the audit log of the home verifies (hash chain and signed checkpoints), and it records the report: an
/// <c>evaluation.completed</c> entry whose <c>report_sha256</c> is the SHA-256 of the file, closed by the
/// <c>run.completed</c> entry of the same evaluate run, whose stored run manifest lists the report among its outputs
/// (a hand-written or changed file has no such record);</item>
/// <item>thresholds were declared for that run: the entry's <c>thresholds_sha256</c> is set, the run manifest lists an
/// input with that hash (the thresholds file, read before the run), and the entry says they passed;</item>
/// <item>the report's <c>thresholds.verdicts</c> is non-empty and every verdict passed (a thresholds file that declares
/// nothing proves nothing);</item>
/// <item>the evaluation was of THIS model: its run manifest names the model id, or the synthetic file it evaluated is the
/// output of a <c>scenarios.generated</c> entry of this model recorded before the evaluation.</item>
/// </list>
/// The report's SHA-256 is what the registry records in the <c>model.status_changed</c> entry.
/// </summary>
public static class ValidationEvidence
{
    /// <summary>
    /// Checks that <paramref name="reportPath"/> is the passing, recorded evaluation report of model
    /// <paramref name="modelId"/> in <paramref name="log"/> (see the class summary) and returns its SHA-256.
    /// </summary>
    /// <exception cref="InvalidInputException">
    /// <c>REG-E-EVIDENCE</c> with the reason: the file is missing or not a report, declares no thresholds or no verdicts,
    /// a threshold failed, the audit log does not verify, the report is not recorded by an evaluation (forged or changed),
    /// the run declared no thresholds, or the evaluation was of another model or of data not tied to this model.
    /// </exception>
    public static string Check(string reportPath, string modelId, AuditLog log)
    {
        ArgumentNullException.ThrowIfNull(reportPath);
        var sha = CheckVerdicts(reportPath);
        CheckRecorded(sha, modelId, log, new InputLocation(reportPath, 0, 0));
        return sha;
    }

    /// <summary>
    /// The audit log's part of <see cref="Check"/> for a report whose SHA-256 is <paramref name="reportSha256"/>: the log
    /// verifies, an evaluation of model <paramref name="modelId"/> with predeclared, passed thresholds wrote that report,
    /// and its pinned run manifest lists the thresholds file and the report. <see cref="ModelRegistry.ChangeStatus"/> runs
    /// it for every change to validated, so no caller of the library validates on an unrecorded hash.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>REG-E-EVIDENCE</c> with the reason.</exception>
    public static void CheckRecorded(string reportSha256, string modelId, AuditLog log, InputLocation? where = null)
    {
        ArgumentNullException.ThrowIfNull(reportSha256);
        ArgumentNullException.ThrowIfNull(modelId);
        ArgumentNullException.ThrowIfNull(log);
        var sha = reportSha256;
        string Short(string h) => h[..Math.Min(16, h.Length)] + "…";

        var verification = log.VerifyStored();
        if (!verification.Ok)
            throw new InvalidInputException("REG-E-EVIDENCE",
                $"the audit log does not verify ({verification.Problem}): no evidence can be read from it until `crucible audit verify` passes", where);

        var entries = log.List();
        var evaluation = entries.LastOrDefault(e => e.Kind == AuditKind.EvaluationCompleted.WireName() && Str(e, "report_sha256") == sha)
            ?? throw new InvalidInputException("REG-E-EVIDENCE",
                $"no evaluation in the audit log wrote a report with SHA-256 {Short(sha)}: the evidence must be a report.json written by " +
                "`crucible evaluate --thresholds FILE` in this home, unchanged (a hand-written or edited file has no record)", where);

        var thresholdsSha = Str(evaluation, "thresholds_sha256");
        if (!FileHash.IsSha256Hex(thresholdsSha) || Bool(evaluation, "thresholds_passed") != true)
            throw new InvalidInputException("REG-E-EVIDENCE",
                $"the evaluation at audit entry {evaluation.Seq.ToString(CultureInfo.InvariantCulture)} declared no thresholds or did not pass them", where);

        // the run.completed that closed the same evaluate run (appended in the same transaction, right after it)
        var completed = entries.FirstOrDefault(e => e.Seq > evaluation.Seq && e.Kind == AuditKind.RunCompleted.WireName()
                                                    && Str(e, "command") == "evaluate" && Str(e, "report_sha256") == sha)
            ?? throw new InvalidInputException("REG-E-EVIDENCE", $"the evaluation at audit entry {evaluation.Seq.ToString(CultureInfo.InvariantCulture)} has no run manifest", where);
        var runId = Str(completed, "run_id") ?? "";
        var manifestBytes = log.ReadRunManifest(runId)
            ?? throw new InvalidInputException("REG-E-EVIDENCE", $"the run manifest of evaluation run {runId} is not in the audit store", where);
        if (Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(manifestBytes)) != Str(completed, "manifest_sha256"))
            throw new InvalidInputException("REG-E-EVIDENCE", $"the stored run manifest of evaluation run {runId} is not the one the audit log pinned", where);
        var manifest = Manifests.RunManifest.Parse(manifestBytes);
        if (!manifest.Inputs.Any(f => f.Sha256 == thresholdsSha))
            throw new InvalidInputException("REG-E-EVIDENCE",
                $"the run manifest of evaluation run {runId} does not list the thresholds file {Short(thresholdsSha!)}: the thresholds were not predeclared inputs", where);
        if (!manifest.Outputs.Any(f => f.Sha256 == sha))
            throw new InvalidInputException("REG-E-EVIDENCE", $"the run manifest of evaluation run {runId} does not list this report among its outputs", where);

        // scenarios recorded as drawn from an unregistered folder (registered: false) count for this model only when that
        // folder's manifest is the registered one (generated before the folder was registered); not when the folder has
        // this model's weights with another manifest (another model under the same id)
        var registeredManifest = entries.LastOrDefault(e => e.Kind == AuditKind.ModelRegistered.WireName() && Str(e, "model_id") == modelId) is { } r
            ? Str(r, "manifest_sha256") : null;
        bool OfRegisteredManifest(AuditEntry e) => Bool(e, "registered") != false || (registeredManifest is not null && Str(e, "model_manifest_sha256") == registeredManifest);

        // tied to this model: the run names it, or it evaluated scenarios that this model generated (before it)
        var runModel = manifest.ModelId;
        if (runModel is not null && runModel != modelId)
            throw new InvalidInputException("REG-E-EVIDENCE", $"the report evaluates model {Short(runModel)}, not {Short(modelId)}", where);
        if (runModel is null)
        {
            var synthetic = Str(evaluation, "synthetic_sha256");
            var generated = entries
                .Where(e => e.Seq < evaluation.Seq && e.Kind == AuditKind.ScenariosGenerated.WireName() && Str(e, "csv_sha256") == synthetic)
                .ToList();
            if (!generated.Any(e => Str(e, "model_id") == modelId && OfRegisteredManifest(e)))
            {
                var generators = generated.Select(e => Str(e, "model_id")).Distinct(StringComparer.Ordinal).ToList();
                throw new InvalidInputException("REG-E-EVIDENCE", generators.Contains(modelId)
                    ? $"the report evaluates scenarios drawn from a folder with the weights of model {Short(modelId)} but another manifest.json "
                      + "(recorded as registered: false): another model under the same id, not this registered one"
                    : generators.Count > 0
                    ? $"the report evaluates scenarios generated by model {Short(generators[0]!)}, not by {Short(modelId)}"
                    : $"nothing in the audit log ties this report to model {Short(modelId)}: evaluate scenarios that this model generated (crucible generate) in this home", where);
            }
        }
    }

    /// <summary>
    /// The report file's own part of the check: JSON with a <c>thresholds</c> section whose <c>verdicts</c> are non-empty
    /// and all passed, consistent with its <c>passed</c> flag. Returns the file's SHA-256.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>REG-E-EVIDENCE</c>.</exception>
    public static string CheckVerdicts(string reportPath)
    {
        ArgumentNullException.ThrowIfNull(reportPath);
        var where = new InputLocation(reportPath, 0, 0);
        if (!File.Exists(reportPath)) throw new InvalidInputException("REG-E-EVIDENCE", $"{reportPath} does not exist", where);
        var bytes = File.ReadAllBytes(reportPath);
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("thresholds", out var thresholds)
                || thresholds.ValueKind != JsonValueKind.Object
                || !thresholds.TryGetProperty("passed", out var passed)
                || passed.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw new InvalidInputException("REG-E-EVIDENCE",
                    "the report declares no thresholds: validate against predeclared thresholds (crucible evaluate --thresholds FILE)", where);
            }

            if (!thresholds.TryGetProperty("verdicts", out var verdicts) || verdicts.ValueKind != JsonValueKind.Array || verdicts.GetArrayLength() == 0)
                throw new InvalidInputException("REG-E-EVIDENCE", "the report has no threshold verdicts: a thresholds file that declares no metric proves nothing", where);
            foreach (var v in verdicts.EnumerateArray())
            {
                var ok = v.ValueKind == JsonValueKind.Object && v.TryGetProperty("passed", out var p) && p.ValueKind == JsonValueKind.True;
                if (!ok)
                {
                    var key = v.ValueKind == JsonValueKind.Object && v.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : "?";
                    throw new InvalidInputException("REG-E-EVIDENCE", $"threshold {key} failed in this report: the model cannot be validated on it", where);
                }
            }

            if (passed.ValueKind == JsonValueKind.False)
                throw new InvalidInputException("REG-E-EVIDENCE", "a declared threshold failed in this report: the model cannot be validated on it", where);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("REG-E-EVIDENCE", $"the evidence is not a JSON evaluation report: {e.Message}", where);
        }

        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
    }

    private static string? Str(AuditEntry e, string key)
    {
        using var doc = JsonDocument.Parse(e.Payload);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;
    }

    private static bool? Bool(AuditEntry e, string key)
    {
        using var doc = JsonDocument.Parse(e.Payload);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var v)
            ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null }
            : null;
    }
}
