using System.Collections.Concurrent;
using System.Net;
using Crucible.Service.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crucible.Service.Tests;

/// <summary>
/// Session 24, the bank's application-security review (OWASP ASVS V14.4, V12.3, V7.1): every answer, the page, a
/// 200, a 401, a 404 and a 400 alike, carries <c>X-Content-Type-Options: nosniff</c>, <c>X-Frame-Options: DENY</c>, a
/// CSP with <c>frame-ancestors 'none'</c>, <c>Referrer-Policy: no-referrer</c> and no <c>Server</c> banner, and
/// <c>/v1</c> answers <c>Cache-Control: no-store</c>; path parameters that try to leave the home (<c>..</c>,
/// <c>%2e%2e</c>, an absolute path) are 404 problems that name no path of the home; and neither a valid key nor a forged
/// one is in the service's log at any level, from the trace of a 200 to that of a 401.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class SecurityReviewTests(ServiceFixture f)
{
    private static void AssertSecurityHeaders(HttpResponseMessage response, bool api)
    {
        var what = $"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}";
        Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff), what);
        Assert.Equal("nosniff", Assert.Single(nosniff));
        Assert.True(response.Headers.TryGetValues("X-Frame-Options", out var frame), what);
        Assert.Equal("DENY", Assert.Single(frame));
        Assert.True(response.Headers.TryGetValues("Referrer-Policy", out var referrer), what);
        Assert.Equal("no-referrer", Assert.Single(referrer));
        Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp), what);
        var policy = Assert.Single(csp);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Server"), what);
        if (api)
        {
            Assert.Equal(SecurityHeaders.ApiContentSecurityPolicy, policy);
            Assert.True(response.Headers.CacheControl?.NoStore == true, what);
        }
    }

    [Fact]
    public async Task EveryAnswer_CarriesTheSecurityHeaders_ThePage200s401s404sAnd400s()
    {
        using (var anonymous = f.Client(null))
        {
            using var page = await anonymous.GetAsync(new Uri("/", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            AssertSecurityHeaders(page, api: false);
            // the page keeps its own policy (its inline script and fetches to itself), with frame-ancestors added
            Assert.Contains("connect-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);

            using var unauthorized = await anonymous.GetAsync(new Uri("/v1/models", UriKind.Relative));
            await Problem.AssertAsync(unauthorized, HttpStatusCode.Unauthorized);
            AssertSecurityHeaders(unauthorized, api: true);
        }

        using var reader = f.Client("reader");
        using (var models = await reader.GetAsync(new Uri("/v1/models", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
            AssertSecurityHeaders(models, api: true);
        }

        using (var missing = await reader.GetAsync(new Uri("/v1/models/" + new string('0', 64), UriKind.Relative)))
        {
            await Problem.AssertAsync(missing, HttpStatusCode.NotFound);
            AssertSecurityHeaders(missing, api: true);
        }

        using var generator = f.Client("generator");
        using var bad = await generator.PostAsync(new Uri("/v1/scenarios", UriKind.Relative), ServiceFixture.Json("{\"model\": "));
        await Problem.AssertAsync(bad, HttpStatusCode.BadRequest);
        AssertSecurityHeaders(bad, api: true);
    }

    [Fact]
    public async Task AScenarioBodyNested10000Deep_IsA400Problem_NotA500()
    {
        using var generator = f.Client("generator");
        var body = "{\"model\": " + new string('[', 10_000) + new string(']', 10_000) + "}";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/scenarios", UriKind.Relative)) { Content = ServiceFixture.Json(body) };
        request.Headers.Add("Idempotency-Key", "depth-" + Guid.NewGuid().ToString("N"));
        using var response = await generator.SendAsync(request);
        await Problem.AssertAsync(response, HttpStatusCode.BadRequest);
        AssertSecurityHeaders(response, api: true);
    }

    [Theory]
    [InlineData("/v1/models/..%2F..%2Fapi-keys")]
    [InlineData("/v1/models/%2e%2e%2f%2e%2e%2fetc%2fpasswd")]
    [InlineData("/v1/models/%2Fetc%2Fpasswd")]
    [InlineData("/v1/runs/..%2F..%2Fapi-keys")]
    [InlineData("/v1/runs/%2e%2e")]
    [InlineData("/v1/jobs/..%2F..%2Fapi-keys")]
    [InlineData("/v1/jobs/%2Ftmp")]
    public async Task PathParameters_ThatTryToLeaveTheHome_Are404Problems_NamingNoPath(string path)
    {
        using var admin = f.Client("admin");
        using var response = await admin.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        await Problem.AssertAsync(response, HttpStatusCode.NotFound);
        Assert.DoesNotContain(f.Home, body, StringComparison.Ordinal);
        Assert.DoesNotContain(f.Dir, body, StringComparison.Ordinal);
        Assert.DoesNotContain("sha256:", body, StringComparison.Ordinal); // nothing of the keys file
        AssertSecurityHeaders(response, api: true);
    }

    [Fact]
    public async Task NeitherAValidKey_NorAForgedOne_IsInTheLog_AtAnyLevel()
    {
        const string Forged = "reader.FORGED-SENTINEL-9b2e71d4";
        var logs = new Logs();
        var home = Path.Combine(f.Dir, "security-log-" + Guid.NewGuid().ToString("N")[..8]);
        using var factory = ServiceFixture.Create(home, f.KeysFile).WithWebHostBuilder(b =>
        {
            b.UseSetting("Logging:LogLevel:Default", "Trace");
            b.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(logs));
        });
        using (var client = factory.CreateClient())
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", f.Keys["reader"]);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/v1/models", UriKind.Relative))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/v1/audit", UriKind.Relative))).StatusCode);
        }

        using (var forged = factory.CreateClient())
        {
            forged.DefaultRequestHeaders.Add("X-Api-Key", Forged);
            Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync(new Uri("/v1/models", UriKind.Relative))).StatusCode);
        }

        var entries = logs.Entries;
        // the trace level is on: the requests and the refusal are there, so the absence below means something
        Assert.Contains(entries, e => e.Contains("/v1/models", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("not authenticated", StringComparison.OrdinalIgnoreCase));
        var secret = f.Keys["reader"][(f.Keys["reader"].IndexOf('.', StringComparison.Ordinal) + 1)..];
        Assert.DoesNotContain(entries, e => e.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(entries, e => e.Contains("FORGED-SENTINEL", StringComparison.Ordinal));
    }

    /// <summary>Collects every log entry, at every level, as its formatted message with the exception's text.</summary>
    private sealed class Logs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _entries = new();

        public IReadOnlyCollection<string> Entries => _entries.ToArray();

        public ILogger CreateLogger(string categoryName) => new Collector(_entries);

        public void Dispose()
        {
        }

        private sealed class Collector(ConcurrentQueue<string> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(formatter(state, exception) + (exception is null ? "" : " " + exception));
        }
    }
}
