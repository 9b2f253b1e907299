using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Crucible.Evaluation.Reporting;

/// <summary>
/// The <c>privacy</c> object of an <c>evaluation.completed</c> audit entry (RELIABILITY.md PRIV-9: the privacy report in
/// the audit log with its hash), one function for <c>crucible evaluate</c> and the service's <c>POST /v1/evaluations</c>.
/// It carries hashes, verdicts, warnings and counts only: no data values.
/// </summary>
public static class PrivacyAuditEntry
{
    /// <summary>
    /// The entry's <c>privacy</c> object when <paramref name="report"/> has a privacy audit (<c>privacy.dcr_share</c>, …),
    /// else null: <c>privacy_sha256</c> (SHA-256 of the <c>privacy</c> object's bytes as they stand in
    /// <paramref name="reportJson"/>, the report's UTF-8 bytes), <c>holdout_sha256</c>, the gates' verdicts
    /// (<c>share_within_bound</c>, <c>ims_within_margin</c>, <c>nndr_synthetic_below_training</c>) and the split's
    /// <c>warnings</c>; and, when the section was measured on drawn rows (<see cref="EvaluationOptions.PrivacyRows"/>),
    /// <c>subsample</c> (<see cref="Subsample"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="reportJson"/> has no top-level <c>privacy</c> object.</exception>
    public static JsonObject? Of(EvaluationReport report, ReadOnlySpan<byte> reportJson)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Privacy?.Audit is not { } audit) return null;
        var reader = new Utf8JsonReader(reportJson);
        using var doc = JsonDocument.ParseValue(ref reader);
        if (!doc.RootElement.TryGetProperty("privacy", out var privacy) || privacy.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("the report JSON has no privacy object", nameof(reportJson));
        var section = Encoding.UTF8.GetBytes(privacy.GetRawText());
        var entry = new JsonObject
        {
            ["privacy_sha256"] = Convert.ToHexStringLower(SHA256.HashData(section)),
            ["holdout_sha256"] = audit.Split.HoldoutSha256,
            ["share_within_bound"] = audit.DcrShare.WithinBound,
            ["ims_within_margin"] = audit.Ims.WithinMargin,
            ["nndr_synthetic_below_training"] = audit.Nndr.SyntheticBelowTraining,
            ["warnings"] = new JsonArray([.. audit.Warnings.Select(w => (JsonNode?)w)]),
        };
        if (report.Privacy.Subsample is { } subsample) entry["subsample"] = Subsample(subsample);
        return entry;
    }

    /// <summary>
    /// A privacy subsample as the audit entry (and <c>evaluate --json</c>) records it: <c>limit</c>, <c>seed</c> (a decimal
    /// string: a 64-bit seed can exceed the 2^53 a canonical JSON number keeps exactly) and each set's <c>rows</c> given
    /// and <c>drawn</c> (<c>train</c>, <c>holdout</c>, <c>synthetic</c>); and, when the window DCR ran on drawn windows,
    /// <c>windows</c>: each set's <c>windows</c> given and <c>drawn</c>, as report.json's <c>privacy.subsample.windows</c>.
    /// </summary>
    public static JsonObject Subsample(Privacy.PrivacySubsample subsample)
    {
        ArgumentNullException.ThrowIfNull(subsample);
        static JsonObject Count(Privacy.SubsampleCount c, string unit) => new() { [unit] = c.Rows, ["drawn"] = c.Drawn };
        var result = new JsonObject
        {
            ["limit"] = subsample.Limit,
            ["seed"] = subsample.Seed.ToString(CultureInfo.InvariantCulture),
            ["train"] = Count(subsample.Train, "rows"),
            ["holdout"] = Count(subsample.Holdout, "rows"),
            ["synthetic"] = Count(subsample.Synthetic, "rows"),
        };
        if (subsample.Windows is { } windows)
        {
            result["windows"] = new JsonObject
            {
                ["train"] = Count(windows.Train, "windows"),
                ["holdout"] = Count(windows.Holdout, "windows"),
                ["synthetic"] = Count(windows.Synthetic, "windows"),
            };
        }

        return result;
    }
}
