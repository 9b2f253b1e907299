using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Random;

public class FillNormalFastTests
{
    /// <summary>The documented formula, in double from the Philox blocks: the oracle of both paths.</summary>
    private static double[] Reference(ulong seed, ulong stream, ulong firstBlock, int n)
    {
        var result = new double[n];
        Span<uint> block = stackalloc uint[4];
        for (int g = 0; g * 32 < n; g++)
        {
            for (int b = 0; b < 8; b++)
            {
                ulong c = firstBlock + (ulong)(8 * g) + (ulong)b;
                Philox.Block([(uint)c, (uint)(c >> 32), (uint)stream, (uint)(stream >> 32)], [(uint)seed, (uint)(seed >> 32)], block);
                for (int half = 0; half < 2; half++)
                {
                    int i = (2 * b) + half;
                    double u1 = 1.0 - ((block[2 * half] >> 8) / 16777216.0);
                    double u2 = (block[(2 * half) + 1] >> 8) / 16777216.0;
                    double r = Math.Sqrt(-2.0 * Math.Log(u1));
                    if ((32 * g) + i < n) result[(32 * g) + i] = r * Math.Cos(2 * Math.PI * u2);
                    if ((32 * g) + 16 + i < n) result[(32 * g) + 16 + i] = r * Math.Sin(2 * Math.PI * u2);
                }
            }
        }

        return result;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BothPaths_FollowTheDocumentedFormula(bool vectorized)
    {
        foreach (int n in new[] { 0, 1, 31, 32, 33, 100, 4096 })
        {
            var g = new Philox(seed: 0x1234_5678_9ABC_DEF0, stream: 0xFFFF_FFFF_0000_0003);
            g.NextUInt32();                                   // a partly used block is discarded, not reused
            var x = new float[n];
            g.FillNormalFast(x, 0f, 1f, vectorized);
            var expected = Reference(0x1234_5678_9ABC_DEF0, 0xFFFF_FFFF_0000_0003, firstBlock: 1, n);
            for (int i = 0; i < n; i++)
            {
                // float Box–Muller: u1 near 1 makes r tiny, so an absolute tolerance, plus float rounding of r·cos
                Assert.True(Math.Abs(x[i] - expected[i]) <= 2e-6 + (2e-6 * Math.Abs(expected[i])), $"n={n} i={i}: {x[i]} vs {expected[i]}");
            }

            // positioned after ⌈n/32⌉·8 blocks
            var after = new Philox(0x1234_5678_9ABC_DEF0, 0xFFFF_FFFF_0000_0003);
            after.Advance(1 + ((ulong)((n + 31) / 32) * 8));
            Assert.Equal(after.NextUInt32(), g.NextUInt32());
        }
    }

    [Fact]
    public void ScaledAndChunked_GiveTheSameValues()
    {
        var whole = new float[96];
        new Philox(7).FillNormalFast(whole, 0.5f, 2f);
        var parts = new float[96];
        var g = new Philox(7);
        g.FillNormalFast(parts.AsSpan(0, 32), 0.5f, 2f);
        g.FillNormalFast(parts.AsSpan(32, 64), 0.5f, 2f);
        Assert.Equal(whole, parts);
        var unit = new float[96];
        new Philox(7).FillNormalFast(unit);
        for (int i = 0; i < 96; i++) Assert.Equal((unit[i] * 2f) + 0.5f, whole[i], 5);
    }

    [Fact]
    public void Moments_AndTails_AreThoseOfTheStandardNormal()
    {
        var x = new float[1 << 20];
        new Philox(11).FillNormalFast(x);
        double mean = x.Average(v => (double)v);
        double variance = x.Average(v => (v - mean) * (v - mean));
        double kurtosis = x.Average(v => Math.Pow(v - mean, 4)) / (variance * variance);
        Assert.InRange(mean, -0.005, 0.005);                       // 5 standard errors (1/√2^20 ≈ 0.001)
        Assert.InRange(variance, 0.993, 1.007);
        Assert.InRange(kurtosis, 2.97, 3.03);
        double above2 = x.Count(v => v > 1.959964f) / (double)x.Length;   // P(Z > 1.96) = 0.025
        Assert.InRange(above2, 0.0243, 0.0257);
    }
}
