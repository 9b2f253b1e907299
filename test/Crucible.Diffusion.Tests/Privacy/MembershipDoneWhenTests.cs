using System.Diagnostics;
using Crucible.Data;
using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Tabular;
using Crucible.Diffusion.Training;
using Crucible.Evaluation;
using Crucible.Evaluation.Privacy;
using Crucible.Tensors.Random;
using Xunit.Abstractions;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>
/// Issue #9's Done-when for the membership attack, with the real generator and the real attack: a diffusion model
/// deliberately overfit on a small set is caught by the DOMIAS attack (AUC ≥ 0.8), while the same network trained with
/// DP-SGD at ε ≤ 3 is not (AUC ≤ 0.6).
/// </summary>
public sealed class MembershipDoneWhenTests(ITestOutputHelper output)
{
    internal const int Dimension = 5;

    /// <summary>Rows of a 5-series return-like Gaussian (1% scale, a common factor), from Philox stream <paramref name="stream"/>.</summary>
    internal static TimeSeriesFrame Rows(int n, ulong seed)
    {
        var rng = new Philox(seed);
        var values = new double[n * Dimension];
        for (var i = 0; i < n; i++)
        {
            var common = rng.NextNormal();
            for (var j = 0; j < Dimension; j++) values[(i * Dimension) + j] = 0.01 * ((0.6 * common) + (0.8 * rng.NextNormal()));
        }

        return new TimeSeriesFrame([], [.. Enumerable.Range(0, Dimension).Select(j => "s" + j.ToString(System.Globalization.CultureInfo.InvariantCulture))], values, n);
    }

    internal static SeriesSet Set(TimeSeriesFrame frame)
    {
        var columns = new double[frame.ColumnCount][];
        for (var j = 0; j < frame.ColumnCount; j++) columns[j] = frame.Column(j).ToArray();
        return new SeriesSet([.. frame.Columns], columns);
    }

    internal static DiffusionGeneratorOptions Memorising(int steps) => new()
    {
        Hidden = 128,
        Blocks = 2,
        TimeEmbedding = 32,
        DiffusionSteps = 200,
        Objective = Objective.Epsilon,
        Training = new TrainerOptions(Steps: steps, BatchSize: 64, LearningRate: 3e-3, WarmupSteps: 50, MinLearningRate: 1e-4, EmaDecay: 0),
        Seed = 3,
    };

    // RELIABILITY PRIV-7 (the positive control: an overfit model is caught), DP-12
    [Fact]
    public void DoneWhen_OverfitGeneratorIsCaught_DpGeneratorAtEpsilon3IsNot()
    {
        // 100 rows seen 3,840 times each (6,000 steps of 64) by a 128-wide network, no EMA: it memorises
        const int trainRows = 100, holdoutRows = 2000, samples = 3000;
        var train = Rows(trainRows, 1);
        var holdout = Set(Rows(holdoutRows, 2));
        var sampler = new SamplerOptions { Kind = SamplerKind.Ddpm };
        var clock = Stopwatch.StartNew();

        var overfit = new DiffusionGenerator(Memorising(6000)).Fit(train);
        var leaky = MembershipInference.Domias(Set(overfit.Sample(samples, 5, sampler)), Set(train), holdout, seed: 1);
        var tOverfit = clock.Elapsed.TotalSeconds;

        // the same network and data with DP-SGD (fewer, smaller steps keep the test short: q = 0.32, 1,500 steps)
        var dpOptions = Memorising(1500);
        dpOptions = dpOptions with { Training = dpOptions.Training with { BatchSize = 32 } };
        var dp = new DiffusionGenerator(dpOptions.WithPrivacy(new DpTrainingOptions
        {
            TargetEpsilon = 3, Delta = 1e-3, MaxGradNorm = 1, PublicScale = 0.01, PublicBound = 5,
        })).Fit(train);
        var priv = MembershipInference.Domias(Set(dp.Sample(samples, 5, sampler)), Set(train), holdout, seed: 1);
        output.WriteLine($"overfit: AUC {leaky.Auc:F3}, TPR@10% {leaky.TprAtFpr10:F3}, TPR@1% {leaky.TprAtFpr01:F3} ({tOverfit:F1} s)");
        output.WriteLine($"DP {dp.Manifest.Privacy!.Statement}: AUC {priv.Auc:F3}, TPR@10% {priv.TprAtFpr10:F3}, TPR@1% {priv.TprAtFpr01:F3} ({clock.Elapsed.TotalSeconds - tOverfit:F1} s)");
        Assert.True(dp.Manifest.Privacy!.Epsilon <= 3);
        Assert.True(leaky.Auc >= 0.8, $"the overfit generator must be caught: AUC {leaky.Auc}");
        Assert.True(priv.Auc <= 0.6, $"the DP generator must not be: AUC {priv.Auc}");
        // DP-12: an (ε, δ)-DP model bounds any attack's TPR by e^ε·FPR + δ (0.20 at FPR 0.01, ε = 3)
        var eps = dp.Manifest.Privacy!.Epsilon;
        Assert.True(priv.TprAtFpr01 <= (Math.Exp(eps) * 0.01) + 1e-3, $"TPR@0.01 {priv.TprAtFpr01} above the DP bound");
    }
}
