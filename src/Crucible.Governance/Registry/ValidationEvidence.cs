using System.Text.Json;
using Crucible.Data;

namespace Crucible.Governance.Registry;

/// <summary>
/// The evidence a model needs to become validated (MRM-5: "a model without a PASS record cannot be promoted"): an
/// evaluation report (<c>report.json</c> of <c>crucible evaluate --thresholds FILE</c>) whose declared thresholds all
/// passed. Its SHA-256 is what the registry records in the <c>model.status_changed</c> entry.
/// </summary>
public static class ValidationEvidence
{
    /// <summary>Checks that <paramref name="reportPath"/> records passed thresholds and returns its SHA-256.</summary>
    /// <exception cref="InvalidInputException">
    /// <c>REG-E-EVIDENCE</c>: the file is missing, not JSON, declares no thresholds, or a threshold failed.
    /// </exception>
    public static string Check(string reportPath)
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

            if (passed.ValueKind == JsonValueKind.False)
                throw new InvalidInputException("REG-E-EVIDENCE", "a declared threshold failed in this report: the model cannot be validated on it", where);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("REG-E-EVIDENCE", $"the evidence is not a JSON evaluation report: {e.Message}", where);
        }

        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
    }
}
