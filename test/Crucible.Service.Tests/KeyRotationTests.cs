using System.Net;
using Crucible.Service.Security;

namespace Crucible.Service.Tests;

/// <summary>
/// Keys rotated while the service runs: the keys file is re-read when it changes, so a revoked key is refused and a new
/// one accepted within about a second, without a restart; a file replaced by one that does not parse keeps the keys
/// last read. Before, the file was read once at start-up: a revoked key kept working until the next restart.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class KeyRotationTests(ServiceFixture f)
{
    // RELIABILITY SVC-4
    [Fact]
    public async Task KeysFileRewritten_RevokedKeyIs401_NewKeyWorks_WithoutARestart_AndABadFileKeepsTheLastKeys()
    {
        var keys = Path.Combine(f.Dir, "rotating-keys");
        var (oldKey, oldLine) = ApiKeyStore.NewKey("old", new HashSet<string> { "read" });
        var (newKey, newLine) = ApiKeyStore.NewKey("new", new HashSet<string> { "read" });
        File.WriteAllLines(keys, [oldLine]);
        using var factory = ServiceFixture.Create(Path.Combine(f.Dir, "rotation-home"), keys);
        using var client = factory.CreateClient();

        async Task<HttpStatusCode> Status(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
            request.Headers.Add("X-Api-Key", key);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        async Task Eventually(string key, HttpStatusCode expected)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            HttpStatusCode got;
            while ((got = await Status(key)) != expected)
            {
                Assert.True(DateTime.UtcNow < deadline, $"still {got}, not {expected}");
                await Task.Delay(100);
            }
        }

        Assert.Equal(HttpStatusCode.OK, await Status(oldKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(newKey));

        // rotation as an operator does it: the new file written beside, then renamed over the old one
        File.WriteAllLines(keys + ".tmp", ["# rotated", newLine]);
        File.Move(keys + ".tmp", keys, overwrite: true);
        await Eventually(newKey, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(oldKey));

        // a file that does not parse (a plain secret on a line) is logged and ignored: the last keys stay
        File.WriteAllLines(keys, [newLine, "oops read not-a-hash"]);
        await Task.Delay(ApiKeyFile.CheckInterval * 2.5);
        Assert.Equal(HttpStatusCode.OK, await Status(newKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await Status(oldKey));

        // and fixing it applies again
        File.WriteAllLines(keys, [oldLine, newLine]);
        await Eventually(oldKey, HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, await Status(newKey));
    }
}
