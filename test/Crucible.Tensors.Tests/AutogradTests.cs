namespace Crucible.Tensors.Tests;

public class AutogradTests
{
    public sealed record Case(string Name, Func<Tensor[], Tensor> F, int[][] Shapes, float AwayFromZero = 0f, bool Positive = false, Func<float, float>? Map = null)
    {
        public override string ToString() => Name;
    }

    private static Tensor Bias(int n) => new(Enumerable.Range(0, n).Select(i => 0.1f * (i - 2)).ToArray(), [n]);

    public static TheoryData<Case> Cases() =>
    [
        // broadcasting arithmetic: equal shapes, trailing vector, leading broadcast, scalar, middle broadcast
        new("add", x => x[0] + x[1], [[3, 17], [3, 17]]),
        new("add_bias", x => x[0] + x[1], [[4, 5], [5]]),
        new("add_middle", x => x[0] + x[1], [[2, 3, 4], [2, 1, 4]]),
        new("sub_lead", x => x[0] - x[1], [[1, 6], [3, 6]]),
        new("sub_scalar", x => x[0] - x[1], [[3, 5], []]),
        new("mul", x => x[0] * x[1], [[2, 33], [2, 33]]),
        new("mul_col", x => x[0] * x[1], [[4, 3], [4, 1]]),
        new("mul_outer", x => x[0] * x[1], [[4, 1], [1, 5]]),
        new("div", x => x[0] / x[1], [[3, 9], [3, 9]], AwayFromZero: 0.5f),
        new("div_bcast", x => x[0] / x[1], [[2, 3, 4], [3, 1]], AwayFromZero: 0.5f),
        new("scalar_ops", x => ((x[0] * 2.5f) + 1f) / 3f - x[0], [[2, 5]]),
        // unary
        new("silu", x => x[0].Silu(), [[3, 19]]),
        new("gelu", x => x[0].Gelu(), [[3, 19]]),
        new("relu", x => x[0].Relu(), [[3, 19]], AwayFromZero: 0.05f),
        new("leaky_relu", x => x[0].LeakyRelu(0.2f), [[3, 19]], AwayFromZero: 0.05f),
        new("tanh", x => x[0].Tanh(), [[3, 19]]),
        new("sigmoid", x => x[0].Sigmoid(), [[3, 19]]),
        new("softplus", x => x[0].Softplus(), [[3, 19]]),
        new("exp", x => x[0].Exp(), [[3, 7]]),
        new("log", x => x[0].Log(), [[3, 7]], Positive: true),
        new("sqrt", x => x[0].Sqrt(), [[3, 7]], Positive: true),
        new("abs", x => x[0].Abs(), [[3, 7]], AwayFromZero: 0.05f),
        new("pow3", x => x[0].Pow(3f), [[3, 7]]),
        new("pow_frac", x => x[0].Pow(1.5f), [[3, 7]], Positive: true),
        new("clamp", x => x[0].Clamp(-0.5f, 0.7f), [[4, 9]], Map: v => Math.Abs(v + 0.5f) < 0.05f || Math.Abs(v - 0.7f) < 0.05f ? v + 0.12f : v),
        // reductions
        new("sum_all", x => x[0].Sum(), [[3, 4]]),
        new("mean_all", x => x[0].Mean(), [[3, 4]]),
        new("sum_axis0", x => x[0].Sum(0), [[3, 4, 2]]),
        new("sum_axis1_keep", x => x[0].Sum(1, keepDim: true), [[3, 4, 2]]),
        new("mean_axes", x => x[0].Mean([0, 2]), [[3, 4, 2]]),
        new("var_axis", x => x[0].Var(1), [[3, 6]]),
        new("max_axis", x => x[0].Max(1), [[3, 6]]),
        // shape ops
        new("reshape", x => x[0].Reshape(6, -1) * x[1], [[2, 3, 4], [6, 4]]),
        new("permute", x => x[0].Permute(2, 0, 1), [[2, 3, 4]]),
        new("transpose", x => x[0].Transpose(0, 1), [[3, 5]]),
        new("slice", x => x[0].Slice(1, 1, 2), [[2, 4, 3]]),
        new("split", x => x[0].Split(1, 1, 3)[1] * 2f, [[2, 4, 3]]),
        new("concat", x => Tensor.Concat([x[0], x[1]], 1), [[2, 3, 2], [2, 1, 2]]),
        new("stack", x => Tensor.Stack([x[0], x[1]], 0), [[3, 2], [3, 2]]),
        new("index_select", x => x[0].IndexSelect([2, 0, 2, 1]), [[3, 5]]),
        new("gather", x => x[0].Gather([1, 0, 2, 2, 3, 0], [2, 3]), [[2, 4]]),
        // linear algebra
        new("matmul", x => x[0].Matmul(x[1]), [[3, 4], [4, 5]]),
        new("matmul_batched", x => x[0].Matmul(x[1]), [[2, 3, 4], [2, 4, 5]]),
        new("matmul_bcast", x => x[0].Matmul(x[1]), [[2, 3, 4], [4, 5]]),
        new("matmul_bcast_left", x => x[0].Matmul(x[1]), [[3, 4], [2, 4, 5]]),
        new("linear", x => Tensor.Linear(x[0], x[1], x[2]), [[2, 3, 4], [5, 4], [5]]),
        new("linear_nobias", x => Tensor.Linear(x[0], x[1], null), [[3, 4], [5, 4]]),
        new("conv1d_same", x => Tensor.Conv1d(x[0], x[1], x[2], 1, Conv1dPadding.Same), [[2, 3, 7], [4, 3, 3], [4]]),
        new("conv1d_dil_causal", x => Tensor.Conv1d(x[0], x[1], x[2], 2, Conv1dPadding.Causal), [[2, 3, 9], [2, 3, 3], [2]]),
        new("conv1d_valid", x => Tensor.Conv1d(x[0], x[1], null, 1, Conv1dPadding.Valid), [[1, 2, 6], [3, 2, 2]]),
        new("conv1d_k1", x => Tensor.Conv1d(x[0], x[1], x[2], 1, 0, 0), [[2, 5, 4], [3, 5, 1], [3]]),
        // normalisation and losses
        new("softmax", x => x[0].Softmax(), [[3, 6]]),
        new("softmax_axis0", x => x[0].Softmax(0), [[4, 3]]),
        new("log_softmax", x => x[0].LogSoftmax(), [[3, 6]]),
        new("log_softmax_mid", x => x[0].LogSoftmax(1), [[2, 4, 3]]),
        new("layer_norm", x => Tensor.LayerNorm(x[0], 6, x[1], x[2]), [[3, 6], [6], [6]]),
        new("layer_norm_noaffine", x => Tensor.LayerNorm(x[0], 5, null, null), [[2, 2, 5]]),
        new("group_norm", x => Tensor.GroupNorm(x[0], 2, x[1], x[2]), [[2, 4, 3], [4], [4]]),
        new("mse", x => Losses.MseLoss(x[0], x[1]), [[3, 5], [3, 5]]),
        new("l1", x => Losses.L1Loss(x[0], x[1], Reduction.Sum), [[3, 5], [3, 5]]),
        new("huber", x => Losses.HuberLoss(x[0], x[1], 0.5f), [[3, 5], [3, 5]]),
        new("bce_logits", x => Losses.BinaryCrossEntropyWithLogits(x[0], x[1].Sigmoid()), [[3, 5], [3, 5]]),
        // a composite graph that reuses a node (gradients must accumulate)
        new("reuse", x => (x[0] * x[0]) + x[0].Tanh() * x[0], [[2, 5]]),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesCentralDifference(Case c)
    {
        var rng = new System.Random(1234);
        var inputs = c.Shapes.Select(s =>
        {
            var t = GradCheck.Random(s, rng, awayFromZero: c.AwayFromZero);
            if (c.Positive) for (int i = 0; i < t.Length; i++) t.Data[i] = Math.Abs(t.Data[i]) + 0.5f;
            if (c.Map is not null) for (int i = 0; i < t.Length; i++) t.Data[i] = c.Map(t.Data[i]);
            return t;
        }).ToArray();
        GradCheck.Check(c.Name, c.F, inputs, rng);
    }

    [Fact]
    public void Gradients_Accumulate_AcrossBackwardCalls()
    {
        var x = new Tensor([1f, 2f, 3f], [3], requiresGrad: true);
        (x * x).Sum().Backward();
        (x * x).Sum().Backward();
        Assert.Equal([4f, 8f, 12f], x.Grad!);
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Backward_ThroughAGraphAnEarlierBackwardFreed_IsRefused_NotSilentlyStopped()
    {
        // a second Backward() on the same root, or one through a non-leaf another Backward() had freed, reached no leaf
        // and gave no gradient without a word (PyTorch: "Trying to backward through the graph a second time")
        var x = new Tensor([1f, 2f, 3f], [3], requiresGrad: true);
        var loss = (x * x).Sum();
        loss.Backward();
        Assert.Throws<InvalidOperationException>(loss.Backward);
        Assert.Equal([2f, 4f, 6f], x.Grad!); // untouched by the refused call

        var y = x * x;                        // shared by two losses
        y.Sum().Backward();
        var e = Assert.Throws<InvalidOperationException>(() => (y * 2f).Sum().Backward());
        Assert.Contains("already used and freed", e.Message, StringComparison.Ordinal);
        Assert.Equal([4f, 8f, 12f], x.Grad!); // nothing added by the refused call
    }

    [Fact]
    public void ZeroGrad_InPlace_KeepsTheBufferZeroed_AndTheNextBackwardAccumulatesIntoIt()
    {
        var x = new Tensor([1f, 2f, 3f], [3], requiresGrad: true);
        x.ZeroGrad(setToNone: false);
        Assert.Null(x.Grad); // no buffer yet: none is made
        (x * x).Sum().Backward();
        var buffer = x.Grad!;
        x.ZeroGrad(setToNone: false);
        Assert.Same(buffer, x.Grad);
        Assert.Equal([0f, 0f, 0f], buffer);
        (x * 3f).Sum().Backward();
        Assert.Same(buffer, x.Grad);
        Assert.Equal([3f, 3f, 3f], buffer);
        x.ZeroGrad(setToNone: true);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void NoGrad_RecordsNothing_AndFlowsIntoParallelWork()
    {
        var x = new Tensor([1f, 2f], [2], requiresGrad: true);
        using (GradMode.NoGrad())
        {
            Assert.False((x * x).RequiresGrad);
            var inner = new bool[4];
            Parallel.For(0, 4, i => inner[i] = GradMode.IsEnabled);
            Assert.All(inner, Assert.False);
        }

        Assert.True((x * x).RequiresGrad);
    }

    [Fact]
    public void Backward_OnDeepChain_DoesNotOverflowTheStack()
    {
        var x = new Tensor([1f], [1], requiresGrad: true);
        var y = x;
        for (int i = 0; i < 100_000; i++) y = y * 1f;
        y.Sum().Backward();
        Assert.Equal(1f, x.Grad![0]);
    }

    [Fact]
    public void Reshape_IsAView()
    {
        var x = Tensor.Arange(6);
        var v = x.Reshape(2, 3);
        v.Data[4] = 42f;
        Assert.Equal(42f, x.Data[4]);
        Assert.Equal(42f, v[1, 1]);
    }

    [Fact]
    public void BroadcastingMismatch_Throws_WithBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros([2, 3]) + Tensor.Zeros([4]));
        Assert.Contains("(2, 3)", e.Message, StringComparison.Ordinal);
        Assert.Contains("(4)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Matmul_AndLinear_OverAnEmptyInnerDimension_AreZerosAndTheBias()
    {
        // (2, 0) @ (0, 3) is the empty sum: zeros, as in PyTorch (the GEMM refused the leading dimension 0)
        var a = new Tensor([], [2, 0], requiresGrad: true);
        var b = new Tensor([], [0, 3], requiresGrad: true);
        var y = a.Matmul(Tensor.Full([0, 3], 1f).Add(b));
        Assert.Equal([2, 3], y.Shape);
        Assert.All(y.Data, v => Assert.Equal(0f, v));
        y.Sum().Backward();

        var x = new Tensor([], [4, 0], requiresGrad: true);
        var w = new Tensor([], [3, 0], requiresGrad: true);
        var bias = new Tensor([1f, 2f, 3f], [3], requiresGrad: true);
        var z = Tensor.Linear(x, w, bias);
        Assert.Equal([1f, 2f, 3f, 1f, 2f, 3f, 1f, 2f, 3f, 1f, 2f, 3f], z.Data);
        z.Sum().Backward();
        Assert.Equal([4f, 4f, 4f], bias.Grad!);
    }

    [Theory]
    [InlineData(0, 4, 3)]
    [InlineData(2, 4, 0)]
    public void GroupNorm_OfAnEmptyInput_IsEmpty(int batch, int channels, int length)
    {
        // an empty batch (or length) divided by zero when working out the groups
        var x = new Tensor([], [batch, channels, length], requiresGrad: true);
        var w = Tensor.Ones([channels], requiresGrad: true);
        var b = Tensor.Zeros([channels], requiresGrad: true);
        var y = Tensor.GroupNorm(x, 2, w, b);
        Assert.Equal([batch, channels, length], y.Shape);
        y.Sum().Backward();
        Assert.All(w.Grad ?? new float[channels], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void LayerNorm_AndGroupNorm_RefuseAffineParametersOfTheWrongLength()
    {
        // a short γ or β read past its end (IndexOutOfRangeException), a long one was silently cut
        var x = new Tensor(new float[24], [2, 4, 3]);
        Assert.Throws<ArgumentException>(() => Tensor.LayerNorm(x, 3, Tensor.Ones([2]), null));
        Assert.Throws<ArgumentException>(() => Tensor.LayerNorm(x, 3, null, Tensor.Ones([4])));
        Assert.Throws<ArgumentException>(() => Tensor.GroupNorm(x, 2, Tensor.Ones([2]), null));
        Assert.Throws<ArgumentException>(() => Tensor.GroupNorm(x, 2, null, Tensor.Ones([5])));
        Assert.Equal([2, 4, 3], Tensor.LayerNorm(x, 3, Tensor.Ones([3]), Tensor.Zeros([3])).Shape);
        Assert.Equal([2, 4, 3], Tensor.GroupNorm(x, 2, Tensor.Ones([4]), Tensor.Zeros([4])).Shape);
    }

    [Fact]
    public void Slice_PastTheEndByAnOverflowingLength_Throws()
    {
        // start + length wrapped to a negative int and passed the bounds check (then OutOfMemoryException)
        var x = Tensor.Arange(4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => x.Slice(0, 1, int.MaxValue));
        Assert.Contains("2147483648", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Slice(0, 5, 0));
        Assert.Equal([3f], x.Slice(0, 3, 1).Data);
        Assert.Empty(x.Slice(0, 4, 0).Data);
    }

    [Fact]
    public void Gather_ChecksTheIndexAgainstItsShape()
    {
        // an index shorter than its shape read past its end (IndexOutOfRangeException); a row-less x with m > 0 built
        // a tensor over an empty buffer; both are now argument errors
        var x = new Tensor([1f, 2f, 3f, 4f, 5f, 6f], [2, 3]);
        Assert.Throws<ArgumentException>(() => x.Gather([0, 1], [2, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Tensor([], [2, 0]).Gather([0, 0], [2, 1]));
        Assert.Equal([3f, 1f, 5f, 5f], x.Gather([2, 0, 1, 1], [2, 2]).Data);
    }

    [Fact]
    public void Pow_WithExponentZero_HasAZeroGradientAtZero()
    {
        // p·x^(p−1) is 0 · 0^−1 = NaN at x = 0; PyTorch special-cases p = 0 to a zero gradient
        var x = new Tensor([0f, -2f, 3f], [3], requiresGrad: true);
        var y = x.Pow(0f);
        Assert.Equal([1f, 1f, 1f], y.Data);
        y.Sum().Backward();
        Assert.All(x.Grad!, v => Assert.Equal(0f, Math.Abs(v)));
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_OfAConfidentLogit_KeepsItsSmallLoss()
    {
        // log(1 + e^−|x|) in float rounds 1 + e^−20 to 1: the loss of a confident, right logit was 0, not ≈ e^−20
        // (torch.nn.functional.binary_cross_entropy_with_logits: 2.0612e-09); expected: max(x, 0) − x·t + log1p(e^−|x|) in double
        float[] x = [20f, -20f, 30f, 2f, -3f];
        float[] t = [1f, 0f, 1f, 0.25f, 1f];
        double[] expected = [2.061153620314381e-09, 2.061153620314381e-09, 9.357622968839737e-14, 1.6269280110429725, 3.048587351573742];
        var loss = Losses.BinaryCrossEntropyWithLogits(new Tensor(x, [5]), new Tensor(t, [5]), Reduction.None).Data;
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(loss[i] - expected[i]) <= 2e-7 * expected[i], $"x = {x[i]}, t = {t[i]}: loss {loss[i]:R}, expected {expected[i]:R}");
    }
}
