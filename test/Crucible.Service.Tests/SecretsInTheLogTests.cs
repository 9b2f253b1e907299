using System.Net;
using System.Text;

namespace Crucible.Service.Tests;

/// <summary>
/// RELIABILITY LOG-8 through the service: after requests with every test key (answered, refused for scope, and a forged
/// key carrying a sentinel), no key's secret part, nor the forged key, is anywhere in the home: the audit database and
/// its WAL, the exported checkpoints, the idempotency and job stores, run manifests, model folders. The audit actor is
/// the key's id only. (The audit log's own guard, a payload member named like a secret refused with AUDIT-E-SECRET, is
/// Crucible.Governance.Tests AuditLogTests.Append_RefusesSecretLookingMembers_AndStoresNothing.)
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class SecretsInTheLogTests(ServiceFixture f)
{
    private const string Sentinel = "LOG8-SENTINEL-4c1f9e";

    [Fact]
    public async Task NoKeySecret_NorAForgedKey_IsStoredAnywhereInTheHome()
    {
        using (var generator = f.Client("generator"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/scenarios")
            {
                Content = ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": 4, "seed": 81, "sampler": "ddim", "sampling_steps": 5}"""),
            };
            request.Headers.Add("Idempotency-Key", "log8-" + Guid.NewGuid().ToString("N"));
            request.Headers.Accept.ParseAdd("text/csv");
            var answered = await generator.SendAsync(request);
            Assert.True(answered.StatusCode == HttpStatusCode.OK, await answered.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.Forbidden, (await generator.GetAsync("/v1/audit")).StatusCode);
        }

        using (var reader = f.Client("reader"))
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v1/models")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v1/audit")).StatusCode);
        }

        using (var admin = f.Client("admin"))
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/audit/verify")).StatusCode);

        using (var forged = f.Factory.CreateClient())
        {
            forged.DefaultRequestHeaders.Add("X-Api-Key", "generator." + Sentinel);
            Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/v1/models")).StatusCode);
        }

        var secrets = f.Keys.Select(k => (Name: k.Key, Secret: k.Value[(k.Value.IndexOf('.', StringComparison.Ordinal) + 1)..]))
            .Append((Name: "forged", Secret: Sentinel)).ToList();
        Assert.All(secrets, s => Assert.True(s.Secret.Length >= 16, $"{s.Name}: '{s.Secret}' is too short to grep for"));
        var files = Directory.GetFiles(f.Home, "*", SearchOption.AllDirectories);
        Assert.Contains(files, p => Path.GetFileName(p) == "audit.db");
        foreach (var file in files)
        {
            // a replica's lock file is held open exclusively by its service; it is empty
            if (file.EndsWith(".lock", StringComparison.Ordinal) && new FileInfo(file).Length == 0) continue;
            var bytes = File.ReadAllBytes(file);
            foreach (var (name, secret) in secrets)
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"the {name} key's secret is in {Path.GetRelativePath(f.Home, file)}");
        }
    }
}
