using Crucible.Data.Statistics;
using Crucible.Tensors;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Learned;

/// <summary>Settings of the Context-FID; the defaults are TS2Vec's, as Diffusion-TS calls it (PEERS.md c3).</summary>
public sealed record ContextFidOptions
{
    /// <summary>Training iterations of the encoder; null: TS2Vec's rule, 200 when N·T·D ≤ 100,000, else 600.</summary>
    public int? Iterations { get; init; }

    /// <summary>Windows per training batch (8).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>AdamW's learning rate (0.001; weight decay 0.01, PyTorch's default).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Channels of the representation (320).</summary>
    public int OutputDims { get; init; } = 320;

    /// <summary>Channels of the hidden layers (64).</summary>
    public int HiddenDims { get; init; } = 64;

    /// <summary>Residual blocks before the output block (10).</summary>
    public int Depth { get; init; } = 10;

    /// <summary>The iterations TS2Vec trains for on <paramref name="windows"/> when <see cref="Iterations"/> is null.</summary>
    public int IterationsFor(WindowSet windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        return Iterations ?? ((long)windows.Count * windows.Length * windows.Features <= 100_000 ? 200 : 600);
    }
}

/// <summary>The outcome of one Context-FID run.</summary>
/// <param name="Score">The Fréchet distance between the encodings of the real and the synthetic windows.</param>
/// <param name="FinalLoss">The encoder's training loss at its last iteration.</param>
/// <param name="Iterations">The encoder's training iterations.</param>
public sealed record ContextFidResult(double Score, double FinalLoss, int Iterations);

/// <summary>
/// Context-FID (Jeha et al., PSA-GAN, ICLR 2022) as Diffusion-TS computes it (<c>Utils/context_fid.py</c>; PEERS.md c3):
/// the Fréchet distance between the TS2Vec representations of real and synthetic windows.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>Train a TS2Vec encoder (<see cref="Ts2VecEncoder"/>, D → 64 → … → 320) on the real windows only, with the
/// hierarchical contrastive loss (<see cref="Ts2VecLoss"/>) of two overlapping random crops: batches of 8 windows
/// (each epoch a new permutation, the last partial batch dropped), AdamW (lr 0.001, weight decay 0.01), random
/// timestamp masking and output dropout 0.1; TS2Vec's n_iters rule (200 when N·T·D ≤ 100,000, else 600).</item>
/// <item>Encode both sets with the average of the encoder's parameters over all iterations (TS2Vec evaluates its
/// <c>AveragedModel</c>), each window max-pooled over time (<c>encoding_window='full_series'</c>) → N × 320.</item>
/// <item>FID = ‖μ_X − μ_Y‖² + Tr(Σ_X + Σ_Y − 2(Σ_X Σ_Y)^{1/2}) (<see cref="FrechetDistance"/>).</item>
/// </list>
/// The crops (TS2Vec's <c>fit</c>): a crop length l uniform in [2, T]; the overlap [a, a + l) placed uniformly; view 1
/// spans [a₁, a + l) with a₁ uniform in [0, a], view 2 spans [a, b₂) with b₂ uniform in [a + l, T]; each window shifts
/// both views by its own offset uniform in [−a₁, T − b₂]. The loss compares the overlap: the last l steps of view 1's
/// representation with the first l of view 2's. Randomness comes from Philox streams of the seed, so the same seed gives
/// the same score, whatever the thread count. This is a re-implementation on Crucible's float engine: PyTorch's
/// initial weights and random streams are not reproduced, and its scale may differ from the published TS2Vec's.
/// </remarks>
public static class ContextFid
{
    /// <summary>Runs the protocol once. Both sets need the same window length and features.</summary>
    public static ContextFidResult Compute(WindowSet real, WindowSet synthetic, ulong seed, ContextFidOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        options ??= new ContextFidOptions();
        if (real.Length != synthetic.Length || real.Features != synthetic.Features)
            throw new ArgumentException($"real {real} and synthetic {synthetic} windows differ in shape", nameof(synthetic));
        if (real.Count < 2 || synthetic.Count < 2) throw new ArgumentException("each set needs at least 2 windows", nameof(real));
        var (encoder, loss, iterations) = Train(real, seed, options);
        var x = Encode(encoder, real);
        var y = Encode(encoder, synthetic);
        return new ContextFidResult(FrechetDistance(x, real.Count, y, synthetic.Count, encoder.OutputDims), loss, iterations);
    }

