using Crucible.Diffusion.Conditioning;
using Crucible.Diffusion.Networks;
using Crucible.Diffusion.Privacy;
using Crucible.Tensors;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>
/// The per-example gradient check of both sequence DP tests (<see cref="SequenceDpTests"/>,
/// <see cref="ConditionalSequenceDpTests"/>): DP-SGD's per-example gradients of a TCN's MSE against a naive per-example
/// backward, and the clip to C.
/// </summary>
internal static class PerExampleGradientCheck
{
    /// <summary>
    /// The per-example gradients (n × p in parameter order: microbatches of one through <paramref name="adapter"/>, each
    /// under its own row of <paramref name="conditions"/> when given) of the MSE of x (n, d, w) against y at steps t, checked
    /// against the gradient of example b's loss inside a forward of the whole batch (equal when nothing mixes examples),
    /// with their norms; the parameters' gradients are zero on return.
    /// </summary>
    public static (float[] PerExample, double[] Norms) AssertEqualsNaive(ConditionalTcnDenoiserAdapter adapter, List<Tensor> parameters,
        float[] x, float[] y, int[] t, int n, int d, int w, ConditionBatch? conditions = null)
    {
        int size = d * w;
        var perExample = new MicrobatchGradients(b => Crucible.Tensors.Losses.MseLoss(
            adapter.Forward(new Tensor(x.AsSpan(b * size, size).ToArray(), [1, d, w]), t.AsSpan(b, 1), conditions?.Row(b)),
            new Tensor(y.AsSpan(b * size, size).ToArray(), [1, d, w]))).Compute(parameters, n);
        int p = parameters.Sum(q => q.Length);
        Assert.Equal(n * p, perExample.Length);
        var norms = new double[n];
        for (int b = 0; b < n; b++)
        {
            var mask = new float[n * size];
            Array.Fill(mask, 1f / size, b * size, size);
            foreach (var q in parameters) q.ZeroGrad();
            var loss = ((adapter.Forward(new Tensor(x, [n, d, w]), t, conditions) - new Tensor(y, [n, d, w])).Square() * new Tensor(mask, [n, d, w])).Sum();
            loss.Backward();
            var naive = parameters.SelectMany(q => q.Grad is { } g ? g.ToArray() : new float[q.Length]).ToArray();
            var row = perExample.AsSpan(b * p, p);
            double scale = Math.Sqrt(naive.Sum(v => (double)v * v));
            Assert.True(scale > 0);
            for (int i = 0; i < p; i++) Assert.True(Math.Abs(naive[i] - row[i]) <= 1e-5 * (1 + scale), $"example {b}, [{i}]: {naive[i]} vs {row[i]}");
            norms[b] = Math.Sqrt(row.ToArray().Sum(v => (double)v * v));
            Assert.Equal(scale, norms[b], 1e-4 * (1 + scale));
        }

        foreach (var q in parameters) q.ZeroGrad();
        return (perExample, norms);
    }

    /// <summary>Clipped to C = the median of <paramref name="norms"/>, every example's gradient is at most C, and some were clipped.</summary>
    public static void AssertClipsToTheMedianNorm(float[] perExample, double[] norms)
    {
        int n = norms.Length, p = perExample.Length / n;
        double clip = norms.Order().ElementAt(n / 2);
        for (int b = 0; b < n; b++)
        {
            double clipped = PrivacyEngine.ClipFactor(perExample.AsSpan(b * p, p), clip) * norms[b];
            Assert.True(clipped <= clip + 1e-9, $"example {b}: {clipped} > C = {clip}");
        }

        Assert.True(norms.Count(v => v > clip) >= 1); // some were clipped
    }
}
