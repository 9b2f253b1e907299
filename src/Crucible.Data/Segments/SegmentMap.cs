using System.Globalization;
using System.Text.Json;

namespace Crucible.Data.Segments;

/// <summary>One way of grouping series (e.g. <c>asset_class</c>): each declared series' segment label.</summary>
/// <param name="Name">The dimension's name, as in the file.</param>
/// <param name="Labels">Series name → segment label, in file order.</param>
public sealed record SegmentDimension(string Name, IReadOnlyList<KeyValuePair<string, string>> Labels)
{
    /// <summary>
    /// The segments of this dimension among <paramref name="series"/>: label → the indices into <paramref name="series"/>
    /// of its members, labels in ordinal order, members in series order. Series the dimension does not declare belong to
    /// no segment (see <see cref="Unassigned"/>).
    /// </summary>
    public IReadOnlyList<(string Label, int[] Members)> SegmentsOf(IReadOnlyList<string> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var lookup = ToDictionary();
        var groups = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < series.Count; i++)
        {
            if (!lookup.TryGetValue(series[i], out var label)) continue;
            if (!groups.TryGetValue(label, out var members)) groups[label] = members = [];
            members.Add(i);
        }

        return [.. groups.Select(g => (g.Key, g.Value.ToArray()))];
    }

    /// <summary>The series of <paramref name="series"/> that this dimension does not declare, in series order.</summary>
    public IReadOnlyList<string> Unassigned(IReadOnlyList<string> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var lookup = ToDictionary();
        return [.. series.Where(s => !lookup.ContainsKey(s))];
    }

    /// <summary>Series → label as a dictionary (ordinal keys).</summary>
    public Dictionary<string, string> ToDictionary()
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (s, l) in Labels) d[s] = l;
        return d;
    }
}

/// <summary>
/// Declared market segments of series (fairness and coverage, issue #9): a JSON object whose members are dimensions,
/// each mapping series names to segment labels, plus an optional relative <c>tolerance</c> in (0, 1) for the coverage
/// audit's under-stress flag (default <see cref="DefaultTolerance"/>):
/// <code>
/// {"tolerance": 0.2,
///  "asset_class": {"SPY": "equity", "TLT": "government_bond"},
///  "region": {"SPY": "us", "DAX": "europe"}}
/// </code>
/// A dimension need not name every series (those it omits belong to none of its segments), and may name series a data
/// set does not have (they are ignored), so one file serves several data sets. <see cref="Default"/> is
/// <c>data/segments/default.json</c>, which covers the bundled demo set and the 26-series multi-asset panel.
/// </summary>
public sealed class SegmentMap
{
    /// <summary>The tolerance when the file declares none.</summary>
    public const double DefaultTolerance = 0.2;

    /// <summary>The logical name of the embedded default file.</summary>
    public const string DefaultResourceName = "segments-default.json";

    private SegmentMap(IReadOnlyList<SegmentDimension> dimensions, double tolerance)
    {
        Dimensions = dimensions;
        Tolerance = tolerance;
    }

    /// <summary>The dimensions, in file order.</summary>
    public IReadOnlyList<SegmentDimension> Dimensions { get; }

    /// <summary>Relative tolerance of the coverage audit: a segment is under-stressed when a synthetic tail statistic falls below (1 − tolerance) × the real one.</summary>
    public double Tolerance { get; }

    /// <summary>The built-in map (<c>data/segments/default.json</c>, embedded in the library).</summary>
    public static SegmentMap Default { get; } = LoadDefault();

