using Crucible.Evaluation.Learned;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests.Learned;

/// <summary>
/// The discriminative and predictive trainers take each iteration's intermediate tensors from a per-step arena: every
/// loss, every final weight and the score must be the exact bits of the plain loops they replace (heap tensors, no
/// arena), written out here as they were. No tolerance: the Stocks benchmark's scores are compared byte for byte.
/// </summary>
public class LearnedTrainingBitsTests
{
    private static WindowSet Windows(int count, int length, int features, ulong seed)
    {
        var rng = new Philox(seed);
        var values = new double[count * length * features];
        for (var i = 0; i < values.Length; i++) values[i] = rng.NextDouble();
        return new WindowSet(values, count, length, features);
    }

    private static void AssertSameBits(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: {actual[i]:R}, the plain loop {expected[i]:R}");
        }
    }

    private static void AssertSameWeights(TfGruNetwork expected, TfGruNetwork actual)
    {
        foreach (var (name, p) in expected.Named)
            AssertSameBits(p.Data.Select(x => (double)x).ToArray(), actual.Named[name].Data.Select(x => (double)x).ToArray(), name);
    }

    [Fact]
    public void Discriminative_TrainsToTheBitsOfThePlainLoop()
    {
        WindowSet real = Windows(60, 9, 6, 1), synthetic = Windows(60, 9, 6, 2);
        var options = new DiscriminativeOptions { Iterations = 40, BatchSize = 16 };
        var rng = new Philox(5);
        var batches = Enumerable.Range(0, options.Iterations).Select(_ =>
            (Sampling.Permutation(48, rng)[..16], Sampling.Permutation(48, rng)[..16])).ToArray();
        int[] realTest = [.. Enumerable.Range(48, 12)], synTest = [.. Enumerable.Range(48, 12)];

        var model = new TfGruNetwork(6, 3, new Philox(9));
        var losses = new List<double>();
        var result = DiscriminativeScore.Run(real, synthetic, realTest, synTest, model, options, it => batches[it], losses);

        // the loop as it was
        var reference = new TfGruNetwork(6, 3, new Philox(9));
        var optimizer = new TfAdam(reference.Parameters(), options.LearningRate);
        var expectedLosses = new List<double>();
        foreach (var (rb, sb) in batches)
        {
            var x = Sampling.TimeMajor([(real, rb), (synthetic, sb)], 0, real.Features);
            var logits = reference.Dense(reference.States(x)[^1]);
            var target = new float[rb.Length + sb.Length];
            var weight = new float[target.Length];
            for (var i = 0; i < target.Length; i++)
            {
                target[i] = i < rb.Length ? 1f : 0f;
                weight[i] = i < rb.Length ? 1f / rb.Length : 1f / sb.Length;
            }
            var perWindow = Losses.BinaryCrossEntropyWithLogits(logits, new Tensor(target, [target.Length, 1]), Reduction.None);
            var l = (perWindow * new Tensor(weight, [weight.Length, 1])).Sum();
            optimizer.ZeroGrad();
            l.Backward();
            optimizer.Step();
            expectedLosses.Add(l.Item());
        }

        AssertSameBits(expectedLosses, losses, "loss");
        AssertSameWeights(reference, model);
        var expectedProbabilities = DiscriminativeScore.Probabilities(reference, real, realTest).Concat(DiscriminativeScore.Probabilities(reference, synthetic, synTest));
        var probabilities = DiscriminativeScore.Probabilities(model, real, realTest).Concat(DiscriminativeScore.Probabilities(model, synthetic, synTest));
        AssertSameBits(expectedProbabilities.Select(p => (double)p).ToArray(), probabilities.Select(p => (double)p).ToArray(), "probability");
        Assert.Equal(expectedLosses[^1], result.FinalLoss);
    }

    [Fact]
    public void Predictive_TrainsToTheBitsOfThePlainLoop()
    {
        WindowSet real = Windows(50, 8, 5, 3), synthetic = Windows(70, 8, 5, 4);
        var options = new PredictiveOptions { Iterations = 40, BatchSize = 16 };
        var rng = new Philox(6);
        var batches = Enumerable.Range(0, options.Iterations).Select(_ => Sampling.Permutation(70, rng)[..16]).ToArray();

        var model = new TfGruNetwork(4, 2, new Philox(8));
        var losses = new List<double>();
        var result = PredictiveScore.Run(real, synthetic, model, options, it => batches[it], losses);

        // the loop as it was
        var reference = new TfGruNetwork(4, 2, new Philox(8));
        var optimizer = new TfAdam(reference.Parameters(), options.LearningRate);
        var expectedLosses = new List<double>();
        foreach (var batch in batches)
        {
            var x = Sampling.TimeMajor([(synthetic, batch)], 0, 4, 0, 7);
            var y = Sampling.TimeMajor([(synthetic, batch)], 4, 1, 1, 7);
            var l = Losses.L1Loss(PredictiveScore.Predict(reference, x), y);
            optimizer.ZeroGrad();
            l.Backward();
            optimizer.Step();
            expectedLosses.Add(l.Item());
        }

        AssertSameBits(expectedLosses, losses, "loss");
        AssertSameWeights(reference, model);
        Assert.Equal(BitConverter.DoubleToInt64Bits(PredictiveScore.Score(reference, real)), BitConverter.DoubleToInt64Bits(result.Score));
    }
}
