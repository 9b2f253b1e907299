using Crucible.Tensors.Random;

namespace Crucible.Tensors.Nn;

/// <summary>
/// Inverted dropout (Srivastava et al. 2014) as a module: in training y = x · m / (1 − p), m ~ Bernoulli(1 − p)
/// (see <see cref="Tensor.Dropout"/>); in evaluation the identity. The mask is drawn from the
/// <see cref="Philox"/> given to the constructor (which the module owns and advances by one float per element
/// per call), or from the one passed to <see cref="Forward(Tensor, Philox)"/>.
/// </summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    private readonly Philox _rng;

    /// <summary>Creates the layer; it owns <paramref name="rng"/> from now on.</summary>
    public Dropout(float p, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability {p} is not in [0, 1]");
        P = p;
        _rng = rng;
    }

    /// <summary>The probability of zeroing an element.</summary>
    public float P { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => Forward(input, _rng);

    /// <summary>The forward pass drawing the mask from <paramref name="rng"/>.</summary>
    public Tensor Forward(Tensor input, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Dropout(P, rng, IsTraining);
    }
}
