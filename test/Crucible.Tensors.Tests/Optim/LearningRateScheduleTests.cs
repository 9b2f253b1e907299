using Crucible.Tensors.Optim;

namespace Crucible.Tensors.Tests.Optim;

public class LearningRateScheduleTests
{
    [Fact]
    public void LinearWarmup_RisesLinearlyThenHolds()
    {
        var s = new LinearWarmup(MaxLr: 1e-3, WarmupSteps: 100);
        Assert.Equal(0, s.LearningRate(0));
        Assert.Equal(0.5e-3, s.LearningRate(50), 15);
        Assert.Equal(1e-3, s.LearningRate(100));
        Assert.Equal(1e-3, s.LearningRate(10_000));

        var fromInitial = new LinearWarmup(MaxLr: 1.0, WarmupSteps: 10, InitialLr: 0.2);
        Assert.Equal(0.2, fromInitial.LearningRate(0));
        Assert.Equal(0.6, fromInitial.LearningRate(5), 15);
        Assert.Equal(1.0, fromInitial.LearningRate(10));
    }

    [Fact]
    public void CosineDecay_StartMidpointEnd()
    {
        var s = new CosineDecay(MaxLr: 1e-2, DecaySteps: 1000, MinLr: 1e-4);
        Assert.Equal(1e-2, s.LearningRate(0), 15);
        Assert.Equal((1e-2 + 1e-4) / 2, s.LearningRate(500), 15);
        Assert.Equal(1e-4, s.LearningRate(1000), 15);
        Assert.Equal(1e-4, s.LearningRate(5000), 15);

        // a quarter of the way: lr_min + ½ (lr_max − lr_min)(1 + cos(π/4))
        Assert.Equal(1e-4 + (0.5 * (1e-2 - 1e-4) * (1 + (Math.Sqrt(2) / 2))), s.LearningRate(250), 15);
    }

    [Fact]
    public void WarmupCosine_StartWarmupEndMidpointEnd()
    {
        var s = new WarmupCosine(MaxLr: 3e-3, WarmupSteps: 100, TotalSteps: 1100, MinLr: 3e-5);
        Assert.Equal(0, s.LearningRate(0));
        Assert.Equal(1.5e-3, s.LearningRate(50), 15);
        Assert.Equal(3e-3, s.LearningRate(100), 15);
        Assert.Equal((3e-3 + 3e-5) / 2, s.LearningRate(600), 15);
        Assert.Equal(3e-5, s.LearningRate(1100), 15);
        Assert.Equal(3e-5, s.LearningRate(2000), 15);

        // monotone: up during warm-up, down after
        for (long t = 1; t < 100; t++) Assert.True(s.LearningRate(t) > s.LearningRate(t - 1));
        for (long t = 101; t <= 1100; t++) Assert.True(s.LearningRate(t) < s.LearningRate(t - 1));

        var noWarmup = new WarmupCosine(MaxLr: 1.0, WarmupSteps: 0, TotalSteps: 10);
        Assert.Equal(1.0, noWarmup.LearningRate(0));
    }

    [Fact]
    public void Apply_SetsTheOptimizersLearningRate()
    {
        var adam = new Adam([Tensor.Ones([2], requiresGrad: true)], lr: 1.0);
        LearningRateSchedule s = new CosineDecay(MaxLr: 0.1, DecaySteps: 10);
        s.Apply(adam, 5);
        Assert.Equal(0.05, adam.LearningRate, 15);
    }

    [Fact]
    public void Schedules_RejectInvalidArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(1e-3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(-1e-3, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(1e-3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(1e-3, 10, MinLr: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WarmupCosine(1e-3, WarmupSteps: 10, TotalSteps: 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(1e-3, 10).LearningRate(-1));
    }
}
