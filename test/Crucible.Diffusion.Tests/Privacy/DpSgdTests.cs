using System.Diagnostics;
using Crucible.Data;
using Crucible.Diffusion.Privacy;
using Crucible.Diffusion.Tabular;
using Crucible.Tensors;
using Crucible.Tensors.Nn;
using Crucible.Tensors.Optim;
using Crucible.Tensors.Random;
using Xunit.Abstractions;

namespace Crucible.Diffusion.Tests.Privacy;

/// <summary>The DP-SGD optimiser checks of RELIABILITY.md §2.5 (DP-5, DP-6, DP-9) and per-sample gradients.</summary>
public class DpSgdTests(ITestOutputHelper output)
{
    private const int In = 4, Hidden = 8, Out = 3;

    private static Sequential Mlp(ulong seed, int inF = In, int hidden = Hidden, int outF = Out)
    {
        var rng = new Philox(seed);
        return new Sequential(new PerSampleLinear(inF, hidden, rng), new Tanh(), new PerSampleLinear(hidden, outF, rng));
    }

    private static (Tensor X, Tensor Y) Data(int n, ulong seed, int inF = In, int outF = Out, int steps = 0)
    {
        var rng = new Philox(seed);
        int[] xs = steps == 0 ? [n, inF] : [n, steps, inF];
        int[] ys = steps == 0 ? [n, outF] : [n, steps, outF];
        var x = Tensor.Zeros(xs);
        var y = Tensor.Zeros(ys);
        rng.FillNormal(x.Data);
        rng.FillNormal(y.Data, 0, 3);
        return (x, y);
    }

    private static Tensor Rows(Tensor t, int from, int count)
    {
        var per = t.Length / t.Shape[0];
        return Tensor.FromArray(t.Data.AsSpan(from * per, count * per), [count, .. t.Shape[1..]]);
    }

    // ℓ_b = Σ (f(x_b) − y_b)²; the batch loss is the sum over examples.
    private static Tensor LossSum(Sequential model, Tensor x, Tensor y) => (model.Forward(x) - y).Square().Sum();

