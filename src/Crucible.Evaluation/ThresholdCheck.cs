using System.Text.Json;
using Crucible.Data;

namespace Crucible.Evaluation;

/// <summary>Whether a threshold bounds a metric from above (<c>max</c>) or below (<c>min</c>).</summary>
public enum ThresholdKind
{
    /// <summary>The metric must be ≤ the limit.</summary>
    Max,

    /// <summary>The metric must be ≥ the limit.</summary>
    Min,
}

/// <summary>A declared threshold on one metric key (a dotted key of <see cref="EvaluationReport.ScalarMetrics"/>).</summary>
public sealed record Threshold(string Key, ThresholdKind Kind, double Limit);

/// <summary>The outcome of one threshold: the measured value and whether it passed (NaN never passes).</summary>
public sealed record ThresholdVerdict(Threshold Threshold, double Actual, bool Passed);

/// <summary>
/// Thresholds declared before a run, in a JSON file mapping a metric key to its bound:
/// <c>{"ks_max": {"max": 0.1}, "privacy.share_closer_to_train": {"max": 0.55}, "per_series.EQ_US.std.synthetic": {"min": 0.001}}</c>.
/// A key may carry both <c>min</c> and <c>max</c>.
/// </summary>
public static class ThresholdCheck
{
    /// <summary>Parses a threshold file. Throws <see cref="InvalidInputException"/> for malformed JSON or unknown bounds.</summary>
    public static IReadOnlyList<Threshold> Load(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path), path);
        }
        catch (IOException e)
        {
            throw new InvalidInputException("unreadable", $"{path}: {e.Message}", new InputLocation(path, 0, 0));
        }
    }

    /// <summary>Parses threshold JSON text; <paramref name="source"/> names it in error messages.</summary>
    public static IReadOnlyList<Threshold> Parse(string json, string source = "thresholds")
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw Crucible.Data.IO.JsonNonFinite.Refusal(json, e, source) ?? new InvalidInputException("malformed-json", $"{source}: {e.Message}",
                new InputLocation(source, (e.LineNumber ?? -1) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException("malformed-thresholds", $"{source}: expected an object of metric keys");
            var list = new List<Threshold>();
            foreach (var metric in doc.RootElement.EnumerateObject())
            {
                if (metric.Value.ValueKind != JsonValueKind.Object)
                    throw new InvalidInputException("malformed-thresholds", $"{source}: '{metric.Name}' must be an object with min and/or max");
                foreach (var bound in metric.Value.EnumerateObject())
                {
                    var kind = bound.Name switch
                    {
                        "max" => ThresholdKind.Max,
                        "min" => ThresholdKind.Min,
                        _ => throw new InvalidInputException("malformed-thresholds",
                            $"{source}: '{metric.Name}' has bound '{bound.Name}'; expected min or max"),
                    };
                    if (bound.Value.ValueKind != JsonValueKind.Number)
                        throw new InvalidInputException("malformed-thresholds", $"{source}: '{metric.Name}.{bound.Name}' must be a number");
                    list.Add(new Threshold(metric.Name, kind, bound.Value.GetDouble()));
                }
            }
            return list;
        }
    }

    /// <summary>
    /// Checks each threshold against the report. Throws <see cref="InvalidInputException"/> (rule <c>unknown-metric</c>)
    /// when a key is not a scalar metric of this report, e.g. a <c>privacy.*</c> key without a train set.
    /// </summary>
    public static IReadOnlyList<ThresholdVerdict> Evaluate(EvaluationReport report, IEnumerable<Threshold> thresholds)
    {
        var metrics = report.ScalarMetrics().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var verdicts = new List<ThresholdVerdict>();
        foreach (var t in thresholds)
        {
            if (!metrics.TryGetValue(t.Key, out var actual))
                throw new InvalidInputException("unknown-metric", $"threshold on '{t.Key}', which the report does not have{WhyAbsent(report, t.Key)}");
            var passed = t.Kind == ThresholdKind.Max ? actual <= t.Limit : actual >= t.Limit;
            verdicts.Add(new ThresholdVerdict(t, actual, passed));
        }
        return verdicts;
    }

    // why a key's section is missing from the report, when it is an optional section that was not computed
    private static string WhyAbsent(EvaluationReport report, string key) =>
        key.StartsWith("utility.", StringComparison.Ordinal) && report.Utility is null
            ? report.UtilitySkipped is { } why ? ": utility not computed (" + why + ")" : ": utility metrics need a train set"
        : key.StartsWith("privacy.", StringComparison.Ordinal) && report.Privacy is null ? ": privacy metrics need a train set"
        : key.StartsWith("coverage.", StringComparison.Ordinal) && report.Coverage is null ? ": coverage metrics need declared segments"
        : "";

    /// <summary>
    /// The verdict's measured value and limit as text for a reader (the report HTML, the CLI summary): 6 significant
    /// digits (G6, invariant culture), unless the two would then read the same while they differ, e.g. 0.1000004
    /// against a max of 0.1, a FAIL shown as "0.1 (max 0.1)": both are then written with the digits that tell them apart
    /// (round-trip "R"). NaN is "NaN".
    /// </summary>
    public static (string Value, string Limit) Display(ThresholdVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        static string Text(double v, string format) => double.IsNaN(v) ? "NaN" : v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
        var (value, limit) = (Text(verdict.Actual, "G6"), Text(verdict.Threshold.Limit, "G6"));
        return value == limit && !verdict.Actual.Equals(verdict.Threshold.Limit)
            ? (Text(verdict.Actual, "R"), Text(verdict.Threshold.Limit, "R"))
            : (value, limit);
    }

    /// <summary>True when every verdict passed (also for no verdicts).</summary>
    public static bool AllPassed(IEnumerable<ThresholdVerdict> verdicts) => verdicts.All(v => v.Passed);
}
