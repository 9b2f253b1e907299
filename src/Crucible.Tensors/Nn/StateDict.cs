using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Crucible.Tensors.Nn;

/// <summary>
/// An insertion-ordered map from dotted names to tensors (PyTorch's <c>OrderedDict</c> state dict): what
/// <see cref="Module.StateDict"/> returns and <see cref="Module.LoadStateDict"/> reads.
/// </summary>
public sealed class StateDict : IReadOnlyDictionary<string, Tensor>
{
    private readonly OrderedDictionary<string, Tensor> _entries = new(StringComparer.Ordinal);

    /// <summary>Appends an entry; throws if <paramref name="key"/> is already present.</summary>
    public void Add(string key, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _entries.Add(key, value);
    }

    /// <inheritdoc />
    public Tensor this[string key] => _entries[key];

    /// <inheritdoc />
    public IEnumerable<string> Keys => _entries.Keys;

    /// <inheritdoc />
    public IEnumerable<Tensor> Values => _entries.Values;

    /// <inheritdoc />
    public int Count => _entries.Count;

    /// <inheritdoc />
    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value) => _entries.TryGetValue(key, out value);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
