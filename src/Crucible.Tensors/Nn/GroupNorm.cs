namespace Crucible.Tensors.Nn;

/// <summary>
/// Group normalisation (Wu &amp; He 2018, "Group Normalization"): the C channels of x (B, C, *) are split into
/// G groups; each (sample, group) is normalised over its channels and positions, y = (x − μ) / √(σ² + ε), then
/// scaled and shifted per channel: y · γ_c + β_c. Parameters (when <c>affine</c>): <c>weight</c> γ (C) = ones,
/// <c>bias</c> β (C) = zeros.
/// </summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; no randomness is involved.</summary>
    public GroupNorm(int groups, int channels, float eps = 1e-5f, bool affine = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        if (channels % groups != 0) throw new ArgumentException($"{groups} groups do not divide {channels} channels", nameof(groups));
        Groups = groups;
        Channels = channels;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([channels]));
            Bias = RegisterParameter("bias", Tensor.Zeros([channels]));
        }
    }

    /// <summary>G, the number of groups.</summary>
    public int Groups { get; }

    /// <summary>C, the number of channels.</summary>
    public int Channels { get; }

    /// <summary>ε added to the variance.</summary>
    public float Eps { get; }

    /// <summary>γ: (C), or null without affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>β: (C), or null without affine.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    // input: (B, C, *) -> (B, C, *)
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2 || input.Shape[1] != Channels)
        {
            throw new ArgumentException($"GroupNorm({Groups}, {Channels}) got input {Tensor.FormatShape(input.Shape)}", nameof(input));
        }

        return Tensor.GroupNorm(input, Groups, Weight, Bias, Eps);
    }
}
