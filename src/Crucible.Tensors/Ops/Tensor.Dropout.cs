using Crucible.Tensors.Random;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Inverted dropout (Srivastava et al. 2014, "Dropout: a simple way to prevent neural networks from overfitting"):
    /// in training, y = x · m / (1 − p) with m_i ~ Bernoulli(1 − p) drawn as m_i = [u_i &lt; 1 − p],
    /// u_i = <paramref name="rng"/>.<see cref="Philox.NextFloat"/> in row-major order; so the mask is a pure
    /// function of the generator's state. Backward: dx = dy · m / (1 − p). Not training, or p = 0: returns x itself.
    /// p = 1 gives zeros.
    /// </summary>
    public Tensor Dropout(float p, Philox rng, bool training)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(p), $"dropout probability {p} is not in [0, 1]");
        if (!training || p == 0f) return this;
        var x = this;

        // mask holds 0 or 1/(1−p): the forward scale and the backward gradient factor at once
        var mask = TensorArena.Zeroed(x.Length);
        float keep = 1f - p;
        float scale = p == 1f ? 0f : 1f / keep;
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() < keep ? scale : 0f;
        var output = TensorArena.Zeroed(x.Length);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data, mask, output);
        return Result(output, x.Shape, [x], o =>
        {
            var gx = x.GradOrCreate();
            System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(o.Grad!, mask, gx, gx);
        });
    }
}