    /// <summary>
    /// Trains a TS2Vec encoder on <paramref name="windows"/> and returns the average of its parameters over all
    /// iterations (as an encoder), the last iteration's loss and the iteration count.
    /// </summary>
    internal static (Ts2VecEncoder Averaged, double FinalLoss, int Iterations) Train(WindowSet windows, ulong seed, ContextFidOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        int iterations = options.IterationsFor(windows);
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        if (windows.Length < 2) throw new ArgumentException("TS2Vec's crops need windows of at least 2 steps", nameof(windows));
        var root = new Philox(seed);
        var net = new Ts2VecEncoder(windows.Features, root.Split(1), options.HiddenDims, options.OutputDims, options.Depth);
        var averaged = new Ts2VecEncoder(windows.Features, root.Split(1), options.HiddenDims, options.OutputDims, options.Depth);
        var parameters = net.Parameters().ToArray();
        var means = averaged.Parameters().ToArray();
        var optimizer = new AdamW(parameters, options.LearningRate);
        Philox orderRng = root.Split(2), cropRng = root.Split(3), maskRng = root.Split(4), dropoutRng = root.Split(5);
        int batch = Math.Min(options.BatchSize, windows.Count), perEpoch = windows.Count / batch;
        int[] order = [];
        int t = windows.Length, d = windows.Features;
        double loss = double.NaN;
        var arena = new TensorArena();
        using (arena.Use())
        {
            for (int it = 0; it < iterations; it++)
            {
                if (it % perEpoch == 0) order = Sampling.Permutation(windows.Count, orderRng);
                var rows = order.AsSpan((it % perEpoch) * batch, batch);
                // two overlapping crops (TS2Vec's fit): the overlap [left, left + l) in both views
                int cropLength = 2 + cropRng.NextInt(t - 1);
                int left = cropRng.NextInt(t - cropLength + 1), right = left + cropLength;
                int extLeft = cropRng.NextInt(left + 1);
                int extRight = right + cropRng.NextInt(t - right + 1);
                var offsets = new int[batch];
                for (int i = 0; i < batch; i++) offsets[i] = -extLeft + cropRng.NextInt(t - extRight + extLeft + 1);
                var view1 = Crop(windows, rows, offsets, extLeft, right - extLeft);
                var view2 = Crop(windows, rows, offsets, left, extRight - left);
                var out1 = net.Forward(view1, Mask(batch, right - extLeft, maskRng), dropoutRng);
                out1 = out1.Slice(1, out1.Shape[1] - cropLength, cropLength);
                var out2 = net.Forward(view2, Mask(batch, extRight - left, maskRng), dropoutRng);
                out2 = out2.Slice(1, 0, cropLength);
                var l = Ts2VecLoss.Hierarchical(out1, out2);
                optimizer.ZeroGrad();
                l.Backward();
                optimizer.Step();
                loss = l.Item();
                arena.Reset();
                // the running mean of the parameters after each step (torch.optim.swa_utils.AveragedModel)
                float w = 1f / (it + 1);
                for (int k = 0; k < parameters.Length; k++)
                {
                    var p = parameters[k].Data;
                    var m = means[k].Data;
                    for (int j = 0; j < p.Length; j++) m[j] += (p[j] - m[j]) * w;
                }
            }
        }

        if (iterations == 0)
        {
            for (int k = 0; k < parameters.Length; k++) parameters[k].Data.CopyTo(means[k].Data, 0);
        }

        return (averaged, loss, iterations);
    }

    /// <summary>The full-series encodings of all windows, row-major N × C_out, in double.</summary>
    internal static double[] Encode(Ts2VecEncoder encoder, WindowSet windows)
    {
        const int chunk = 256;
        int c = encoder.OutputDims;
        var result = new double[windows.Count * c];
        using var _ = GradMode.NoGrad();
        var arena = new TensorArena();
        using (arena.Use())
        {
            for (int start = 0; start < windows.Count; start += chunk)
            {
                int count = Math.Min(chunk, windows.Count - start);
                var rows = new int[count];
                for (int i = 0; i < count; i++) rows[i] = start + i;
                var z = encoder.EncodeFullSeries(Crop(windows, rows, new int[count], 0, windows.Length)).Data;
                for (int k = 0; k < count * c; k++) result[(start * c) + k] = z[k];
                arena.Reset();
            }
        }

        return result;
    }

