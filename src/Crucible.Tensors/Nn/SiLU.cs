namespace Crucible.Tensors.Nn;

/// <summary>SiLU (Elfwing et al. 2018; swish): x · σ(x), elementwise, as a module (no parameters).</summary>
public sealed class SiLU : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Silu();
    }
}
