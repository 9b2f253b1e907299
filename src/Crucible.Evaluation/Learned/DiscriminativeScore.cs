using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Learned;

/// <summary>Settings of the discriminative score; the defaults are the published protocol (PEERS.md c1).</summary>
public sealed record DiscriminativeOptions
{
    /// <summary>Training iterations (2,000).</summary>
    public int Iterations { get; init; } = 2000;

    /// <summary>Windows drawn from each of real-train and synthetic-train per iteration (128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Share of each set used for training; the rest is the test set (0.8).</summary>
    public double TrainRate { get; init; } = 0.8;

    /// <summary>Adam's learning rate (TensorFlow's default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;
}

/// <summary>The outcome of one discriminative-score run.</summary>
/// <param name="Score">|accuracy − 0.5| on the two test sets together (0: indistinguishable, 0.5: separable).</param>
/// <param name="Accuracy">Accuracy on real-test (label 1) and synthetic-test (label 0) together, threshold 0.5.</param>
/// <param name="RealAccuracy">Accuracy on real-test alone.</param>
/// <param name="SyntheticAccuracy">Accuracy on synthetic-test alone.</param>
/// <param name="FinalLoss">The training loss of the last iteration.</param>
public sealed record DiscriminativeResult(double Score, double Accuracy, double RealAccuracy, double SyntheticAccuracy, double FinalLoss);

/// <summary>
/// The discriminative score of TimeGAN (Yoon et al. 2019) as Diffusion-TS computes it
/// (<c>Utils/discriminative_metric.py</c>; PEERS.md c1): a post-hoc GRU classifier of real vs synthetic windows.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Split real and synthetic independently: a random permutation, the first ⌊0.8·n⌋ windows train, the rest test.</item>
/// <item>Model: <see cref="TfGruNetwork"/> with hidden size ⌊D/2⌋ over the whole window, the last state → dense(1) logit.</item>
/// <item>Loss: mean sigmoid cross-entropy of the real logits against 1 plus that of the synthetic logits against 0.</item>
/// <item>2,000 iterations of TensorFlow-1 Adam (<see cref="TfAdam"/>, lr 1e-3); each draws 128 windows without
/// replacement from real-train and 128 from synthetic-train (numpy's <c>permutation(n)[:128]</c>).</item>
/// <item>Score = |accuracy − 0.5| over real-test (label 1) and synthetic-test (label 0), predicting 1 when σ(logit) &gt; 0.5.</item>
/// </list>
/// Randomness (initial weights, split, batches) comes from Philox streams of <c>seed</c>: the same seed gives the same
/// score. TensorFlow's float32 kernels and random streams are not reproduced bit for bit, so single runs differ from
/// TensorFlow's as two TensorFlow runs with different seeds do.
/// </remarks>
public static class DiscriminativeScore
{
    /// <summary>Runs the protocol once. Both sets need the same window length and D ≥ 2 features.</summary>
    public static DiscriminativeResult Compute(WindowSet real, WindowSet synthetic, ulong seed, DiscriminativeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        options ??= new DiscriminativeOptions();
        Check(real, synthetic, options);
        var root = new Philox(seed);
        var model = new TfGruNetwork(real.Features, real.Features / 2, root.Split(1));
        var splitRng = root.Split(2);
        var (realTrain, realTest) = Sampling.TrainTestSplit(real.Count, options.TrainRate, splitRng);
        var (synTrain, synTest) = Sampling.TrainTestSplit(synthetic.Count, options.TrainRate, splitRng);
        var batchRng = root.Split(3);
        var realPool = (int[])realTrain.Clone();
        var synPool = (int[])synTrain.Clone();
        return Run(real, synthetic, realTest, synTest, model, options, _ =>
            (Sampling.Draw(realPool, options.BatchSize, batchRng), Sampling.Draw(synPool, options.BatchSize, batchRng)), null);
    }

    /// <summary>
    /// The protocol with its random parts given: the test windows, the model, and each iteration's batches
    /// (indices into <paramref name="real"/> and <paramref name="synthetic"/>). <paramref name="losses"/>, when given,
    /// receives the loss of every iteration.
    /// </summary>
    internal static DiscriminativeResult Run(WindowSet real, WindowSet synthetic, int[] realTest, int[] synTest, TfGruNetwork model,
        DiscriminativeOptions options, Func<int, (int[] Real, int[] Synthetic)> batches, List<double>? losses)
    {
        var optimizer = new TfAdam(model.Parameters(), options.LearningRate);
        double loss = double.NaN;
        // each iteration builds the same graph: its intermediate tensors and their gradients come from one arena,
        // handed back after the step (the parameters and their gradients are leaves and stay on the heap)
        var arena = new TensorArena();
        using (arena.Use())
        {
            for (var it = 0; it < options.Iterations; it++)
            {
                var (rb, sb) = batches(it);
                var x = Sampling.TimeMajor([(real, rb), (synthetic, sb)], 0, real.Features);
                var logits = model.Dense(model.States(x)[^1]); // (B, 1)
                var target = new float[rb.Length + sb.Length];
                var weight = new float[target.Length];
                for (var i = 0; i < target.Length; i++)
                {
                    target[i] = i < rb.Length ? 1f : 0f;
                    weight[i] = i < rb.Length ? 1f / rb.Length : 1f / sb.Length;
                }
                // mean over the real logits + mean over the synthetic logits
                var perWindow = Losses.BinaryCrossEntropyWithLogits(logits, new Tensor(target, [target.Length, 1]), Reduction.None);
                var l = (perWindow * new Tensor(weight, [weight.Length, 1])).Sum();
                optimizer.ZeroGrad();
                l.Backward();
                optimizer.Step();
                loss = l.Item();
                losses?.Add(loss);
                arena.Reset();
            }
        }

        var realProb = Probabilities(model, real, realTest);
        var synProb = Probabilities(model, synthetic, synTest);
        int realHits = realProb.Count(p => p > 0.5f), synHits = synProb.Count(p => !(p > 0.5f));
        var accuracy = (double)(realHits + synHits) / (realProb.Length + synProb.Length);
        return new DiscriminativeResult(Math.Abs(0.5 - accuracy), accuracy,
            realProb.Length == 0 ? double.NaN : (double)realHits / realProb.Length,
            synProb.Length == 0 ? double.NaN : (double)synHits / synProb.Length, loss);
    }

    /// <summary>σ(logit) of the windows at <paramref name="indices"/>, without gradients.</summary>
    internal static float[] Probabilities(TfGruNetwork model, WindowSet set, int[] indices)
    {
        if (indices.Length == 0) return [];
        using var _ = GradMode.NoGrad();
        var x = Sampling.TimeMajor([(set, indices)], 0, set.Features);
        return model.Dense(model.States(x)[^1]).Sigmoid().Data;
    }

    private static void Check(WindowSet real, WindowSet synthetic, DiscriminativeOptions options)
    {
        if (real.Length != synthetic.Length || real.Features != synthetic.Features)
            throw new ArgumentException($"real {real} and synthetic {synthetic} windows differ in shape", nameof(synthetic));
        if (real.Features < 2) throw new ArgumentException("the protocol's GRU has ⌊D/2⌋ units: D must be at least 2", nameof(real));
        if (real.Count < 2 || synthetic.Count < 2) throw new ArgumentException("each set needs at least 2 windows", nameof(real));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Iterations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        if (!(options.TrainRate > 0 && options.TrainRate < 1)) throw new ArgumentOutOfRangeException(nameof(options), "TrainRate must be in (0, 1)");
    }
}