    /// <summary>The dimension called <paramref name="name"/>.</summary>
    /// <exception cref="InvalidInputException"><c>SEG-E-DIMENSION</c> when there is none.</exception>
    public SegmentDimension Dimension(string name) =>
        Dimensions.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal))
        ?? throw new InvalidInputException("SEG-E-DIMENSION",
            $"no segment dimension '{name}'; the file declares {string.Join(", ", Dimensions.Select(d => d.Name))}");

    /// <summary>Reads a segments file.</summary>
    /// <exception cref="InvalidInputException"><c>SEG-E-FILE</c>, <c>SEG-E-JSON</c> or <c>SEG-E-SHAPE</c>, with the file named.</exception>
    public static SegmentMap Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new InvalidInputException("SEG-E-FILE", $"{path} does not exist", new InputLocation(path, 0, 0));
        return Parse(IO.InputFile.ReadAllText(path), path);
    }

    /// <summary>Parses the JSON text of a segments file; <paramref name="source"/> names it in errors.</summary>
    public static SegmentMap Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw IO.JsonNonFinite.Refusal(json, e, source) ?? new InvalidInputException("SEG-E-JSON", e.Message, new InputLocation(source, (e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1));
        }

        using (doc)
        {
            var where = new InputLocation(source, 0, 0);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidInputException("SEG-E-SHAPE", "a segments file is a JSON object of dimensions", where);
            double tolerance = DefaultTolerance;
            var toleranceGiven = false;
            var dimensions = new List<SegmentDimension>();
            foreach (var member in doc.RootElement.EnumerateObject())
            {
                if (member.Name == "tolerance")
                {
                    // JSON keeps one of two equal keys silently: refused, as a dimension or a series given twice is
                    if (toleranceGiven) throw new InvalidInputException("SEG-E-SHAPE", "tolerance is declared twice", where);
                    toleranceGiven = true;
                    if (member.Value.ValueKind != JsonValueKind.Number || !member.Value.TryGetDouble(out tolerance) || !(tolerance is > 0 and < 1))
                        throw new InvalidInputException("SEG-E-SHAPE", "tolerance must be a number in (0, 1)", where);
                    continue;
                }

                if (member.Value.ValueKind != JsonValueKind.Object)
                    throw new InvalidInputException("SEG-E-SHAPE", $"dimension '{member.Name}' must be an object of series → segment label", where);
                if (dimensions.Any(d => d.Name == member.Name))
                    throw new InvalidInputException("SEG-E-SHAPE", $"dimension '{member.Name}' is declared twice", where);
                var labels = new List<KeyValuePair<string, string>>();
                foreach (var entry in member.Value.EnumerateObject())
                {
                    if (entry.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(entry.Value.GetString()))
                        throw new InvalidInputException("SEG-E-SHAPE", $"{member.Name}.{entry.Name}: a segment label must be a non-empty string", where);
                    if (labels.Any(l => l.Key == entry.Name))
                        throw new InvalidInputException("SEG-E-SHAPE", $"{member.Name}: series '{entry.Name}' is declared twice", where);
                    labels.Add(new(entry.Name, entry.Value.GetString()!));
                }

                if (labels.Count == 0) throw new InvalidInputException("SEG-E-SHAPE", $"dimension '{member.Name}' declares no series", where);
                dimensions.Add(new SegmentDimension(member.Name, labels));
            }

            if (dimensions.Count == 0) throw new InvalidInputException("SEG-E-SHAPE", "the file declares no dimension", where);
            return new SegmentMap(dimensions, tolerance);
        }
    }

    /// <summary>
    /// Per-series loss weights that make every segment of <paramref name="dimension"/> contribute equally to a mean over
    /// series (stratified training): w_i = D / (G · n_g(i)) for series i in segment g of size n_g, with G segments among
    /// the D series, so Σ_i w_i = D and each segment's weights sum to D / G. Every series must be declared.
    /// </summary>
    /// <exception cref="InvalidInputException"><c>SEG-E-UNASSIGNED</c> naming the first series the dimension does not declare.</exception>
    public static double[] EqualSegmentWeights(SegmentDimension dimension, IReadOnlyList<string> series)
    {
        ArgumentNullException.ThrowIfNull(dimension);
        ArgumentNullException.ThrowIfNull(series);
        var missing = dimension.Unassigned(series);
        if (missing.Count > 0)
            throw new InvalidInputException("SEG-E-UNASSIGNED",
                $"stratified training needs a '{dimension.Name}' segment for every series; '{missing[0]}' has none");
        var segments = dimension.SegmentsOf(series);
        var weights = new double[series.Count];
        foreach (var (_, members) in segments)
        {
            foreach (var i in members) weights[i] = (double)series.Count / (segments.Count * members.Length);
        }

        return weights;
    }

    private static SegmentMap LoadDefault()
    {
        using var stream = typeof(SegmentMap).Assembly.GetManifestResourceStream(DefaultResourceName)
            ?? throw new InvalidOperationException($"the embedded resource {DefaultResourceName} is missing");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "data/segments/default.json");
    }

    /// <summary>The tolerance as text (invariant culture).</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Dimensions.Count} dimension(s): {string.Join(", ", Dimensions.Select(d => d.Name))}; tolerance {Tolerance}");
}
