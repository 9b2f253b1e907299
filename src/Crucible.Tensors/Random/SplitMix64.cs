namespace Crucible.Tensors.Random;

/// <summary>
/// SplitMix64 finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014),
/// used only to hash (seed, stream, child id) into a fresh Philox key. Never used as a sample source.
/// </summary>
internal static class SplitMix64
{
    /// <summary>Golden-ratio increment, 2^64 / phi.</summary>
    public const ulong Gamma = 0x9E3779B97F4A7C15UL;

    /// <summary>One SplitMix64 step applied to <paramref name="x"/>: mix(x + gamma).</summary>
    public static ulong Mix(ulong x)
    {
        ulong z = x + Gamma;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
