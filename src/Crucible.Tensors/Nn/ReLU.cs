namespace Crucible.Tensors.Nn;

/// <summary>ReLU: max(x, 0), elementwise, as a module (no parameters).</summary>
public sealed class ReLU : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Relu();
    }
}
