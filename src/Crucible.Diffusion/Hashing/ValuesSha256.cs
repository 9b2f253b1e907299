using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Crucible.Diffusion.Hashing;

/// <summary>
/// SHA-256 of a run of numbers as their little-endian IEEE-754 bytes, hashed in blocks of <see cref="BlockValues"/>
/// values: the hash of the whole byte image (manifests' <c>train_matrix_sha256</c>, the condition hashes) without
/// holding that image, which was a second copy of the train matrix (64 MB at 800,000 rows of 10 series).
/// </summary>
public static class ValuesSha256
{
    /// <summary>Values written to the block buffer before it is handed to the hash (32 KB of doubles).</summary>
    public const int BlockValues = 4096;

    /// <summary>Lower-case hex SHA-256 of the values' little-endian bytes (8 a value).</summary>
    public static string Of(ReadOnlySpan<double> values)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> block = new byte[BlockValues * sizeof(double)];
        for (int start = 0; start < values.Length; start += BlockValues)
        {
            var part = values.Slice(start, Math.Min(BlockValues, values.Length - start));
            for (int i = 0; i < part.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(block[(i * sizeof(double))..], part[i]);
            hash.AppendData(block[..(part.Length * sizeof(double))]);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Lower-case hex SHA-256 of the values' little-endian bytes (4 a value).</summary>
    public static string Of(ReadOnlySpan<float> values)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> block = new byte[BlockValues * sizeof(float)];
        for (int start = 0; start < values.Length; start += BlockValues)
        {
            var part = values.Slice(start, Math.Min(BlockValues, values.Length - start));
            for (int i = 0; i < part.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(block[(i * sizeof(float))..], part[i]);
            hash.AppendData(block[..(part.Length * sizeof(float))]);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