    private static float[] Flatten(IEnumerable<Tensor> parameters) => parameters.SelectMany(p => p.Grad ?? new float[p.Length]).ToArray();

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string label)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var tol = atol + rtol * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{label}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void PerSampleGradients_VectorisedEqualsMicrobatchOfOne(int timeSteps)
    {
        var model = Mlp(7);
        var (x, y) = Data(9, 8, steps: timeSteps);
        var parameters = model.Parameters().ToList();
        var vectorised = new LinearLayerGradients(() => LossSum(model, x, y)).Compute(parameters, 9);
        var loop = new MicrobatchGradients(b => LossSum(model, Rows(x, b, 1), Rows(y, b, 1))).Compute(parameters, 9);
        AssertClose(loop, vectorised, 1e-5, 1e-4, "per-sample grad");
        Assert.All(parameters, p => Assert.Null(p.Grad));
        // The per-sample gradients sum to the batch gradient.
        LossSum(model, x, y).Backward();
        var batch = Flatten(parameters);
        var p = batch.Length;
        var summed = new float[p];
        for (var b = 0; b < 9; b++)
        {
            for (var i = 0; i < p; i++) summed[i] += vectorised[b * p + i];
        }

        AssertClose(batch, summed, 1e-4, 1e-4, "Σ per-sample");
    }

    // RELIABILITY DP-7
    [Fact]
    public void Vectorised_RefusesParametersWithoutARule()
    {
        var rng = new Philox(1);
        var model = new Sequential(new PerSampleLinear(In, Hidden, rng), new LayerNorm(Hidden), new PerSampleLinear(Hidden, Out, rng));
        var (x, y) = Data(4, 2);
        var gradients = new LinearLayerGradients(() => (model.Forward(x) - y).Square().Sum());
        Assert.Throws<NotSupportedException>(() => gradients.Compute(model.Parameters().ToList(), 4));
        // The microbatch loop handles any model.
        var loop = new MicrobatchGradients(b => (model.Forward(Rows(x, b, 1)) - Rows(y, b, 1)).Square().Sum()).Compute(model.Parameters().ToList(), 4);
        Assert.Contains(loop, v => v != 0);
    }

    [Fact]
    public void DP5_NoNoiseHugeClip_MeanOfPerSampleGradientsEqualsVanillaGradient()
    {
        var model = Mlp(3);
        var (x, y) = Data(16, 4);
        var parameters = model.Parameters().ToList();
        var perSample = new LinearLayerGradients(() => LossSum(model, x, y)).Compute(parameters, 16);
        var p = parameters.Sum(t => t.Length);
        var sum = PrivacyEngine.ClipAndSum(perSample, 16, p, maxNorm: 1e5);
        PrivacyEngine.AddNoiseAndNormalise(sum, 0, 16, new Philox(1));
        (LossSum(model, x, y) * (1f / 16)).Backward();
        var vanilla = Flatten(parameters);
        AssertClose(vanilla, sum.Select(v => (float)v).ToArray(), 1e-8, 1e-4, "DP gradient"); // RELIABILITY DP-5: atol 1e-8, rtol 1e-4
    }

    [Fact]
    public void DP5_NoNoiseNoClipping_IsPlainSgd()
    {
        var (x, y) = Data(12, 5);
        var dpModel = Mlp(11);
        var plainModel = Mlp(11);
        var dpParams = dpModel.Parameters().ToList();
        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = 1e5, NoiseMultiplier = 0, Delta = 1e-3, ExpectedBatchSize = 12, Steps = 20,
            EpsilonBudget = double.PositiveInfinity,
        }, datasetSize: 12, new Philox(9));
        var dpOpt = new Sgd(dpParams, lr: 0.05);
        var plainOpt = new Sgd(plainModel.Parameters(), lr: 0.05);
        for (var step = 0; step < 20; step++)
        {
            engine.Step(dpParams, 12, new LinearLayerGradients(() => LossSum(dpModel, x, y)));
            dpOpt.Step();
            plainOpt.ZeroGrad();
            (LossSum(plainModel, x, y) * (1f / 12)).Backward();
            plainOpt.Step();
        }

        var a = plainModel.Parameters().SelectMany(t => t.Data).ToArray();
        var b = dpParams.SelectMany(t => t.Data).ToArray();
        AssertClose(a, b, 1e-5, 1e-4, "parameters after 20 steps");
        Assert.True(double.IsPositiveInfinity(engine.Spent().Epsilon));
    }

    [Fact]
    public void DP5_BatchOfOne_ClippedNormIsC()
    {
        var model = Mlp(5);
        var (x, y) = Data(1, 6);
        var parameters = model.Parameters().ToList();
        var perSample = new LinearLayerGradients(() => LossSum(model, x, y)).Compute(parameters, 1);
        Assert.True(Norm(perSample) > 0.5, "the raw gradient must be larger than C for the check to mean anything");
        var sum = PrivacyEngine.ClipAndSum(perSample, 1, perSample.Length, 0.5);
        PrivacyEngine.AddNoiseAndNormalise(sum, 0, 1, new Philox(1));
        Assert.Equal(0.5, Math.Sqrt(sum.Sum(v => v * v)), 1e-3);
    }

    [Fact]
    public void ClippedPerSampleNorms_NeverExceedC_SmallOnesUntouched()
    {
        var model = Mlp(12);
        var (x, y) = Data(32, 13);
        var parameters = model.Parameters().ToList();
        var perSample = new LinearLayerGradients(() => LossSum(model, x, y)).Compute(parameters, 32);
        var p = perSample.Length / 32;
        var norms = Enumerable.Range(0, 32).Select(b => Norm(perSample.AsSpan(b * p, p))).ToArray();
        var c = norms.OrderBy(n => n).ElementAt(16); // half the examples are clipped
        for (var b = 0; b < 32; b++)
        {
            var row = perSample.AsSpan(b * p, p);
            var clipped = PrivacyEngine.ClipAndSum(row, 1, p, c);
            var n = Math.Sqrt(clipped.Sum(v => v * v));
            Assert.True(n <= c * (1 + 1e-6), $"example {b}: {n} > C = {c}");
            if (norms[b] < c) Assert.Equal(norms[b], n, 1e-5 * norms[b]);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DP5_NoiseEnergy_MatchesSigmaCLrOverB(bool secureMode)
    {
        // Zero parameters and zero gradients: after T steps each parameter is −lr·Σ noise/B, so
        // Σ p² ≈ T · P · σ² C² lr² / B² (Opacus privacy_engine_test, ±15%); with the seeded and the secure source.
        var rng = new Philox(3);
        var model = new Sequential(new PerSampleLinear(64, 64, rng));
        var parameters = model.Parameters().ToList();
        foreach (var t in parameters) Array.Clear(t.Data);
        const int steps = 50, batch = 16;
        const double sigma = 1.3, c = 0.7, lr = 0.1;
        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = c, NoiseMultiplier = sigma, Delta = 1e-5, ExpectedBatchSize = batch, Steps = steps, EpsilonBudget = 1e9, SecureMode = secureMode,
        }, datasetSize: 10_000, new Philox(77));
        var optimizer = new Sgd(parameters, lr);
        var zeros = new ZeroGradients();
        for (var s = 0; s < steps; s++)
        {
            engine.Step(parameters, batch, zeros);
            optimizer.Step();
        }

        var p = parameters.Sum(t => t.Length);
        var energy = parameters.Sum(t => t.Data.Sum(v => (double)v * v));
        var expected = steps * p * sigma * sigma * c * c * lr * lr / (batch * batch);
        Assert.InRange(energy / expected, 0.85, 1.15);
        Assert.Equal(steps, engine.StepsTaken);
    }

    [Fact]
    public void Noise_IsSeededAndDiffersBetweenSeeds()
    {
        double[] Run(ulong seed)
        {
            var sum = new double[100];
            PrivacyEngine.AddNoiseAndNormalise(sum, 1.0, 1, new Philox(seed));
            return sum;
        }

        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void Noise_FromTheSeededStream_IsTheStreamsNormalsInOrder_AcrossChunks()
    {
        // the reproducible mode's noise is bit for bit the per-coordinate formula over Philox.NextNormal in order, across
        // AddNoiseAndNormalise's 256-draw chunks (a model trained before the chunking must train the same again)
        const int n = 1000;
        var sum = new double[n];
        var expected = new double[n];
        var init = new System.Random(9);
        for (var i = 0; i < n; i++) sum[i] = expected[i] = init.NextDouble() - 0.5;
        PrivacyEngine.AddNoiseAndNormalise(sum, 1.7, 32, new Philox(11));
        var stream = new Philox(11);
        for (var i = 0; i < n; i++) expected[i] = (expected[i] + (1.7 * stream.NextNormal())) / 32;
        Assert.Equal(expected, sum);
    }

    [Fact]
    public void DP6_PoissonSampling_MeanBatchWithin3StandardErrors()
    {
        const int n = 1000, draws = 10_000;
        const double q = 0.05;
        var sampler = new PoissonSampler(n, q, new Philox(21));
        var total = 0L;
        for (var i = 0; i < draws; i++)
        {
            var batch = sampler.Next();
            total += batch.Length;
            if (i < 5) Assert.Equal(batch.OrderBy(v => v), batch);
        }

        var mean = (double)total / draws;
        var se = Math.Sqrt(n * q * (1 - q) / draws);
        Assert.InRange(mean, n * q - 3 * se, n * q + 3 * se);
    }

    [Fact]
    public void DP6_TheClippedSum_IsDividedByTheExpectedBatchSize_NotTheRealisedOne()
    {
        // RELIABILITY DP-6 "normalise by qN": a Poisson batch of 6 under q·N = 10 (N = 100) is divided by 10, never by the
        // realised 6 (dividing by the realised size makes the step depend on it, which the accountant does not cover)
        var model = Mlp(3);
        var (x, y) = Data(6, 4);
        var parameters = model.Parameters().ToList();
        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = 1e5, NoiseMultiplier = 0, Delta = 1e-3, ExpectedBatchSize = 10, Steps = 1, EpsilonBudget = double.PositiveInfinity,
        }, datasetSize: 100, new Philox(1));
        engine.Step(parameters, 6, new LinearLayerGradients(() => LossSum(model, x, y)));
        var dp = Flatten(parameters);
        foreach (var t in parameters) t.ZeroGrad();
        (LossSum(model, x, y) * (1f / 10)).Backward();
        AssertClose(Flatten(parameters), dp, 1e-8, 1e-4, "Σ g / (q·N)");
    }

    [Fact]
    public void DP6_EmptyBatch_StillGetsNoiseAndIsAccounted()
    {
        var model = Mlp(1);
        var parameters = model.Parameters().ToList();
        var engine = PrivacyEngine.Create(new DpSgdOptions
        {
            MaxGradNorm = 1, NoiseMultiplier = 1.0, Delta = 1e-3, ExpectedBatchSize = 1, Steps = 5,
        }, datasetSize: 10, new Philox(4));
        var sampler = engine.CreateSampler(new Philox(8));
        var empties = 0;
        var noise = new ThrowingGradients();
        for (var s = 0; s < 5; s++)
        {
            var batch = sampler.Next();
            if (batch.Length != 0) continue;
            empties++;
            engine.Step(parameters, 0, noise);
            Assert.Contains(Flatten(parameters), v => v != 0);
        }

        Assert.True(empties > 0, "with q = 0.1 and N = 10 an empty batch comes up about one time in three");
        Assert.Equal(empties, engine.StepsTaken);
        Assert.True(engine.Spent().Epsilon > 0);
    }

    [Fact]
    public void DP9_BudgetGuard_RefusesTooLittleNoiseAndTooLargeDelta()
    {
        var options = new DpSgdOptions { MaxGradNorm = 1, NoiseMultiplier = 0.5, Delta = 1e-5, ExpectedBatchSize = 256, Steps = 10_000 };
        var e = Assert.Throws<InvalidInputException>(() => PrivacyEngine.Create(options, 60_000, new Philox(1)));
        Assert.Equal("DP-E-BUDGET", e.Rule);
        Assert.Contains("above the declared budget 10", e.Message, StringComparison.Ordinal);
        Assert.Equal("epsilon_budget", DpTrainingOptions.SettingOf(e)); // located at privacy.epsilon_budget, for a shell to name

        var delta = Assert.Throws<InvalidInputException>(() =>
            PrivacyEngine.Create(options with { NoiseMultiplier = 5, Delta = 1e-4 }, 10_000, new Philox(1)));
        Assert.Equal("DP-E-BUDGET", delta.Rule);
        Assert.StartsWith("privacy.delta: error [DP-E-BUDGET]: delta 0.0001 is not below 1/N", delta.ToUserMessage(), StringComparison.Ordinal);
        // a shell names the setting as its user gave it, or leaves the config key
        Assert.StartsWith("--dp-delta: error [DP-E-BUDGET]: delta", DpTrainingOptions.Relocate(delta, key => key == "delta" ? "--dp-delta" : null).ToUserMessage(), StringComparison.Ordinal);
        Assert.Same(delta, DpTrainingOptions.Relocate(delta, _ => null));

        var unreachable = Assert.Throws<InvalidInputException>(() =>
            PrivacyEngine.Create(options with { NoiseMultiplier = null, TargetEpsilon = 5, Delta = 1e-300, Steps = 2250 }, 6400, new Philox(1)));
        Assert.Equal("target_epsilon", DpTrainingOptions.SettingOf(unreachable));

        var config = Assert.Throws<InvalidInputException>(() => PrivacyEngine.Create(options with { MaxGradNorm = 0 }, 60_000, new Philox(1)));
        Assert.Equal("DP-E-CONFIG", config.Rule);
        Assert.Same(config, DpTrainingOptions.Relocate(config, _ => "--dp-max-grad-norm")); // no setting location: left as it is
    }

    // RELIABILITY DP-10
    [Fact]
    public void DP9_TargetEpsilon_CalibratesSigma_StepsStopAtThePlan_StatementIsComplete()
    {
        var options = new DpSgdOptions
        {
            MaxGradNorm = 1, TargetEpsilon = 3, Delta = 1e-5, ExpectedBatchSize = 10, Steps = 3, EpsilonBudget = 3,
        };
        var engine = PrivacyEngine.Create(options, 1000, new Philox(2));
        Assert.True(engine.Projected.Epsilon <= 3);
        var model = Mlp(2);
        var parameters = model.Parameters().ToList();
        var (x, y) = Data(10, 3);
        for (var s = 0; s < 3; s++) engine.Step(parameters, 10, new LinearLayerGradients(() => LossSum(model, x, y)));
        Assert.Throws<InvalidOperationException>(() => engine.Step(parameters, 10, new LinearLayerGradients(() => LossSum(model, x, y))));
        var statement = engine.Statement();
        Assert.Equal(engine.Projected.Epsilon, statement.Epsilon, 1e-12);
        var json = statement.ToJson();
        foreach (var key in new[] { "epsilon", "delta", "noise_multiplier", "max_grad_norm", "sample_rate", "steps", "accountant", "conversion", "sampling", "unit", "covers" })
            Assert.True(json.ContainsKey(key), key);
        Assert.Equal(0.01, (double)json["sample_rate"]!, 1e-15);
        Assert.Contains("all model checkpoints", (string)json["covers"]!, StringComparison.Ordinal);

        // Resume from the saved accountant: the history continues, and the plan counts the steps already taken.
        var resumed = PrivacyEngine.Create(options with { Steps = 3 }, 1000, new Philox(2), RdpAccountant.FromJson(engine.Accountant.ToJson()));
        Assert.Equal(3, resumed.StepsTaken);
        Assert.Equal(statement.Epsilon, resumed.Spent().Epsilon, 1e-9);
    }

    [Fact]
    public void Cost_VectorisedVersusMicrobatchLoop()
    {
        // Measured, not asserted: the figure goes to the report (the machine may be loaded).
        var model = Mlp(1, inF: 32, hidden: 128, outF: 32);
        var (x, y) = Data(256, 2, inF: 32, outF: 32);
        var parameters = model.Parameters().ToList();
        var vectorised = new LinearLayerGradients(() => LossSum(model, x, y));
        var loop = new MicrobatchGradients(b => LossSum(model, Rows(x, b, 1), Rows(y, b, 1)));
        vectorised.Compute(parameters, 256);
        loop.Compute(parameters, 256);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++) vectorised.Compute(parameters, 256);
        var tv = sw.Elapsed.TotalMilliseconds / 5;
        sw.Restart();
        for (var i = 0; i < 5; i++) loop.Compute(parameters, 256);
        var tl = sw.Elapsed.TotalMilliseconds / 5;
        output.WriteLine($"per-sample gradients, MLP 32-128-32 ({parameters.Sum(t => t.Length)} params), batch 256: vectorised {tv:F2} ms, microbatch loop {tl:F2} ms, ratio {tl / tv:F1}");
        AssertClose(loop.Compute(parameters, 256), vectorised.Compute(parameters, 256), 1e-4, 1e-3, "large batch");
    }

    private static double Norm(ReadOnlySpan<float> v)
    {
        var s = 0.0;
        foreach (var x in v) s += (double)x * x;
        return Math.Sqrt(s);
    }

    private sealed class ZeroGradients : IPerSampleGradients
    {
        public float[] Compute(IReadOnlyList<Tensor> parameters, int count) => new float[count * parameters.Sum(t => t.Length)];
    }

    private sealed class ThrowingGradients : IPerSampleGradients
    {
        public float[] Compute(IReadOnlyList<Tensor> parameters, int count) => throw new InvalidOperationException("an empty batch needs no gradients");
    }
}
