using System.Text.Json;

namespace Crucible.Evaluation.Reporting;

/// <summary>
/// A section another library adds to an evaluation report (e.g. portfolio stress or a generator comparison): a key and
/// JSON value for <c>report.json</c>, and an HTML fragment (a <c>&lt;section&gt;</c>) for <c>report.html</c>. Sections are
/// written after the report's own keys, never instead of them.
/// </summary>
/// <param name="Key">The top-level key in report.json; must not be one of the report's own keys.</param>
/// <param name="Json">A complete JSON value (object or array), written as is.</param>
/// <param name="Html">A self-contained HTML fragment, appended to the page's body (no scripts, no external URLs).</param>
public sealed record ReportSection(string Key, string Json, string Html)
{
    /// <summary>Checks that <see cref="Json"/> parses and <see cref="Key"/> is not empty.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Key)) throw new ArgumentException("a report section needs a key");
        using var _ = JsonDocument.Parse(Json);
    }
}
