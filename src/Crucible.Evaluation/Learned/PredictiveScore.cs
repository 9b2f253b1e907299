using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Learned;

/// <summary>Settings of the predictive score; the defaults are the published protocol (PEERS.md c2).</summary>
public sealed record PredictiveOptions
{
    /// <summary>Training iterations (5,000).</summary>
    public int Iterations { get; init; } = 5000;

    /// <summary>Synthetic windows per iteration, drawn without replacement (128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam's learning rate (TensorFlow's default 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;
}

/// <summary>The outcome of one predictive-score run.</summary>
/// <param name="Score">Mean over all real windows of each window's mean absolute error over its T − 1 predicted steps.</param>
/// <param name="FinalLoss">The training loss (L1) of the last iteration.</param>
public sealed record PredictiveResult(double Score, double FinalLoss);

/// <summary>
/// The predictive score (train on synthetic, test on real) of TimeGAN as Diffusion-TS computes it
/// (<c>Utils/predictive_metric.py</c>; PEERS.md c2): a post-hoc GRU predicts the last feature one step ahead.
/// </summary>
/// <remarks>
/// Input: features 1..D−1 at steps 1..T−1; target: feature D at steps 2..T. Model: <see cref="TfGruNetwork"/> with
/// D − 1 inputs and hidden size ⌊D/2⌋; every state → dense(1) → sigmoid (targets in [0, 1]). Loss: mean absolute error
/// (<c>tf.losses.absolute_difference</c>); 5,000 iterations of TensorFlow-1 Adam on 128 synthetic windows drawn without
/// replacement. Score: for each real window the MAE over its T − 1 steps (sklearn <c>mean_absolute_error</c>), averaged
/// over all real windows. Randomness comes from Philox streams of <c>seed</c>.
/// </remarks>
public static class PredictiveScore
{
    /// <summary>Runs the protocol once: trains on <paramref name="synthetic"/>, scores on every window of <paramref name="real"/>.</summary>
    public static PredictiveResult Compute(WindowSet real, WindowSet synthetic, ulong seed, PredictiveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        options ??= new PredictiveOptions();
        if (real.Length != synthetic.Length || real.Features != synthetic.Features)
            throw new ArgumentException($"real {real} and synthetic {synthetic} windows differ in shape", nameof(synthetic));
        if (real.Features < 2) throw new ArgumentException("the protocol predicts feature D from features 1..D−1: D must be at least 2", nameof(real));
        if (real.Length < 2) throw new ArgumentException("windows need at least 2 steps", nameof(real));
        if (synthetic.Count == 0) throw new ArgumentException("no synthetic windows", nameof(synthetic));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Iterations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        var root = new Philox(seed);
        var model = new TfGruNetwork(real.Features - 1, real.Features / 2, root.Split(1));
        var batchRng = root.Split(3);
        var pool = Enumerable.Range(0, synthetic.Count).ToArray();
        return Run(real, synthetic, model, options, _ => Sampling.Draw(pool, options.BatchSize, batchRng), null);
    }

    /// <summary>The protocol with the model and each iteration's batch (indices into <paramref name="synthetic"/>) given.</summary>
    internal static PredictiveResult Run(WindowSet real, WindowSet synthetic, TfGruNetwork model, PredictiveOptions options,
        Func<int, int[]> batches, List<double>? losses)
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
                var batch = batches(it);
                var (x, y) = Inputs(synthetic, batch);
                var l = Losses.L1Loss(Predict(model, x), y);
                optimizer.ZeroGrad();
                l.Backward();
                optimizer.Step();
                loss = l.Item();
                losses?.Add(loss);
                arena.Reset();
            }
        }
        return new PredictiveResult(Score(model, real), loss);
    }

    /// <summary>Mean over the windows of <paramref name="real"/> of the per-window MAE of the model's predictions.</summary>
    internal static double Score(TfGruNetwork model, WindowSet real)
    {
        const int chunk = 1024;
        var steps = real.Length - 1;
        double total = 0;
        using (GradMode.NoGrad())
        {
            for (var start = 0; start < real.Count; start += chunk)
            {
                var indices = Enumerable.Range(start, Math.Min(chunk, real.Count - start)).ToArray();
                var (x, y) = Inputs(real, indices);
                var p = Predict(model, x).Data; // (T−1, B, 1)
                var b = indices.Length;
                for (var i = 0; i < b; i++)
                {
                    double sum = 0;
                    for (var t = 0; t < steps; t++) sum += Math.Abs((double)y.Data[(t * b) + i] - p[(t * b) + i]);
                    total += sum / steps;
                }
            }
        }
        return total / real.Count;
    }

    /// <summary>x: features 0..D−2 at steps 0..T−2, (T−1, B, D−1); y: feature D−1 at steps 1..T−1, (T−1, B, 1).</summary>
    private static (Tensor X, Tensor Y) Inputs(WindowSet set, int[] indices)
    {
        var d = set.Features;
        var x = Sampling.TimeMajor([(set, indices)], 0, d - 1, 0, set.Length - 1);
        var y = Sampling.TimeMajor([(set, indices)], d - 1, 1, 1, set.Length - 1);
        return (x, y);
    }

    /// <summary>σ(dense(h_t)) for every step: (T−1, B, 1).</summary>
    internal static Tensor Predict(TfGruNetwork model, Tensor x) =>
        model.Dense(Tensor.Stack(model.States(x), 0)).Sigmoid();
}
