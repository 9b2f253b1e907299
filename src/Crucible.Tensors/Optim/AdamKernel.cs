using System.Runtime.Intrinsics;

namespace Crucible.Tensors.Optim;

/// <summary>
/// The fused element-wise Adam update (one pass over θ, g, m, v and, for AMSGrad, v_max), in float32 with PyTorch's
/// order of operations. Vector512 and Vector256 bodies and the scalar tail perform the same IEEE operations in the
/// same order (no fused multiply-add), so every element gets the same result whatever the vector width or alignment.
/// Hardware without 256-bit vectors takes the scalar loop (checked with DOTNET_EnableHWIntrinsic=0).
/// </summary>
internal static class AdamKernel
{
    /// <summary>
    /// For each i: g = grad[i] + l2·θ[i];  m ← m + w1·(g − m)  (PyTorch's lerp for w1 &lt; ½, else g − (g − m)·(1 − w1));
    /// v ← β2·v + (w2·g)·g;  v̂ = max(v_max, v) (AMSGrad) or v;  θ ← θ + (−stepSize)·(m / (√v̂ / bc2Sqrt + eps)).
    /// </summary>
    public static void Update(
        Span<float> theta, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, Span<float> vMax,
        float l2, float w1, float beta2, float w2, float negStepSize, float bc2Sqrt, float eps)
    {
        int n = theta.Length;
        if (grad.Length != n || m.Length != n || v.Length != n || (vMax.Length != 0 && vMax.Length != n))
            throw new ArgumentException("Adam buffers must all have the parameter's length", nameof(grad));

        bool ams = vMax.Length != 0;
        bool lerpFromStart = w1 < 0.5f;
        float oneMinusW1 = 1f - w1;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vl2 = Vector512.Create(l2);
            var vw1 = Vector512.Create(w1);
            var vOneMinusW1 = Vector512.Create(oneMinusW1);
            var vb2 = Vector512.Create(beta2);
            var vw2 = Vector512.Create(w2);
            var vStep = Vector512.Create(negStepSize);
            var vBc2 = Vector512.Create(bc2Sqrt);
            var vEps = Vector512.Create(eps);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var p = Vector512.Create(theta[i..]);
                var g = Vector512.Create(grad[i..]);
                if (l2 != 0f) g += vl2 * p;
                var mi = Vector512.Create(m[i..]);
                mi = lerpFromStart ? mi + (vw1 * (g - mi)) : g - ((g - mi) * vOneMinusW1);
                var vi = (Vector512.Create(v[i..]) * vb2) + (vw2 * g * g);
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                if (ams)
                {
                    vi = Vector512.Max(Vector512.Create(vMax[i..]), vi);
                    vi.CopyTo(vMax[i..]);
                }

                var denom = (Vector512.Sqrt(vi) / vBc2) + vEps;
                (p + (vStep * (mi / denom))).CopyTo(theta[i..]);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vl2 = Vector256.Create(l2);
            var vw1 = Vector256.Create(w1);
            var vOneMinusW1 = Vector256.Create(oneMinusW1);
            var vb2 = Vector256.Create(beta2);
            var vw2 = Vector256.Create(w2);
            var vStep = Vector256.Create(negStepSize);
            var vBc2 = Vector256.Create(bc2Sqrt);
            var vEps = Vector256.Create(eps);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var p = Vector256.Create(theta[i..]);
                var g = Vector256.Create(grad[i..]);
                if (l2 != 0f) g += vl2 * p;
                var mi = Vector256.Create(m[i..]);
                mi = lerpFromStart ? mi + (vw1 * (g - mi)) : g - ((g - mi) * vOneMinusW1);
                var vi = (Vector256.Create(v[i..]) * vb2) + (vw2 * g * g);
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                if (ams)
                {
                    vi = Vector256.Max(Vector256.Create(vMax[i..]), vi);
                    vi.CopyTo(vMax[i..]);
                }

                var denom = (Vector256.Sqrt(vi) / vBc2) + vEps;
                (p + (vStep * (mi / denom))).CopyTo(theta[i..]);
            }
        }

        for (; i < n; i++)
        {
            float p = theta[i];
            float g = grad[i];
            if (l2 != 0f) g += l2 * p;
            float mi = lerpFromStart ? m[i] + (w1 * (g - m[i])) : g - ((g - m[i]) * oneMinusW1);
            float vi = (v[i] * beta2) + (w2 * g * g);
            m[i] = mi;
            v[i] = vi;
            if (ams)
            {
                vi = MathF.Max(vMax[i], vi);
                vMax[i] = vi;
            }

            float denom = (MathF.Sqrt(vi) / bc2Sqrt) + eps;
            theta[i] = p + (negStepSize * (mi / denom));
        }
    }
}
