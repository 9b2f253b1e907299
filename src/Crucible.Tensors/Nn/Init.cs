using Crucible.Tensors.Random;

namespace Crucible.Tensors.Nn;

/// <summary>
/// In-place initialisers after <c>torch.nn.init</c>. Each fills <see cref="Tensor.Data"/> in row-major order,
/// consuming the given <see cref="Philox"/> sequentially (one <see cref="Philox.NextFloat"/> per element for the
/// uniform ones, one <see cref="Philox.NextNormal"/> per element for <see cref="Normal"/>), so a module's
/// initial values are a pure function of the generator's state.
/// </summary>
public static class Init
{
    /// <summary>√5: the <c>a</c> that PyTorch's Linear and Conv layers pass to <see cref="KaimingUniform"/>.</summary>
    public const double SqrtFive = 2.2360679774997896964;

    /// <summary>Fills with U(low, high): <c>low + (high − low) · u</c>, u = <see cref="Philox.NextFloat"/>.</summary>
    public static Tensor Uniform(Tensor tensor, Philox rng, float low, float high)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(rng);
        if (!(low <= high)) throw new ArgumentException($"Uniform: low {low} exceeds high {high}", nameof(low));
        var d = tensor.Data;
        for (int i = 0; i < d.Length; i++) d[i] = low + ((high - low) * rng.NextFloat());
        return tensor;
    }

    /// <summary>Fills with N(mean, std²) by <see cref="Philox.FillNormal"/>.</summary>
    public static Tensor Normal(Tensor tensor, Philox rng, float mean = 0f, float std = 1f)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(rng);
        rng.FillNormal(tensor.Data, mean, std);
        return tensor;
    }

    /// <summary>Fills with 0.</summary>
    public static Tensor Zeros(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Array.Clear(tensor.Data);
        return tensor;
    }

    /// <summary>Fills with 1.</summary>
    public static Tensor Ones(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Array.Fill(tensor.Data, 1f);
        return tensor;
    }

    /// <summary>
    /// PyTorch's <c>_calculate_fan_in_and_fan_out</c> for a weight (out, in, *k):
    /// fan_in = in · ∏k, fan_out = out · ∏k.
    /// </summary>
    public static (int FanIn, int FanOut) Fans(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length < 2) throw new ArgumentException($"fan in and fan out need at least 2 dims, got {Tensor.FormatShape(shape)}", nameof(shape));
        int receptive = 1;
        for (int i = 2; i < shape.Length; i++) receptive *= shape[i];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>
    /// He et al. 2015, "Delving deep into rectifiers" (leaky-ReLU gain, fan-in mode): U(−b, b) with
    /// gain = √(2 / (1 + a²)), b = gain · √3 / √fan_in. With the default a = √5 (PyTorch's Linear and Conv
    /// <c>reset_parameters</c>) this is exactly b = 1/√fan_in.
    /// </summary>
    /// <param name="tensor">The weight (out, in, *k).</param>
    /// <param name="rng">The generator drawn from.</param>
    /// <param name="a">The negative slope of the rectifier that follows.</param>
    /// <param name="fanIn">Overrides the fan-in computed by <see cref="Fans"/>.</param>
    public static Tensor KaimingUniform(Tensor tensor, Philox rng, double a = SqrtFive, int? fanIn = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        int fan = fanIn ?? Fans(tensor.Shape).FanIn;
        double gain = Math.Sqrt(2.0 / (1.0 + (a * a)));
        float bound = (float)(gain * Math.Sqrt(3.0 / fan));
        return Uniform(tensor, rng, -bound, bound);
    }

    /// <summary>
    /// Glorot &amp; Bengio 2010, "Understanding the difficulty of training deep feedforward neural networks":
    /// U(−b, b) with b = gain · √(6 / (fan_in + fan_out)).
    /// </summary>
    public static Tensor XavierUniform(Tensor tensor, Philox rng, double gain = 1.0)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var (fanIn, fanOut) = Fans(tensor.Shape);
        float bound = (float)(gain * Math.Sqrt(6.0 / (fanIn + fanOut)));
        return Uniform(tensor, rng, -bound, bound);
    }
}
