using Crucible.Diffusion.Conditioning;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Conditioning;

public class ClassifierFreeGuidanceTests
{
    /// <summary>ε̂(x, t, c) = x + t + Σ present c_j (one per sample), ε̂(x, t, ∅) = x + t; counts its passes.</summary>
    private sealed class Affine : IConditionalDenoiser
    {
        public int Calls;

        public IReadOnlyList<int> SampleShape => [2];

        public int ConditionFeatures => 2;

        public void Predict(ReadOnlySpan<float> x, int batch, ReadOnlySpan<int> timesteps, ConditionBatch? conditions, Span<float> output)
        {
            Interlocked.Increment(ref Calls);
            for (int b = 0; b < batch; b++)
            {
                float shift = 0;
                for (int j = 0; conditions is not null && j < 2; j++) if (conditions.Present[(b * 2) + j]) shift += conditions.Values[(b * 2) + j];
                for (int i = 0; i < 2; i++) output[(b * 2) + i] = x[(b * 2) + i] + timesteps[b] + shift;
            }
        }
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(1.0, 1)]
    [InlineData(3.0, 2)]
    public void Predict_IsUnconditionalPlusWTimesTheDifference_WithOnlyTheNeededPasses(double w, int passes)
    {
        var inner = new Affine();
        var cfg = new ClassifierFreeGuidance(inner, [0.5f, float.NaN], w);
        Assert.Equal(passes, cfg.PassesPerStep);
        var output = new float[4];
        cfg.Predict([1f, 2f, 3f, 4f], 2, [10, 20], output);
        Assert.Equal(passes, inner.Calls);
        Assert.Equal(new[] { 11f + (float)(w * 0.5), 12f + (float)(w * 0.5), 23f + (float)(w * 0.5), 24f + (float)(w * 0.5) }, output);
    }

    [Fact]
    public void GuidedFrom_LeavesTheEarlierSteps_ToThePlainConditionalModel()
    {
        var inner = new Affine();
        var cfg = new ClassifierFreeGuidance(inner, [0.5f, float.NaN], 3.0, guidedFrom: 15);
        var output = new float[4];
        cfg.Predict([1f, 2f, 3f, 4f], 2, [10, 20], output);
        Assert.Equal(2, inner.Calls);
        // sample 0 at t = 10 < 15: ε̂(x, t, c); sample 1 at t = 20: ε̂_∅ + 3 (ε̂_c − ε̂_∅)
        Assert.Equal(new[] { 11.5f, 12.5f, 24.5f, 25.5f }, output);

        // every sample below t_g: one conditional pass
        inner.Calls = 0;
        cfg.Predict([1f, 2f, 3f, 4f], 2, [14, 0], output);
        Assert.Equal(1, inner.Calls);
        Assert.Equal(new[] { 15.5f, 16.5f, 3.5f, 4.5f }, output);

        // t_g = 0 is the plain guidance, bit for bit
        var all = new float[4];
        new ClassifierFreeGuidance(new Affine(), [0.5f, float.NaN], 3.0).Predict([1f, 2f, 3f, 4f], 2, [10, 20], all);
        var zero = new float[4];
        new ClassifierFreeGuidance(new Affine(), [0.5f, float.NaN], 3.0, guidedFrom: 0).Predict([1f, 2f, 3f, 4f], 2, [10, 20], zero);
        Assert.Equal(all, zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClassifierFreeGuidance(new Affine(), [0.5f, 1f], 3.0, guidedFrom: -1));
    }

    [Fact]
    public void NoFeaturePresent_IsOneUnconditionalPass_WhateverW()
    {
        var inner = new Affine();
        var cfg = new ClassifierFreeGuidance(inner, [float.NaN, float.NaN], 4.0);
        var output = new float[2];
        cfg.Predict([1f, 2f], 1, [5], output);
        Assert.Equal(1, inner.Calls);
        Assert.Equal(new[] { 6f, 7f }, output);
    }

    [Fact]
    public void Rejects_WrongFeatureCount_AndNegativeScale()
    {
        Assert.Throws<ArgumentException>(() => new ClassifierFreeGuidance(new Affine(), [1f], 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClassifierFreeGuidance(new Affine(), [1f, 2f], -1.0));
    }

    [Fact]
    public void ConditionDropout_DrawsUnconditionalSubsetAndFullSamples_AtTheConfiguredRates()
    {
        int rows = 10, k = 4;
        var values = new float[rows * k];
        for (int i = 0; i < values.Length; i++) values[i] = i;
        values[3] = float.NaN;                                   // row 0, feature 3 unknown
        var dropout = new ConditionDropout(values, rows, k, unconditional: 0.2, subset: 0.5);
        var rng = new Philox(3);
        int n = 20_000, none = 0, full = 0, nanPresent = 0;
        var picked = new int[n];
        for (int i = 0; i < n; i++) picked[i] = i % rows;
        var batch = dropout.Draw(picked, rng);
        for (int i = 0; i < n; i++)
        {
            int present = 0;
            for (int j = 0; j < k; j++)
            {
                if (!batch.Present[(i * k) + j]) continue;
                present++;
                Assert.Equal(values[(picked[i] * k) + j], batch.Values[(i * k) + j]);
                if (picked[i] == 0 && j == 3) nanPresent++;
            }

            if (present == 0) none++;
            if (present == k) full++;
        }

        Assert.Equal(0, nanPresent);
        // P(none) = 0.2 + P(row 0, subset of size 1 = {feature 3}) = 0.2 + 0.1·0.8·0.5·(1/3)·(1/4) ≈ 0.2033;
        // P(all four) = 0.8·0.5 · 0.9 (subsets are proper; row 0 never has all four)
        Assert.InRange(none / (double)n, 0.2033 - 0.012, 0.2033 + 0.012);
        Assert.InRange(full / (double)n, 0.36 - 0.015, 0.36 + 0.015);

        // subset sizes 1, 2, 3 equally likely (rows 1..9, which have all four features)
        var sizes = new int[k + 1];
        for (int i = 0; i < n; i++)
        {
            if (picked[i] == 0) continue;
            sizes[Enumerable.Range(0, k).Count(j => batch.Present[(i * k) + j])]++;
        }

        double subsetRows = n * 0.9 * 0.8 * 0.5;
        for (int m = 1; m < k; m++) Assert.InRange(sizes[m] / subsetRows, (1.0 / 3) - 0.03, (1.0 / 3) + 0.03);
    }
}
