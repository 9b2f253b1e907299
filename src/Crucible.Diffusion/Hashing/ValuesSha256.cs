using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Crucible.Diffusion.Hashing;

/// <summary>
/// SHA-256 of a run of numbers as their little-endian IEEE-754 bytes (manifests' <c>train_matrix_sha256</c>, the
/// condition hashes), hashed where the values lie: a little-endian machine's memory is that byte image, so nothing is
/// copied (a byte copy of the train matrix was 64 MB at 800,000 rows of 10 series); a big-endian one reverses each value's
/// bytes block by block.
/// </summary>
public static class ValuesSha256
{
    /// <summary>Bytes reversed per block on a big-endian machine (32 KB).</summary>
    public const int BlockBytes = 1 << 15;

    /// <summary>Lower-case hex SHA-256 of the values' little-endian bytes (8 a value).</summary>
    public static string Of(ReadOnlySpan<double> values) => Of(MemoryMarshal.AsBytes(values), sizeof(double), BitConverter.IsLittleEndian);

    /// <summary>Lower-case hex SHA-256 of the values' little-endian bytes (4 a value).</summary>
    public static string Of(ReadOnlySpan<float> values) => Of(MemoryMarshal.AsBytes(values), sizeof(float), BitConverter.IsLittleEndian);

    // the hash of `native` (values of `width` bytes each, in the machine's order) as little-endian bytes: as they are when
    // the machine is little-endian, else each value's bytes reversed in blocks
    internal static string Of(ReadOnlySpan<byte> native, int width, bool littleEndian)
    {
        if (littleEndian) return Convert.ToHexStringLower(SHA256.HashData(native));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> block = new byte[BlockBytes];
        for (int start = 0; start < native.Length; start += BlockBytes)
        {
            var part = block[..Math.Min(BlockBytes, native.Length - start)];
            native.Slice(start, part.Length).CopyTo(part);
            for (int v = 0; v < part.Length; v += width) part.Slice(v, width).Reverse();
            hash.AppendData(part);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
