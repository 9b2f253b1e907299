using System.Text.Json.Nodes;
using Crucible.Governance.Audit;
using Crucible.Governance.Manifests;
using Crucible.Governance.Registry;
using Crucible.Governance.Tests.Audit;

namespace Crucible.Governance.Tests;

/// <summary>
/// Null arguments of the governance entry points a library caller uses (README "Use it as a library"): each is an
/// <see cref="ArgumentNullException"/> naming the parameter, thrown before anything is written. They were a
/// NullReferenceException from inside (<c>AuditLog.Open(home)</c>), nothing at all until a later call
/// (<c>new ModelRegistry</c>, whose marker clean-up swallowed it; <c>RunManifestBuilder</c>, whose null config or kind
/// surfaced only at <c>ToCanonicalJson</c>), or the name of an internal parameter (<c>Register(null)</c>: 'path1').
/// </summary>
public sealed class LibraryArgumentTests
{
    [Fact]
    public void NullArguments_AreArgumentNullExceptions_NamingTheParameter()
    {
        using var t = new AuditTestHome();
        Assert.Equal("home", Assert.Throws<ArgumentNullException>(() => AuditLog.Open((CrucibleHome)null!)).ParamName);
        using var log = t.Open();
        Assert.Equal("home", Assert.Throws<ArgumentNullException>(() => new ModelRegistry(null!, log)).ParamName);
        Assert.Equal("audit", Assert.Throws<ArgumentNullException>(() => new ModelRegistry(t.Home, null!)).ParamName);
        var registry = new ModelRegistry(t.Home, log);
        Assert.Equal("sourceFolder", Assert.Throws<ArgumentNullException>(() => registry.Register(null!)).ParamName);
        Assert.Equal("sourceFolder", Assert.Throws<ArgumentNullException>(() => registry.RegisterOrFind(null!)).ParamName);
        Assert.Equal("kind", Assert.Throws<ArgumentOutOfRangeException>(() => RunManifests.Start(t.Home, (RunKind)99, [], 1)).ParamName);
        Assert.Equal("config", Assert.Throws<ArgumentNullException>(() => RunManifests.Start(t.Home, RunKind.Train, null!, 1)).ParamName);
        Assert.Equal("baseFolder", Assert.Throws<ArgumentNullException>(() => new RunManifestBuilder(RunKind.Train, new JsonObject(), 1, null!)).ParamName);
        Assert.Empty(log.List()); // nothing was appended
    }
}
