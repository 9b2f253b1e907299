using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Nn;

public class InitTests
{
    [Fact]
    public void Linear_WeightsAndBias_LieWithinBoundWithUniformVariance()
    {
        const int In = 64, Out = 256;
        var lin = new Linear(In, Out, new Philox(42));
        double bound = 1.0 / Math.Sqrt(In);
        Assert.All(lin.Weight.Data, w => Assert.InRange(w, -bound, bound));
        Assert.All(lin.Bias!.Data, b => Assert.InRange(b, -bound, bound));

        // U(−b, b) has mean 0 and variance b²/3; n = 16384 gives a standard error of about 0.6% on the variance
        double mean = lin.Weight.Data.Average(w => (double)w);
        double variance = lin.Weight.Data.Average(w => (w - mean) * (w - mean));
        Assert.InRange(mean, -0.01 * bound, 0.01 * bound);
        Assert.InRange(variance / (bound * bound / 3), 0.97, 1.03);
        Assert.True(lin.Weight.Data.Max() > 0.99 * bound && lin.Weight.Data.Min() < -0.99 * bound, "the weights should fill the whole interval");
    }

    [Fact]
    public void Conv1d_UsesFanInOfChannelsTimesKernel()
    {
        var conv = new Conv1d(8, 16, 4, new Philox(3));
        double bound = 1.0 / Math.Sqrt(8 * 4);
        Assert.All(conv.Weight.Data, w => Assert.InRange(w, -bound, bound));
        Assert.True(conv.Weight.Data.Max() > 0.95 * bound);
    }

    [Fact]
    public void SameSeed_GivesIdenticalParameters_DifferentSeed_DoesNot()
    {
        static float[][] Build(ulong seed) =>
            new Sequential(new Linear(5, 7, new Philox(seed)), new Conv1dAdapter(new Philox(seed, 1))).Parameters().Select(p => p.Data).ToArray();

        Assert.Equal(Build(11), Build(11));
        Assert.NotEqual(Build(11)[0], Build(12)[0]);
        var gruA = new GRU(3, 5, new Philox(5)).Parameters().Select(p => p.Data);
        var gruB = new GRU(3, 5, new Philox(5)).Parameters().Select(p => p.Data);
        Assert.Equal(gruA, gruB);
    }

    private sealed class Conv1dAdapter : Module<Tensor, Tensor>
    {
        private readonly Conv1d _conv;

        public Conv1dAdapter(Philox rng) => _conv = RegisterModule("conv", new Conv1d(7, 2, 3, rng));

        public override Tensor Forward(Tensor input) => _conv.Forward(input);
    }

    [Fact]
    public void Embedding_IsStandardNormal()
    {
        var emb = new Embedding(100, 100, new Philox(9));
        double mean = emb.Weight.Data.Average(w => (double)w);
        double variance = emb.Weight.Data.Average(w => (w - mean) * (w - mean));
        Assert.InRange(mean, -0.03, 0.03);
        Assert.InRange(variance, 0.95, 1.05);
    }

    [Fact]
    public void GRU_AllParametersWithinOneOverSqrtHidden()
    {
        var gru = new GRU(10, 16, new Philox(4), numLayers: 2);
        Assert.All(gru.Parameters().SelectMany(p => p.Data), v => Assert.InRange(v, -0.25f, 0.25f));
        Assert.True(gru.Parameters().SelectMany(p => p.Data).Max() > 0.24f);
    }

    [Fact]
    public void MultiheadAttention_XavierInProjection_ZeroBiases()
    {
        const int E = 16;
        var mha = new MultiheadAttention(E, 4, new Philox(6));
        double xavier = Math.Sqrt(6.0 / (E + (3 * E)));
        Assert.All(mha.InProjWeight!.Data, w => Assert.InRange(w, -xavier, xavier));
        Assert.True(mha.InProjWeight.Data.Max() > 0.95 * xavier);
        Assert.All(mha.InProjBias!.Data, b => Assert.Equal(0f, b));
        Assert.All(mha.OutProj.Bias!.Data, b => Assert.Equal(0f, b));
        Assert.All(mha.OutProj.Weight.Data, w => Assert.InRange(w, -0.25f, 0.25f)); // Linear default 1/√E
    }

    [Fact]
    public void Norms_StartAsIdentityAffine()
    {
        var ln = new LayerNorm(3);
        var gn = new GroupNorm(2, 4);
        Assert.Equal([1f, 1f, 1f], ln.Weight!.Data);
        Assert.Equal([0f, 0f, 0f], ln.Bias!.Data);
        Assert.Equal([1f, 1f, 1f, 1f], gn.Weight!.Data);
        Assert.Empty(new LayerNorm(3, elementwiseAffine: false).Parameters());
    }

    [Fact]
    public void KaimingUniform_GeneralA_MatchesHeBound()
    {
        var t = Init.KaimingUniform(Tensor.Zeros([50, 200]), new Philox(1), a: 0);
        double bound = Math.Sqrt(2.0) * Math.Sqrt(3.0 / 200); // gain √2 for ReLU
        Assert.All(t.Data, v => Assert.InRange(v, -bound, bound));
        Assert.True(t.Data.Max() > 0.99 * bound);
    }
}
