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
        BiasActivation(activation, x, default, residual, default, destination[..x.Length]);
    }

    /// <summary>
    /// The epilogue of the fused ops, one pass: v = x + bias (no bias when empty), stored into
    /// <paramref name="preActivation"/> when it is not empty, then <c>destination = residual + act(v)</c>. Any of the
    /// spans may be the same memory as x.
    /// </summary>
    internal static void BiasActivation(
        Activation activation, ReadOnlySpan<float> x, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual,
        Span<float> preActivation, Span<float> destination)
    {
        int n = x.Length;
        if (activation == Activation.Silu && Vector512.IsHardwareAccelerated)
        {
            SiluVector512(x, bias, residual, preActivation, destination);
            return;
        }

        // the general path: TensorPrimitives passes (and the activations' own kernels)
        ReadOnlySpan<float> v = x;
        if (!bias.IsEmpty)
        {
            var target = preActivation.IsEmpty ? destination : preActivation;
            TensorPrimitives.Add(x, bias, target);
            v = target;
        }
        else if (!preActivation.IsEmpty && !Unsafe.AreSame(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(preActivation)))
        {
            x.CopyTo(preActivation);
        }

        switch (activation)
        {
            case Activation.None:
                if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(v), ref MemoryMarshal.GetReference(destination))) v.CopyTo(destination);
                break;
            case Activation.Silu:
                Span<float> s = stackalloc float[Chunk];
                for (int i = 0; i < n; i += Chunk)
                {
                    int len = Math.Min(Chunk, n - i);
                    var vs = v.Slice(i, len);
                    TensorPrimitives.Sigmoid(vs, s[..len]);
                    TensorPrimitives.Multiply(vs, s[..len], destination.Slice(i, len));
                }

                break;
            case Activation.Relu:
                ReluForward(v, destination);
                break;
            case Activation.Gelu:
                GeluForward(v, destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }

        if (!residual.IsEmpty) TensorPrimitives.Add(residual, destination, destination);
    }

    // v = x + b; y = r + v·σ(v) with σ(v) = 1 / (1 + e^−v) from Vector512.Exp, TensorPrimitives.Sigmoid's own formula
    // (so the values equal the TensorPrimitives passes bit for bit); a last partial vector goes through scratch
    private static void SiluVector512(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, ReadOnlySpan<float> residual, Span<float> preActivation, Span<float> destination)
    {
        int n = x.Length, i = 0;
        bool hasBias = !bias.IsEmpty, hasResidual = !residual.IsEmpty, keep = !preActivation.IsEmpty;
        var one = Vector512<float>.One;
        for (; i <= n - 16; i += 16)
        {
            var v = Vector512.Create(x.Slice(i, 16));
            if (hasBias) v += Vector512.Create(bias.Slice(i, 16));
            if (keep) v.CopyTo(preActivation.Slice(i, 16));
            var y = v * (one / (one + Vector512.Exp(-v)));
            if (hasResidual) y = Vector512.Create(residual.Slice(i, 16)) + y;
            y.CopyTo(destination.Slice(i, 16));
        }

        if (i < n)
        {
            int len = n - i;
            Span<float> t = stackalloc float[48];
            t.Clear();
            x.Slice(i, len).CopyTo(t);
            if (hasBias) bias.Slice(i, len).CopyTo(t[16..]);
            if (hasResidual) residual.Slice(i, len).CopyTo(t[32..]);
            var v = Vector512.Create(t);
            if (hasBias) v += Vector512.Create(t[16..]);
            var y = v * (one / (one + Vector512.Exp(-v)));
            if (hasResidual) y = Vector512.Create(t[32..]) + y;
            if (keep) v.CopyTo(t);
            y.CopyTo(t[16..]);
            if (keep) t[..len].CopyTo(preActivation.Slice(i, len));
            t.Slice(16, len).CopyTo(destination.Slice(i, len));
        }
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

    // g · σ(x)·(1 + x·(1 − σ(x))), into (or added to) gradInput: one SIMD pass, σ from Vector512/256.Exp (the scalar
    // loop only where neither is accelerated), so an element's bits do not depend on where its span ends
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

            if (i < n)
            {
                // the last partial vector through zero-padded scratch, so every element takes the same Exp whatever
                // the span's length (the fused backward splits rows by thread count)
                int len = n - i;
                Span<float> t = stackalloc float[3 * Vector512<float>.Count];
                t.Clear();
                x[i..].CopyTo(t);
                gradOutput.Slice(i, len).CopyTo(t[16..]);
                if (accumulate) gradInput.Slice(i, len).CopyTo(t[32..]);
                var v = Vector512.Create(t);
                var s = one / (one + Vector512.Exp(-v));
                var d = Vector512.Create(t[16..]) * (s * (one + (v * (one - s))));
                if (accumulate) d += Vector512.Create(t[32..]);
                d.CopyTo(t);
                t[..len].CopyTo(gradInput.Slice(i, len));
                return;
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

            if (i < n)
            {
                // the last partial vector through zero-padded scratch (see the Vector512 path)
                int len = n - i;
                Span<float> t = stackalloc float[3 * Vector256<float>.Count];
                t.Clear();
                x[i..].CopyTo(t);
                gradOutput.Slice(i, len).CopyTo(t[8..]);
                if (accumulate) gradInput.Slice(i, len).CopyTo(t[16..]);
                var v = Vector256.Create(t);
                var s = one / (one + Vector256.Exp(-v));
                var d = Vector256.Create(t[8..]) * (s * (one + (v * (one - s))));
                if (accumulate) d += Vector256.Create(t[16..]);
                d.CopyTo(t);
                t[..len].CopyTo(gradInput.Slice(i, len));
                return;
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
