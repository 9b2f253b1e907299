using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using Crucible.Tensors.Kernels;

namespace Crucible.Tensors.Tests.Kernels;

/// <summary>Runs only on Vector512 hardware: the digest pins the bits of the Vector512 micro-kernel.</summary>
public sealed class Vector512FactAttribute : FactAttribute
{
    public Vector512FactAttribute()
    {
        if (!Vector512.IsHardwareAccelerated) Skip = "Vector512 is not hardware accelerated here: the pinned bits are those of the Vector512 kernel";
    }
}

/// <summary>
/// The exact bits of every blocked GEMM path (operands in place, A packed, B packed, both; all transposes; β = 0, 1,
/// ½; a gathered A; a gathered B), pinned as one SHA-256 digest. The naive comparisons elsewhere allow a tolerance;
/// this one does not, so a change to the micro-kernels' float operations or their order (which would move the
/// pinned model files and figures) shows here first, by path. The digest was taken from the kernels of session 15,
/// before their four Vector512 copies became one generic kernel.
/// </summary>
public class PackedGemmBitsTests
{
    private const string Pinned = "2CD81839BE75A1A056B9B7389B1F064057334717767453E1074437BB266449EC";

    // values on a 1/1024 grid in [-1, 1) from a fixed integer hash: the same on every runtime
    private static float[] Data(int n, int seed)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            uint h = (uint)((i * 2654435761L) ^ (seed * 40503L));
            h ^= h >> 13;
            h *= 0x5bd1e995;
            h ^= h >> 15;
            x[i] = ((int)(h % 2048) - 1024) / 1024f * 1.37f;
        }

        return x;
    }

    [Vector512Fact]
    public unsafe void EveryPath_GivesThePinnedBits()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(float[] c)
        {
            var bytes = new byte[c.Length * 4];
            Buffer.BlockCopy(c, 0, bytes, 0, bytes.Length);
            hash.AppendData(bytes);
        }

        foreach (var (m, n, k, pad) in new[] { (64, 64, 64, 0), (13, 45, 7, 0), (8, 32, 300, 3), (37, 20, 520, 1), (150, 70, 33, 5) })
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                    int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
                    var a = Data(aRows * lda, 1);
                    var b = Data(bRows * ldb, 2);
                    foreach (float beta in new[] { 0f, 1f, 0.5f })
                    {
                        foreach (var (packA, packB) in new[] { (false, false), (true, false), (false, true), (true, true) })
                        {
                            var c = Data(m * ldc, 3);
                            fixed (float* pa = a)
                            fixed (float* pb = b)
                            fixed (float* pc = c)
                            {
                                PackedGemm.Run(ta, tb, m, n, k, 0.75f, pa, lda, pb, ldb, beta, pc, ldc, threads: 1, packA, packB);
                            }

                            Add(c);
                        }
                    }
                }
            }
        }

        // a gathered A (taps narrower and wider than a K panel, B in place and transposed) and a gathered B
        foreach (var (m, n, taps, tapK, transB) in new[] { (37, 45, 3, 20, true), (64, 64, 3, 64, false), (19, 33, 2, 300, true) })
        {
            var a = Data(500 * tapK, 7);
            var table = new int[taps * m];
            for (int i = 0; i < table.Length; i++) table[i] = i % 7 == 3 ? -1 : (int)((i * 2654435761L) % 500) * tapK;
            int k = taps * tapK;
            var b = Data(k * n, 8);
            foreach (float beta in new[] { 0f, 1f })
            {
                var c = Data(m * n, 9);
                global::Crucible.Tensors.Kernels.Kernels.GemmGathered(m, n, taps, tapK, a, table, transB, b, transB ? k : n, beta, c, n, null);
                Add(c);
            }
        }

        foreach (var (m, taps, tapN, k) in new[] { (64, 3, 64, 6144), (13, 2, 32, 100) })
        {
            var b = Data(400 * tapN, 10);
            var table = new int[taps * k];
            for (int i = 0; i < table.Length; i++) table[i] = i % 5 == 2 ? -1 : (int)((i * 2654435761L) % 400) * tapN;
            int n = taps * tapN;
            var a = Data(k * m, 11);
            foreach (float beta in new[] { 0f, 1f })
            {
                var c = Data(m * n, 12);
                global::Crucible.Tensors.Kernels.Kernels.GemmTransAGatheredB(m, taps, tapN, k, 0.5f, a, m, b, table, beta, c, n);
                Add(c);
            }
        }

        string digest = Convert.ToHexString(hash.GetHashAndReset());
        Assert.True(digest == Pinned, $"the blocked GEMM's bits moved: digest {digest}, pinned {Pinned}");
    }
}
