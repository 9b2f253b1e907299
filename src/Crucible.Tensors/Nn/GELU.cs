namespace Crucible.Tensors.Nn;

/// <summary>GELU (Hendrycks &amp; Gimpel 2016), exact erf form: x · Φ(x), elementwise, as a module (no parameters).</summary>
public sealed class GELU : Module<Tensor, Tensor>
{
    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Gelu();
    }
}
