using System.Buffers.Binary;
using System.Security.Cryptography;
using Crucible.Diffusion.Hashing;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Hashing;

/// <summary>The hash against SHA-256 of the whole little-endian byte image (the form manifests recorded), on either byte order.</summary>
public sealed class ValuesSha256Tests
{
    public static TheoryData<int> Lengths => [0, 1, 7, (ValuesSha256.BlockBytes / 8) - 1, ValuesSha256.BlockBytes / 8, (ValuesSha256.BlockBytes / 8) + 1, (3 * ValuesSha256.BlockBytes / 8) + 123];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Doubles_HashAsTheirWholeByteImage(int length)
    {
        var values = Values(length, 1);
        var bytes = new byte[length * sizeof(double)];
        for (int i = 0; i < length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), values[i]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), ValuesSha256.Of(values));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Floats_HashAsTheirWholeByteImage(int length)
    {
        var values = Values(length, 2).Select(v => (float)v).ToArray();
        var bytes = new byte[length * sizeof(float)];
        for (int i = 0; i < length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), ValuesSha256.Of(values));
    }

    /// <summary>
    /// The big-endian path (each value's bytes reversed, block by block), run here on values written big-endian: the hash of
    /// their little-endian image, across block edges, for both widths.
    /// </summary>
    [Theory]
    [MemberData(nameof(Lengths))]
    public void BigEndianValues_HashAsTheirLittleEndianImage(int length)
    {
        var values = Values(length, 3);
        var little = new byte[length * sizeof(double)];
        var big = new byte[length * sizeof(double)];
        var bigFloats = new byte[length * sizeof(float)];
        for (int i = 0; i < length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(little.AsSpan(i * 8), values[i]);
            BinaryPrimitives.WriteDoubleBigEndian(big.AsSpan(i * 8), values[i]);
            BinaryPrimitives.WriteSingleBigEndian(bigFloats.AsSpan(i * 4), (float)values[i]);
        }

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(little)), ValuesSha256.Of(big, sizeof(double), littleEndian: false));
        Assert.Equal(ValuesSha256.Of(values.Select(v => (float)v).ToArray()), ValuesSha256.Of(bigFloats, sizeof(float), littleEndian: false));
    }

    [Fact]
    public void KnownAnswer_EmptyAndOneValue()
    {
        // SHA-256 of no bytes, and of 1.0 as float64 little-endian (00 00 00 00 00 00 F0 3F)
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ValuesSha256.Of(ReadOnlySpan<double>.Empty));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(new byte[] { 0, 0, 0, 0, 0, 0, 0xF0, 0x3F })), ValuesSha256.Of([1.0]));
    }

    private static double[] Values(int length, ulong seed)
    {
        var rng = new Philox(seed, 0);
        var values = new double[length];
        for (int i = 0; i < length; i++) values[i] = rng.NextNormal() * 1e3;
        if (length > 2) values[1] = -0.0;
        return values;
    }
}
