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
/// <param name="Key">The metric key.</param>
/// <param name="Kind">Whether the limit bounds it from above or below.</param>
/// <param name="Limit">The bound.</param>
/// <param name="Location">Where the file declared the metric (its key), when it was read from one.</param>
public sealed record Threshold(string Key, ThresholdKind Kind, double Limit, InputLocation? Location = null);

/// <summary>The outcome of one threshold: the measured value and whether it passed (NaN never passes).</summary>
public sealed record ThresholdVerdict(Threshold Threshold, double Actual, bool Passed);

/// <summary>
/// Thresholds declared before a run, in a JSON file mapping a metric key to its bound:
/// <c>{"ks_max": {"max": 0.1}, "privacy.share_closer_to_train": {"max": 0.55}, "per_series.EQ_US.std.synthetic": {"min": 0.001}}</c>.
/// A key may carry both <c>min</c> and <c>max</c>.
/// </summary>
public static class ThresholdCheck
{
    /// <summary>Parses a threshold file. Throws <see cref="InvalidInputException"/> for malformed JSON or unknown bounds, a
    /// folder (<c>not-a-file</c>), or a file that cannot be read (<c>unreadable</c>, also when access is denied).</summary>
    public static IReadOnlyList<Threshold> Load(string path)
    {
        try
        {
            return Parse(Data.IO.InputFile.ReadAllText(path), path); // a folder: not-a-file, from InputFile itself
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException("unreadable", $"{path}: {e.Message}", new InputLocation(path, 0, 0));
        }
    }

    /// <summary>
    /// Parses threshold JSON text; <paramref name="source"/> names it in error messages. Every refusal is an
    /// <see cref="InvalidInputException"/> at the offending token's line and column (from 1), with rule
    /// <c>malformed-json</c>, <c>non-finite</c>, <c>malformed-thresholds</c> (not an object of metric keys; a bound that
    /// is not min or max, or not a number), <c>empty-threshold</c> (a metric with neither min nor max, which checked
    /// nothing), <c>duplicate-key</c> (a metric or a bound given twice: JSON keeps one silently) or
    /// <c>min-above-max</c> (a range no value can pass).
    /// </summary>
    public static IReadOnlyList<Threshold> Parse(string json, string source = "thresholds")
    {
        ArgumentNullException.ThrowIfNull(json);
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        var lines = new Crucible.Data.IO.Utf8LineIndex(bytes);
        InputLocation At(long offset) => lines.Locate(source, offset);

        var reader = new Utf8JsonReader(bytes);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new InvalidInputException("malformed-thresholds", $"expected an object of metric keys", At(reader.TokenStartIndex));
            var list = new List<Threshold>();
            var metrics = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var metricAt = At(reader.TokenStartIndex);
                var metric = reader.GetString()!;
                if (!metrics.Add(metric))
                    throw new InvalidInputException("duplicate-key", $"'{metric}' appears twice (JSON would keep one silently)", metricAt);
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new InvalidInputException("malformed-thresholds", $"'{metric}' must be an object with min and/or max",
                        At(reader.TokenStartIndex));
                }

                var objectAt = At(reader.TokenStartIndex);
                (double Limit, InputLocation At)? min = null, max = null;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var boundAt = At(reader.TokenStartIndex);
                    var bound = reader.GetString()!;
                    var kind = bound switch
                    {
                        "max" => ThresholdKind.Max,
                        "min" => ThresholdKind.Min,
                        _ => throw new InvalidInputException("malformed-thresholds",
                            $"'{metric}' has bound '{bound}'; expected min or max", boundAt),
                    };
                    if ((kind == ThresholdKind.Max ? max : min) is not null)
                        throw new InvalidInputException("duplicate-key", $"'{metric}.{bound}' appears twice (JSON would keep one silently)", boundAt);
                    reader.Read();
                    var valueAt = At(reader.TokenStartIndex);
                    if (reader.TokenType != JsonTokenType.Number)
                        throw new InvalidInputException("malformed-thresholds", $"'{metric}.{bound}' must be a number", valueAt);
                    if (!reader.TryGetDouble(out var limit) || !double.IsFinite(limit))
                        throw new InvalidInputException("non-finite", $"'{metric}.{bound}' is not a finite number", valueAt);
                    if (kind == ThresholdKind.Max) max = (limit, valueAt);
                    else min = (limit, valueAt);
                    list.Add(new Threshold(metric, kind, limit, metricAt));
                }

                if (min is null && max is null)
                {
                    throw new InvalidInputException("empty-threshold",
                        $"'{metric}' declares no bound, so it would check nothing; give min and/or max", objectAt);
                }

                if (min is { } lo && max is { } hi && lo.Limit > hi.Limit)
                {
                    throw new InvalidInputException("min-above-max", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"'{metric}' has min {lo.Limit:R} above max {hi.Limit:R}: no value can pass"), lo.At);
                }
            }

            if (reader.Read()) throw new InvalidInputException("malformed-json", $"text after the thresholds object", At(reader.TokenStartIndex));
            return list;
        }
        catch (JsonException e)
        {
            throw Crucible.Data.IO.JsonNonFinite.Refusal(json, e, source) ?? new InvalidInputException("malformed-json", $"{e.Message}",
                new InputLocation(source, (e.LineNumber ?? -1) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
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
                throw new InvalidInputException("unknown-metric", $"threshold on '{t.Key}', which the report does not have{WhyAbsent(report, t.Key)}", t.Location);
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
