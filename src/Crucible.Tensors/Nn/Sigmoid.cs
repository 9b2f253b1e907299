namespace Crucible.Tensors.Nn;

/// <summary>The logistic sigmoid σ(x) = 1 / (1 + e^−x), elementwise, as a module (no parameters).</summary>
public sealed class Sigmoid : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Sigmoid();
    }
}
