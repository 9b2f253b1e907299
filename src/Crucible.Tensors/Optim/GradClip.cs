using System.Numerics;
using System.Numerics.Tensors;

namespace Crucible.Tensors.Optim;

/// <summary>
/// Gradient clipping, PyTorch's <c>torch.nn.utils.clip_grad_norm_</c> and <c>clip_grad_value_</c> (gradient-norm
/// clipping after Pascanu, Mikolov and Bengio, "On the difficulty of training recurrent neural networks", ICML 2013).
/// Parameters whose <see cref="Tensor.Grad"/> is null are skipped.
/// </summary>
public static class GradClip
{
    /// <summary>
    /// Rescales the gradients in place so that their joint p-norm is at most <paramref name="maxNorm"/>, and returns
    /// the norm they had before: total = (Σ over all gradient elements |g|^p)^(1/p) (max |g| for p = ∞), accumulated
    /// in double. With c = maxNorm / (total + 1e-6), every gradient is multiplied by c when c &lt; 1 (PyTorch clamps c
    /// to at most 1 and always multiplies; multiplying by 1 changes nothing, so it is skipped).
    /// </summary>
    /// <param name="parameters">The parameters whose gradients are clipped together.</param>
    /// <param name="maxNorm">The largest allowed norm (≥ 0).</param>
    /// <param name="normType">p: any p &gt; 0, or <see cref="double.PositiveInfinity"/>.</param>
    /// <param name="errorIfNonfinite">Throw when the total norm is NaN or infinite (instead of scaling by NaN/0).</param>
    /// <returns>The total norm before clipping.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> or <paramref name="normType"/> out of range.</exception>
    /// <exception cref="InvalidOperationException">The norm is not finite and <paramref name="errorIfNonfinite"/> is set.</exception>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be ≥ 0");
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "the norm type must be > 0 (or +∞)");
        var list = parameters as IReadOnlyList<Tensor> ?? [.. parameters];

        double total = TotalNorm(list, normType);
        if (errorIfNonfinite && !double.IsFinite(total))
            throw new InvalidOperationException($"the total {normType}-norm of the gradients is {total}; clipping would give NaN or zero gradients");

        double coefficient = maxNorm / (total + 1e-6);
        if (coefficient < 1 || double.IsNaN(coefficient))
        {
            float c = (float)coefficient;
            foreach (var p in list)
            {
                if (p.Grad is { } g) TensorPrimitives.Multiply(g, c, g);
            }
        }

        return total;
    }

    /// <summary>The joint p-norm of the gradients (what <see cref="ClipGradNorm"/> returns), without clipping.</summary>
    /// <param name="parameters">The parameters whose gradients are measured.</param>
    /// <param name="normType">p: any p &gt; 0, or <see cref="double.PositiveInfinity"/>.</param>
    public static double TotalNorm(IEnumerable<Tensor> parameters, double normType = 2)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "the norm type must be > 0 (or +∞)");
        if (double.IsPositiveInfinity(normType))
        {
            double max = 0;
            foreach (var p in parameters)
            {
                if (p.Grad is not { Length: > 0 } g) continue;
                float m = TensorPrimitives.MaxMagnitude(g); // NaN if any element is NaN
                if (float.IsNaN(m)) return double.NaN;
                max = Math.Max(max, Math.Abs(m));
            }

            return max;
        }

        double sum = 0;
        foreach (var p in parameters)
        {
            if (p.Grad is not { } g) continue;
            sum += normType == 2 ? SumOfSquares(g) : SumOfPowers(g, normType);
        }

        return normType == 2 ? Math.Sqrt(sum) : normType == 1 ? sum : Math.Pow(sum, 1 / normType);
    }

    /// <summary>
    /// Clamps every gradient element to [−<paramref name="clipValue"/>, <paramref name="clipValue"/>] in place
    /// (PyTorch's <c>clip_grad_value_</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clipValue"/> is negative or NaN.</exception>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clipValue >= 0)) throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, "the clip value must be ≥ 0");
        float c = (float)clipValue;
        foreach (var p in parameters)
        {
            if (p.Grad is not { } g) continue;
            TensorPrimitives.Min(g, c, g);
            TensorPrimitives.Max(g, -c, g);
        }
    }

    /// <summary>Σ g², widened to double before squaring (in a fixed order: deterministic).</summary>
    private static double SumOfSquares(ReadOnlySpan<float> g)
    {
        var acc = Vector<double>.Zero;
        int i = 0;
        for (; i <= g.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(g[i..]), out var lo, out var hi);
            acc += (lo * lo) + (hi * hi);
        }

        double sum = Vector.Sum(acc);
        for (; i < g.Length; i++) sum += (double)g[i] * g[i];
        return sum;
    }

    private static double SumOfPowers(ReadOnlySpan<float> g, double p)
    {
        double sum = 0;
        if (p == 1)
        {
            foreach (float x in g) sum += Math.Abs((double)x);
        }
        else
        {
            foreach (float x in g) sum += Math.Pow(Math.Abs((double)x), p);
        }

        return sum;
    }
}
