using System.Text.Json;

namespace Crucible.Evaluation.Tests;

/// <summary>Loads the committed fixtures and compares report JSON with the reference scripts' JSON.</summary>
internal static class Fixtures
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    public static SeriesSet Load(string name) => SeriesSetCsv.Read(PathOf(name));

    public static JsonElement Expected(string name) => JsonDocument.Parse(File.ReadAllText(PathOf(name))).RootElement;

    /// <summary>
    /// Every number in <paramref name="expected"/> must be found at the same path in <paramref name="actual"/> and agree
    /// within <c>rel·|e| + 1e-15</c> (a per-key tolerance overrides <paramref name="rel"/>); null must match null.
    /// Returns the number of leaves compared; failures are collected and reported together.
    /// </summary>
    public static int AssertAgrees(JsonElement expected, JsonElement actual, double rel, Func<string, double?>? tolerance = null,
        ISet<string>? skip = null)
    {
        var failures = new List<string>();
        var count = 0;
        void Walk(JsonElement e, JsonElement a, string path, string leafKey)
        {
            if (skip is not null && skip.Contains(leafKey)) return;
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        if (a.ValueKind != JsonValueKind.Object || !a.TryGetProperty(p.Name, out var child))
                        {
                            failures.Add($"{path}.{p.Name}: missing");
                            continue;
                        }
                        Walk(p.Value, child, path + "." + p.Name, p.Name);
                    }
                    break;
                case JsonValueKind.Array:
                    if (a.ValueKind != JsonValueKind.Array || a.GetArrayLength() != e.GetArrayLength())
                    {
                        failures.Add($"{path}: array length differs");
                        return;
                    }
                    for (var i = 0; i < e.GetArrayLength(); i++) Walk(e[i], a[i], $"{path}[{i}]", leafKey);
                    break;
                case JsonValueKind.Number:
                    count++;
                    if (a.ValueKind != JsonValueKind.Number)
                    {
                        failures.Add($"{path}: expected {e.GetDouble()}, got {a}");
                        return;
                    }
                    var ev = e.GetDouble();
                    var av = a.GetDouble();
                    var r = tolerance?.Invoke(leafKey) ?? rel;
                    if (!(Math.Abs(av - ev) <= r * Math.Abs(ev) + 1e-15))
                        failures.Add($"{path}: expected {ev:R}, got {av:R} (rel {Math.Abs(av - ev) / Math.Abs(ev):E2})");
                    break;
                case JsonValueKind.Null:
                    count++;
                    if (a.ValueKind != JsonValueKind.Null) failures.Add($"{path}: expected null (NaN), got {a}");
                    break;
                case JsonValueKind.String:
                    if (a.ValueKind != JsonValueKind.String || a.GetString() != e.GetString()) failures.Add($"{path}: string differs");
                    break;
                default:
                    break;
            }
        }
        Walk(expected, actual, "$", "");
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} values differ:\n" + string.Join("\n", failures.Take(40)));
        return count;
    }
}
