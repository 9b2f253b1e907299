using System.Text.Json;
using System.Text.Json.Nodes;
using Crucible.Data.IO;
using Crucible.Stress.Ensembles;

namespace Crucible.Stress.Reporting;

/// <summary>
/// Writes an ensemble's outcome as JSON: <c>alpha</c>, <c>portfolio</c>, <c>thresholds</c> (max_es_spread,
/// max_wasserstein), <c>members</c> (name, scenarios, steps, var, es, cdar at α), <c>es_spread</c>,
/// <c>max_wasserstein</c>, the pairwise <c>wasserstein</c> matrix (members' order), <c>flagged</c> and <c>reasons</c>.
/// </summary>
public static class EnsembleJson
{
    /// <summary>
    /// What a run manifest records as the ensemble's outcome: <c>flagged</c>, <c>es_spread</c> and
    /// <c>max_wasserstein</c>. A degenerate ensemble (every ES 0, or constant P&amp;L) has a 0/0 spread or distance: null,
    /// as the report writes it (canonical JSON refuses NaN and infinities).
    /// </summary>
    public static JsonObject Outcome(EnsembleResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new JsonObject { ["flagged"] = result.Flagged, ["es_spread"] = Finite(result.EsSpread), ["max_wasserstein"] = Finite(result.MaxWasserstein) };
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>Writes the JSON atomically.</summary>
    public static void Write(EnsembleResult result, string path) => AtomicFile.WriteAllText(path, ToJson(result));

    /// <summary>The JSON text (indented, LF, trailing newline).</summary>
    public static string ToJson(EnsembleResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            StressJson.Number(w, "alpha", result.Alpha);
            w.WriteString("portfolio", result.Members[0].Stress.Portfolio.Name);
            w.WriteStartObject("thresholds");
            StressJson.Number(w, "max_es_spread", result.Thresholds.MaxEsSpread);
            StressJson.Number(w, "max_wasserstein", result.Thresholds.MaxWasserstein);
            w.WriteEndObject();
            w.WriteStartArray("members");
            foreach (var m in result.Members)
            {
                var level = m.Stress.Levels.Single(l => l.Alpha == result.Alpha);
                w.WriteStartObject();
                w.WriteString("name", m.Name);
                w.WriteNumber("scenarios", m.Stress.Scenarios);
                w.WriteNumber("steps", m.Stress.Steps.Max);
                StressJson.Number(w, "var", level.ValueAtRisk);
                StressJson.Number(w, "es", level.ExpectedShortfall);
                StressJson.Number(w, "cdar", level.ConditionalDrawdown);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            StressJson.Number(w, "es_spread", result.EsSpread);
            StressJson.Number(w, "max_wasserstein", result.MaxWasserstein);
            w.WriteStartArray("wasserstein");
            foreach (var row in result.Wasserstein)
            {
                w.WriteStartArray();
                foreach (var v in row) StressJson.Value(w, v);
                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteBoolean("flagged", result.Flagged);
            w.WriteStartArray("reasons");
            foreach (var r in result.Reasons) w.WriteStringValue(r);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
