using System.Globalization;
using System.Text;
using System.Text.Json;
using Crucible.Data.IO;
using Crucible.Evaluation.Reporting;
using Crucible.Stress.Reverse;
using Crucible.Stress.Risk;

namespace Crucible.Stress.Reporting;

/// <summary>Where the scenarios came from, echoed in the stress report.</summary>
/// <param name="File">The scenario file's path as given.</param>
/// <param name="Sha256">SHA-256 (hex) of its bytes.</param>
public sealed record ScenarioSource(string File, string Sha256);

/// <summary>
/// Writes a <see cref="StressResult"/> as JSON: <c>format</c>, <c>scenarios</c> {file, sha256, count, steps_min,
/// steps_max, series}, <c>portfolio</c> {name, leverage, capital, weights, alphas, <c>var</c>, <c>es</c>, <c>cdar</c>
/// (objects keyed by α), <c>tail_count</c>, <c>es_contributions</c> (α → series → contribution),
/// <c>es_group_contributions</c>, <c>var_amount</c>/<c>es_amount</c> with a capital}, and <c>horizon_return</c>
/// {mean, min, max}. α keys are the shortest round-trip invariant form (<c>"0.99"</c>). NaN is written as null.
/// </summary>
public static class StressJson
{
    /// <summary>Writes the JSON atomically.</summary>
    public static void Write(StressResult result, ScenarioSource source, string path, ReverseStressResult? reverse = null, AdversarialResult? adversarial = null) =>
        AtomicFile.WriteAllText(path, ToJson(result, source, reverse, adversarial));

