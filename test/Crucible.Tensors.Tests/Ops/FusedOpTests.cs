namespace Crucible.Tensors.Tests.Ops;

/// <summary>
/// The fused ops (Linear + bias + activation + residual, channels-last Conv1d, MSE) against the unfused compositions
/// they replace, and their gradients against central differences.
/// </summary>
public class FusedOpTests
{
    private static Tensor Act(Tensor z, Activation activation) => activation switch
    {
        Activation.Silu => z.Silu(),
        Activation.Relu => z.Relu(),
        Activation.Gelu => z.Gelu(),
        _ => z,
    };

    private static int[] Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();

    public static TheoryData<Activation, bool, bool> LinearCases()
    {
        var data = new TheoryData<Activation, bool, bool>();
        foreach (var act in new[] { Activation.None, Activation.Silu, Activation.Relu, Activation.Gelu })
        {
            foreach (bool bias in new[] { true, false })
            {
                foreach (bool residual in new[] { true, false }) data.Add(act, bias, residual);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(LinearCases))]
    public void Linear_MatchesTheComposition_BitForBit(Activation activation, bool withBias, bool withResidual)
    {
        // 70 rows × 40 outputs: partial GEMM tiles; 70 · 40 · 37 multiply-adds stay on one thread, 800 rows do not
        foreach (int rows in new[] { 70, 800 })
        {
            var rng = new System.Random(rows);
            Tensor New(int[] shape) => GradCheck.Random(shape, rng);
            var (x, w, b, r) = (New([rows, 37]), New([40, 37]), withBias ? New([40]) : null, withResidual ? New([rows, 40]) : null);
            var gy = New([rows, 40]).Data;

            var fused = Tensor.Linear(x, w, b, activation, r);
            fused.Backward(gy);
            var fusedGrads = new[] { x, w, b, r }.Select(t => t?.Grad).ToArray();
            foreach (var t in new[] { x, w, b, r }) t?.ZeroGrad();

            var z = Act(Tensor.Linear(x, w, b), activation);
            var composed = r is null ? z : r + z;
            composed.Backward(gy);

            Assert.Equal(Bits(composed.Data), Bits(fused.Data));
            var inputs = new[] { x, w, b, r };
            for (int i = 0; i < inputs.Length; i++)
            {
                if (inputs[i] is null) continue;
                GradCheck.Close($"{activation} rows={rows} grad {i}", inputs[i]!.Grad!, fusedGrads[i]!, 1e-6, 1e-6);
            }
        }
    }

    [Theory]
    [InlineData(Activation.Silu)]
    [InlineData(Activation.None)]
    public void Linear_GradientsMatchCentralDifferences(Activation activation)
    {
        var rng = new System.Random(3);
        Tensor[] inputs = [GradCheck.Random([3, 2, 5], rng), GradCheck.Random([4, 5], rng), GradCheck.Random([4], rng), GradCheck.Random([3, 2, 4], rng)];
        GradCheck.Check($"linear {activation}", xs => Tensor.Linear(xs[0], xs[1], xs[2], activation, xs[3]), inputs, rng);
    }

    [Fact]
    public void Linear_WithoutGradients_ComputesInPlace_AndGivesTheSameValues()
    {
        var rng = new System.Random(4);
        var (x, w, b, r) = (GradCheck.Random([9, 6], rng), GradCheck.Random([33, 6], rng), GradCheck.Random([33], rng), GradCheck.Random([9, 33], rng, requiresGrad: false));
        var tracked = Tensor.Linear(x, w, b, Activation.Silu, r);
        Tensor untracked;
        using (GradMode.NoGrad()) untracked = Tensor.Linear(x, w, b, Activation.Silu, r);
        Assert.True(tracked.RequiresGrad);
        Assert.False(untracked.RequiresGrad);
        Assert.Equal(Bits(tracked.Data), Bits(untracked.Data));
        Assert.Throws<ArgumentException>(() => Tensor.Linear(x, w, b, Activation.Silu, residual: Tensor.Zeros([9, 32])));
        Assert.Throws<ArgumentException>(() => Tensor.Linear(x, w, Tensor.Zeros([32]), Activation.Silu));
    }

    public static TheoryData<int, int, int, int, int, int> ConvCases() => new()
    {
        // k, dilation, padLeft, padRight, length, channels out
        { 1, 1, 0, 0, 7, 5 },      // pointwise: no im2col
        { 3, 1, 1, 1, 9, 4 },      // the TCN's layers: padding = dilation keeps the length
        { 3, 2, 2, 2, 9, 4 },
        { 3, 8, 8, 8, 24, 6 },     // dilation 8 reaches past both ends for every t
        { 2, 3, 3, 0, 10, 3 },     // causal
        { 3, 1, 0, 0, 6, 2 },      // valid
        { 1, 1, 2, 1, 5, 3 },      // pointwise with padding: im2col of zero rows
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv1dChannelsLast_MatchesConv1dOnTheTransposedInput(int k, int dilation, int padLeft, int padRight, int length, int cout)
    {
        foreach (var activation in new[] { Activation.None, Activation.Silu })
        {
            var rng = new System.Random((k * 100) + dilation);
            const int batch = 3, cin = 5;
            var x = GradCheck.Random([batch, length, cin], rng);
            var w = GradCheck.Random([cout, cin, k], rng);
            var b = GradCheck.Random([cout], rng);
            int lout = length + padLeft + padRight - (dilation * (k - 1));
            var r = GradCheck.Random([batch, lout, cout], rng);
            var gy = GradCheck.Random([batch, lout, cout], rng, requiresGrad: false).Data;

            var fused = Tensor.Conv1dChannelsLast(x, w, b, dilation, padLeft, padRight, activation, r);
            Assert.Equal([batch, lout, cout], fused.Shape);
            fused.Backward(gy);
            var grads = new[] { x, w, b, r }.Select(t => t.Grad!).ToArray();
            foreach (var t in new[] { x, w, b, r }) t.ZeroGrad();

            var reference = r + Act(Tensor.Conv1d(x.Transpose(1, 2), w, b, dilation, padLeft, padRight), activation).Transpose(1, 2);
            reference.Backward(gy);
            string label = $"k={k} d={dilation} pad=({padLeft},{padRight}) {activation}";
            GradCheck.Close(label + " y", reference.Data, fused.Data, 1e-5, 1e-5);
            GradCheck.Close(label + " dx", x.Grad!, grads[0], 1e-5, 1e-5);
            GradCheck.Close(label + " dW", w.Grad!, grads[1], 1e-5, 1e-5);
            GradCheck.Close(label + " db", b.Grad!, grads[2], 1e-5, 1e-5);
            GradCheck.Close(label + " dres", r.Grad!, grads[3], 0, 0);
        }
    }

    [Fact]
    public void Conv1dChannelsLast_GradientsMatchCentralDifferences()
    {
        var rng = new System.Random(8);
        Tensor[] inputs = [GradCheck.Random([2, 9, 3], rng), GradCheck.Random([4, 3, 3], rng), GradCheck.Random([4], rng), GradCheck.Random([2, 9, 4], rng)];
        GradCheck.Check("conv1d channels-last", xs => Tensor.Conv1dChannelsLast(xs[0], xs[1], xs[2], 2, 2, 2, Activation.Silu, xs[3]), inputs, rng);
    }

    [Fact]
    public void Conv1dChannelsLast_ValidatesShapes()
    {
        var x = Tensor.Zeros([2, 5, 3]);
        Assert.Throws<ArgumentException>(() => Tensor.Conv1dChannelsLast(x, Tensor.Zeros([4, 2, 3]), null, 1, 1, 1));
        Assert.Throws<ArgumentException>(() => Tensor.Conv1dChannelsLast(x, Tensor.Zeros([4, 3, 3]), null, 4, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Conv1dChannelsLast(x, Tensor.Zeros([4, 3, 3]), null, 0, 1, 1));
    }

    [Fact]
    public void MseLoss_MatchesTheComposition_BitForBit()
    {
        var rng = new System.Random(5);
        var (x, t) = (GradCheck.Random([37, 21], rng), GradCheck.Random([37, 21], rng));
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            var fused = Losses.MseLoss(x, t, reduction);
            fused.Backward();
            var (gx, gt) = (x.Grad!, t.Grad!);
            x.ZeroGrad();
            t.ZeroGrad();
            var diff = (x - t).Square();
            var composed = reduction == Reduction.Mean ? diff.Mean() : diff.Sum();
            composed.Backward();
            Assert.Equal(BitConverter.SingleToInt32Bits(composed.Item()), BitConverter.SingleToInt32Bits(fused.Item()));
            Assert.Equal(Bits(x.Grad!), Bits(gx));
            Assert.Equal(Bits(t.Grad!), Bits(gt));
            x.ZeroGrad();
            t.ZeroGrad();
        }
    }
}
