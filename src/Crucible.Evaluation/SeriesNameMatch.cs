using Crucible.Data;

namespace Crucible.Evaluation;

/// <summary>
/// The one rule for comparing a set's series with a reference's (synthetic or train against the real data, in
/// <c>evaluate</c>, the service's evaluation endpoint, the demo and <c>compare</c>): series are matched by name. The same
/// names in another order match (the set is read in the reference's order); a different set of names does not, and the
/// refusal names every missing and every extra series. <see cref="Positions"/>[i] is the index in the set of the
/// reference's i-th name, or null when the names differ.
/// </summary>
public sealed record SeriesNameMatch(int[]? Positions, IReadOnlyList<string> Missing, IReadOnlyList<string> Extra)
{
    /// <summary>Whether the set holds exactly the reference's names (in any order).</summary>
    public bool Matched => Positions is not null;

    /// <summary>Whether the names match in another order than the reference's.</summary>
    public bool Reordered => Positions is { } p && p.Where((at, i) => at != i).Any();

    /// <summary>
    /// Matches <paramref name="names"/> (a set's series, distinct) against <paramref name="reference"/> (the reference's
    /// series, distinct), by ordinal name.
    /// </summary>
    public static SeriesNameMatch Of(IReadOnlyList<string> names, IReadOnlyList<string> reference)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(reference);
        var at = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++) at.TryAdd(names[i], i);
        var wanted = new HashSet<string>(reference, StringComparer.Ordinal);
        var missing = reference.Where(n => !at.ContainsKey(n)).ToArray();
        var extra = names.Where(n => !wanted.Contains(n)).ToArray();
        int[]? positions = missing.Length == 0 && extra.Length == 0 && names.Count == reference.Count
            ? reference.Select(n => at[n]).ToArray()
            : null;
        return new SeriesNameMatch(positions, missing, extra);
    }

    /// <summary>
    /// What differs, for an error message: "series 'X' is not in the real data; series 'Y' is missing" (empty when matched),
    /// <paramref name="referenceLabel"/> naming the reference ("the real data").
    /// </summary>
    public string Problem(string referenceLabel)
    {
        var parts = new List<string>();
        if (Extra.Count > 0) parts.Add($"series {Quoted(Extra)} {(Extra.Count == 1 ? "is" : "are")} not in {referenceLabel}");
        if (Missing.Count > 0) parts.Add($"series {Quoted(Missing)} {(Missing.Count == 1 ? "is" : "are")} missing");
        if (parts.Count == 0 && !Matched) parts.Add("a series name appears twice");
        return string.Join("; ", parts);

        static string Quoted(IReadOnlyList<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
    }
}
