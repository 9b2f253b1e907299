using Crucible.Tensors.Optim;

namespace Crucible.Tensors.Tests.Optim;

public class AdamKernelTests
{
    /// <summary>
    /// The SIMD body and the scalar tail must do the same IEEE operations: updating 0..257 elements in one call
    /// equals updating each element alone (a length-1 call takes the scalar path), bit for bit.
    /// </summary>
    [Theory]
    [InlineData(false, 0f, 0.1f)]
    [InlineData(true, 0.05f, 0.1f)]
    [InlineData(true, 0f, 0.7f)]   // w1 ≥ ½: PyTorch's other lerp branch
    public void Update_VectorBodyMatchesScalarTail_AllLengths(bool amsgrad, float l2, float w1)
    {
        var rng = new System.Random(20240601);
        for (int n = 0; n <= 257; n++)
        {
            float[] R(double scale) => [.. Enumerable.Range(0, n).Select(_ => (float)(scale * ((2 * rng.NextDouble()) - 1)))];
            var theta = R(1);
            var grad = R(2);
            var m = R(0.5);
            var v = R(1).Select(Math.Abs).ToArray();
            var vMax = amsgrad ? v.Select(x => x * 1.1f).ToArray() : [];
            var (theta1, m1, v1, vMax1) = ((float[])theta.Clone(), (float[])m.Clone(), (float[])v.Clone(), (float[])vMax.Clone());

            AdamKernel.Update(theta, grad, m, v, vMax, l2, w1, 0.999f, 0.001f, -0.01f, 0.3f, 1e-8f);
            for (int i = 0; i < n; i++)
            {
                AdamKernel.Update(
                    theta1.AsSpan(i, 1), grad.AsSpan(i, 1), m1.AsSpan(i, 1), v1.AsSpan(i, 1), amsgrad ? vMax1.AsSpan(i, 1) : [],
                    l2, w1, 0.999f, 0.001f, -0.01f, 0.3f, 1e-8f);
            }

            OptimizerTests.AssertBitwiseEqual(theta1, theta);
            OptimizerTests.AssertBitwiseEqual(m1, m);
            OptimizerTests.AssertBitwiseEqual(v1, v);
            OptimizerTests.AssertBitwiseEqual(vMax1, vMax);
        }
    }

    [Fact]
    public void Update_ThrowsForMismatchedLengths()
    {
        var a = new float[4];
        Assert.Throws<ArgumentException>(() => AdamKernel.Update(a, new float[3], new float[4], new float[4], [], 0, 0.1f, 0.9f, 0.1f, -1f, 1f, 1e-8f));
        Assert.Throws<ArgumentException>(() => AdamKernel.Update(a, new float[4], new float[4], new float[4], new float[2], 0, 0.1f, 0.9f, 0.1f, -1f, 1f, 1e-8f));
    }
}
