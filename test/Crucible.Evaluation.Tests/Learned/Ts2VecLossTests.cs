using Crucible.Evaluation.Learned;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Learned;

/// <summary>
/// TS2Vec's hierarchical contrastive loss on the engine against its plain-loop double reference
/// (<see cref="Ts2VecLoss.HierarchicalNaive"/>), and its gradient against central differences of that reference.
/// </summary>
public class Ts2VecLossTests
{
    private static double[] Random(int n, ulong seed, double scale = 1)
    {
        var rng = new Philox(seed);
        return Enumerable.Range(0, n).Select(_ => rng.NextNormal() * scale).ToArray();
    }

    private static Tensor AsTensor(double[] v, int b, int t, int c, bool grad = false) =>
        new(v.Select(x => (float)x).ToArray(), [b, t, c], grad);

    [Theory]
    [InlineData(3, 5, 4)]   // odd lengths: 5 → 2 → 1, the odd step dropped
    [InlineData(2, 8, 3)]   // 8 → 4 → 2 → 1
    [InlineData(4, 1, 2)]   // one step: instance term only
    [InlineData(1, 6, 3)]   // one window: temporal terms only
    [InlineData(8, 24, 5)]  // the Stocks shape of a batch
    public void Hierarchical_MatchesPlainLoopReference(int b, int t, int c)
    {
        double[] z1 = Random(b * t * c, 1, 0.7), z2 = Random(b * t * c, 2, 0.7);
        float[] f1 = z1.Select(x => (float)x).ToArray(), f2 = z2.Select(x => (float)x).ToArray();
        var expected = Ts2VecLoss.HierarchicalNaive(f1.Select(x => (double)x).ToArray(), f2.Select(x => (double)x).ToArray(), b, t, c);
        var actual = Ts2VecLoss.Hierarchical(new Tensor(f1, [b, t, c]), new Tensor(f2, [b, t, c])).Item();
        Assert.True(Math.Abs(actual - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"loss {actual}, reference {expected}");
    }

    [Fact]
    public void Hierarchical_IdenticalViewsOfOrthogonalVectors_IsTheClosedForm()
    {
        // B = 2, T = 1, C = 4: z1 = z2 = s·(e_0, e_1). Instance group {s e0, s e1, s e0, s e1}: anchor 0's logits over
        // j ≠ 0 are (0, s², 0) with its partner at s², so −log(e^{s²} / (e^{s²} + 2)), the same for every anchor;
        // one level of length 1: L = ½ · that.
        const float s = 1.5f;
        var z = new Tensor([s, 0, 0, 0, 0, s, 0, 0], [2, 1, 4]);
        double s2 = s * s;
        var expected = 0.5 * -Math.Log(Math.Exp(s2) / (Math.Exp(s2) + 2));
        Assert.Equal(expected, Ts2VecLoss.Hierarchical(z, z.Clone()).Item(), 6);
    }

    [Fact]
    public void Hierarchical_Backward_MatchesCentralDifferencesOfTheReference()
    {
        const int b = 3, t = 5, c = 4;
        double[] z1 = Random(b * t * c, 3, 0.6), z2 = Random(b * t * c, 4, 0.6);
        // float inputs, so the reference and the engine see the same numbers
        z1 = z1.Select(x => (double)(float)x).ToArray();
        z2 = z2.Select(x => (double)(float)x).ToArray();
        var t1 = AsTensor(z1, b, t, c, grad: true);
        var t2 = AsTensor(z2, b, t, c, grad: true);
        Ts2VecLoss.Hierarchical(t1, t2).Backward();
        const double eps = 1e-5;
        double maxDiff = 0;
        var failures = new List<string>();
        foreach (var (z, tensor, name) in new[] { (z1, t1, "z1"), (z2, t2, "z2") })
        {
            for (int i = 0; i < z.Length; i++)
            {
                double keep = z[i];
                z[i] = keep + eps;
                double up = Ts2VecLoss.HierarchicalNaive(z1, z2, b, t, c);
                z[i] = keep - eps;
                double down = Ts2VecLoss.HierarchicalNaive(z1, z2, b, t, c);
                z[i] = keep;
                double numeric = (up - down) / (2 * eps), analytic = tensor.Grad![i];
                double diff = Math.Abs(numeric - analytic);
                maxDiff = Math.Max(maxDiff, diff);
                if (diff > 1e-4 + (1e-3 * Math.Abs(numeric)) && failures.Count < 5) failures.Add($"{name}[{i}]: numeric {numeric:G6}, backward {analytic:G6}");
            }
        }

        Assert.True(failures.Count == 0, $"maxdiff {maxDiff:E2}; " + string.Join("; ", failures));
        Assert.True(maxDiff > 0 || z1.Length == 0);
    }

    [Fact]
    public void MaxPool2_TakesThePairwiseMaximum_DropsAnOddLastStep()
    {
        var z = new Tensor([1, 5, 3, 2, 0, 4, 9, 9, 7, 1], [1, 5, 2]); // steps (1,5) (3,2) (0,4) (9,9) (7,1)
        var pooled = Ts2VecLoss.MaxPool2(z);
        Assert.Equal([1, 2, 2], pooled.Shape);
        Assert.Equal([3f, 5f, 9f, 9f], pooled.Data);
    }
}
