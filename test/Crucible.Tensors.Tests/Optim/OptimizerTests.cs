using Crucible.Tensors.Optim;

namespace Crucible.Tensors.Tests.Optim;

/// <summary>
/// The optimisers against the update equations evaluated by hand in double, on the quadratic loss
/// L(θ) = ½ Σ aᵢ (θᵢ − cᵢ)², whose gradient is g = a ⊙ (θ − c). The loss goes through autograd; the reference
/// recomputes the gradient from its own double θ. Two parameters of 37 and 5 elements exercise SIMD body and tail.
/// </summary>
public class OptimizerTests
{
    private const int Steps = 3;
    private static readonly int[] Lengths = [37, 5];

    /// <summary>A reference optimiser in double: (θ, g, state, t) → θ, written from the papers' equations.</summary>
    public sealed record Case(string Name, Func<IEnumerable<Tensor>, Optimizer> Create, Action<double[], double[], double[][], int> Reference)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Case> Cases() =>
    [
        new("sgd", p => new Sgd(p, lr: 0.1), SgdReference(0.1, 0, 0, 0, false)),
        new("sgd_weight_decay", p => new Sgd(p, lr: 0.1, weightDecay: 0.05), SgdReference(0.1, 0, 0, 0.05, false)),
        new("sgd_momentum", p => new Sgd(p, lr: 0.1, momentum: 0.9), SgdReference(0.1, 0.9, 0, 0, false)),
        new("sgd_momentum_dampening", p => new Sgd(p, lr: 0.1, momentum: 0.8, dampening: 0.3), SgdReference(0.1, 0.8, 0.3, 0, false)),
        new("sgd_nesterov", p => new Sgd(p, lr: 0.1, momentum: 0.9, nesterov: true), SgdReference(0.1, 0.9, 0, 0, true)),
        new("sgd_nesterov_weight_decay", p => new Sgd(p, lr: 0.05, momentum: 0.7, weightDecay: 0.1, nesterov: true), SgdReference(0.05, 0.7, 0, 0.1, true)),
        new("adam", p => new Adam(p, lr: 0.1), AdamReference(0.1, 0.9, 0.999, 1e-8, 0, false, false)),
        new("adam_betas_eps", p => new Adam(p, lr: 0.05, beta1: 0.5, beta2: 0.9, eps: 1e-3), AdamReference(0.05, 0.5, 0.9, 1e-3, 0, false, false)),
        new("adam_weight_decay", p => new Adam(p, lr: 0.1, weightDecay: 0.2), AdamReference(0.1, 0.9, 0.999, 1e-8, 0.2, false, false)),
        new("adam_amsgrad", p => new Adam(p, lr: 0.3, beta2: 0.5, amsgrad: true), AdamReference(0.3, 0.9, 0.5, 1e-8, 0, true, false)),
        new("adamw", p => new AdamW(p, lr: 0.1), AdamReference(0.1, 0.9, 0.999, 1e-8, 0.01, false, true)),
        new("adamw_strong_decay", p => new AdamW(p, lr: 0.1, weightDecay: 0.5), AdamReference(0.1, 0.9, 0.999, 1e-8, 0.5, false, true)),
        new("adamw_amsgrad", p => new AdamW(p, lr: 0.3, beta2: 0.5, weightDecay: 0.1, amsgrad: true), AdamReference(0.3, 0.9, 0.5, 1e-8, 0.1, true, true)),
    ];

