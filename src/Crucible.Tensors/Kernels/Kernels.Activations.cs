using System.Numerics.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Kernels;

/// <summary>
/// Elementwise kernels, TensorPrimitives-shaped: <c>XForward(x, destination)</c> and
/// <c>XBackward(x, y, gradOutput, gradInput)</c>, where backward <em>accumulates</em> into <c>gradInput</c>
/// (<c>gradInput[i] += dy/dx · gradOutput[i]</c>). Each has a plain-loop oracle in <see cref="NaiveKernels"/>.
/// </summary>
public static partial class Kernels
{
    private const double InvSqrt2 = 0.70710678118654752440;
    private const double InvSqrt2Pi = 0.39894228040143267794;

    private static void CheckLengths(int n, int destination)
    {
        if (destination < n) throw new ArgumentException("Destination is too short.", nameof(destination));
    }

    /// <summary><c>destination[i] = x[i] · σ(x[i])</c> (SiLU, Elfwing et al. 2018).</summary>
    public static void SiluForward(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckLengths(x.Length, destination.Length);
        BiasActivation(Activation.Silu, x, default, default, default, destination[..x.Length]);
    }

    /// <summary>d SiLU / dx = σ(x)·(1 + x·(1 − σ(x))).</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(x.Length, gradInput.Length);
        CheckLengths(x.Length, gradOutput.Length);
        SiluDerivative(x, gradOutput, gradInput, accumulate: true);
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
            destination[i] = (float)(0.5 * v * (1.0 + SpecialFunctions.Erf(v * InvSqrt2)));
        }
    }

    /// <summary>d GELU / dx = Φ(x) + x · φ(x).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(x.Length, gradInput.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            double cdf = 0.5 * (1.0 + SpecialFunctions.Erf(v * InvSqrt2));
            double pdf = Math.Exp(-0.5 * v * v) * InvSqrt2Pi;
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
    public static void SigmoidForward(ReadOnlySpan<float> x, Span<float> destination)
    {
        if (x.IsEmpty) return;                      // TensorPrimitives.Sigmoid rejects empty spans
        TensorPrimitives.Sigmoid(x, destination);
    }

    /// <summary>d σ / dx = y · (1 − y), from the output y.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(y.Length, gradInput.Length);
        for (int i = 0; i < y.Length; i++) gradInput[i] += gradOutput[i] * y[i] * (1f - y[i]);
    }

    /// <summary>
    /// Softplus with PyTorch's defaults (β = 1, threshold 20): <c>x &gt; 20 ? x : log1p(exp(x))</c>, where log1p(e) is
    /// e·(1 − e/2) once e = exp(x) &lt; 1e-6 (1 + e loses e's digits in double, and is exactly 1 below x ≈ −37).
    /// </summary>
    public static void SoftplusForward(ReadOnlySpan<float> x, Span<float> destination)
    {
        CheckLengths(x.Length, destination.Length);
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (v > 20f)
            {
                destination[i] = v;
                continue;
            }

            double e = Math.Exp(v);
            destination[i] = (float)(e < 1e-6 ? e * (1.0 - (0.5 * e)) : Math.Log(1.0 + e));
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
