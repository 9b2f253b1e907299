using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Learned;

/// <summary>
/// The correlational score of Diffusion-TS (<c>Utils/cross_correlation.py</c> with its notebook's protocol, after
/// SigCWGAN's <c>cross_correl</c>; PEERS.md c4): the mean absolute difference of lag-0 cross-correlations.
/// </summary>
/// <remarks>
/// For a batch B × T × D: standardise each feature with its mean and unbiased (n − 1) standard deviation over batch and
/// time together; for every pair (i, j) of <c>tril_indices(D, D)</c> (i ≥ j, diagonal included, row by row) take each
/// window's mean over time of x_i·x_j, then the mean over windows: a vector c of D(D + 1)/2 entries. The score of a
/// synthetic batch against a real one is Σ|c_synth − c_real| / 10. The protocol repeats it over draws of ⌊N/runs⌋ window
/// indices with replacement (numpy <c>randint</c>) from each set, and reports mean ± 95 % CI over the draws.
/// </remarks>
public static class CorrelationalScore
{
    /// <summary>Σ|c(synthetic) − c(real)| / 10 over two whole batches (no sampling).</summary>
    public static double Compute(WindowSet real, WindowSet synthetic)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        if (real.Features != synthetic.Features) throw new ArgumentException("real and synthetic differ in features", nameof(synthetic));
        var cr = CrossCorrelations(real);
        var cs = CrossCorrelations(synthetic);
        double sum = 0;
        for (var p = 0; p < cr.Length; p++) sum += Math.Abs(cs[p] - cr[p]);
        return sum / 10;
    }

    /// <summary>
    /// The protocol's <paramref name="runs"/> draws: each takes ⌊N_real / runs⌋ windows with replacement from the real set
    /// and as many from the synthetic set, and scores them with <see cref="Compute"/>. Returns one score per draw.
    /// </summary>
    public static double[] Runs(WindowSet real, WindowSet synthetic, ulong seed, int runs = 5)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        return Draws(real, synthetic, seed, runs, real.Count / runs);
    }

    /// <summary>
    /// <paramref name="draws"/> draws of <paramref name="size"/> windows with replacement from each set (real indices
    /// first, then synthetic, per draw, from one Philox stream of <paramref name="seed"/>), each scored with
    /// <see cref="Compute"/>. <see cref="Runs"/> is the protocol's case size = ⌊N_real / runs⌋; many draws of that size
    /// estimate the score's expectation, and the same seed on two synthetic sets of equal count draws the same indices.
    /// </summary>
    public static double[] Draws(WindowSet real, WindowSet synthetic, ulong seed, int draws, int size)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(draws);
        if (size < 1 || synthetic.Count == 0 || real.Count == 0) throw new ArgumentException($"{real.Count} real and {synthetic.Count} synthetic windows cannot make draws of {size}", nameof(size));
        var rng = new Philox(seed);
        var scores = new double[draws];
        for (var r = 0; r < draws; r++)
        {
            var ri = new int[size];
            var si = new int[size];
            for (var k = 0; k < size; k++) ri[k] = rng.NextInt(real.Count);
            for (var k = 0; k < size; k++) si[k] = rng.NextInt(synthetic.Count);
            scores[r] = Compute(real.Select(ri), synthetic.Select(si));
        }
        return scores;
    }

    /// <summary>The vector c of a batch: entry p is the pair (i, j) = tril_indices(D, D)[p], in double.</summary>
    public static double[] CrossCorrelations(WindowSet x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Count, t = x.Length, d = x.Features;
        var m = (long)n * t;
        if (m < 2) throw new ArgumentException("at least two values per feature are needed", nameof(x));
        var v = x.Values;
        var mean = new double[d];
        var sd = new double[d];
        for (var f = 0; f < d; f++)
        {
            double s = 0;
            for (long k = 0; k < m; k++) s += v[(k * d) + f];
            mean[f] = s / m;
            double ss = 0;
            for (long k = 0; k < m; k++)
            {
                var z = v[(k * d) + f] - mean[f];
                ss += z * z;
            }
            sd[f] = Math.Sqrt(ss / (m - 1));
        }
        var pairs = new List<(int I, int J)>();
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j <= i; j++) pairs.Add((i, j));
        }
        var c = new double[pairs.Count];
        var z0 = new double[d];
        for (var w = 0; w < n; w++)
        {
            var perWindow = new double[pairs.Count];
            for (var s = 0; s < t; s++)
            {
                var row = ((w * t) + s) * d;
                for (var f = 0; f < d; f++) z0[f] = (v[row + f] - mean[f]) / sd[f];
                for (var p = 0; p < pairs.Count; p++) perWindow[p] += z0[pairs[p].I] * z0[pairs[p].J];
            }
            for (var p = 0; p < pairs.Count; p++) c[p] += perWindow[p] / t;
        }
        for (var p = 0; p < c.Length; p++) c[p] /= n;
        return c;
    }
}
