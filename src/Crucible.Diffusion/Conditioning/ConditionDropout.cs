using System.Globalization;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Conditioning;

/// <summary>
/// The conditions of the training samples and how they are dropped so that one network learns ε̂(x, t, c) for every
/// subset of the features, the empty one included (Ho &amp; Salimans 2022: the unconditional model is the conditional
/// one with c = ∅). For each sample in a batch, independently:
/// with probability <see cref="Unconditional"/> every feature is dropped; otherwise, with probability
/// <see cref="Subset"/>, a random proper subset is kept: its size m uniform in 1..K − 1, then m features drawn without
/// replacement (so a request may name any subset, and each single feature, e.g. VIX alone, is seen in 1/(K(K − 1)) of
/// these samples rather than the 1/2^K of independent coin flips); otherwise every feature is kept. A feature whose
/// value is NaN (unknown) is never present.
/// <para>
/// With <see cref="Noise"/> = h &gt; 0, every kept value z is replaced by z + h·ξ, ξ ~ N(0, 1) drawn afresh at each
/// draw (condition noise augmentation, in standardised units). The network then learns the conditional of a window
/// given a noisy state, c̃ = c + hξ: p(x | c̃) = Σ_i φ_h(c̃ − c_i) δ(x − x_i) / Σ_i φ_h(c̃ − c_i) over the training
/// windows i, the Nadaraya–Watson kernel mixture with a Gaussian kernel of bandwidth h on the features present. A
/// sparse extreme state thus borrows from its neighbours instead of following its few windows (a VIX of 60 pools
/// the windows around it, not only the 27 of late 2008), and a state beyond the training support maps to the
/// nearest ones. h = 0 draws nothing extra (the draws, and so the trained weights, are those of no augmentation).
/// </para>
/// </summary>
public sealed class ConditionDropout
{
    /// <summary>Wraps the standardised conditions of the training samples: <paramref name="rows"/> × <paramref name="features"/>.</summary>
    /// <param name="values">Rows × K standardised values (NaN: unknown).</param>
    /// <param name="rows">The number of training samples.</param>
    /// <param name="features">K.</param>
    /// <param name="unconditional">p_uncond.</param>
    /// <param name="subset">The probability that a conditional sample keeps a random proper subset of its features.</param>
    /// <param name="noise">h, the standard deviation of the Gaussian noise added to each kept value (standardised units).</param>
    public ConditionDropout(float[] values, int rows, int features, double unconditional = 0.15, double subset = 0.35, double noise = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        if (values.Length != (long)rows * features) throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"values must hold {rows} × {features} entries"), nameof(values));
        if (!(unconditional is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(unconditional), unconditional, "a probability must be in [0, 1]");
        if (!(subset is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(subset), subset, "a probability must be in [0, 1]");
        if (!(noise >= 0) || !double.IsFinite(noise)) throw new ArgumentOutOfRangeException(nameof(noise), noise, "the noise scale must be finite and non-negative");
        Values = values;
        Rows = rows;
        Features = features;
        Unconditional = unconditional;
        Subset = subset;
        Noise = noise;
    }

    /// <summary>Rows × K standardised values (NaN: unknown).</summary>
    public float[] Values { get; }

    /// <summary>The number of training samples.</summary>
    public int Rows { get; }

    /// <summary>K.</summary>
    public int Features { get; }

    /// <summary>p_uncond: the probability that a sample is trained unconditionally.</summary>
    public double Unconditional { get; }

    /// <summary>The probability that a (conditional) sample keeps a random subset of its features.</summary>
    public double Subset { get; }

    /// <summary>h: the standard deviation of the noise added to each kept value, in standardised units (0: none).</summary>
    public double Noise { get; }

    /// <summary>
    /// The conditions of the samples <paramref name="rows"/>, with dropout drawn from <paramref name="rng"/>: one
    /// uniform per sample, then (for a subset sample) the size and the m features of a partial Fisher–Yates shuffle,
    /// then (when <see cref="Noise"/> &gt; 0) one standard normal per kept, known feature in feature order.
    /// </summary>
    public ConditionBatch Draw(ReadOnlySpan<int> rows, Philox rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        return Draw(rows, rng.NextDouble, rng.NextInt, rng.NextNormal);
    }

    /// <summary>
    /// <see cref="Draw(ReadOnlySpan{int}, Philox)"/> with every draw from the OS CSPRNG (DP-SGD's secure mode): the
    /// dropout and the condition noise of each example are assigned by position in the secret Poisson batch, like its
    /// timestep and diffusion noise, so they must be as unknown as the batch (a reader who knew them by position could
    /// match them to windows).
    /// </summary>
    public ConditionBatch Draw(ReadOnlySpan<int> rows, Privacy.SecureDpRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        return Draw(rows, rng.NextDouble, rng.NextInt, rng.NextNormal);
    }

    private ConditionBatch Draw(ReadOnlySpan<int> rows, Func<double> uniform, Func<int, int> integer, Func<double> normal)
    {
        int k = Features, b = rows.Length;
        var values = new float[b * k];
        var present = new bool[b * k];
        var order = new int[k];
        var keep = new bool[k];
        for (int i = 0; i < b; i++)
        {
            int row = rows[i];
            if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(rows), row, string.Create(CultureInfo.InvariantCulture, $"row is not in 0..{Rows - 1}"));
            double u = uniform();
            if (u < Unconditional) continue;
            bool subset = k > 1 && u < Unconditional + ((1 - Unconditional) * Subset);
            Array.Fill(keep, !subset);
            if (subset)
            {
                int m = 1 + integer(k - 1);
                for (int j = 0; j < k; j++) order[j] = j;
                for (int j = 0; j < m; j++)
                {
                    int pick = j + integer(k - j);
                    (order[j], order[pick]) = (order[pick], order[j]);
                    keep[order[j]] = true;
                }
            }

            for (int j = 0; j < k; j++)
            {
                float v = Values[(row * k) + j];
                if (keep[j] && !float.IsNaN(v))
                {
                    values[(i * k) + j] = Noise > 0 ? (float)(v + (Noise * normal())) : v;
                    present[(i * k) + j] = true;
                }
            }
        }

        return new ConditionBatch(values, present, b, k);
    }
}
