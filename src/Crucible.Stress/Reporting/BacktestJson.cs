using System.Globalization;
using System.Text;
using System.Text.Json;
using Crucible.Data.IO;
using Crucible.Evaluation.Risk;
using Crucible.Stress.Backtesting;

namespace Crucible.Stress.Reporting;

/// <summary>
/// Writes walk-forward backtests as JSON: <c>alpha</c>, <c>test_days</c>, <c>samples</c>, <c>portfolio</c>, and per
/// generator its <c>years</c> (year, train_start, train_end, train_rows,
/// var_first/var_mean/var_min/var_max, observations, exceptions, kupiec_lr, kupiec_p, christoffersen, zone, zone_bounds: the
/// Basel zones for that year's test rows at alpha, <see cref="Crucible.Evaluation.Risk.VarBacktest.Bounds"/>: yellow_from,
/// red_from and their text, e.g. "green 0–4, yellow 5–9, red ≥10 for 250 observations at 99%") and <c>pooled</c>
/// (observations, exceptions, kupiec_lr, kupiec_p, christoffersen). <c>christoffersen</c> holds the transition counts
/// n00, n01, n10, n11 of the exception days, independence_lr, independence_p, conditional_coverage_lr and
/// conditional_coverage_p (null statistics for fewer than two days).
/// </summary>
public static class BacktestJson
{
    /// <summary>Writes the JSON atomically.</summary>
    public static void Write(IReadOnlyList<WalkForwardResult> results, WalkForwardOptions options, string portfolio, string path) =>
        AtomicFile.WriteAllText(path, ToJson(results, options, portfolio));

    /// <summary>The JSON text (indented, LF, trailing newline).</summary>
    public static string ToJson(IReadOnlyList<WalkForwardResult> results, WalkForwardOptions options, string portfolio)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(options);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            StressJson.Number(w, "alpha", options.Alpha);
            w.WriteNumber("test_days", options.TestDays);
            w.WriteNumber("samples", options.Samples);
            w.WriteNumber("seed", options.Seed);
            w.WriteString("portfolio", portfolio);
            w.WriteStartArray("generators");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Generator);
                w.WriteBoolean("daily_update", r.DailyUpdate);
                w.WriteStartArray("years");
                foreach (var y in r.Years)
                {
                    w.WriteStartObject();
                    w.WriteNumber("year", y.Year);
                    w.WriteString("train_start", y.TrainStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    w.WriteString("train_end", y.TrainEnd.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    w.WriteNumber("train_rows", y.TrainRows);
                    StressJson.Number(w, "var_first", y.ValueAtRisk[0]);
                    StressJson.Number(w, "var_mean", y.ValueAtRisk.Average());
                    StressJson.Number(w, "var_min", y.ValueAtRisk.Min());
                    StressJson.Number(w, "var_max", y.ValueAtRisk.Max());
                    w.WriteNumber("observations", y.Result.Observations);
                    w.WriteNumber("exceptions", y.Result.Exceptions);
                    StressJson.Number(w, "kupiec_lr", y.Result.KupiecStatistic);
                    StressJson.Number(w, "kupiec_p", y.Result.KupiecPValue);
                    Crucible.Evaluation.Reporting.ReportJson.Christoffersen(w, y.Christoffersen);
                    w.WriteString("zone", y.Result.Zone.WireName());
                    Crucible.Evaluation.Reporting.ReportJson.ZoneBounds(w, Crucible.Evaluation.Risk.VarBacktest.Bounds(y.Result.Observations, options.Alpha));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartObject("pooled");
                w.WriteNumber("observations", r.Pooled.Observations);
                w.WriteNumber("exceptions", r.Pooled.Exceptions);
                StressJson.Number(w, "kupiec_lr", r.Pooled.KupiecStatistic);
                StressJson.Number(w, "kupiec_p", r.Pooled.KupiecPValue);
                Crucible.Evaluation.Reporting.ReportJson.Christoffersen(w, r.Pooled.Christoffersen);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
