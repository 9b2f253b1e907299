using Crucible.Data;
using Crucible.Stress.Generators;
using Crucible.Stress.Generators.Neural;
using Crucible.Tensors;
using Crucible.Tensors.Random;

namespace Crucible.Stress.Tests.Generators.Neural;

/// <summary>The WGAN-GP and TimeVAE baselines: shapes, gradient flow, the penalty's gradient, determinism, training.</summary>
public sealed class NeuralGeneratorTests
{
    private static TimeSeriesFrame Panel() => GeneratorTests.Panel(300, 12);

    private static readonly WganGpOptions TinyGan = new() { Window = 12, Hidden = 8, NoiseChannels = 4, Steps = 3, CriticSteps = 2, BatchSize = 8 };

    private static readonly TimeVaeOptions TinyVae = new() { Window = 12, Hidden = 8, Latent = 3, Steps = 3, BatchSize = 8 };

    [Fact]
    public void Wgan_SampleShape_AnyLength_AndDeterministicPerSeed()
    {
        var a = new WganGp(TinyGan).Fit(Panel(), 5);
        var b = new WganGp(TinyGan).Fit(Panel(), 5);
        var s = a.Sample(7, 30, 1);
        Assert.Equal((7, 30, 2), (s.Count, s.Window, s.SeriesCount));
        Assert.Equal(s.Values, b.Sample(7, 30, 1).Values);
        Assert.NotEqual(s.Values, a.Sample(7, 30, 2).Values);
        Assert.NotEqual(s.Values, new WganGp(TinyGan).Fit(Panel(), 6).Sample(7, 30, 1).Values);
        Assert.Equal((3, 1), (a.Sample(3, 1, 1).Count, a.Sample(3, 1, 1).Window));
        Assert.All(s.Values, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Vae_SampleShape_AndDeterministicPerSeed_AndRefusesLongerWindows()
    {
        var a = new TimeVae(TinyVae).Fit(Panel(), 5);
        var s = a.Sample(9, 12, 1);
        Assert.Equal((9, 12, 2), (s.Count, s.Window, s.SeriesCount));
        Assert.Equal(s.Values, new TimeVae(TinyVae).Fit(Panel(), 5).Sample(9, 12, 1).Values);
        Assert.NotEqual(s.Values, a.Sample(9, 12, 2).Values);
        Assert.Equal(5, a.Sample(4, 5, 1).Window);
        Assert.Equal("window", Assert.Throws<InvalidInputException>(() => a.Sample(2, 13, 1)).Rule);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TrainingAndSampling_AreByteIdentical_OnOneAndTwoEngineThreads(bool gan)
    {
        // the default widths (hidden 32, batch 64), a few steps: the GEMMs are large enough to split across threads
        double[] Run(int threads)
        {
            using var limit = EngineThreads.Limit(threads);
            var fitted = gan ? new WganGp(new WganGpOptions { Steps = 4 }).Fit(Panel(), 5) : new TimeVae(new TimeVaeOptions { Steps = 4 }).Fit(Panel(), 5);
            return fitted.Sample(40, 20, 2).Values;
        }

        var one = Run(1);
        Assert.All(one, v => Assert.True(double.IsFinite(v)));
        Assert.Equal(one, Run(2));
    }

    [Fact]
    public void Wgan_EveryParameterGetsAGradient()
    {
        var rng = new Philox(3);
        var generator = new TemporalConvGenerator(4, 8, 2, rng);
        var critic = new TemporalConvCritic(2, 8, rng);
        var fake = generator.Forward(WganGp.Noise(5, 4, 12, rng));
        (-critic.Forward(fake).Mean()).Backward();
        Assert.All(generator.NamedParameters(), p => Assert.True(p.Parameter.Grad!.Any(g => g != 0), p.Name));
        var real = WganGp.Noise(5, 2, 12, rng);
        critic.ZeroGrad();
        Tensor detached;
        using (GradMode.NoGrad()) detached = generator.Forward(WganGp.Noise(5, 4, 12, rng));
        var (_, surrogate) = WganGp.PenaltySurrogate(critic, real, detached, 10, 1e-2, rng);
        (critic.Forward(detached).Mean() - critic.Forward(real).Mean() + surrogate).Backward();
        Assert.All(critic.NamedParameters(), p => Assert.True(p.Parameter.Grad!.Any(g => g != 0), p.Name));
    }

    [Fact]
    public void Wgan_PenaltySurrogate_HasThePenaltysGradient()
    {
        // the surrogate's parameter gradient against central differences of λ mean(‖∇_x D(x̂)‖ − 1)² itself
        var rng = new Philox(11);
        var critic = new TemporalConvCritic(2, 4, rng);
        var real = WganGp.Noise(3, 2, 8, rng);
        var fake = WganGp.Noise(3, 2, 8, rng) * 0.5f;
        double Penalty() => WganGp.PenaltySurrogate(critic, real, fake, 10, 1e-2, new Philox(5)).Penalty;
        critic.ZeroGrad();
        var (_, surrogate) = WganGp.PenaltySurrogate(critic, real, fake, 10, 1e-2, new Philox(5));
        surrogate.Backward();
        var analytic = critic.NamedParameters().SelectMany(p => p.Parameter.Grad!.Select((g, i) => (p.Parameter, i, (double)g))).ToArray();
        critic.ZeroGrad();
        var checkedCount = 0;
        foreach (var (param, i, g) in analytic.OrderByDescending(x => Math.Abs(x.Item3)).Take(6))
        {
            var keep = param.Data[i];
            const float delta = 1e-2f;
            param.Data[i] = keep + delta;
            var up = Penalty();
            param.Data[i] = keep - delta;
            var down = Penalty();
            param.Data[i] = keep;
            var numeric = (up - down) / (2 * delta);
            Assert.True(Math.Abs(numeric - g) <= (1e-3 * Math.Abs(numeric)) + 1e-4, $"{param.Name}[{i}]: surrogate {g}, numeric {numeric}");
            checkedCount++;
        }

        Assert.Equal(6, checkedCount);
    }

    [Fact]
    public void Vae_EveryParameterGetsAGradient_AndTheKlTermIsExact()
    {
        var network = new TimeVaeNetwork(2, 12, 8, 3, 2, new Philox(1));
        var x = WganGp.Noise(6, 2, 12, new Philox(2));
        TimeVae.Loss(network, x, 3, new Philox(3)).Backward();
        Assert.All(network.NamedParameters(), p => Assert.True(p.Parameter.Grad!.Any(g => g != 0), p.Name));
        // with the reconstruction weight 0 the loss is the KL term alone: check it against its closed form in double
        network.ZeroGrad();
        var kl = TimeVae.Loss(network, x, 0, new Philox(3)).Item();
        var (mu, logVar) = network.Encode(x);
        double expected = 0;
        for (var i = 0; i < mu.Length; i++) expected += 0.5 * ((mu.Data[i] * mu.Data[i]) + Math.Exp(logVar.Data[i]) - 1 - logVar.Data[i]);
        Assert.Equal(expected / 6, kl, 1e-4 * Math.Max(1, Math.Abs(expected / 6)));
    }

    [Fact]
    public void Vae_TrainingLowersTheLoss()
    {
        var fitted = (TimeVae.Fitted)new TimeVae(TinyVae with { Steps = 150, Hidden = 16 }).Fit(Panel(), 1);
        var first = fitted.Losses.Take(20).Average();
        var last = fitted.Losses.TakeLast(20).Average();
        Assert.True(last < 0.8 * first, $"loss {first} -> {last}");
    }

    [Fact]
    public void Catalog_CreatesEveryBaselineByName()
    {
        foreach (var name in GeneratorCatalog.Names) Assert.NotNull(GeneratorCatalog.Create(name));
        Assert.Contains("wgan-gp", GeneratorCatalog.Names);
        Assert.Contains("timevae", GeneratorCatalog.Names);
        Assert.Equal("unknown-generator", Assert.Throws<InvalidInputException>(() => GeneratorCatalog.Create("nope")).Rule);
    }

    public static TheoryData<string, object> BadGanOptions => new()
    {
        { "BatchSize", TinyGan with { BatchSize = 0 } },        // trained on a loss of 0, silently
        { "BatchSize", TinyGan with { BatchSize = -1 } },       // OverflowException
        { "Steps", TinyGan with { Steps = 0 } },
        { "CriticSteps", TinyGan with { CriticSteps = 0 } },
        { "Window", TinyGan with { Window = 0 } },
        { "Hidden", TinyGan with { Hidden = 0 } },
        { "NoiseChannels", TinyGan with { NoiseChannels = -2 } },
        { "LearningRate", TinyGan with { LearningRate = double.NaN } },
        { "LearningRate", TinyGan with { LearningRate = 0 } },
        { "PenaltyWeight", TinyGan with { PenaltyWeight = -1 } },
        { "PenaltyStep", TinyGan with { PenaltyStep = 0 } },
    };

    public static TheoryData<string, object> BadVaeOptions => new()
    {
        { "BatchSize", TinyVae with { BatchSize = 0 } },
        { "BatchSize", TinyVae with { BatchSize = -1 } },
        { "Steps", TinyVae with { Steps = -3 } },
        { "Window", TinyVae with { Window = 0 } },
        { "Hidden", TinyVae with { Hidden = 0 } },
        { "Latent", TinyVae with { Latent = 0 } },
        { "TrendDegree", TinyVae with { TrendDegree = -1 } },
        { "LearningRate", TinyVae with { LearningRate = double.PositiveInfinity } },
        { "LearningRate", TinyVae with { LearningRate = -1e-3 } },
        { "ReconstructionWeight", TinyVae with { ReconstructionWeight = double.NaN } },
    };

    [Theory]
    [MemberData(nameof(BadGanOptions))]
    public void Wgan_RefusesAnOptionOutOfRange_NamingIt_BeforeTraining(string option, object options)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new WganGp((WganGpOptions)options));
        Assert.Equal(option, e.ParamName);
    }

    [Theory]
    [MemberData(nameof(BadVaeOptions))]
    public void Vae_RefusesAnOptionOutOfRange_NamingIt_BeforeTraining(string option, object options)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TimeVae((TimeVaeOptions)options));
        Assert.Equal(option, e.ParamName);
    }
}
