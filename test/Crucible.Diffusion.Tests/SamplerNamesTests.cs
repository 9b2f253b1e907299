using Crucible.Diffusion.Samplers;

namespace Crucible.Diffusion.Tests;

public sealed class SamplerNamesTests
{
    [Fact]
    public void EverySamplerAndSpacing_HasItsNameBothWays()
    {
        Assert.Equal(["ddim", "ddpm", "dpm2m"], SamplerNames.SamplerChoices);
        Assert.Equal(["linear", "angle"], SamplerNames.SpacingChoices);
        Assert.Equal("dpm2m", SamplerKind.DpmSolver2M.WireName());
        Assert.Equal("angle", DdimSpacing.UniformAngle.WireName());
        foreach (var k in Enum.GetValues<SamplerKind>()) Assert.Equal(k, SamplerNames.SamplerFromWireName(k.WireName()));
        foreach (var s in Enum.GetValues<DdimSpacing>()) Assert.Equal(s, SamplerNames.SpacingFromWireName(s.WireName()));
        Assert.Null(SamplerNames.SamplerFromWireName("DDIM"));
        Assert.Null(SamplerNames.SamplerFromWireName("dpmsolver2m"));
        Assert.Null(SamplerNames.SpacingFromWireName("uniformangle"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((SamplerKind)7).WireName());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((DdimSpacing)7).WireName());
    }
}
