namespace Crucible.Tensors.Nn;

/// <summary>tanh(x), elementwise, as a module (no parameters).</summary>
public sealed class Tanh : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Tanh();
    }
}
