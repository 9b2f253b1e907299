using Crucible.Tensors.Optim;

namespace Crucible.Tensors.Tests.Optim;

public class ExponentialMovingAverageTests
{
    private static Tensor[] Parameters() =>
    [
        new([.. Enumerable.Range(0, 37).Select(i => 0.1f * i)], [37], requiresGrad: true),
        new([1f, -2f, 3f], [3], requiresGrad: true),
    ];

    // θ at update j (j = 1..k): a deterministic wiggle around the start
    private static float Value(float start, int j, int i) => start + (0.3f * j) - (0.05f * i * (j % 3));

    [Theory]
    [InlineData(0.9, false)]
    [InlineData(0.999, false)]
    [InlineData(0.99, true)]
    [InlineData(0.5, true)]
    public void Update_AfterKUpdates_MatchesClosedForm(double decay, bool warmup)
    {
        const int k = 25;
        var ps = Parameters();
        var starts = ps.Select(p => (float[])p.Data.Clone()).ToArray();
        var ema = new ExponentialMovingAverage(ps, decay, warmup);

        // closed form: s_k = (Π_j d_j) s_0 + Σ_j (1 − d_j) (Π_{l>j} d_l) θ_j, with d_j the decay of update j
        var d = Enumerable.Range(0, k).Select(n => warmup ? Math.Min(decay, (1.0 + n) / (10.0 + n)) : decay).ToArray();
        for (int j = 1; j <= k; j++)
        {
            Assert.Equal(d[j - 1], ema.CurrentDecay, 15);
            for (int p = 0; p < ps.Length; p++)
            {
                for (int i = 0; i < ps[p].Length; i++) ps[p].Data[i] = Value(starts[p][i], j, i);
            }

            ema.Update();
        }

        Assert.Equal(k, ema.NumUpdates);
        for (int p = 0; p < ps.Length; p++)
        {
            var expected = new double[ps[p].Length];
            for (int i = 0; i < expected.Length; i++)
            {
                double s = starts[p][i] * d.Aggregate(1.0, (a, b) => a * b);
                for (int j = 1; j <= k; j++)
                {
                    double later = 1;
                    for (int l = j; l < k; l++) later *= d[l];
                    s += (1 - d[j - 1]) * later * Value(starts[p][i], j, i);
                }

                expected[i] = s;
            }

            OptimizerTests.Close(expected, ema.ShadowParameters[p], 1e-5, $"EMA decay {decay} warmup {warmup} parameter {p}");
        }
    }

    [Fact]
    public void Warmup_StartsAtOneTenth()
    {
        var ema = new ExponentialMovingAverage(Parameters(), decay: 0.999, warmup: true);
        Assert.Equal(0.1, ema.CurrentDecay, 15);
        ema.Update();
        Assert.Equal(2.0 / 11.0, ema.CurrentDecay, 15);
        Assert.Equal(0.999, new ExponentialMovingAverage(Parameters(), decay: 0.999).CurrentDecay);
    }

    [Fact]
    public void StoreCopyToRestore_RoundTrips()
    {
        var ps = Parameters();
        var ema = new ExponentialMovingAverage(ps, decay: 0.9);
        foreach (var p in ps)
        {
            for (int i = 0; i < p.Length; i++) p.Data[i] += 1f;
        }

        ema.Update();
        var trained = ps.Select(p => (float[])p.Data.Clone()).ToArray();

        ema.Store();
        ema.CopyTo();
        for (int p = 0; p < ps.Length; p++) OptimizerTests.AssertBitwiseEqual(ema.ShadowParameters[p], ps[p].Data);
        Assert.NotEqual(trained[0][0], ps[0].Data[0]);

        ema.Restore();
        for (int p = 0; p < ps.Length; p++) OptimizerTests.AssertBitwiseEqual(trained[p], ps[p].Data);
    }

    [Fact]
    public void CopyTo_OtherParameters_ChecksShapes()
    {
        var ema = new ExponentialMovingAverage(Parameters(), decay: 0.9);
        var other = Parameters().Select(p => Tensor.Zeros(p.Shape)).ToArray();
        ema.CopyTo(other);
        for (int p = 0; p < other.Length; p++) OptimizerTests.AssertBitwiseEqual(ema.ShadowParameters[p], other[p].Data);
        Assert.Throws<ArgumentException>(() => ema.CopyTo([Tensor.Zeros([37])]));
        Assert.Throws<ArgumentException>(() => ema.CopyTo([Tensor.Zeros([37]), Tensor.Zeros([4])]));
        Assert.Throws<InvalidOperationException>(() => new ExponentialMovingAverage(Parameters()).Restore());
    }

    [Fact]
    public void StateDict_ResumesBitExactly()
    {
        var ps = Parameters();
        var ema = new ExponentialMovingAverage(ps, decay: 0.95, warmup: true);
        for (int j = 0; j < 3; j++)
        {
            ps[0].Data[0] += 1f;
            ema.Update();
        }

        var state = ema.StateDict();
        ps[1].Data[2] -= 2f;
        ema.Update();

        var copy = new ExponentialMovingAverage(ps, decay: 0.95, warmup: true);
        copy.LoadStateDict(state);
        Assert.Equal(3, copy.NumUpdates);
        copy.Update();
        for (int p = 0; p < ps.Length; p++) OptimizerTests.AssertBitwiseEqual(ema.ShadowParameters[p], copy.ShadowParameters[p]);
        Assert.Throws<ArgumentException>(() => copy.LoadStateDict(state with { Shadow = [new float[37]] }));
    }

    [Fact]
    public void Update_DoesNotAllocate()
    {
        var ema = new ExponentialMovingAverage(Parameters(), decay: 0.99, warmup: true);
        for (int i = 0; i < 20; i++) ema.Update();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) ema.Update();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
