using System.Text.Json;
using Crucible.Diffusion.Regularisation;
using Crucible.Diffusion.Training;
using Crucible.Tensors;

namespace Crucible.Diffusion.Tests.Regularisation;

public class PacfTests
{
    private static IEnumerable<(double[] X, double[] Ldb, double[] Ywm, double[] Yw)> Fixture()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Regularisation", "TestData", "pacf_statsmodels.json")));
        static double[] Read(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetDouble())];
        return [.. doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => (Read(c.GetProperty("x")), Read(c.GetProperty("ldb")), Read(c.GetProperty("ywm")), Read(c.GetProperty("yw"))))];
    }

    [Fact]
    public void DoubleReferenceMatchesStatsmodels()
    {
        foreach (var (x, ldb, ywm, yw) in Fixture())
        {
            var biased = Pacf.Compute(x, 10, AutocovarianceEstimator.Biased);
            var adjusted = Pacf.Compute(x, 10, AutocovarianceEstimator.Adjusted);
            for (int k = 0; k < 10; k++)
            {
                Assert.Equal(ldb[k], biased[k], 1e-12);
                Assert.Equal(ywm[k], biased[k], 1e-12);
                Assert.Equal(yw[k], adjusted[k], 1e-10);
            }
        }
    }

    [Fact]
    public void TensorFormMatchesStatsmodels()
    {
        foreach (var (x, ldb, _, yw) in Fixture())
        {
            var t = new Tensor([.. x.Select(v => (float)v)], [1, 1, x.Length]);
            var biased = Pacf.Compute(t, 10, AutocovarianceEstimator.Biased);
            var adjusted = Pacf.Compute(t, 10, AutocovarianceEstimator.Adjusted);
            Assert.Equal([1, 1, 10], biased.Shape);
            for (int k = 0; k < 10; k++)
            {
                Assert.Equal(ldb[k], biased.Data[k], 2e-5);
                Assert.Equal(yw[k], adjusted.Data[k], 2e-4);
            }
        }
    }

    [Fact]
    public void TensorFormComputesEveryRowIndependently()
    {
        var rng = new System.Random(3);
        int n = 3, d = 2, w = 16;
        var data = new float[n * d * w];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        var pacf = Pacf.Compute(new Tensor(data, [n, d, w]), 5);
        for (int r = 0; r < n * d; r++)
        {
            var expected = Pacf.Compute([.. data.AsSpan(r * w, w).ToArray().Select(v => (double)v)], 5);
            for (int k = 0; k < 5; k++) Assert.Equal(expected[k], pacf.Data[(r * 5) + k], 1e-5);
        }
    }

    [Fact]
    public void GradientMatchesCentralDifferencesOfTheDoubleReference()
    {
        var rng = new System.Random(5);
        int n = 2, d = 2, w = 12, lags = 4;
        var data = new double[n * d * w];
        for (int i = 0; i < data.Length; i++) data[i] = rng.NextDouble() - 0.5;
        var c = new double[n * d * lags];
        for (int i = 0; i < c.Length; i++) c[i] = rng.NextDouble() - 0.5;

        // L = Σ c · PACF(x), autograd
        var x = new Tensor([.. data.Select(v => (float)v)], [n, d, w], requiresGrad: true);
        var loss = (Pacf.Compute(x, lags) * new Tensor([.. c.Select(v => (float)v)], [n, d, lags])).Sum();
        loss.Backward();

        double L(double[] values)
        {
            double s = 0;
            for (int r = 0; r < n * d; r++)
            {
                var p = Pacf.Compute(values.AsSpan(r * w, w), lags);
                for (int k = 0; k < lags; k++) s += c[(r * lags) + k] * p[k];
            }

            return s;
        }

        const double h = 1e-6;
        double worst = 0;
        for (int i = 0; i < data.Length; i++)
        {
            var plus = (double[])data.Clone();
            var minus = (double[])data.Clone();
            plus[i] += h;
            minus[i] -= h;
            double numeric = (L(plus) - L(minus)) / (2 * h);
            worst = Math.Max(worst, Math.Abs(numeric - x.Grad![i]) / Math.Max(1.0, Math.Abs(numeric)));
        }

        Assert.True(worst < 2e-3, $"max relative gradient error {worst:G3}");
    }

    [Fact]
    public void RejectsTooManyLagsAndConstantSeries()
    {
        Assert.Throws<ArgumentException>(() => Pacf.Compute(new double[5], 2));
        Assert.Throws<ArgumentException>(() => Pacf.Compute([1.0, 2.0, 3.0], 3));
        Assert.Throws<ArgumentException>(() => Pacf.Compute(new Tensor(new float[8], [1, 1, 8]), 8));
    }

    [Fact]
    public void MeanOverWindowsAveragesPerSeriesAndSkipsConstantWindows()
    {
        var rng = new System.Random(9);
        int count = 3, d = 2, w = 10, lags = 3;
        var data = new float[count * d * w];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        data.AsSpan(((2 * d) + 1) * w, w).Fill(0.5f); // window 2, series 1 is constant
        var mean = Pacf.MeanOverWindows(data, count, d, w, lags);
        double[] P(int win, int s) => Pacf.Compute([.. data.AsSpan(((win * d) + s) * w, w).ToArray().Select(v => (double)v)], lags);
        for (int k = 0; k < lags; k++)
        {
            Assert.Equal((P(0, 0)[k] + P(1, 0)[k] + P(2, 0)[k]) / 3, mean[k], 1e-12);
            Assert.Equal((P(0, 1)[k] + P(1, 1)[k]) / 2, mean[lags + k], 1e-12);
        }
    }

    [Fact]
    public void MeanOverWindows_OfWindowsCutWhenRead_IsTheMeanOverTheWindowsHeldWhole()
    {
        const int steps = 80, d = 3, w = 12, lags = 4, count = steps - w + 1;
        var series = Training.SeriesWindowsTests.Series(steps, d, seed: 13);
        for (int t = 20; t < 32; t++) series[(t * d) + 2] = 0.25f;     // series 2 constant on days 20..31: window 20 skipped
        var whole = Training.SeriesWindowsTests.NaiveWindows(series, d, w);
        var expected = Pacf.MeanOverWindows(whole, count, d, w, lags);
        Assert.Equal(expected, Pacf.MeanOverWindows(new SeriesWindows(series, d, w), d, w, lags));
        Assert.Equal(expected, Pacf.MeanOverWindows(new ArrayTrainingData(whole, count, d * w), d, w, lags));
        Assert.Equal(PacfPenalty.FromWindows(whole, count, d, w, lags).Target,
            PacfPenalty.FromWindows(new SeriesWindows(series, d, w), d, w, lags).Target);
    }

    [Fact]
    public void PenaltyIsTheSquaredGapOfTheWeightedBatchPacf()
    {
        var rng = new System.Random(11);
        int b = 4, d = 2, w = 12, lags = 3;
        var data = new float[b * d * w];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        double[] target = [0.1, -0.2, 0.05, 0.3, 0.0, -0.1];
        double[] weights = [1, 0, 2, 1];
        var penalty = new PacfPenalty(target, d, lags, epsilon: 0).Evaluate(new Tensor(data, [b, d, w]), weights);

        double expected = 0;
        for (int s = 0; s < d; s++)
        {
            for (int k = 0; k < lags; k++)
            {
                double batch = 0;
                for (int i = 0; i < b; i++) batch += weights[i] / 4 * Pacf.Compute([.. data.AsSpan(((i * d) + s) * w, w).ToArray().Select(v => (double)v)], lags)[k];
                expected += (batch - target[(s * lags) + k]) * (batch - target[(s * lags) + k]);
            }
        }

        Assert.Equal(expected / (d * lags), penalty.Item(), 1e-6);
        Assert.Throws<ArgumentException>(() => new PacfPenalty(target, d, lags).Evaluate(new Tensor(data, [b, d, w]), [0, 0, 0, 0]));
    }

    [Fact]
    public void PenaltyOfTheTrainingWindowsAgainstTheirOwnMeanIsZero()
    {
        var rng = new System.Random(13);
        int b = 5, d = 3, w = 16;
        var data = new float[b * d * w];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        var penalty = PacfPenalty.FromWindows(data, b, d, w, 5, epsilon: 0).Evaluate(new Tensor(data, [b, d, w]), [1, 1, 1, 1, 1]);
        Assert.True(penalty.Item() < 1e-10, $"penalty {penalty.Item()}");
    }
}
