using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Sequence;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Conditioning;

public class ConditionNoiseTests
{
    private static float[] Values(int rows, int k)
    {
        var values = new float[rows * k];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((i % 7) - 3) * 0.5f;
        values[(1 * k) + 1] = float.NaN;                        // an unknown value: never present, draws no noise
        return values;
    }

    [Fact]
    public void NoiseZero_DrawsExactlyWhatTheDropoutWithoutNoiseDraws_AndLeavesTheStreamInTheSamePlace()
    {
        const int rows = 40, k = 3;
        var values = Values(rows, k);
        var plain = new ConditionDropout(values, rows, k, unconditional: 0.2, subset: 0.5);
        var zero = new ConditionDropout(values, rows, k, unconditional: 0.2, subset: 0.5, noise: 0);
        int[] batch = [.. Enumerable.Range(0, rows)];
        var a = new Philox(9, stream: 1);
        var b = new Philox(9, stream: 1);
        for (int round = 0; round < 3; round++)
        {
            var x = plain.Draw(batch, a);
            var y = zero.Draw(batch, b);
            Assert.Equal(x.Values, y.Values);
            Assert.Equal(x.Present, y.Present);
        }

        Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void Noise_AddsHTimesOneStandardNormalPerKeptKnownFeature_InFeatureOrder()
    {
        // every sample keeps every feature (p_uncond = 0, subset = 0): one uniform, then one normal per known feature
        const int rows = 30, k = 3;
        const double h = 0.75;
        var values = Values(rows, k);
        var dropout = new ConditionDropout(values, rows, k, unconditional: 0, subset: 0, noise: h);
        int[] batch = [.. Enumerable.Range(0, rows).Select(i => (i * 7) % rows)];
        var batchConditions = dropout.Draw(batch, new Philox(4, stream: 1));

        var replay = new Philox(4, stream: 1);
        for (int i = 0; i < batch.Length; i++)
        {
            _ = replay.NextDouble();
            for (int j = 0; j < k; j++)
            {
                float v = values[(batch[i] * k) + j];
                if (float.IsNaN(v))
                {
                    Assert.False(batchConditions.Present[(i * k) + j]);
                    continue;
                }

                Assert.True(batchConditions.Present[(i * k) + j]);
                Assert.Equal((float)(v + (h * replay.NextNormal())), batchConditions.Values[(i * k) + j]);
            }
        }
    }

    [Fact]
    public void Noise_HasMeanZeroAndStandardDeviationH_AndDroppedFeaturesStayAbsent()
    {
        const int rows = 1, k = 2, draws = 20_000;
        const double h = 1.5;
        var dropout = new ConditionDropout([2f, -1f], rows, k, unconditional: 0.3, subset: 0, noise: h);
        var rng = new Philox(11, stream: 1);
        var batch = dropout.Draw(new int[draws], rng);
        var first = new List<double>();
        int absent = 0;
        for (int i = 0; i < draws; i++)
        {
            Assert.Equal(batch.Present[i * k], batch.Present[(i * k) + 1]);   // all or nothing without subsets
            if (!batch.Present[i * k])
            {
                absent++;
                Assert.Equal(0f, batch.Values[i * k]);
                continue;
            }

            first.Add(batch.Values[i * k] - 2.0);
        }

        double mean = first.Average(), sd = Math.Sqrt(first.Sum(e => (e - mean) * (e - mean)) / (first.Count - 1));
        double se = h / Math.Sqrt(first.Count);
        Assert.InRange(mean, -4 * se, 4 * se);
        Assert.InRange(sd, h * 0.97, h * 1.03);                               // ±3%: about 4 standard errors at n ≈ 14,000
        Assert.InRange(absent / (double)draws, 0.3 - 0.015, 0.3 + 0.015);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void InvalidNoise_IsRefused(double noise)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConditionDropout([0f], 1, 1, noise: noise));
        Assert.Throws<ArgumentException>(() => new SequenceGeneratorOptions { ConditionNoise = noise }.Validate());
    }
}
