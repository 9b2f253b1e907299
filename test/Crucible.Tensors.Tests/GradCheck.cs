using System.Globalization;
using System.Text;

namespace Crucible.Tensors.Tests;

/// <summary>
/// Central-difference gradient checks (llm.c's check_tensor style failure report: max difference and the
/// first mismatching pairs). Losses are L = Σ f(x) · w for a fixed random projection w, summed in double.
/// </summary>
internal static class GradCheck
{
    public static Tensor Random(int[] shape, System.Random rng, bool requiresGrad = true, float scale = 1f, float awayFromZero = 0f)
    {
        var data = new float[Tensor.Numel(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            // Box–Muller from the test's own seeded System.Random (test data only)
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            float v = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2)) * scale;
            if (awayFromZero > 0 && Math.Abs(v) < awayFromZero) v = v < 0 ? v - awayFromZero : v + awayFromZero;
            data[i] = v;
        }

        return new Tensor(data, shape, requiresGrad);
    }

    /// <summary>Checks the analytic gradient of every input against central differences.</summary>
    public static void Check(string label, Func<Tensor[], Tensor> f, Tensor[] inputs, System.Random rng, double eps = 1e-2, double rtol = 1e-2, double atol = 1e-3)
    {
        var y = f(inputs);
        var w = Random(y.Shape, rng, requiresGrad: false);
        foreach (var x in inputs) x.ZeroGrad();
        (y * w).Sum().Backward();

        for (int n = 0; n < inputs.Length; n++)
        {
            var x = inputs[n];
            if (!x.RequiresGrad) continue;
            var analytic = x.Grad ?? new float[x.Length];
            var numeric = new double[x.Length];
            using (GradMode.NoGrad())
            {
                for (int i = 0; i < x.Length; i++)
                {
                    float old = x.Data[i];
                    x.Data[i] = (float)(old + eps);
                    double plus = Dot(f(inputs), w);
                    x.Data[i] = (float)(old - eps);
                    double minus = Dot(f(inputs), w);
                    x.Data[i] = old;
                    numeric[i] = (plus - minus) / (2 * eps);
                }
            }

            Close($"{label} d/dinput{n}", numeric, analytic, rtol, atol);
        }
    }

    private static double Dot(Tensor y, Tensor w)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) s += (double)y.Data[i] * w.Data[i];
        return s;
    }

    /// <summary>Fails with the max difference and the first five mismatching pairs.</summary>
    public static void Close(string label, ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double rtol, double atol)
    {
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = 0;
        var bad = new StringBuilder();
        int nBad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            maxDiff = Math.Max(maxDiff, d);
            if (!(d <= atol + (rtol * Math.Abs(expected[i]))))
            {
                if (nBad++ < 5) bad.Append(CultureInfo.InvariantCulture, $"  [{i}] expected {expected[i]:G9} actual {actual[i]:G9}\n");
            }
        }

        Assert.True(nBad == 0, $"{label}: {nBad} of {expected.Length} mismatched, maxdiff = {maxDiff:E3}\n{bad}");
    }

    public static void Close(string label, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol, double atol)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        Close(label, e, actual, rtol, atol);
    }
}
