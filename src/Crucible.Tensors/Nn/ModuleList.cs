using System.Globalization;

namespace Crucible.Tensors.Nn;

/// <summary>
/// An indexed list of submodules (PyTorch's <c>nn.ModuleList</c>): children named "0", "1", … in the order added,
/// so their parameters appear as <c>blocks.0.weight</c>. It has no forward of its own.
/// </summary>
public sealed class ModuleList : Module
{
    private readonly List<Module> _items = [];

    /// <summary>Appends <paramref name="module"/> and returns it.</summary>
    public T Add<T>(T module)
        where T : Module
    {
        RegisterModule(_items.Count.ToString(CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return module;
    }

    /// <summary>The number of modules.</summary>
    public int Count => _items.Count;

    /// <summary>Module <paramref name="index"/>.</summary>
    public Module this[int index] => _items[index];
}