    [Theory, MemberData(nameof(Cases))]
    public void Step_MatchesUpdateEquationsInDouble(Case c)
    {
        var problem = new Quadratic(seed: 7);
        var optimizer = c.Create(problem.Parameters);
        var expected = problem.Parameters.Select(p => p.Data.Select(v => (double)v).ToArray()).ToArray();
        var state = problem.Parameters.Select(p => new double[3][]).ToArray();
        for (int k = 0; k < state.Length; k++)
        {
            for (int s = 0; s < 3; s++) state[k][s] = new double[Lengths[k]];
        }

        for (int t = 1; t <= Steps; t++)
        {
            optimizer.ZeroGrad();
            problem.Loss().Backward();
            var gradsBefore = problem.Parameters.Select(p => (float[])p.Grad!.Clone()).ToArray();
            optimizer.Step();
            for (int k = 0; k < expected.Length; k++)
            {
                // the gradient went through autograd in float; it must equal a ⊙ (θ − c) of the float θ
                Assert.Equal(gradsBefore[k], problem.Parameters[k].Grad!);
                c.Reference(expected[k], problem.Gradient(k, expected[k]), state[k], t);
                Close(expected[k], problem.Parameters[k].Data, 1e-6, $"{c.Name} step {t} parameter {k}");
            }
        }

        for (int k = 0; k < expected.Length; k++) Assert.Equal(Steps, optimizer.StepCount(k));
    }

    [Fact]
    public void Amsgrad_KeepsTheRunningMaximum()
    {
        // the amsgrad cases must exercise the maximum: somewhere v has fallen below its earlier peak
        var problem = new Quadratic(seed: 7);
        var adam = new Adam(problem.Parameters, lr: 0.3, beta2: 0.5, amsgrad: true);
        for (int t = 0; t < Steps; t++)
        {
            adam.ZeroGrad();
            problem.Loss().Backward();
            adam.Step();
        }

        var s = adam.StateDict().Parameters[0].Buffers;
        var v = s[OptimizerBuffer.ExpAvgSq];
        var vMax = s[OptimizerBuffer.MaxExpAvgSq];
        Assert.All(Enumerable.Range(0, v.Length), i => Assert.True(vMax[i] >= v[i]));
        Assert.Contains(Enumerable.Range(0, v.Length), i => vMax[i] > v[i] * 1.01f);
    }

