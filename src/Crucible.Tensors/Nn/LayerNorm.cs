namespace Crucible.Tensors.Nn;

/// <summary>
/// Layer normalisation over the last dimension (Ba, Kiros &amp; Hinton 2016, "Layer Normalization"):
/// y = (x − μ) / √(σ² + ε) · γ + β with the biased variance σ². x (…, D) → (…, D).
/// Parameters (when <c>elementwiseAffine</c>): <c>weight</c> γ (D) initialised to ones, <c>bias</c> β (D) to zeros.
/// </summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; no randomness is involved.</summary>
    public LayerNorm(int normalizedLength, float eps = 1e-5f, bool elementwiseAffine = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(normalizedLength);
        NormalizedLength = normalizedLength;
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([normalizedLength]));
            Bias = RegisterParameter("bias", Tensor.Zeros([normalizedLength]));
        }
    }

    /// <summary>D, the size of the normalised trailing dimension.</summary>
    public int NormalizedLength { get; }

    /// <summary>ε added to the variance.</summary>
    public float Eps { get; }

    /// <summary>γ: (D), or null without affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>β: (D), or null without affine.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    // input: (…, D) -> (…, D)
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape[^1] != NormalizedLength)
        {
            throw new ArgumentException($"LayerNorm({NormalizedLength}) got input {Tensor.FormatShape(input.Shape)}", nameof(input));
        }

        return Tensor.LayerNorm(input, NormalizedLength, Weight, Bias, Eps);
    }
}
