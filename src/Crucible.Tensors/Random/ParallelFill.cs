namespace Crucible.Tensors.Random;

/// <summary>
/// Deterministic multi-threaded sampling: the output depends on (seed, stream, chunkSize) only, never on the number
/// of threads or on scheduling, because chunk i draws from its own counter range of the Philox stream.
/// </summary>
public static class ParallelFill
{
    /// <summary>
    /// Fills <paramref name="destination"/> with N(<paramref name="mean"/>, <paramref name="std"/>²) samples in
    /// chunks of <paramref name="chunkSize"/> values, processed in parallel.
    /// </summary>
    /// <remarks>
    /// Chunk i covers <c>destination[i·chunkSize .. min((i+1)·chunkSize, n))</c> and uses
    /// <c>new Philox(seed, stream)</c> advanced by <c>i · ceil(chunkSize / 2)</c> blocks (one Box–Muller pair uses two
    /// doubles = four words = one block). Hence, for an even <paramref name="chunkSize"/>, the result equals
    /// <c>new Philox(seed, stream).FillNormal(destination, mean, std)</c> exactly; for an odd one it still depends
    /// only on (seed, stream, chunkSize).
    /// </remarks>
    /// <param name="destination">The values to overwrite.</param>
    /// <param name="seed">The Philox key.</param>
    /// <param name="stream">The Philox stream.</param>
    /// <param name="chunkSize">Values per chunk (the unit of parallel work), at least 1.</param>
    /// <param name="mean">The mean of the normal distribution.</param>
    /// <param name="std">The standard deviation of the normal distribution.</param>
    /// <param name="maxDegreeOfParallelism">Thread limit; -1 means no limit (the default of <see cref="ParallelOptions"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkSize"/> &lt; 1, or
    /// <paramref name="maxDegreeOfParallelism"/> is 0 or below -1.</exception>
    public static void Normal(
        float[] destination,
        ulong seed,
        ulong stream,
        int chunkSize,
        float mean = 0f,
        float std = 1f,
        int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Normal(destination.AsMemory(), seed, stream, chunkSize, mean, std, maxDegreeOfParallelism);
    }

    /// <inheritdoc cref="Normal(float[], ulong, ulong, int, float, float, int)"/>
    public static void Normal(
        Memory<float> destination,
        ulong seed,
        ulong stream,
        int chunkSize,
        float mean = 0f,
        float std = 1f,
        int maxDegreeOfParallelism = -1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism,
                "Use -1 for no limit or a positive thread count.");

        int length = destination.Length;
        int chunkCount = (int)(((long)length + chunkSize - 1) / chunkSize);
        ulong blocksPerChunk = ((ulong)chunkSize + 1) / 2;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, chunkCount, options, i =>
        {
            int start = i * chunkSize;
            int count = Math.Min(chunkSize, length - start);
            var generator = new Philox(seed, stream);
            generator.Advance((ulong)i * blocksPerChunk);
            generator.FillNormal(destination.Span.Slice(start, count), mean, std);
        });
    }
}
