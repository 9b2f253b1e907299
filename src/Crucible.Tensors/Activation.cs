namespace Crucible.Tensors;

/// <summary>The activations that a fused op (<see cref="Tensor.Linear(Tensor, Tensor, Tensor?, Activation, Tensor?)"/>) applies.</summary>
public enum Activation
{
    /// <summary>The identity.</summary>
    None,

    /// <summary>x · σ(x), as <see cref="Tensor.Silu"/>.</summary>
    Silu,

    /// <summary>max(x, 0), as <see cref="Tensor.Relu"/>.</summary>
    Relu,

    /// <summary>Exact GELU, as <see cref="Tensor.Gelu"/>.</summary>
    Gelu,
}
