using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Crucible.Tensors.Kernels;

/// <summary>The elementwise halves of the fused ops: activation with residual, its derivative, and bias sums.</summary>
public static partial class Kernels
{
    private const int Chunk = 256;   // elements per stack scratch chunk (1 KB, in L1)

    /// <summary>
    /// Effectively computes <c>destination[i] = residual[i] + act(x[i])</c> (no residual when it is empty), with the
    /// same float operations as the unfused kernels (so the fused ops match <see cref="SiluForward"/> then an add
    /// bit for bit). <paramref name="destination"/> may be <paramref name="x"/> itself.
    /// </summary>
    public static void ActivationForward(Activation activation, ReadOnlySpan<float> x, ReadOnlySpan<float> residual, Span<float> destination)
    {
        CheckLengths(x.Length, destination.Length);
        if (!residual.IsEmpty && residual.Length != x.Length) throw new ArgumentException("residual must have x's length", nameof(residual));
        int n = x.Length;
        var y = destination[..n];
        switch (activation)
        {
            case Activation.None:
                if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y))) x.CopyTo(y);
                break;
            case Activation.Silu:
                Span<float> s = stackalloc float[Chunk];
                for (int i = 0; i < n; i += Chunk)
                {
                    int len = Math.Min(Chunk, n - i);
                    var xs = x.Slice(i, len);
                    TensorPrimitives.Sigmoid(xs, s[..len]);
                    TensorPrimitives.Multiply(xs, s[..len], y.Slice(i, len));
                }

                break;
            case Activation.Relu:
                ReluForward(x, y);
                break;
            case Activation.Gelu:
                GeluForward(x, y);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }

        if (!residual.IsEmpty) TensorPrimitives.Add(residual, y, y);
    }

    /// <summary>
    /// Effectively computes <c>gradInput[i] = gradOutput[i] · act′(x[i])</c> (overwriting, unlike the accumulating
    /// <c>XBackward</c> kernels), from the pre-activation x.
    /// </summary>
    public static void ActivationBackward(Activation activation, ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput)
    {
        CheckLengths(x.Length, gradInput.Length);
        CheckLengths(x.Length, gradOutput.Length);
        int n = x.Length;
        switch (activation)
        {
            case Activation.None:
                gradOutput[..n].CopyTo(gradInput);
                break;
            case Activation.Silu:
                SiluDerivative(x, gradOutput, gradInput, accumulate: false);
                break;
            case Activation.Relu:
                for (int i = 0; i < n; i++) gradInput[i] = x[i] > 0f ? gradOutput[i] : 0f;
                break;
            case Activation.Gelu:
                gradInput[..n].Clear();
                GeluBackward(x, gradOutput, gradInput);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }

    // g · σ(x)·(1 + x·(1 − σ(x))), into (or added to) gradInput: one SIMD pass, σ from Vector512/256.Exp
    private static void SiluDerivative(ReadOnlySpan<float> x, ReadOnlySpan<float> gradOutput, Span<float> gradInput, bool accumulate)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rg = ref MemoryMarshal.GetReference(gradOutput);
        ref float rd = ref MemoryMarshal.GetReference(gradInput);
        if (Vector512.IsHardwareAccelerated)
        {
            var one = Vector512<float>.One;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.LoadUnsafe(ref rx, (nuint)i);
                var s = one / (one + Vector512.Exp(-v));
                var d = Vector512.LoadUnsafe(ref rg, (nuint)i) * (s * (one + (v * (one - s))));
                if (accumulate) d += Vector512.LoadUnsafe(ref rd, (nuint)i);
                d.StoreUnsafe(ref rd, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<float>.One;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.LoadUnsafe(ref rx, (nuint)i);
                var s = one / (one + Vector256.Exp(-v));
                var d = Vector256.LoadUnsafe(ref rg, (nuint)i) * (s * (one + (v * (one - s))));
                if (accumulate) d += Vector256.LoadUnsafe(ref rd, (nuint)i);
                d.StoreUnsafe(ref rd, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            float s = 1f / (1f + MathF.Exp(-x[i]));
            float d = gradOutput[i] * (s * (1f + (x[i] * (1f - s))));
            gradInput[i] = accumulate ? gradInput[i] + d : d;
        }
    }

    /// <summary>
    /// Effectively computes <c>destination[j] += Σ_r x[r·cols + j]</c> over rows r = 0..rows−1 in order (a bias
    /// gradient): the same sums as adding the rows one after another.
    /// </summary>
    public static void AddColumnSums(ReadOnlySpan<float> x, int rows, int cols, Span<float> destination)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols > x.Length) throw new ArgumentException("x is shorter than rows × cols", nameof(x));
        CheckLengths(cols, destination.Length);
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float rd = ref MemoryMarshal.GetReference(destination);
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j <= cols - (4 * Vector512<float>.Count); j += 4 * Vector512<float>.Count)
            {
                var a0 = Vector512.LoadUnsafe(ref rd, (nuint)j);
                var a1 = Vector512.LoadUnsafe(ref rd, (nuint)(j + 16));
                var a2 = Vector512.LoadUnsafe(ref rd, (nuint)(j + 32));
                var a3 = Vector512.LoadUnsafe(ref rd, (nuint)(j + 48));
                for (int r = 0; r < rows; r++)
                {
                    nuint at = (nuint)(((long)r * cols) + j);
                    a0 += Vector512.LoadUnsafe(ref rx, at);
                    a1 += Vector512.LoadUnsafe(ref rx, at + 16);
                    a2 += Vector512.LoadUnsafe(ref rx, at + 32);
                    a3 += Vector512.LoadUnsafe(ref rx, at + 48);
                }

                a0.StoreUnsafe(ref rd, (nuint)j);
                a1.StoreUnsafe(ref rd, (nuint)(j + 16));
                a2.StoreUnsafe(ref rd, (nuint)(j + 32));
                a3.StoreUnsafe(ref rd, (nuint)(j + 48));
            }

            for (; j <= cols - Vector512<float>.Count; j += Vector512<float>.Count)
            {
                var a0 = Vector512.LoadUnsafe(ref rd, (nuint)j);
                for (int r = 0; r < rows; r++) a0 += Vector512.LoadUnsafe(ref rx, (nuint)(((long)r * cols) + j));
                a0.StoreUnsafe(ref rd, (nuint)j);
            }
        }

        for (; j < cols; j++)
        {
            float s = destination[j];
            for (int r = 0; r < rows; r++) s += x[(r * cols) + j];
            destination[j] = s;
        }
    }
}
