using System.Globalization;
using System.Numerics.Tensors;
using Crucible.Tensors.Kernels;

namespace Crucible.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Builds a unary op: <paramref name="forward"/> fills the output from x; <paramref name="backward"/> gets
    /// (x, y, dL/dy, dL/dx) and accumulates into dL/dx.
    /// </summary>
    private Tensor Unary(SpanAction forward, BackwardAction backward)
    {
        var x = this;
        var output = TensorArena.Output(x.Length);
        forward(x.Data, output);
        return Result(output, x.Shape, [x], o => backward(x.Data, o.Data, o.Grad!, x.GradOrCreate()));
    }

    private delegate void SpanAction(ReadOnlySpan<float> x, Span<float> destination);

    private delegate void BackwardAction(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> gradOutput, Span<float> gradInput);

    /// <summary>SiLU: x · σ(x).</summary>
    public Tensor Silu() => Unary(Kernels.Kernels.SiluForward, static (x, _, g, gx) => Kernels.Kernels.SiluBackward(x, g, gx));

    /// <summary>Exact (erf) GELU, PyTorch's default.</summary>
    public Tensor Gelu() => Unary(Kernels.Kernels.GeluForward, static (x, _, g, gx) => Kernels.Kernels.GeluBackward(x, g, gx));

    /// <summary>max(x, 0).</summary>
    public Tensor Relu() => Unary(Kernels.Kernels.ReluForward, static (x, _, g, gx) => Kernels.Kernels.ReluBackward(x, g, gx));

    /// <summary>x for x &gt; 0, slope · x otherwise (PyTorch's default slope 0.01).</summary>
    public Tensor LeakyRelu(float negativeSlope = 0.01f) => Unary(
        (x, d) => Kernels.Kernels.LeakyReluForward(x, negativeSlope, d),
        (x, _, g, gx) => Kernels.Kernels.LeakyReluBackward(x, negativeSlope, g, gx));

    /// <summary>tanh(x).</summary>
    public Tensor Tanh() => Unary(Kernels.Kernels.TanhForward, static (_, y, g, gx) => Kernels.Kernels.TanhBackward(y, g, gx));

    /// <summary>σ(x) = 1 / (1 + e^−x).</summary>
    public Tensor Sigmoid() => Unary(Kernels.Kernels.SigmoidForward, static (_, y, g, gx) => Kernels.Kernels.SigmoidBackward(y, g, gx));

    /// <summary>log(1 + e^x), linear above 20 (PyTorch's threshold).</summary>
    public Tensor Softplus() => Unary(Kernels.Kernels.SoftplusForward, static (x, _, g, gx) => Kernels.Kernels.SoftplusBackward(x, g, gx));

    /// <summary>e^x.</summary>
    public Tensor Exp() => Unary(
        static (x, d) => TensorPrimitives.Exp(x, d),
        static (_, y, g, gx) => TensorPrimitives.FusedMultiplyAdd(g, y, gx, gx)); // d e^x = e^x

    /// <summary>Natural logarithm.</summary>
    public Tensor Log() => Unary(
        static (x, d) => TensorPrimitives.Log(x, d),
        static (x, _, g, gx) =>
        {
            for (int i = 0; i < x.Length; i++) gx[i] += g[i] / x[i]; // d log x = 1/x
        });

    /// <summary>√x.</summary>
    public Tensor Sqrt() => Unary(
        static (x, d) => TensorPrimitives.Sqrt(x, d),
        static (_, y, g, gx) =>
        {
            for (int i = 0; i < y.Length; i++) gx[i] += g[i] * 0.5f / y[i]; // d √x = 1 / (2√x)
        });

    /// <summary>|x|; the gradient at 0 is 0, as PyTorch's.</summary>
    public Tensor Abs() => Unary(
        static (x, d) => TensorPrimitives.Abs(x, d),
        static (x, _, g, gx) =>
        {
            for (int i = 0; i < x.Length; i++) gx[i] += x[i] > 0f ? g[i] : x[i] < 0f ? -g[i] : 0f;
        });

    /// <summary>x^p for a scalar exponent p (x^0 = 1 everywhere, with gradient 0).</summary>
    public Tensor Pow(float p) => Unary(
        (x, d) =>
        {
            if (p == 2f) TensorPrimitives.Multiply(x, x, d);
            else TensorPrimitives.Pow(x, p, d);
        },
        (x, _, g, gx) =>
        {
            for (int i = 0; i < x.Length; i++)
            {
                // d x^p = p x^(p−1); 0 for p = 0 (PyTorch's special case: 0 · 0^−1 would be NaN at x = 0)
                float dp = p == 2f ? 2f * x[i] : p == 0f ? 0f : p * MathF.Pow(x[i], p - 1f);
                gx[i] += g[i] * dp;
            }
        });

    /// <summary>x², the common case of <see cref="Pow"/>.</summary>
    public Tensor Square() => Pow(2f);

    /// <summary>
    /// Clamps into [min, max]. The gradient passes where min ≤ x ≤ max, as PyTorch's <c>clamp</c>.
    /// </summary>
    public Tensor Clamp(float min, float max)
    {
        if (min > max) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"clamp min {min} exceeds max {max}"), nameof(min));
        return Unary(
            (x, d) => TensorPrimitives.Clamp(x, min, max, d),
            (x, _, g, gx) =>
            {
                for (int i = 0; i < x.Length; i++)
                {
                    if (x[i] >= min && x[i] <= max) gx[i] += g[i];
                }
            });
    }
}
