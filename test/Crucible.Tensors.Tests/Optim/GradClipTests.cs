using Crucible.Tensors.Optim;

namespace Crucible.Tensors.Tests.Optim;

public class GradClipTests
{
    // gradients of two parameters (lengths 37 and 5: SIMD body and tail), plus one without a gradient
    private static Tensor[] Parameters(float scale)
    {
        var rng = new System.Random(42);
        Tensor Make(int n)
        {
            var t = Tensor.Zeros([n], requiresGrad: true);
            t.Grad = [.. Enumerable.Range(0, n).Select(_ => scale * (float)((2 * rng.NextDouble()) - 1))];
            return t;
        }

        return [Make(37), Make(5), Tensor.Zeros([3], requiresGrad: true)];
    }

    private static double HandNorm(Tensor[] ps, double p)
    {
        var all = ps.Where(t => t.Grad is not null).SelectMany(t => t.Grad!).Select(v => Math.Abs((double)v)).ToArray();
        return double.IsPositiveInfinity(p) ? all.Max() : Math.Pow(all.Sum(v => Math.Pow(v, p)), 1 / p);
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    [InlineData(double.PositiveInfinity)]
    public void ClipGradNorm_ReturnsTotalNorm_AndScalesToMaxNorm(double p)
    {
        var ps = Parameters(scale: 2f);
        double expected = HandNorm(ps, p);
        double maxNorm = expected / 4;
        var direction = ps[0].Grad![0] / ps[1].Grad![0];

        double total = GradClip.ClipGradNorm(ps, maxNorm, p);

        Assert.Equal(expected, total, 1e-9 * expected);
        Assert.Equal(maxNorm, HandNorm(ps, p), 1e-5 * maxNorm);
        Assert.Equal(direction, ps[0].Grad![0] / ps[1].Grad![0], 1e-5);
        Assert.Null(ps[2].Grad);
    }

    [Fact]
    public void ClipGradNorm_BelowThreshold_ChangesNothing()
    {
        var ps = Parameters(scale: 0.1f);
        var before = ps.Take(2).Select(t => (float[])t.Grad!.Clone()).ToArray();
        double expected = HandNorm(ps, 2);

        double total = GradClip.ClipGradNorm(ps, maxNorm: expected * 1.5);

        Assert.Equal(expected, total, 1e-9 * expected);
        for (int k = 0; k < 2; k++) OptimizerTests.AssertBitwiseEqual(before[k], ps[k].Grad!);
    }

    [Fact]
    public void ClipGradNorm_AccumulatesInDouble()
    {
        // 2^24 + 1 ones: a float accumulator stops at 2^24 (16777216 + 1 rounds back), double does not
        int n = (1 << 24) + 1;
        var t = Tensor.Zeros([n], requiresGrad: true);
        t.Grad = new float[n];
        Array.Fill(t.Grad, 1f);
        Assert.Equal(Math.Sqrt(n), GradClip.TotalNorm([t]), 1e-9);
        Assert.Equal(n, GradClip.TotalNorm([t], normType: 1), 1e-9);
    }

    [Fact]
    public void ClipGradNorm_NonFinite_ThrowsWhenAsked()
    {
        var ps = Parameters(scale: 1f);
        ps[0].Grad![3] = float.NaN;
        Assert.Throws<InvalidOperationException>(() => GradClip.ClipGradNorm(ps, 1.0, errorIfNonfinite: true));
        Assert.True(double.IsNaN(GradClip.TotalNorm(ps, double.PositiveInfinity)));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradClip.ClipGradNorm(ps, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradClip.ClipGradNorm(ps, 1, normType: 0));
    }

    [Fact]
    public void ClipGradValue_ClampsEveryElement()
    {
        var ps = Parameters(scale: 2f);
        var before = ps.Take(2).Select(t => (float[])t.Grad!.Clone()).ToArray();

        GradClip.ClipGradValue(ps, 0.5);

        for (int k = 0; k < 2; k++)
        {
            for (int i = 0; i < before[k].Length; i++) Assert.Equal(Math.Clamp(before[k][i], -0.5f, 0.5f), ps[k].Grad![i]);
        }

        Assert.Contains(before[0], v => Math.Abs(v) > 0.5f);
        Assert.Null(ps[2].Grad);
    }
}
