using System.Globalization;
using System.Text.Json;
using Crucible.Data;
using Crucible.Diffusion.Tabular;

namespace Crucible.Diffusion.Conditioning;

/// <summary>
/// The condition features a sequence model is conditioned on, with what a stress specification needs to resolve
/// names and relative shifts: each feature's name, its training mean and standard deviation, a reference state (the
/// last training state, the base of relative shifts), the crisis archetypes, and aliases ("vol" → "RV20",
/// "vix" → "VIXCLS"). Names, aliases and archetype names are matched case-insensitively.
/// </summary>
public sealed class ConditionSpace
{
    /// <summary>
    /// The aliases offered by default, each kept only when its target is one of the features and its name is not: vol → RV20,
    /// vix → VIXCLS, rate → DFF, credit → BAA10Y, hy → BAMLH0A0HYM2 (feature names themselves match in any case, so
    /// "term" already finds TERM).
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultAliases { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["vol"] = "RV20",
        ["vix"] = "VIXCLS",
        ["rate"] = "DFF",
        ["credit"] = "BAA10Y",
        ["hy"] = "BAMLH0A0HYM2",
    };

    private readonly Dictionary<string, int> _index = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _archetypeNames = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A condition space. <paramref name="archetypes"/> map archetype → feature → value (features among
    /// <paramref name="names"/>); <paramref name="aliases"/> map alias → feature name (null: the
    /// <see cref="DefaultAliases"/> whose target exists). Throws <see cref="InvalidInputException"/> on inconsistent input.
    /// </summary>
    public ConditionSpace(
        IReadOnlyList<string> names,
        IReadOnlyList<double> mean,
        IReadOnlyList<double> std,
        IReadOnlyList<double> reference,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? archetypes = null,
        IReadOnlyDictionary<string, string>? aliases = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        ArgumentNullException.ThrowIfNull(reference);
        if (names.Count == 0) throw Error("a condition space needs at least one feature");
        if (mean.Count != names.Count || std.Count != names.Count || reference.Count != names.Count)
            throw Error(string.Create(CultureInfo.InvariantCulture, $"{names.Count} features but {mean.Count} means, {std.Count} standard deviations and {reference.Count} reference values"));
        for (int i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i])) throw Error(string.Create(CultureInfo.InvariantCulture, $"feature {i} has no name"));
            if (!_index.TryAdd(names[i], i)) throw Error($"feature names must differ (ignoring case): '{names[i]}'");
            if (!double.IsFinite(mean[i]) || !double.IsFinite(reference[i])) throw Error($"feature '{names[i]}' has a non-finite mean or reference value");
            if (!(std[i] >= 0) || !double.IsFinite(std[i])) throw Error(string.Create(CultureInfo.InvariantCulture, $"feature '{names[i]}' has an invalid standard deviation {std[i]}"));
        }

        Names = names.ToArray();
        Mean = mean.ToArray();
        Std = std.ToArray();
        Reference = reference.ToArray();

        var aliasMap = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (alias, target) in aliases ?? DefaultAliases)
        {
            if (aliases is null && _index.ContainsKey(alias)) continue; // a feature of that name wins over a built-in alias
            if (!_index.TryGetValue(target, out int i))
            {
                if (aliases is null) continue;
                throw Error($"alias '{alias}' points to '{target}', which is not a feature");
            }

            if (!_index.TryAdd(alias, i)) throw Error($"alias '{alias}' is already a feature or alias name");
            aliasMap[alias] = Names[i];
        }

        Aliases = aliasMap;

        var archetypeMap = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var (name, vector) in archetypes ?? new Dictionary<string, IReadOnlyDictionary<string, double>>())
        {
            if (string.IsNullOrWhiteSpace(name) || name.Contains('=', StringComparison.Ordinal)) throw Error($"invalid archetype name '{name}'");
            if (_index.ContainsKey(name)) throw Error($"archetype '{name}' has the name of a feature or alias");
            if (!_archetypeNames.TryAdd(name, name)) throw Error($"archetype names must differ (ignoring case): '{name}'");
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (feature, value) in vector)
            {
                if (!_index.TryGetValue(feature, out int i) || Aliases.ContainsKey(feature)) throw Error($"archetype '{name}' sets '{feature}', which is not a feature");
                if (!double.IsFinite(value)) throw Error($"archetype '{name}' has a non-finite value for '{feature}'");
                values[Names[i]] = value;
            }

            archetypeMap[name] = values;
        }

        Archetypes = archetypeMap;
    }

    /// <summary>The feature names, in model order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Each feature's mean over the training period.</summary>
    public IReadOnlyList<double> Mean { get; }

    /// <summary>Each feature's standard deviation over the training period (sample, n − 1): the unit of <c>sd</c> shifts.</summary>
    public IReadOnlyList<double> Std { get; }

    /// <summary>The reference state (the last training state): the base of relative shifts.</summary>
    public IReadOnlyList<double> Reference { get; }

    /// <summary>Archetype → feature → value.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Archetypes { get; }

    /// <summary>Alias → feature name.</summary>
    public IReadOnlyDictionary<string, string> Aliases { get; }

    /// <summary>
    /// A condition space from a frame of condition features (e.g. EconomicState.Build's output): mean and standard
    /// deviation over the rows dated on or before <paramref name="trainEnd"/> (all rows when null), the reference state
    /// from the last of those rows, and the <see cref="CrisisArchetypes"/> from the whole frame (an archetype describes
    /// a historical episode, whether or not the model trained on it). Non-finite values are skipped.
    /// </summary>
    public static ConditionSpace Fit(TimeSeriesFrame features, DateOnly? trainEnd = null, IReadOnlyDictionary<string, string>? aliases = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        int rows = trainEnd is DateOnly end ? features.IndexAtOrBefore(end) + 1 : features.RowCount;
        if (trainEnd is not null && features.Dates.Length == 0) throw Error("a training end date needs a dated feature frame");
        if (rows < 2) throw Error(string.Create(CultureInfo.InvariantCulture, $"a condition space needs at least two training rows, found {rows}"));
        int d = features.ColumnCount;
        var mean = new double[d];
        var std = new double[d];
        var reference = new double[d];
        for (int c = 0; c < d; c++)
        {
            double sum = 0;
            int n = 0;
            for (int r = 0; r < rows; r++)
            {
                double v = features[r, c];
                if (!double.IsFinite(v)) continue;
                sum += v;
                n++;
            }

            if (n < 2) throw Error($"feature '{features.Columns[c]}' has fewer than two finite training values");
            mean[c] = sum / n;
            double ss = 0;
            for (int r = 0; r < rows; r++)
            {
                double v = features[r, c];
                if (double.IsFinite(v)) ss += (v - mean[c]) * (v - mean[c]);
            }

            std[c] = Math.Sqrt(ss / (n - 1));
            int last = rows - 1;
            while (last >= 0 && !double.IsFinite(features[last, c])) last--;
            reference[c] = features[last, c];
        }

        var archetypes = features.Dates.Length == 0 ? null : CrisisArchetypes.Compute(features);
        return new ConditionSpace(features.Columns, mean, std, reference, archetypes, aliases);
    }

    /// <summary>The index of a feature given by its name or an alias (case-insensitive), or −1.</summary>
    public int IndexOf(string nameOrAlias)
    {
        ArgumentNullException.ThrowIfNull(nameOrAlias);
        return _index.TryGetValue(nameOrAlias.Trim(), out int i) ? i : -1;
    }

    /// <summary>The archetype's canonical name (case-insensitive match), or null.</summary>
    public string? FindArchetype(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _archetypeNames.TryGetValue(name.Trim(), out var canonical) ? canonical : null;
    }

    /// <summary>The known names for error messages: features, aliases (alias → feature) and archetypes.</summary>
    public string Describe()
    {
        var parts = new List<string> { "features: " + string.Join(", ", Names) };
        if (Aliases.Count > 0) parts.Add("aliases: " + string.Join(", ", Aliases.Select(a => $"{a.Key} → {a.Value}")));
        parts.Add("archetypes: " + (Archetypes.Count == 0 ? "none" : string.Join(", ", Archetypes.Keys)));
        return string.Join("; ", parts);
    }

    /// <summary>The plain JSON form (snake_case keys: names, mean, std, reference, archetypes, aliases).</summary>
    public string ToJson() => JsonSerializer.Serialize(
        new ConditionSpaceDocument(Names, Mean, Std, Reference, Archetypes, Aliases), DiffusionJson.Options) + "\n";

    /// <summary>Reads <see cref="ToJson"/>'s form; unknown keys are errors; missing aliases mean the defaults.</summary>
    public static ConditionSpace FromJson(string json)
    {
        ConditionSpaceDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<ConditionSpaceDocument>(json, DiffusionJson.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException(StressRules.Space, $"condition space JSON: {e.Message}");
        }

        if (document?.Names is null || document.Mean is null || document.Std is null || document.Reference is null)
            throw Error("condition space JSON needs names, mean, std and reference");
        return new ConditionSpace(document.Names, document.Mean, document.Std, document.Reference, document.Archetypes, document.Aliases);
    }

    /// <summary>A feature's value as text, for messages.</summary>
    internal static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    private static InvalidInputException Error(string message) => new(StressRules.Space, message);
}

/// <summary>The JSON document of a <see cref="ConditionSpace"/> (the fields a sequence model's manifest stores).</summary>
/// <param name="Names">Feature names.</param>
/// <param name="Mean">Training means.</param>
/// <param name="Std">Training standard deviations.</param>
/// <param name="Reference">The reference (last training) state.</param>
/// <param name="Archetypes">Archetype → feature → value.</param>
/// <param name="Aliases">Alias → feature (absent: the defaults).</param>
public sealed record ConditionSpaceDocument(
    IReadOnlyList<string> Names,
    IReadOnlyList<double> Mean,
    IReadOnlyList<double> Std,
    IReadOnlyList<double> Reference,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? Archetypes = null,
    IReadOnlyDictionary<string, string>? Aliases = null);
