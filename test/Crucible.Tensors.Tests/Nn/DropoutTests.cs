using Crucible.Tensors.Nn;
using Crucible.Tensors.Random;

namespace Crucible.Tensors.Tests.Nn;

public class DropoutTests
{
    [Fact]
    public void Dropout_Eval_IsIdentity()
    {
        var drop = new Dropout(0.5f, new Philox(1));
        var x = GradCheck.Random([3, 4], new System.Random(1), requiresGrad: false);
        drop.Eval();
        Assert.Same(x, drop.Forward(x));
        Assert.Same(x, x.Dropout(0.9f, new Philox(1), training: false));
    }

    [Fact]
    public void Dropout_Train_ZeroesAboutPAndScalesTheRest()
    {
        const float P = 0.25f;
        var drop = new Dropout(P, new Philox(2));
        var x = Tensor.Ones([100, 100]);
        var y = drop.Forward(x);
        int zeros = y.Data.Count(v => v == 0f);
        Assert.All(y.Data, v => Assert.True(v == 0f || Math.Abs(v - (1f / (1f - P))) < 1e-6f));

        // Binomial(10000, 0.25): sd ≈ 43; allow 5 sd
        Assert.InRange(zeros, 2500 - 220, 2500 + 220);

        // the module advances its own generator: the next call draws a different mask
        Assert.NotEqual(y.Data, drop.Forward(x).Data);
    }

    [Fact]
    public void Dropout_IsDeterministicGivenTheSeed()
    {
        var x = Tensor.Ones([8, 8]);
        Assert.Equal(new Dropout(0.5f, new Philox(3)).Forward(x).Data, new Dropout(0.5f, new Philox(3)).Forward(x).Data);
        Assert.NotEqual(new Dropout(0.5f, new Philox(3)).Forward(x).Data, new Dropout(0.5f, new Philox(4)).Forward(x).Data);
        var drop = new Dropout(0.5f, new Philox(99));
        Assert.Equal(x.Dropout(0.5f, new Philox(5), true).Data, drop.Forward(x, new Philox(5)).Data);
    }

    [Fact]
    public void Dropout_EdgeProbabilities()
    {
        var x = Tensor.Ones([10]);
        Assert.Same(x, x.Dropout(0f, new Philox(1), training: true));
        Assert.All(x.Dropout(1f, new Philox(1), training: true).Data, v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Dropout(1.5f, new Philox(1), training: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(-0.1f, new Philox(1)));
    }

    [Fact]
    public void MultiheadAttention_Dropout_OnlyInTraining()
    {
        var mha = new MultiheadAttention(4, 2, new Philox(4), dropout: 0.5f);
        var x = GradCheck.Random([1, 5, 4], new System.Random(4), requiresGrad: false);
        mha.Eval();
        var (a, _) = mha.Forward(x, x, x);
        var (b, _) = mha.Forward(x, x, x);
        Assert.Equal(a.Data, b.Data);
        mha.Train();
        var (c, _) = mha.Forward(x, x, x, dropoutRng: new Philox(1));
        var (d, _) = mha.Forward(x, x, x, dropoutRng: new Philox(1));
        Assert.Equal(c.Data, d.Data);
        Assert.NotEqual(a.Data, c.Data);
    }
}
