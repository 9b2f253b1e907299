namespace Crucible.Data;

/// <summary>
/// The stable names under which an enum's members are stored and exchanged (an audit entry's kind, a run manifest's kind,
/// a model manifest's kind), never as numbers: one table per enum, read both ways. Every defined member has exactly one
/// name and no two members share one, or the table is refused when built.
/// </summary>
/// <typeparam name="TEnum">The enum.</typeparam>
public sealed class WireNames<TEnum>
    where TEnum : struct, Enum
{
    private readonly (TEnum Value, string Name)[] _names;

    /// <summary>The table: each member of <typeparamref name="TEnum"/> with its name, in the order given.</summary>
    /// <exception cref="ArgumentException">A member is left out or named twice, or a name is empty or given twice.</exception>
    public WireNames(params (TEnum Value, string Name)[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var values = names.Select(n => n.Value).ToArray();
        if (values.Distinct().Count() != values.Length || Enum.GetValues<TEnum>().Except(values).Any() || values.Any(v => !Enum.IsDefined(v)))
            throw new ArgumentException($"every member of {typeof(TEnum).Name} needs exactly one name", nameof(names));
        if (names.Any(n => string.IsNullOrEmpty(n.Name)) || names.Select(n => n.Name).Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new ArgumentException($"the names of {typeof(TEnum).Name} must be non-empty and distinct", nameof(names));
        _names = [.. names];
        All = values;
    }

    /// <summary>Every member, in the table's order.</summary>
    public IReadOnlyList<TEnum> All { get; }

    /// <summary>The names joined for a message, e.g. <c>tabular or sequence</c>.</summary>
    public string Choices(string separator) => string.Join(separator, _names.Select(n => n.Name));

    /// <summary>The name of <paramref name="value"/>, or null when it is no defined member (a cast number).</summary>
    public string? NameOf(TEnum value)
    {
        foreach (var (v, n) in _names)
        {
            if (EqualityComparer<TEnum>.Default.Equals(v, value)) return n;
        }

        return null;
    }

    /// <summary>The member named <paramref name="name"/> (ordinal, case-sensitive), or null.</summary>
    public TEnum? ValueOf(string? name)
    {
        foreach (var (v, n) in _names)
        {
            if (string.Equals(n, name, StringComparison.Ordinal)) return v;
        }

        return null;
    }
}
