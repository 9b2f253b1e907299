using Crucible.Tensors.Kernels;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Optim;

/// <summary>Tests that change <see cref="EngineThreads"/> (process-wide) run alone.</summary>
[CollectionDefinition(nameof(EngineThreadsCollection), DisableParallelization = true)]
public sealed class EngineThreadsCollection;

/// <summary>
/// End-to-end training with a hand-written MLP (explicit weight tensors; no Module types): the fit of a noisy
/// regression, and bit-identical training on 1 and 2 GEMM threads.
/// </summary>
[Collection(nameof(EngineThreadsCollection))]
public class TrainingTests
{
    [Fact]
    public void Adam_FitsNoisyRegression_WithSmallMlp()
    {
        // y = sin(3 x₁) + ½ x₂² + ε, x ~ U(−1, 1)², ε ~ N(0, 0.1²): the irreducible MSE is σ² = 0.01
        var (x, y) = Regression(new Philox(seed: 2024), n: 512, noise: 0.1f);
        var mlp = new Mlp(new Philox(seed: 7), [2, 64, 64, 1]);
        var adam = new Adam(mlp.Parameters, lr: 1e-2);

        var losses = Train(mlp, adam, x, y, steps: 1000);

        // Measured: 0.008658 after 1000 steps (0.5852 before the first step). The threshold 0.02 is 2.3x that and
        // 2x the noise floor σ² = 0.01; the measured loss is a little below σ² because a 2-64-64-1 MLP starts to fit
        // the noise of 512 points.
        float final = losses[^1];
        Assert.True(final < 0.02f, $"final training MSE {final} (first {losses[0]})");
        Assert.True(losses[0] > 0.2f, $"the untrained loss {losses[0]} should be far above the floor");
    }

    [Fact]
    public void SameSeed_GivesBitIdenticalTraining_OnOneAndTwoThreads()
    {
        // batch 256 and hidden 256: the hidden layer's GEMMs are 256·256·256 multiply-adds, above the parallel threshold
        const int batch = 256, hidden = 256;
        Assert.True((long)batch * hidden * hidden >= global::Crucible.Tensors.Kernels.Kernels.ParallelThreshold);

        (float[] Losses, float[][] Weights) Run(int threads)
        {
            using var scope = EngineThreads.Limit(threads);
            Assert.Equal(threads, EngineThreads.MaxDegreeOfParallelism);
            var (x, y) = Regression(new Philox(seed: 99), n: batch, noise: 0.1f);
            var mlp = new Mlp(new Philox(seed: 3), [2, hidden, hidden, 1]);
            var adam = new AdamW(mlp.Parameters, lr: 3e-3);
            var losses = Train(mlp, adam, x, y, steps: 15);
            return (losses, [.. mlp.Parameters.Select(p => p.Data)]);
        }

        int before = EngineThreads.MaxDegreeOfParallelism;
        var one = Run(1);
        var two = Run(2);
        Assert.Equal(before, EngineThreads.MaxDegreeOfParallelism);

        OptimizerTests.AssertBitwiseEqual(one.Losses, two.Losses);
        for (int k = 0; k < one.Weights.Length; k++) OptimizerTests.AssertBitwiseEqual(one.Weights[k], two.Weights[k]);
        Assert.True(one.Losses[^1] < one.Losses[0]);
    }

    [Fact]
    public void EngineThreads_LimitRestoresAndValidates()
    {
        int before = EngineThreads.MaxDegreeOfParallelism;
        using (EngineThreads.Limit(1))
        {
            Assert.Equal(1, EngineThreads.MaxDegreeOfParallelism);
            using (EngineThreads.Limit(3)) Assert.Equal(3, EngineThreads.MaxDegreeOfParallelism);
            Assert.Equal(1, EngineThreads.MaxDegreeOfParallelism);
        }

        Assert.Equal(before, EngineThreads.MaxDegreeOfParallelism);
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineThreads.Limit(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => EngineThreads.MaxDegreeOfParallelism = -1);
        Assert.Equal(before, EngineThreads.MaxDegreeOfParallelism);
    }

    [Fact]
    public void Gemm_AboveThreshold_IsBitIdenticalOnOneAndTwoThreads()
    {
        const int m = 130, n = 129, k = 127; // odd sizes: uneven row chunks
        var rng = new System.Random(5);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        Assert.True((long)m * n * k >= global::Crucible.Tensors.Kernels.Kernels.ParallelThreshold);

        float[] Multiply(int threads, bool transB)
        {
            using var scope = EngineThreads.Limit(threads);
            var c = new float[m * n];
            global::Crucible.Tensors.Kernels.Kernels.Gemm(false, transB, m, n, k, 1f, a, k, b, transB ? k : n, 0f, c, n);
            return c;
        }

        OptimizerTests.AssertBitwiseEqual(Multiply(1, false), Multiply(2, false));
        OptimizerTests.AssertBitwiseEqual(Multiply(1, true), Multiply(2, true));
    }

    private static float[] Train(Mlp mlp, Optimizer optimizer, Tensor x, Tensor y, int steps)
    {
        var losses = new float[steps];
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            var loss = Losses.MseLoss(mlp.Forward(x), y);
            loss.Backward();
            optimizer.Step();
            losses[step] = loss.Item();
        }

        return losses;
    }

    private static (Tensor X, Tensor Y) Regression(Philox rng, int n, float noise)
    {
        var x = new float[n * 2];
        rng.FillUniform(x);
        for (int i = 0; i < x.Length; i++) x[i] = (2 * x[i]) - 1;
        var eps = new float[n];
        rng.FillNormal(eps, 0f, noise);
        var y = new float[n];
        for (int i = 0; i < n; i++) y[i] = MathF.Sin(3 * x[2 * i]) + (0.5f * x[(2 * i) + 1] * x[(2 * i) + 1]) + eps[i];
        return (new Tensor(x, [n, 2]), new Tensor(y, [n, 1]));
    }

    /// <summary>
    /// sizes[0] → … → sizes[^1] with SiLU between layers; weights and biases ~ U(−1/√fan_in, 1/√fan_in) as PyTorch's
    /// Linear initialises them, drawn from Philox in the order W₁, b₁, W₂, b₂, ….
    /// </summary>
    private sealed class Mlp
    {
        private readonly (Tensor W, Tensor B)[] _layers;

        public Mlp(Philox rng, int[] sizes)
        {
            _layers = new (Tensor, Tensor)[sizes.Length - 1];
            for (int l = 0; l < _layers.Length; l++)
            {
                int fanIn = sizes[l], fanOut = sizes[l + 1];
                float bound = 1f / MathF.Sqrt(fanIn);
                _layers[l] = (Uniform(rng, [fanOut, fanIn], bound), Uniform(rng, [fanOut], bound));
            }
        }

        public Tensor[] Parameters => [.. _layers.SelectMany(l => new[] { l.W, l.B })];

        public Tensor Forward(Tensor x)
        {
            var h = x;
            for (int l = 0; l < _layers.Length; l++)
            {
                h = Tensor.Linear(h, _layers[l].W, _layers[l].B);
                if (l < _layers.Length - 1) h = h.Silu();
            }

            return h;
        }

        private static Tensor Uniform(Philox rng, int[] shape, float bound)
        {
            var data = new float[Tensor.Numel(shape)];
            rng.FillUniform(data);
            for (int i = 0; i < data.Length; i++) data[i] = bound * ((2 * data[i]) - 1);
            return new Tensor(data, shape, requiresGrad: true);
        }
    }
}
