using System.Numerics.Tensors;

namespace Crucible.Tensors.Kernels;

/// <summary>
/// Elementwise kernels, TensorPrimitives-shaped: <c>XForward(x, destination)</c> and
/// <c>XBackward(x, y, gradOutput, gradInput)</c>, where backward <em>accumulates</em> into <c>gradInput</c>
/// (<c>gradInput[i] += dy/dx · gradOutput[i]</c>). Each has a plain-loop oracle in <see cref="NaiveKernels"/>.
/// </summary>
public static partial class Kernels
{
    private static void CheckLengths(int n, int destination)
    {
        if (destination < n) throw new ArgumentException("Destination is too short.", nameof(destination));
    }

    /// <summary><c>destination[i] = x[i] · σ(x[i])</c> (SiLU, Elfwing et al. 2018).</summary>
    public static void SiluForward(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckLengths(x.Length, destination.Length);
        TensorPrimitives.Sigmoid(x, destination);
        TensorPrimitives.Multiply(x, destination[..x.Length], destination);
    }

    /// <summary>d SiLU / dx = σ(x)·(1 + x·(1 − σ(x))).</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(x.Length, gradInput.Length);
        for (int i = 0; i < x.Length; i++)
        {
            float s = 1f / (1f + MathF.Exp(-x[i]));
            gradInput[i] += gradOutput[i] * s * (1f + (x[i] * (1f - s)));
        }
    }

    /// <summary><c>destination[i] = max(x[i], 0)</c>.</summary>
    public static void ReluForward(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckLengths(x.Length, destination.Length);
        TensorPrimitives.Max(x, 0f, destination);
    }

    /// <summary>d ReLU / dx = 1 where x &gt; 0, else 0 (0 at x = 0, as PyTorch).</summary>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(x.Length, gradInput.Length);
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] > 0f) gradInput[i] += gradOutput[i];
        }
    }

    /// <summary><c>destination[i] = x[i] ≥ 0 ? x[i] : slope · x[i]</c>.</summary>
    public static void LeakyReluForward(ReadOnlySpan<float> x, float slope, Span<float> destination)
    {
        CheckLengths(x.Length, destination.Length);
        for (int i = 0; i < x.Length; i++) destination[i] = x[i] > 0f ? x[i] : slope * x[i];
    }

    /// <summary>d LeakyReLU / dx = 1 where x &gt; 0, else slope.</summary>
    public static void LeakyReluBackward(ReadOnlySpan<float> x, float slope, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(x.Length, gradInput.Length);
        for (int i = 0; i < x.Length; i++) gradInput[i] += gradOutput[i] * (x[i] > 0f ? 1f : slope);
    }

    /// <summary>Exact GELU: <c>x · Φ(x) = 0.5 · x · (1 + erf(x / √2))</c> (Hendrycks &amp; Gimpel 2016; PyTorch's default).</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckLengths(x.Length, destination.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            destination[i] = (float)(0.5 * v * (1.0 + SpecialMath.Erf(v * SpecialMath.InvSqrt2)));
        }
    }

    /// <summary>d GELU / dx = Φ(x) + x · φ(x).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(x.Length, gradInput.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double cdf = 0.5 * (1.0 + SpecialMath.Erf(v * SpecialMath.InvSqrt2));
            double pdf = Math.Exp(-0.5 * v * v) * SpecialMath.InvSqrt2Pi;
            gradInput[i] += gradOutput[i] * (float)(cdf + (v * pdf));
        }
    }

    /// <summary><c>destination[i] = tanh(x[i])</c>.</summary>
    public static void TanhForward(ReadOnlySpan<float> x, Span<float> destination) => TensorPrimitives.Tanh(x, destination);

    /// <summary>d tanh / dx = 1 − y², from the output y.</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(y.Length, gradInput.Length);
        for (int i = 0; i < y.Length; i++) gradInput[i] += gradOutput[i] * (1f - (y[i] * y[i]));
    }

    /// <summary><c>destination[i] = 1 / (1 + exp(−x[i]))</c>.</summary>
    public static void SigmoidForward(ReadOnlySpan<float> x, Span<float> destination) => TensorPrimitives.Sigmoid(x, destination);

    /// <summary>d σ / dx = y · (1 − y), from the output y.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(y.Length, gradInput.Length);
        for (int i = 0; i < y.Length; i++) gradInput[i] += gradOutput[i] * y[i] * (1f - y[i]);
    }

    /// <summary>Softplus with PyTorch's defaults (β = 1, threshold 20): <c>x &gt; 20 ? x : log(1 + exp(x))</c>.</summary>
    public static void SoftplusForward(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckLengths(x.Length, destination.Length);
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            destination[i] = v > 20f ? v : (float)Math.Log(1.0 + Math.Exp(v));
        }
    }

    /// <summary>d softplus / dx = σ(x) (1 above the threshold).</summary>
    public static void SoftplusBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(x.Length, gradInput.Length);
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            float d = v > 20f ? 1f : 1f / (1f + MathF.Exp(-v));
            gradInput[i] += gradOutput[i] * d;
        }
    }
}

/// <summary>Scalar special functions the kernels need.</summary>
internal static class SpecialMath
{
    public const double InvSqrt2 = 0.70710678118654752440;
    public const double InvSqrt2Pi = 0.39894228040143267794;

    /// <summary>
    /// erf(x) from the complementary error function of Numerical Recipes (3rd ed., §6.2.2, Chebyshev fit),
    /// fractional error below 1.2e-7 everywhere: ample for float32 kernels.
    /// </summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        double t = 2.0 / (2.0 + z);
        double ty = (4.0 * t) - 2.0;
        ReadOnlySpan<double> cof =
        [
            -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
            -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
            -1.624290004647e-6, 1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8,
            6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
            9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13,
            3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
            -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
        ];
        double d = 0.0, dd = 0.0;
        for (int j = cof.Length - 1; j > 0; j--)
        {
            double tmp = d;
            d = (ty * d) - dd + cof[j];
            dd = tmp;
        }

        double erfc = t * Math.Exp((-z * z) + (0.5 * (cof[0] + (ty * d))) - dd);
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }
}
