using System.Globalization;

namespace Crucible.Tensors.Nn;

/// <summary>
/// A chain of modules applied in order, y = f_n(… f_1(x)) (PyTorch's <c>nn.Sequential</c>); the children are
/// named "0", "1", …, so parameters appear as <c>0.weight</c>, <c>2.bias</c>, ….
/// </summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor>[] _layers;

    /// <summary>Creates the chain.</summary>
    public Sequential(params Module<Tensor, Tensor>[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = (Module<Tensor, Tensor>[])layers.Clone();
        for (int i = 0; i < _layers.Length; i++) RegisterModule(i.ToString(CultureInfo.InvariantCulture), _layers[i]);
    }

    /// <summary>The number of layers.</summary>
    public int Count => _layers.Length;

    /// <summary>Layer <paramref name="index"/>.</summary>
    public Module<Tensor, Tensor> this[int index] => _layers[index];

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        foreach (var layer in _layers) x = layer.Forward(x);
        return x;
    }
}
