using System.Net;
using Crucible.Governance;
using Crucible.Governance.Audit;
using Crucible.Governance.Registry;

namespace Crucible.Service.Tests;

/// <summary>
/// Session 21: the audit log's signing key rotated (<c>crucible audit rotate-key</c>) while the service runs with the old
/// key: its next scenario request is refused with a 503 problem naming the new key and appends nothing (it would have
/// signed checkpoints with the retired key), and readiness is 503 until the service is restarted, which then works.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class AuditKeyRotationServiceTests(ServiceFixture f)
{
    [Fact]
    public async Task ARotationWhileRunning_Refuses503AndNotReady_UntilRestarted()
    {
        var home = CrucibleHome.Resolve(Path.Combine(f.Dir, "audit-rotation-" + Guid.NewGuid().ToString("N")[..8]));
        using (var log = AuditLog.Open(home)) new ModelRegistry(home, log).Register(f.ModelFolder);
        var body = $$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 2}""";
        AuditKeyRotation rotation;
        using (var factory = ServiceFixture.Create(home.Root, f.KeysFile))
        using (var client = factory.CreateClient())
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body))).StatusCode);
            using (var log = AuditLog.Open(home)) rotation = log.RotateKey("operator left");
            var entries = AuditLog.Read(home.AuditDatabase).Count;

            using (var refused = await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body)))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                var text = await refused.Content.ReadAsStringAsync();
                Assert.Contains($"rotated to {rotation.NewKeyId}", text, StringComparison.Ordinal);
            }

            Assert.Equal(entries, AuditLog.Read(home.AuditDatabase).Count);
            using var ready = await client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("signing key was rotated", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // restarted: it reads the new key and appends again; the log verifies across the rotation
        using (var factory = ServiceFixture.Create(home.Root, f.KeysFile))
        using (var client = factory.CreateClient())
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["generator"]);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/scenarios", ServiceFixture.Json(body))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        }

        var v = AuditLog.Verify(home);
        Assert.True(v.Ok, v.Message);
        Assert.Single(v.KeyChanges);
    }
}
