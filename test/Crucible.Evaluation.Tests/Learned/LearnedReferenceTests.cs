using System.Text.Json;
using Crucible.Evaluation.Learned;
using Crucible.Evaluation.Statistics;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Learned;

/// <summary>
/// The learned Stocks-protocol metrics against TestData/reference_learned.py (torch float64 transcriptions of
/// Diffusion-TS's TensorFlow-1 training loops, numpy/torch cross-correlations, scipy's Student t): the C# trainers
/// replay the reference's initial weights, splits and batches, and must reproduce every iteration's loss, the final
/// weights and the scores up to float32 rounding.
/// </summary>
public class LearnedReferenceTests
{
    private static readonly JsonElement Expected = Fixtures.Expected("expected_learned.json");

    private static WindowSet Windows(JsonElement e, string name)
    {
        var shape = e.GetProperty(name + "_shape").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var values = e.GetProperty(name).EnumerateArray().Select(x => x.GetDouble()).ToArray();
        return new WindowSet(values, shape[0], shape[1], shape[2]);
    }

    private static double[] Flat(JsonElement e) => e.ValueKind == JsonValueKind.Array
        ? e.EnumerateArray().SelectMany(Flat).ToArray()
        : [e.GetDouble()];

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static TfGruNetwork Network(JsonElement initial, int input, int hidden)
    {
        var model = new TfGruNetwork(input, hidden, new Philox(99));
        foreach (var (name, p) in model.Named)
        {
            var values = Flat(initial.GetProperty(name));
            Assert.Equal(p.Length, values.Length);
            for (var i = 0; i < values.Length; i++) p.Data[i] = (float)values[i];
        }
        return model;
    }

    private static void AssertClose(double[] expected, IReadOnlyList<double> actual, double rel, double abs, string label)
    {
        Assert.Equal(expected.Length, actual.Count);
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var err = Math.Abs(actual[i] - expected[i]);
            Assert.True(err <= (rel * Math.Abs(expected[i])) + abs, $"{label}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
            worst = Math.Max(worst, err);
        }
    }

    private static void AssertWeights(JsonElement final, TfGruNetwork model)
    {
        foreach (var (name, p) in model.Named)
            AssertClose(Flat(final.GetProperty(name)), p.Data.Select(x => (double)x).ToArray(), 1e-4, 2e-6, name);
    }

    [Fact]
    public void Discriminative_ReplaysTheReferenceTraining()
    {
        var e = Expected.GetProperty("discriminative");
        var (real, synthetic) = (Windows(e, "real"), Windows(e, "synthetic"));
        var model = Network(e.GetProperty("initial"), real.Features, real.Features / 2);
        var batches = e.GetProperty("batches").EnumerateArray().Select(b => (Ints(b[0]), Ints(b[1]))).ToArray();
        var options = new DiscriminativeOptions { Iterations = batches.Length, LearningRate = e.GetProperty("learning_rate").GetDouble() };
        var realTest = Ints(e.GetProperty("real_test"));
        var synTest = Ints(e.GetProperty("synthetic_test"));
        var losses = new List<double>();

        var result = DiscriminativeScore.Run(real, synthetic, realTest, synTest, model, options, it => batches[it], losses);

        AssertClose(Flat(e.GetProperty("losses")), losses, 1e-5, 1e-6, "loss");
        AssertWeights(e.GetProperty("final"), model);
        AssertClose(Flat(e.GetProperty("real_probabilities")),
            DiscriminativeScore.Probabilities(model, real, realTest).Select(x => (double)x).ToArray(), 0, 2e-6, "p(real)");
        AssertClose(Flat(e.GetProperty("synthetic_probabilities")),
            DiscriminativeScore.Probabilities(model, synthetic, synTest).Select(x => (double)x).ToArray(), 0, 2e-6, "p(synthetic)");
        Assert.Equal(e.GetProperty("accuracy").GetDouble(), result.Accuracy, 12);
        Assert.Equal(e.GetProperty("score").GetDouble(), result.Score, 12);
    }

    [Fact]
    public void Predictive_ReplaysTheReferenceTraining()
    {
        var e = Expected.GetProperty("predictive");
        var (real, synthetic) = (Windows(e, "real"), Windows(e, "synthetic"));
        var model = Network(e.GetProperty("initial"), real.Features - 1, real.Features / 2);
        var batches = e.GetProperty("batches").EnumerateArray().Select(Ints).ToArray();
        var options = new PredictiveOptions { Iterations = batches.Length, LearningRate = e.GetProperty("learning_rate").GetDouble() };
        var losses = new List<double>();

        var result = PredictiveScore.Run(real, synthetic, model, options, it => batches[it], losses);

        AssertClose(Flat(e.GetProperty("losses")), losses, 1e-5, 1e-6, "loss");
        AssertWeights(e.GetProperty("final"), model);
        Assert.Equal(e.GetProperty("score").GetDouble(), result.Score, 1e-6);
    }

    [Fact]
    public void Correlational_AgreesWithTorchCacf()
    {
        var e = Expected.GetProperty("correlational");
        var (real, synthetic) = (Windows(e, "real"), Windows(e, "synthetic"));
        AssertClose(Flat(e.GetProperty("real_c")), CorrelationalScore.CrossCorrelations(real), 1e-12, 1e-14, "c(real)");
        AssertClose(Flat(e.GetProperty("synthetic_c")), CorrelationalScore.CrossCorrelations(synthetic), 1e-12, 1e-14, "c(synthetic)");
        var score = e.GetProperty("score").GetDouble();
        Assert.True(Math.Abs(CorrelationalScore.Compute(real, synthetic) - score) <= 1e-12 * score);
    }

    [Fact]
    public void StudentT_AgreesWithScipy()
    {
        var e = Expected.GetProperty("student_t");
        var dfs = Ints(e.GetProperty("df"));
        void Check(string key, Func<double, double> f, double rel)
        {
            var expected = Flat(e.GetProperty(key));
            AssertClose(expected, dfs.Select(df => f(df)).ToArray(), rel, 1e-15, key);
        }

        // is 0.0249999999995); the closed forms below pin those two cases much tighter
        Check("ppf_0975", df => StudentT.InverseCdf(0.975, df), 1e-10);
        Check("ppf_0995", df => StudentT.InverseCdf(0.995, df), 1e-10);
        Check("ppf_01", df => StudentT.InverseCdf(0.1, df), 1e-10);
        Check("cdf_at_1_5", df => StudentT.Cdf(1.5, df), 1e-13);
        Check("cdf_at_minus_3", df => StudentT.Cdf(-3.0, df), 1e-12);
        foreach (var p in new[] { 0.975, 0.995, 0.1, 0.6 })
        {
            var cauchy = Math.Tan(Math.PI * (p - 0.5));                 // ν = 1
            var two = ((2 * p) - 1) / Math.Sqrt(2 * p * (1 - p));        // ν = 2
            Assert.True(Math.Abs(StudentT.InverseCdf(p, 1) - cauchy) <= 1e-13 * Math.Abs(cauchy), $"ν = 1, p = {p}");
            Assert.True(Math.Abs(StudentT.InverseCdf(p, 2) - two) <= 1e-13 * Math.Abs(two), $"ν = 2, p = {p}");
        }

        var ds = e.GetProperty("display_scores");
        var summary = StocksProtocol.Summarise(Flat(ds.GetProperty("runs")));
        Assert.Equal(ds.GetProperty("mean").GetDouble(), summary.Mean, 1e-15);
        Assert.True(Math.Abs(summary.HalfWidth - ds.GetProperty("half_width").GetDouble()) <= 1e-12 * summary.HalfWidth);
    }
}
