namespace Crucible.Data.Csv;

/// <summary>
/// Safe CSV writing helpers. Text cells that a spreadsheet would run as a formula (starting with <c>= + - @</c>,
/// or a tab or carriage return) are prefixed with a single quote (OWASP CSV injection guidance); numeric cells are
/// never touched, since <c>-</c> starts negative numbers. Cells containing the delimiter, a quote or a line break
/// are quoted with doubled quotes (RFC 4180).
/// </summary>
public static class CsvExport
{
    /// <summary>Escapes a free-text cell (for example a scenario label) for export.</summary>
    public static string EscapeTextCell(string text, char delimiter = ',')
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + text : text;
        var needsQuotes = value.Contains(delimiter, StringComparison.Ordinal) || value.Contains('"', StringComparison.Ordinal)
            || value.Contains('\n', StringComparison.Ordinal) || value.Contains('\r', StringComparison.Ordinal);
        return needsQuotes ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    /// <summary>Formats a numeric cell: shortest round-trip, invariant culture, never escaped.</summary>
    public static string FormatNumber(double value) =>
        value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
