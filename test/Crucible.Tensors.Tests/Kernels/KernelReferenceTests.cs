using Crucible.Tensors.Kernels;
using K = Crucible.Tensors.Kernels.Kernels;

namespace Crucible.Tensors.Tests.Kernels;

/// <summary>Every fast kernel against its plain-loop oracle, over lengths 0..257 so vector tails get hit.</summary>
public class KernelReferenceTests
{
    public static IEnumerable<object[]> Lengths => Enumerable.Range(0, 258).Select(n => new object[] { n });

    private static float[] Data(int n, int seed, float scale = 3f)
    {
        var rng = new System.Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        return x;
    }

    public sealed record Unary(string Name, Action<float[], float[]> Fast, Func<float, float> Reference, double Tol)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Unary> UnaryKernels() =>
    [
        new("silu", (x, d) => K.SiluForward(x, d), NaiveKernels.Silu, 2e-6),
        new("gelu", (x, d) => K.GeluForward(x, d), NaiveKernels.Gelu, 2e-6),
        new("relu", (x, d) => K.ReluForward(x, d), NaiveKernels.Relu, 0),
        new("tanh", (x, d) => K.TanhForward(x, d), NaiveKernels.Tanh, 2e-6),
        new("sigmoid", (x, d) => K.SigmoidForward(x, d), NaiveKernels.Sigmoid, 2e-6),
        new("softplus", (x, d) => K.SoftplusForward(x, d), NaiveKernels.Softplus, 2e-6),
        new("leaky_relu", (x, d) => K.LeakyReluForward(x, 0.1f, d), v => v > 0 ? v : 0.1f * v, 0),
    ];

    [Theory]
    [MemberData(nameof(UnaryKernels))]
    public void Forward_MatchesReference_AllLengths(Unary k)
    {
        for (int n = 0; n <= 257; n++)
        {
            var x = Data(n, 20230828 + n);
            var d = new float[n];
            k.Fast(x, d);
            var expected = x.Select(k.Reference).ToArray();
            GradCheck.Close($"{k.Name} n={n}", expected, d, k.Tol, k.Tol);
        }
    }

    [Fact]
    public void Softplus_KeepsItsTinyValuesForVeryNegativeInputs()
    {
        // log(1 + e^x) ≈ e^x − e^2x/2 for x ≪ 0; 1 + e^x rounds to 1 in double below x ≈ −37, which gave 0 (PyTorch's
        // log1p(exp(x)) gives e^x). The expected values are the series, independent of the kernel's formula.
        float[] x = [-15f, -20f, -30f, -37f, -40f, -60f, -80f];
        var d = new float[x.Length];
        K.SoftplusForward(x, d);
        for (int i = 0; i < x.Length; i++)
        {
            double e = Math.Exp(x[i]);
            double expected = e - (e * e / 2) + (e * e * e / 3);
            Assert.True(Math.Abs(d[i] - expected) <= 1e-6 * expected, $"softplus({x[i]}) = {d[i]:R}, expected {expected:R}");
            Assert.True(Math.Abs(NaiveKernels.Softplus(x[i]) - expected) <= 1e-6 * expected, $"reference softplus({x[i]}) = {NaiveKernels.Softplus(x[i]):R}");
        }
    }

    [Theory]
    [InlineData("silu")]
    [InlineData("gelu")]
    [InlineData("softplus")]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    public void Backward_AccumulatesTheDerivative_AllLengths(string name)
    {
        Func<float, float> f = name == "tanh" ? NaiveKernels.Tanh : NaiveKernels.Sigmoid;
        for (int n = 0; n <= 257; n++)
        {
            var x = Data(n, 7 + n);
            var g = Data(n, 11 + n, 1f);
            var gx = Enumerable.Repeat(0.25f, n).ToArray();       // backward must add, not overwrite
            var y = x.Select(f).ToArray();
            switch (name)
            {
                case "silu": K.SiluBackward(x, g, gx); break;
                case "gelu": K.GeluBackward(x, g, gx); break;
                case "softplus": K.SoftplusBackward(x, g, gx); break;
                case "tanh": K.TanhBackward(y, g, gx); break;
                default: K.SigmoidBackward(y, g, gx); break;
            }

            var expected = new double[n];
            for (int i = 0; i < n; i++) expected[i] = 0.25 + (g[i] * Derivative(name, x[i]));

            GradCheck.Close($"{name}' n={n}", expected, gx, 1e-5, 1e-6);
        }

    }

