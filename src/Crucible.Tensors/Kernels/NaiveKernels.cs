namespace Crucible.Tensors.Kernels;

/// <summary>
/// Plain-loop reference implementations, kept forever as the oracles the fast kernels are tested against
/// (llm.c's <c>matmul_forward_naive</c>). Written for clarity, in double where it costs nothing.
/// </summary>
public static class NaiveKernels
{
    /// <summary>C = α · op(A) · op(B) + β · C with three loops.</summary>
    public static void Gemm(
        bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transA ? a[(p * lda) + i] : a[(i * lda) + p];
                    double bv = transB ? b[(j * ldb) + p] : b[(p * ldb) + j];
                    sum += av * bv;
                }

                double old = beta == 0f ? 0.0 : beta * c[(i * ldc) + j];
                c[(i * ldc) + j] = (float)((alpha * sum) + old);
            }
        }
    }

    /// <summary>Direct 1-d convolution: y[n, o, t] = b[o] + Σ_c Σ_j w[o, c, j] · x[n, c, t + j·d − padLeft].</summary>
    public static float[] Conv1d(float[] x, int batch, int cin, int length, float[] w, int cout, int k, float[]? bias, int dilation, int padLeft, int padRight)
    {
        int lout = length + padLeft + padRight - (dilation * (k - 1));
        var y = new float[batch * cout * lout];
        for (int n = 0; n < batch; n++)
        {
            for (int o = 0; o < cout; o++)
            {
                for (int t = 0; t < lout; t++)
                {
                    double s = bias?[o] ?? 0.0;
                    for (int c = 0; c < cin; c++)
                    {
                        for (int j = 0; j < k; j++)
                        {
                            int src = t + (j * dilation) - padLeft;
                            if (src < 0 || src >= length) continue;
                            s += (double)w[(((o * cin) + c) * k) + j] * x[(((n * cin) + c) * length) + src];
                        }
                    }

                    y[(((n * cout) + o) * lout) + t] = (float)s;
                }
            }
        }

        return y;
    }

    /// <summary>x · σ(x).</summary>
    public static float Silu(float x) => (float)(x / (1.0 + Math.Exp(-x)));

    /// <summary>Exact GELU from a high-precision Φ (series / continued fraction via <see cref="Phi"/>).</summary>
    public static float Gelu(float x) => (float)(x * Phi(x));

    /// <summary>max(x, 0).</summary>
    public static float Relu(float x) => x > 0 ? x : 0f;

    /// <summary>tanh.</summary>
    public static float Tanh(float x) => (float)Math.Tanh(x);

    /// <summary>Logistic sigmoid.</summary>
    public static float Sigmoid(float x) => (float)(1.0 / (1.0 + Math.Exp(-x)));

    /// <summary>log(1 + e^x), linear above 20; the series e − e²/2 + e³/3 for e = e^x &lt; 1e-4, where 1 + e loses digits.</summary>
    public static float Softplus(float x)
    {
        if (x > 20f) return x;
        double e = Math.Exp(x);
        return (float)(e < 1e-4 ? e - (e * e / 2) + (e * e * e / 3) : Math.Log(1.0 + e));
    }

    /// <summary>
    /// Standard normal CDF Φ(x) by the Taylor series of erf (|x| ≤ 3) or the Laplace continued fraction
    /// of the tail (|x| &gt; 3), both summed to double precision. Independent of the kernels' erf.
    /// </summary>
    public static double Phi(double x)
    {
        double z = Math.Abs(x) / Math.Sqrt(2.0);
        double erf;
        if (z <= 2.2)
        {
            // erf z = 2/√π Σ (−1)^n z^(2n+1) / (n! (2n+1))
            double term = z, sum = z;
            for (int n = 1; n < 200; n++)
            {
                term *= -z * z / n;
                double add = term / ((2 * n) + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }

            erf = 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc z = e^{−z²}/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + …)))) evaluated bottom-up
            double f = z;
            for (int n = 60; n >= 1; n--) f = z + (n / 2.0 / f);
            erf = 1.0 - (Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f);
        }

        return x >= 0 ? 0.5 * (1.0 + erf) : 0.5 * (1.0 - erf);
    }

    /// <summary>Softmax of one line.</summary>
    public static float[] Softmax(ReadOnlySpan<float> x)
    {
        double max = double.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, v);
        var e = new double[x.Length];
        double sum = 0;
        for (int i = 0; i < x.Length; i++) { e[i] = Math.Exp(x[i] - max); sum += e[i]; }
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = (float)(e[i] / sum);
        return y;
    }

    /// <summary>Layer norm of one row with the biased variance.</summary>
    public static float[] LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, double eps)
    {
        double mean = 0;
        foreach (float v in x) mean += v;
        mean /= x.Length;
        double var = 0;
        foreach (float v in x) var += (v - mean) * (v - mean);
        var /= x.Length;
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = (float)(((x[i] - mean) / Math.Sqrt(var + eps) * gamma[i]) + beta[i]);
        return y;
    }
}
