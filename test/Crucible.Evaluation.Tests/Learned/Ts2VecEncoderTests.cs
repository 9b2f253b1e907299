using Crucible.Evaluation.Learned;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Learned;

/// <summary>The TS2Vec encoder's shape, size and the tap skipping its long dilations rely on.</summary>
public class Ts2VecEncoderTests
{
    [Fact]
    public void Encoder_HasTs2VecsParameterCount_AndShapes()
    {
        // TS2Vec's TSEncoder(input_dims=6, output_dims=320, hidden_dims=64, depth=10) has 637,568 parameters
        // (sum(p.numel()) of bench/stocks/context_fid_torch.py's Encoder(6), which follows the same definition)
        var encoder = new Ts2VecEncoder(6, new Philox(1));
        Assert.Equal(637_568, encoder.ParameterCount());
        var x = new Tensor(new float[2 * 24 * 6], [2, 24, 6]);
        Assert.Equal([2, 24, 320], encoder.Forward(x, null, null).Shape);
        Assert.Equal([2, 320], encoder.EncodeFullSeries(x).Shape);
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(5, 16)]
    public void Conv1d_DilationAtLeastTheLength_EqualsItsCentreTap_ForwardAndBackward(int length, int dilation)
    {
        // the identity Ts2VecEncoder uses to skip the outer taps: with padding = dilation ≥ L they read only zeros
        var rng = new Philox(3);
        Tensor Rand(int[] shape)
        {
            var v = new float[Tensor.Numel(shape)];
            rng.FillNormal(v);
            return new Tensor(v, shape, requiresGrad: true);
        }

        var x = Rand([2, 3, length]);
        var w = Rand([4, 3, 3]);
        var b = Rand([4]);
        var full = Tensor.Conv1d(x, w, b, dilation, dilation, dilation);
        var gy = Rand([2, 4, length]).Detach();
        (full * gy).Sum().Backward();
        float[] gxFull = (float[])x.Grad!.Clone(), gwFull = (float[])w.Grad!.Clone();
        x.Grad = null;
        w.Grad = null;
        b.Grad = null;
        var centre = Tensor.Conv1d(x, w.Slice(2, 1, 1), b, 1, 0, 0);
        (centre * gy).Sum().Backward();
        for (int i = 0; i < full.Length; i++) Assert.Equal(full.Data[i], centre.Data[i], 5);
        for (int i = 0; i < gxFull.Length; i++) Assert.Equal(gxFull[i], x.Grad![i], 5);
        for (int i = 0; i < gwFull.Length; i++) Assert.Equal(gwFull[i], w.Grad![i], 5);
    }
}