    [Theory]
    [InlineData(Activation.None)]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Gelu)]
    public void ActivationBackward_OverwritesWithTheDerivative_AllLengths(Activation activation)
    {
        for (int n = 0; n <= 257; n++)
        {
            var x = Data(n, 13 + n);
            var g = Data(n, 17 + n, 1f);
            var gx = Enumerable.Repeat(123f, n).ToArray();            // overwritten, not accumulated
            K.ActivationBackward(activation, x, g, gx);
            var expected = new double[n];
            for (int i = 0; i < n; i++)
            {
                expected[i] = g[i] * activation switch
                {
                    Activation.None => 1.0,
                    Activation.Relu => x[i] > 0 ? 1.0 : 0.0,
                    _ => Derivative(activation == Activation.Silu ? "silu" : "gelu", x[i]),
                };
            }

            GradCheck.Close($"{activation}' n={n}", expected, gx, 1e-5, 1e-6);
        }
    }

    [Theory]
    [InlineData(Activation.None)]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Gelu)]
    public void ActivationForward_AddsTheResidual_AllLengths(Activation activation)
    {
        Func<float, float> f = activation switch
        {
            Activation.Silu => NaiveKernels.Silu,
            Activation.Relu => NaiveKernels.Relu,
            Activation.Gelu => NaiveKernels.Gelu,
            _ => v => v,
        };
        for (int n = 0; n <= 257; n++)
        {
            var x = Data(n, 19 + n);
            var r = Data(n, 23 + n);
            var y = new float[n];
            K.ActivationForward(activation, x, r, y);
            GradCheck.Close($"{activation} + residual n={n}", x.Select((v, i) => (double)f(v) + r[i]).ToArray(), y, 4e-6, 4e-6);
            K.ActivationForward(activation, x, default, x);          // in place, no residual
            GradCheck.Close($"{activation} in place n={n}", y.Select((v, i) => (double)v - r[i]).ToArray(), x, 4e-6, 4e-6);
        }
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(7, 1)]
    [InlineData(33, 20)]
    [InlineData(300, 64)]
    [InlineData(5, 257)]
    public void AddColumnSums_AddsTheRowSumsInRowOrder(int rows, int cols)
    {
        var x = Data(rows * cols, 29);
        var d = Data(cols, 31);
        var expected = (float[])d.Clone();
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++) expected[j] += x[(r * cols) + j];     // the same float additions, in order
        }

        K.AddColumnSums(x, rows, cols, d);
        Assert.Equal(expected, d);
    }

    /// <summary>The analytic derivatives in double: the oracle for the backward kernels.</summary>
    private static double Derivative(string name, double x)
    {
        double s = 1.0 / (1.0 + Math.Exp(-x));
        return name switch
        {
            "silu" => s * (1 + (x * (1 - s))),
            "gelu" => NaiveKernels.Phi(x) + (x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI)),
            "softplus" => x > 20 ? 1.0 : s,
            "tanh" => 1 - (Math.Tanh(x) * Math.Tanh(x)),
            _ => s * (1 - s),
        };
    }

    public static TheoryData<bool, bool, int, int, int> GemmShapes()
    {
        var data = new TheoryData<bool, bool, int, int, int>();
        foreach (bool ta in new[] { false, true })
        {
            foreach (bool tb in new[] { false, true })
            {
                data.Add(ta, tb, 0, 3, 4);
                data.Add(ta, tb, 3, 0, 4);
                data.Add(ta, tb, 3, 4, 0);
                data.Add(ta, tb, 1, 1, 1);
                data.Add(ta, tb, 5, 17, 33);
                data.Add(ta, tb, 64, 64, 64);
                data.Add(ta, tb, 130, 257, 129);   // above the threading threshold, odd tails
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GemmShapes))]
    public void Gemm_MatchesNaive(bool transA, bool transB, int m, int n, int k)
    {
        var a = Data(m * k, 1, 1f);
        var b = Data(k * n, 2, 1f);
        var c0 = Data(m * n, 3, 1f);
        int lda = transA ? m : k, ldb = transB ? k : n;
        foreach (float beta in new[] { 0f, 1f, 0.5f })
        {
            var fast = (float[])c0.Clone();
            var naive = (float[])c0.Clone();
            K.Gemm(transA, transB, m, n, k, 0.75f, a, Math.Max(1, lda), b, Math.Max(1, ldb), beta, fast, Math.Max(1, n));
            NaiveKernels.Gemm(transA, transB, m, n, k, 0.75f, a, Math.Max(1, lda), b, Math.Max(1, ldb), beta, naive, Math.Max(1, n));
            GradCheck.Close($"gemm {transA}{transB} {m}x{n}x{k} beta={beta}", naive, fast, 1e-4, 1e-4);
        }
    }

    [Fact]
    public void Gemm_BetaZero_IgnoresNaNInC()
    {
        var c = new[] { float.NaN, float.NaN };
        K.Gemm(false, false, 1, 2, 1, 1f, [2f], 1, [3f, 4f], 2, 0f, c, 2);
        Assert.Equal([6f, 8f], c);
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 1, 0, 0)]
    [InlineData(2, 3, 24, 4, 3, 1, 1)]
    [InlineData(2, 3, 24, 4, 3, 8, 8)]
    [InlineData(3, 5, 7, 2, 3, 4, 4)]
    [InlineData(1, 2, 5, 3, 1, 0, 0)]
    [InlineData(2, 4, 10, 4, 2, 3, 0)]
    public void Conv1d_MatchesDirectConvolution(int batch, int cin, int length, int cout, int k, int dilation, int padLeft)
    {
        if (dilation == 0) dilation = 1;
        int padRight = padLeft;
        var x = Data(batch * cin * length, 5, 1f);
        var w = Data(cout * cin * k, 6, 1f);
        var bias = Data(cout, 7, 1f);
        var fast = Tensor.Conv1d(new Tensor(x, [batch, cin, length]), new Tensor(w, [cout, cin, k]), new Tensor(bias, [cout]), dilation, padLeft, padRight);
        var naive = NaiveKernels.Conv1d(x, batch, cin, length, w, cout, k, bias, dilation, padLeft, padRight);
        GradCheck.Close("conv1d", naive, fast.Data, 1e-5, 1e-5);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Softmax_And_LayerNorm_MatchReference(int n)
    {
        if (n == 0) return;
        var x = Data(n, 100 + n, 5f);
        var sm = new Tensor(x, [1, n]).Softmax();
        GradCheck.Close($"softmax n={n}", NaiveKernels.Softmax(x), sm.Data, 1e-5, 1e-7);
        var gamma = Data(n, 200 + n, 1f);
        var beta = Data(n, 300 + n, 1f);
        var ln = Tensor.LayerNorm(new Tensor(x, [1, n]), n, new Tensor(gamma, [n]), new Tensor(beta, [n]));
        GradCheck.Close($"layernorm n={n}", NaiveKernels.LayerNorm(x, gamma, beta, 1e-5), ln.Data, 1e-4, 1e-4);
    }

    [Fact]
    public void Phi_ReferenceAgreesWithKnownValues()
    {
        // Φ(1) = 0.8413447460685429, Φ(−2.5) = 0.006209665325776132, Φ(4) = 0.9999683287581669 (standard tables)
        Assert.Equal(0.8413447460685429, NaiveKernels.Phi(1.0), 12);
        Assert.Equal(0.006209665325776132, NaiveKernels.Phi(-2.5), 12);
        Assert.Equal(0.9999683287581669, NaiveKernels.Phi(4.0), 12);
    }
}
