using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Privacy;

/// <summary>
/// Poisson sampling of DP-SGD batches: every record joins each batch independently with probability q, so batch sizes
/// vary and a batch may be empty (it still takes a noisy step). This is the sampling the RDP accountant assumes;
/// shuffled fixed-size batches would not justify the reported ε (Chua et al., ICML 2024).
/// </summary>
public sealed class PoissonSampler
{
    private readonly IDpRandom _rng;

    /// <summary>A sampler over <paramref name="datasetSize"/> records with rate <paramref name="sampleRate"/>, drawing from <paramref name="rng"/>.</summary>
    public PoissonSampler(int datasetSize, double sampleRate, Philox rng)
        : this(datasetSize, sampleRate, new PhiloxDpRandom(rng))
    {
    }

    /// <summary>A sampler drawing its inclusions from <paramref name="rng"/> (e.g. <see cref="SecureDpRandom"/> in secure mode).</summary>
    public PoissonSampler(int datasetSize, double sampleRate, IDpRandom rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(datasetSize);
        if (!(sampleRate > 0 && sampleRate <= 1)) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "q must be in (0, 1]");
        DatasetSize = datasetSize;
        SampleRate = sampleRate;
        _rng = rng;
    }

    /// <summary>N, the number of records.</summary>
    public int DatasetSize { get; }

    /// <summary>q, the inclusion probability.</summary>
    public double SampleRate { get; }

    /// <summary>q·N, the expected batch size: DP-SGD divides the noisy sum by it, never by the realised size.</summary>
    public double ExpectedBatchSize => SampleRate * DatasetSize;

    /// <summary>The record indices of the next batch, ascending (possibly none).</summary>
    public int[] Next()
    {
        var batch = new List<int>((int)Math.Ceiling(ExpectedBatchSize * 1.5) + 4);
        for (var i = 0; i < DatasetSize; i++)
        {
            if (_rng.NextDouble() < SampleRate) batch.Add(i);
        }

        return batch.ToArray();
    }
}
