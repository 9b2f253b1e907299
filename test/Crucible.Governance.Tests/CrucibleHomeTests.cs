using Crucible.Data;

namespace Crucible.Governance.Tests;

public class CrucibleHomeTests
{
    [Fact]
    public void Resolve_OptionWinsOverEnvironmentAndProfile()
    {
        var home = CrucibleHome.Resolve("/tmp/opt-home", "/tmp/env-home", "/home/u");
        Assert.Equal("/tmp/opt-home", home.Root);
        Assert.Equal("/tmp/opt-home/audit.db", home.AuditDatabase);
    }

    [Fact]
    public void Resolve_EnvironmentWinsOverProfile()
    {
        Assert.Equal("/tmp/env-home", CrucibleHome.Resolve(null, "/tmp/env-home", "/home/u").Root);
        Assert.Equal("/tmp/env-home", CrucibleHome.Resolve("  ", "/tmp/env-home", "/home/u").Root);
    }

    [Fact]
    public void Resolve_FallsBackToDotCrucibleInProfile()
    {
        Assert.Equal("/home/u/.crucible", CrucibleHome.Resolve(null, "", "/home/u").Root);
        Assert.Equal("/home/u/.crucible", CrucibleHome.Resolve(null, null, "/home/u").Root);
    }

    [Fact]
    public void Resolve_RelativeOption_IsMadeAbsolute()
    {
        var home = CrucibleHome.Resolve("rel/home", null, "/home/u");
        Assert.True(Path.IsPathRooted(home.Root));
        Assert.EndsWith(Path.Combine("rel", "home"), home.Root, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NothingAvailable_IsBadInput()
    {
        var e = Assert.Throws<InvalidInputException>(() => CrucibleHome.Resolve(null, null, ""));
        Assert.Equal("HOME-E", e.Rule);
    }

    [Fact]
    public void Resolve_InvalidPath_IsBadInput()
    {
        var e = Assert.Throws<InvalidInputException>(() => CrucibleHome.Resolve("bad\0path", null, "/home/u"));
        Assert.Equal("HOME-E", e.Rule);
    }
    [Fact]
    public void Resolve_RecordsWhereThePathCameFrom()
    {
        Assert.Equal(HomeSource.Option, CrucibleHome.Resolve("/tmp/opt-home", "/tmp/env-home", "/home/u").Source);
        Assert.Equal(HomeSource.Environment, CrucibleHome.Resolve(null, "/tmp/env-home", "/home/u").Source);
        Assert.Equal(HomeSource.Default, CrucibleHome.Resolve(null, null, "/home/u").Source);
    }

    [Fact]
    public void RequireExisting_RefusesAMissingFolder_NamingItAndItsSource()
    {
        var missing = Path.Combine(Path.GetTempPath(), "crucible-no-home-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<InvalidInputException>(() => CrucibleHome.Resolve(missing, null, "/home/u").RequireExisting());
        Assert.Equal(CrucibleHome.MissingRule, e.Rule);
        Assert.StartsWith($"no Crucible home at {missing} (--home)", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
        var existing = CrucibleHome.Resolve(Path.GetTempPath(), null, "/home/u");
        Assert.Same(existing, existing.RequireExisting());
    }
}