    [Fact]
    public void Step_SkipsParametersWithoutGradient()
    {
        var a = Tensor.Ones([4], requiresGrad: true);
        var b = Tensor.Ones([3], requiresGrad: true);
        var adam = new Adam([a, b], lr: 0.1);
        a.Grad = [1f, -1f, 2f, 0.5f];
        adam.Step();
        Assert.Equal(1, adam.StepCount(0));
        Assert.Equal(0, adam.StepCount(1));
        Assert.Equal([1f, 1f, 1f], b.Data);
        Assert.NotEqual(1f, a.Data[0]);
        Assert.False(adam.StateDict().Parameters.ContainsKey(1));

        adam.ZeroGrad();
        Assert.Null(a.Grad);
        Assert.Null(b.Grad);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adamw_amsgrad")]
    [InlineData("sgd_nesterov")]
    public void LoadStateDict_ResumesBitExactly(string name)
    {
        Optimizer Create(IEnumerable<Tensor> p) => name switch
        {
            "adam" => new Adam(p, lr: 0.05),
            "adamw_amsgrad" => new AdamW(p, lr: 0.05, beta2: 0.9, amsgrad: true),
            _ => new Sgd(p, lr: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true),
        };

        var problem = new Quadratic(seed: 11);
        var optimizer = Create(problem.Parameters);
        Run(problem, optimizer, 4);

        // checkpoint: parameter values and optimiser state
        var checkpoint = problem.Parameters.Select(p => (float[])p.Data.Clone()).ToArray();
        optimizer.LearningRate = 0.02;
        var state = optimizer.StateDict();

        Run(problem, optimizer, 5);
        var uninterrupted = problem.Parameters.Select(p => (float[])p.Data.Clone()).ToArray();

        // resume into fresh tensors and a fresh optimiser (built with a different lr: the state dict restores it)
        var resumed = new Quadratic(seed: 11);
        for (int k = 0; k < checkpoint.Length; k++) checkpoint[k].CopyTo(resumed.Parameters[k].Data, 0);
        var fresh = Create(resumed.Parameters);
        fresh.LoadStateDict(state);
        Assert.Equal(0.02, fresh.LearningRate);
        Run(resumed, fresh, 5);

        for (int k = 0; k < uninterrupted.Length; k++) AssertBitwiseEqual(uninterrupted[k], resumed.Parameters[k].Data);
    }

    [Fact]
    public void StateDict_IsADeepCopy()
    {
        var problem = new Quadratic(seed: 3);
        var adam = new Adam(problem.Parameters);
        Run(problem, adam, 1);
        var state = adam.StateDict();
        var m = (float[])state.Parameters[0].Buffers[OptimizerBuffer.ExpAvg].Clone();
        Run(problem, adam, 1);
        Assert.Equal(m, state.Parameters[0].Buffers[OptimizerBuffer.ExpAvg]);
        Assert.Equal(1, state.Parameters[0].Step);
    }

    [Fact]
    public void LoadStateDict_RejectsMismatchedState()
    {
        var problem = new Quadratic(seed: 3);
        var adam = new Adam(problem.Parameters);
        var wrongLength = new OptimizerState(1e-3, new Dictionary<int, ParameterState>
        {
            [0] = new(1, new Dictionary<OptimizerBuffer, float[]> { [OptimizerBuffer.ExpAvg] = new float[3] }),
        });
        var wrongIndex = new OptimizerState(1e-3, new Dictionary<int, ParameterState>
        {
            [2] = new(1, new Dictionary<OptimizerBuffer, float[]>()),
        });
        var wrongKind = new OptimizerState(1e-3, new Dictionary<int, ParameterState>
        {
            [0] = new(1, new Dictionary<OptimizerBuffer, float[]> { [OptimizerBuffer.Momentum] = new float[Lengths[0]] }),
        });
        Assert.Throws<ArgumentException>(() => adam.LoadStateDict(wrongLength));
        Assert.Throws<ArgumentException>(() => adam.LoadStateDict(wrongIndex));
        Assert.Throws<ArgumentException>(() => adam.LoadStateDict(wrongKind));
    }

    [Fact]
    public void Constructors_RejectInvalidArguments()
    {
        Tensor P() => Tensor.Ones([2], requiresGrad: true);
        var shared = P();
        Assert.Throws<ArgumentException>(() => new Adam([]));
        Assert.Throws<ArgumentException>(() => new Adam([Tensor.Ones([2])]));
        Assert.Throws<ArgumentException>(() => new Adam([shared, shared]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([P()], lr: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([P()], beta1: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([P()], beta2: -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([P()], eps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW([P()], weightDecay: -1));
        Assert.Throws<ArgumentException>(() => new Sgd([P()], lr: 0.1, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd([P()], lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([P()], lr: 0.1, momentum: -0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([P()], lr: double.NaN));
    }

    [Fact]
    public void AdamW_DefaultsToWeightDecayOneHundredth()
    {
        Assert.Equal(0.01, new AdamW([Tensor.Ones([1], requiresGrad: true)]).WeightDecay);
        Assert.Equal(0.0, new Adam([Tensor.Ones([1], requiresGrad: true)]).WeightDecay);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("adamw_amsgrad")]
    [InlineData("sgd_nesterov_weight_decay")]
    public void Step_DoesNotAllocateAfterTheFirstStep(string name)
    {
        var problem = new Quadratic(seed: 5, lengths: [1000, 33]);
        Optimizer optimizer = name switch
        {
            "adam" => new Adam(problem.Parameters),
            "adamw_amsgrad" => new AdamW(problem.Parameters, amsgrad: true),
            _ => new Sgd(problem.Parameters, lr: 0.01, momentum: 0.9, weightDecay: 0.1, nesterov: true),
        };
        Run(problem, optimizer, 1);

        // warm the JIT on this exact path, then measure
        for (int i = 0; i < 20; i++) optimizer.Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) optimizer.Step();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    // ----------------------------------------------------------------------------------------------
    // references in double, from the equations (not from the implementation)
    // ----------------------------------------------------------------------------------------------

    /// <summary>PyTorch SGD: g += λθ; b = g (t = 1) or μb + (1 − τ)g; g = g + μb (Nesterov) or b; θ −= γg.</summary>
    private static Action<double[], double[], double[][], int> SgdReference(double lr, double mu, double tau, double wd, bool nesterov) =>
        (theta, g, state, t) =>
        {
            var b = state[0];
            for (int i = 0; i < theta.Length; i++)
            {
                double gi = g[i] + (wd * theta[i]);
                if (mu != 0)
                {
                    b[i] = t == 1 ? gi : (mu * b[i]) + ((1 - tau) * gi);
                    gi = nesterov ? gi + (mu * b[i]) : b[i];
                }

                theta[i] -= lr * gi;
            }
        };

    /// <summary>
    /// Kingma &amp; Ba Algorithm 1 with PyTorch's ε: θ −= γ m̂ / (√v̂ + ε), m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ);
    /// AMSGrad uses max over time of v; L2 adds λθ to g; AdamW multiplies θ by (1 − γλ) first.
    /// </summary>
    private static Action<double[], double[], double[][], int> AdamReference(double lr, double b1, double b2, double eps, double wd, bool amsgrad, bool decoupled) =>
        (theta, g, state, t) =>
        {
            double[] m = state[0], v = state[1], vMax = state[2];
            for (int i = 0; i < theta.Length; i++)
            {
                double gi = g[i];
                if (decoupled) theta[i] -= lr * wd * theta[i];
                else gi += wd * theta[i];
                m[i] = (b1 * m[i]) + ((1 - b1) * gi);
                v[i] = (b2 * v[i]) + ((1 - b2) * gi * gi);
                vMax[i] = Math.Max(vMax[i], v[i]);
                double mHat = m[i] / (1 - Math.Pow(b1, t));
                double vHat = (amsgrad ? vMax[i] : v[i]) / (1 - Math.Pow(b2, t));
                theta[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        };

    // ----------------------------------------------------------------------------------------------
    // helpers
    // ----------------------------------------------------------------------------------------------

    private static void Run(Quadratic problem, Optimizer optimizer, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            optimizer.ZeroGrad();
            problem.Loss().Backward();
            optimizer.Step();
        }
    }

    internal static void Close(double[] expected, float[] actual, double tol, string label)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0;
        int worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            if (d > maxDiff || double.IsNaN(d)) (maxDiff, worst) = (d, i);
        }

        Assert.True(maxDiff <= tol, $"{label}: maxdiff {maxDiff:E3} at [{worst}]: expected {expected[worst]:R}, got {actual[worst]:R}");
    }

    internal static void AssertBitwiseEqual(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            int e = BitConverter.SingleToInt32Bits(expected[i]), a = BitConverter.SingleToInt32Bits(actual[i]);
            Assert.True(e == a, $"element {i}: {expected[i]:R} (0x{e:X8}) != {actual[i]:R} (0x{a:X8})");
        }
    }

    /// <summary>L(θ) = ½ Σₖ Σᵢ aₖᵢ (θₖᵢ − cₖᵢ)² over parameters θₖ, with a ∈ [0.5, 2], c and θ₀ ∈ [−1, 1].</summary>
    private sealed class Quadratic
    {
        private readonly Tensor[] _a;
        private readonly Tensor[] _c;

        public Quadratic(int seed, int[]? lengths = null)
        {
            var rng = new System.Random(seed);
            lengths ??= Lengths;
            float U(double lo, double hi) => (float)(lo + ((hi - lo) * rng.NextDouble()));
            Parameters = [.. lengths.Select(n => new Tensor([.. Enumerable.Range(0, n).Select(_ => U(-1, 1))], [n], requiresGrad: true))];
            _a = [.. lengths.Select(n => new Tensor([.. Enumerable.Range(0, n).Select(_ => U(0.5, 2))], [n]))];
            _c = [.. lengths.Select(n => new Tensor([.. Enumerable.Range(0, n).Select(_ => U(-1, 1))], [n]))];
        }

        public Tensor[] Parameters { get; }

        public Tensor Loss()
        {
            Tensor? total = null;
            for (int k = 0; k < Parameters.Length; k++)
            {
                var d = Parameters[k] - _c[k];
                var term = (d * d * _a[k]).Sum() * 0.5f;
                total = total is null ? term : total + term;
            }

            return total!;
        }

        /// <summary>a ⊙ (θ − c) in double, for the reference trajectory.</summary>
        public double[] Gradient(int k, double[] theta) =>
            [.. theta.Select((v, i) => _a[k].Data[i] * (v - _c[k].Data[i]))];
    }
}
