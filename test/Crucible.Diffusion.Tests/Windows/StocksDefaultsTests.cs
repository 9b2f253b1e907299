using Crucible.Diffusion.Samplers;
using Crucible.Diffusion.Windows;

namespace Crucible.Diffusion.Tests.Windows;

public sealed class StocksDefaultsTests
{
    [Fact]
    public void TheBenchmarksDescription_NamesTheSamplerAsGenerateAndTheMetadataDo()
    {
        var result = new WindowDiffusionResult([], [0.5f, 0.25f], 1.0, 2.0, 231_814);
        var described = StocksDefaults.Describe(StocksDefaults.Options, 7, result).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(SamplerKind.DpmSolver2M, StocksDefaults.Options.Sampler.Kind);
        Assert.Equal("dpm2m", described["sampler"]); // generate --sampler dpm2m; it read "dpmsolver2m"
        Assert.Equal(StocksDefaults.Options.Sampler.Kind.WireName(), described["sampler"]);
        Assert.Equal("v", described["objective"]);
        Assert.Equal("linear", described["schedule"]);
        Assert.Equal(50, described["sampler_steps"]);
    }
}
