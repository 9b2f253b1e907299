namespace Crucible.Tensors.Random;

/// <summary>
/// A complete, serialisable snapshot of a <see cref="Philox"/> generator, for checkpoint and resume.
/// Restoring it with <see cref="Philox.SetState"/> reproduces every later draw bit for bit.
/// </summary>
/// <param name="Seed">The 64-bit seed; it is the Philox key (k0 = low 32 bits, k1 = high 32 bits).</param>
/// <param name="Stream">The stream id; it fills counter words c2 (low) and c3 (high).</param>
/// <param name="Counter">The index of the next block to compute; it fills counter words c0 (low) and c1 (high).</param>
/// <param name="BufferIndex">How many of the four words of block <c>Counter - 1</c> were consumed (0..4; 4 = none left);
/// the block counter counts modulo 2^64, so Counter = 0 with words left means block 2^64 − 1.</param>
/// <param name="HasCachedNormal">Whether the second Box–Muller value of the last pair is still pending.</param>
/// <param name="CachedNormal">That pending value (0 when <paramref name="HasCachedNormal"/> is false).</param>
public readonly record struct PhiloxState(
    ulong Seed,
    ulong Stream,
    ulong Counter,
    int BufferIndex,
    bool HasCachedNormal,
    double CachedNormal);