    /// <summary>
    /// The Fréchet distance between Gaussians fitted to the rows of x (n_x × d) and y (n_y × d), row-major:
    /// ‖μ_x − μ_y‖² + Tr(Σ_x) + Tr(Σ_y) − 2·Tr((Σ_x Σ_y)^{1/2}), covariances with n − 1 (numpy's <c>cov</c>).
    /// </summary>
    /// <remarks>
    /// Tr((Σ_x Σ_y)^{1/2}) = Σ √λ_i(S Σ_y S) with S = Σ_x^{1/2}: Σ_x Σ_y = S (S Σ_y S) S⁻¹ is similar to the symmetric
    /// positive semi-definite S Σ_y S, whose eigenvalues (by <see cref="SymmetricEigen"/>, in double) are real and ≥ 0 up
    /// to rounding; negative rounding residue counts as 0. This is scipy's <c>sqrtm</c> trace with the imaginary part,
    /// which comes from that residue, discarded as Diffusion-TS does, but without sqrtm's Schur iteration.
    /// </remarks>
    public static double FrechetDistance(ReadOnlySpan<double> x, int xRows, ReadOnlySpan<double> y, int yRows, int dims)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dims);
        if (xRows < 2 || yRows < 2) throw new ArgumentException("each set needs at least 2 rows for a covariance");
        if (x.Length != xRows * dims) throw new ArgumentException($"{x.Length} values for {xRows} × {dims}", nameof(x));
        if (y.Length != yRows * dims) throw new ArgumentException($"{y.Length} values for {yRows} × {dims}", nameof(y));
        var (muX, covX) = MeanCovariance(x, xRows, dims);
        var (muY, covY) = MeanCovariance(y, yRows, dims);
        double meanTerm = 0, trace = 0;
        for (int i = 0; i < dims; i++)
        {
            meanTerm += (muX[i] - muY[i]) * (muX[i] - muY[i]);
            trace += covX[(i * dims) + i] + covY[(i * dims) + i];
        }

        // S = V diag(√max(λ, 0)) Vᵀ
        var (lx, vx) = SymmetricEigen.Decompose(covX, dims);
        var s = new double[dims * dims];
        for (int k = 0; k < dims; k++)
        {
            double root = Math.Sqrt(Math.Max(lx[k], 0));
            if (root == 0) continue;
            for (int i = 0; i < dims; i++)
            {
                double vik = vx[(i * dims) + k] * root;
                for (int j = 0; j < dims; j++) s[(i * dims) + j] += vik * vx[(j * dims) + k];
            }
        }

        var m = Multiply(Multiply(s, covY, dims), s, dims);
        for (int i = 0; i < dims; i++)
        {
            for (int j = i + 1; j < dims; j++)
            {
                double avg = 0.5 * (m[(i * dims) + j] + m[(j * dims) + i]);
                m[(i * dims) + j] = m[(j * dims) + i] = avg;
            }
        }

        var (lm, _) = SymmetricEigen.Decompose(m, dims);
        double traceRoot = 0;
        foreach (double v in lm) traceRoot += Math.Sqrt(Math.Max(v, 0));
        return meanTerm + trace - (2 * traceRoot);
    }

    /// <summary>
    /// <paramref name="runs"/> Context-FID runs; run r trains its own encoder, seeded by the third draw of Philox
    /// stream r of <paramref name="seed"/> (as <see cref="StocksProtocol.Evaluate"/> seeds it).
    /// </summary>
    public static double[] Runs(WindowSet real, WindowSet synthetic, ulong seed, int runs, ContextFidOptions? options = null, int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        var scores = new double[runs];
        Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism },
            r =>
            {
                var seeds = new Philox(seed, (ulong)r);
                seeds.NextUInt64();
                seeds.NextUInt64();
                scores[r] = Compute(real, synthetic, seeds.NextUInt64(), options).Score;
            });
        return scores;
    }

    private static (double[] Mean, double[] Covariance) MeanCovariance(ReadOnlySpan<double> x, int n, int d)
    {
        var mean = new double[d];
        for (int r = 0; r < n; r++)
        {
            for (int i = 0; i < d; i++) mean[i] += x[(r * d) + i];
        }

        for (int i = 0; i < d; i++) mean[i] /= n;
        var cov = new double[d * d];
        var centred = new double[d];
        for (int r = 0; r < n; r++)
        {
            for (int i = 0; i < d; i++) centred[i] = x[(r * d) + i] - mean[i];
            for (int i = 0; i < d; i++)
            {
                double ci = centred[i];
                for (int j = i; j < d; j++) cov[(i * d) + j] += ci * centred[j];
            }
        }

        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++) cov[(i * d) + j] = cov[(j * d) + i] = cov[(i * d) + j] / (n - 1);
        }

        return (mean, cov);
    }

    private static double[] Multiply(double[] a, double[] b, int n)
    {
        var c = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < n; k++)
            {
                double aik = a[(i * n) + k];
                if (aik == 0) continue;
                for (int j = 0; j < n; j++) c[(i * n) + j] += aik * b[(k * n) + j];
            }
        }

        return c;
    }

    // windows rows[i], steps offsets[i] + start .. + length − 1 (TS2Vec's take_per_row; in range by construction) → (B, L, D)
    private static Tensor Crop(WindowSet windows, ReadOnlySpan<int> rows, int[] offsets, int start, int length)
    {
        int d = windows.Features, t = windows.Length;
        var data = new float[rows.Length * length * d];
        for (int i = 0; i < rows.Length; i++)
        {
            int from = offsets[i] + start;
            for (int s = 0; s < length; s++)
            {
                int src = ((rows[i] * t) + from + s) * d, dst = ((i * length) + s) * d;
                for (int f = 0; f < d; f++) data[dst + f] = (float)windows.Values[src + f];
            }
        }

        return new Tensor(data, [rows.Length, length, d]);
    }

    private static float[] Mask(int batch, int length, Philox rng)
    {
        // TS2Vec's binomial mask: each (window, step) kept with probability ½
        var mask = new float[batch * length];
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() < 0.5f ? 1f : 0f;
        return mask;
    }
}