    /// <summary>The α key of a level.</summary>
    public static string AlphaKey(double alpha) => alpha.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The result as indented JSON (LF, trailing newline).</summary>
    public static string ToJson(StressResult result, ScenarioSource source, ReverseStressResult? reverse = null, AdversarialResult? adversarial = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(source);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteString("format", "crucible-stress/1");
            w.WriteStartObject("scenarios");
            w.WriteString("file", source.File);
            w.WriteString("sha256", source.Sha256);
            w.WriteNumber("count", result.Scenarios);
            w.WriteNumber("steps_min", result.Steps.Min);
            w.WriteNumber("steps_max", result.Steps.Max);
            w.WriteStartArray("series");
            foreach (var s in result.Series) w.WriteStringValue(s);
            w.WriteEndArray();
            w.WriteEndObject();

            var p = result.Portfolio;
            w.WriteStartObject("portfolio");
            w.WriteString("name", p.Name);
            Number(w, "leverage", p.Leverage);
            if (p.Capital is { } c) Number(w, "capital", c);
            w.WriteStartObject("weights");
            foreach (var h in p.Holdings) Number(w, h.Series, h.Weight);
            w.WriteEndObject();
            w.WriteStartArray("alphas");
            foreach (var l in result.Levels) Value(w, l.Alpha);
            w.WriteEndArray();
            PerAlpha(w, "var", result, l => l.ValueAtRisk);
            PerAlpha(w, "es", result, l => l.ExpectedShortfall);
            PerAlpha(w, "cdar", result, l => l.ConditionalDrawdown);
            PerAlpha(w, "tail_count", result, l => l.TailCount);
            if (p.Capital is not null)
            {
                PerAlpha(w, "var_amount", result, l => l.ValueAtRiskAmount ?? double.NaN);
                PerAlpha(w, "es_amount", result, l => l.ExpectedShortfallAmount ?? double.NaN);
            }

            w.WriteStartObject("es_contributions");
            foreach (var l in result.Levels)
            {
                w.WriteStartObject(AlphaKey(l.Alpha));
                for (var i = 0; i < result.Series.Count; i++)
                {
                    if (result.Weights[i] != 0) Number(w, result.Series[i], l.SeriesContributions[i]);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            if (p.Groups.Count > 0)
            {
                w.WriteStartObject("es_group_contributions");
                foreach (var l in result.Levels)
                {
                    w.WriteStartObject(AlphaKey(l.Alpha));
                    foreach (var (name, v) in l.GroupContributions) Number(w, name, v);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteStartObject("horizon_return");
            Number(w, "mean", result.HorizonReturns.Average());
            Number(w, "min", result.HorizonReturns.Min());
            Number(w, "max", result.HorizonReturns.Max());
            w.WriteEndObject();
            if (reverse is not null) Reverse(w, reverse);
            if (adversarial is not null) Adversarial(w, adversarial);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>
    /// The <c>reverse</c> section: source, sampling, plausibility method, candidates, breaching, breach_rate,
    /// mean_loss, mean_attribution (series → part of the loss 1 − e^R, summing to mean_loss), mean_attribution_log (series
    /// → part of the log loss −R) (all three null when nothing breaches), and <c>scenarios</c>: the most plausible breaching ones (index, and from a scenario file
    /// the file's <c>scenario</c> id; loss, plausibility, attribution (parts of loss, summing to it), attribution_log
    /// (parts of −R), series_returns).
    /// </summary>
    internal static void Reverse(Utf8JsonWriter w, ReverseStressResult r)
    {
        w.WriteStartObject("reverse");
        w.WriteString("source", r.Generator);
        w.WriteString("sampling", r.Sampling);
        w.WriteString("plausibility", r.PlausibilityMethod);
        w.WriteNumber("candidates", r.Candidates);
        w.WriteNumber("breaching", r.Breaching);
        Number(w, "breach_rate", r.BreachRate);
        // mean_attribution is in the units of loss (fractions of capital) and sums to mean_loss; the log-loss parts it was
        // scaled from are mean_attribution_log
        Number(w, "mean_loss", r.MeanLoss);
        if (r.Breaching == 0)
        {
            // no breach, no mean: null like mean_loss, not an object of zeros
            w.WriteNull("mean_attribution");
            w.WriteNull("mean_attribution_log");
        }
        else
        {
            SeriesObject(w, "mean_attribution", r.Series, r.MeanAttribution);
            SeriesObject(w, "mean_attribution_log", r.Series, r.MeanAttributionLog);
        }

        Scenarios(w, r.Series, r.Top, r.ScenarioIds);
        Conditioning(w, r.Conditioning);
        if (r.Calibration is { } attempts)
        {
            w.WriteStartArray("recalibration");
            foreach (var a in attempts)
            {
                w.WriteStartObject();
                Number(w, "guidance_scale", a.GuidanceScale);
                Number(w, "breach_rate", a.BreachRate);
                Number(w, "median_plausibility", a.MedianPlausibility);
                w.WriteBoolean("passed", a.Passed);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    // the adversarial section: the plausibility floor, the ladder's log-loss targets, counts, and the worst plausible
    // scenarios (index, loss, plausibility, attribution, series_returns), largest loss first
    private static void Adversarial(Utf8JsonWriter w, AdversarialResult r)
    {
        w.WriteStartObject("adversarial");
        w.WriteString("plausibility", r.PlausibilityMethod);
        Number(w, "floor", r.Floor);
        w.WriteStartArray("log_loss_targets");
        foreach (var t in r.Targets) Value(w, t);
        w.WriteEndArray();
        w.WriteNumber("candidates", r.Candidates);
        w.WriteNumber("plausible", r.Plausible);
        Scenarios(w, r.Series, r.Worst);
        Conditioning(w, r.Conditioning);
        w.WriteEndObject();
    }

    // "conditions" {name: value}, "guidance" w (a model with condition inputs) and "stress" (when the request gave a
    // specification) of a model drawn under a request (absent otherwise, so that the reports of unconditioned runs are
    // what they always were)
    private static void Conditioning(Utf8JsonWriter w, ModelConditions? c)
    {
        if (c is null) return;
        w.WriteStartObject("conditions");
        foreach (var (name, value) in c.Conditions) Number(w, name, value);
        w.WriteEndObject();
        if (c.Guidance is { } guidance) Number(w, "guidance", guidance);
        if (c.Stress is { } stress) w.WriteString("stress", stress);
    }

    // "scenarios": index (1-based), the scenario id in the file the candidates came from (when they did), loss,
    // plausibility, attribution and series returns of each reported scenario
    private static void Scenarios(Utf8JsonWriter w, IReadOnlyList<string> series, IEnumerable<BreachingScenario> scenarios,
        IReadOnlyList<int>? scenarioIds = null)
    {
        w.WriteStartArray("scenarios");
        foreach (var s in scenarios)
        {
            w.WriteStartObject();
            w.WriteNumber("index", s.Index + 1);
            if (scenarioIds is not null) w.WriteNumber("scenario", scenarioIds[s.Index]);
            Number(w, "loss", s.Loss);
            Number(w, "plausibility", s.Plausibility);
            SeriesObject(w, "attribution", series, s.Attribution);
            SeriesObject(w, "attribution_log", series, s.AttributionLog);
            SeriesObject(w, "series_returns", series, s.SeriesReturns);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void SeriesObject(Utf8JsonWriter w, string name, IReadOnlyList<string> series, double[] values)
    {
        w.WriteStartObject(name);
        for (var i = 0; i < series.Count; i++) Number(w, series[i], values[i]);
        w.WriteEndObject();
    }

    private static void PerAlpha(Utf8JsonWriter w, string name, StressResult result, Func<RiskLevel, double> value)
    {
        w.WriteStartObject(name);
        foreach (var l in result.Levels) Number(w, AlphaKey(l.Alpha), value(l));
        w.WriteEndObject();
    }

    // doubles as the evaluation report writes them (null for NaN and ±∞)
    internal static void Number(Utf8JsonWriter w, string name, double value) => ReportJson.Number(w, name, value);

    internal static void Value(Utf8JsonWriter w, double value) => ReportJson.Value(w, value);
}
