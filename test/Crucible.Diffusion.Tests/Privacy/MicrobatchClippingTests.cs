using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>
/// The streamed microbatch clipping (each example clipped and added as its backward finishes) against its naive oracle,
/// <see cref="PrivacyEngine.ClipAndSum"/> of the count × P per-example gradients of <see cref="MicrobatchGradients"/>:
/// equal bit for bit, on batches of 0, 1, 2 and 7 examples, with and without reused buffers and an arena.
/// </summary>
public class MicrobatchClippingTests
{
    private const int N = 7, D = 2, W = 6, K = 3, Size = D * W;

    // the conditional TCN's per-example losses (example 1 has no condition feature present), its parameters and a
    // parameter no loss reaches (its gradient stays null: zeros in the naive rows)
    private static (List<Tensor> Parameters, Func<int, Tensor> Loss) Model()
    {
        var net = new ConditionalTcnDenoiser(new ConditionalTcnDenoiserConfig(D, W, K, 8, 2, 2, 1, 8), new Philox(3));
        var adapter = new ConditionalTcnDenoiserAdapter(net, 50);
        var rng = new Philox(11);
        var x = new float[N * Size];
        var y = new float[N * Size];
        var c = new float[N * K];
        rng.FillNormal(x);
        rng.FillNormal(y);
        rng.FillNormal(c);
        bool[] present = [true, true, true, false, false, false, false, true, false, true, false, true, true, true, true, true, false, true, true, true, true];
        var conditions = new ConditionBatch(c, present, N, K);
        int[] t = [3, 17, 42, 0, 29, 49, 8];
        var parameters = net.Parameters().Append(Tensor.Zeros([5], requiresGrad: true)).ToList();
        return (parameters, b => Crucible.Tensors.Losses.MseLoss(
            adapter.Forward(new Tensor(x.AsSpan(b * Size, Size).ToArray(), [1, D, W]), t.AsSpan(b, 1), conditions.Row(b)),
            new Tensor(y.AsSpan(b * Size, Size).ToArray(), [1, D, W])));
    }

    private static long[] Bits(double[] values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void ClippedSum_IsClipAndSumOfTheMicrobatchGradients_BitForBit(int count)
    {
        var (parameters, loss) = Model();
        int p = parameters.Sum(q => q.Length);

        // C: the median of the 7 examples' norms, so that some are clipped and some are not
        var all = new MicrobatchGradients(loss).Compute(parameters, N);
        var norms = Enumerable.Range(0, N).Select(b => Math.Sqrt(all.AsSpan(b * p, p).ToArray().Sum(v => (double)v * v))).ToArray();
        double clip = norms.Order().ElementAt(N / 2);
        Assert.Contains(norms, v => v > clip * 1.01);

        var naive = PrivacyEngine.ClipAndSum(new MicrobatchGradients(loss).Compute(parameters, count), count, p, clip);
        var streamed = new MicrobatchClipping(loss).ClippedSum(parameters, count, clip);
        Assert.Equal(Bits(naive), Bits(streamed));
        Assert.All(parameters, q => Assert.Null(q.Grad));

        // the trainer's way: gradient buffers kept, one sum buffer (holding the last call's values) and one arena, twice
        var buffer = new double[p];
        Array.Fill(buffer, 3.5);
        var arena = new TensorArena();
        var reused = new MicrobatchClipping(loss) { KeepGradientBuffers = true, Sum = buffer, Arena = arena };
        for (int call = 0; call < 2; call++)
        {
            Assert.Same(buffer, reused.ClippedSum(parameters, count, clip));
            Assert.Equal(Bits(naive), Bits(buffer));
            Assert.All(parameters, q => Assert.True(q.Grad is null || !q.Grad.AsSpan().ContainsAnyExcept(0f)));
        }

        Assert.Null(TensorArena.Current);
    }

    [Fact]
    public void ClippedSum_OfANaNGradient_IsTheNaiveNaNs_EvenWhereTheLossDidNotReach()
    {
        // example 1's input is NaN: its norm and factor are NaN, and factor · 0 is NaN in the unreached parameter's rows too
        var w = new Tensor([0.5f, -1f, 2f], [3], requiresGrad: true);
        var unused = Tensor.Zeros([2], requiresGrad: true);
        float[][] x = [[1f, 2f, 3f], [float.NaN, 1f, 1f], [0.1f, 0.2f, -0.3f]];
        Tensor Loss(int b) => (w * new Tensor(x[b], [3])).Square().Sum();
        List<Tensor> parameters = [w, unused];
        var naive = PrivacyEngine.ClipAndSum(new MicrobatchGradients(Loss).Compute(parameters, 3), 3, 5, 1.0);
        Assert.All(naive, v => Assert.True(double.IsNaN(v)));
        Assert.Equal(Bits(naive), Bits(new MicrobatchClipping(Loss).ClippedSum(parameters, 3, 1.0)));
    }

    [Fact]
    public void ClippedSum_RefusesANonScalarLoss_AndASumBufferOfAnotherLength()
    {
        var w = new Tensor([0.5f, -1f], [2], requiresGrad: true);
        Assert.Throws<InvalidOperationException>(() => new MicrobatchClipping(_ => w * 2f).ClippedSum([w], 1, 1.0));
        Assert.Throws<ArgumentException>(() => new MicrobatchClipping(_ => (w * 2f).Sum()) { Sum = new double[3] }.ClippedSum([w], 1, 1.0));
    }
}
