using System.Net;

namespace Crucible.Service.Tests;

/// <summary>
/// Every problem has a <c>detail</c> (README, Errors), including those the framework raises itself: an unknown route, a
/// wrong method, a body that is not JSON, a query value that does not bind (they had none).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ProblemDetailTests(ServiceFixture f)
{
    [Theory]
    [InlineData("GET", "/v1/nothing-here", null, HttpStatusCode.NotFound, "not-found")]
    [InlineData("GET", "/nothing-here", null, HttpStatusCode.NotFound, "not-found")]
    [InlineData("GET", "/openapi/v2.json", null, HttpStatusCode.NotFound, "not-found")]
    [InlineData("DELETE", "/v1/models", null, HttpStatusCode.MethodNotAllowed, "method-not-allowed")]
    [InlineData("POST", "/v1/scenarios", "text/plain", HttpStatusCode.UnsupportedMediaType, "unsupported-media-type")]
    [InlineData("POST", "/v1/models", "text/plain", HttpStatusCode.UnsupportedMediaType, "unsupported-media-type")]
    [InlineData("GET", "/v1/audit?from=abc", null, HttpStatusCode.BadRequest, "malformed-request")]
    [InlineData("GET", "/v1/audit?limit=99999999999", null, HttpStatusCode.BadRequest, "malformed-request")]
    public async Task FrameworkProblems_HaveADetail(string method, string path, string? contentType, HttpStatusCode status, string type)
    {
        using var client = f.Client("admin");
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (contentType is not null) request.Content = new StringContent("{}", System.Text.Encoding.UTF8, contentType);
        var problem = await Problem.AssertAsync(await client.SendAsync(request), status, type);
        Assert.False(string.IsNullOrWhiteSpace(problem.TryGetProperty("detail", out var d) ? d.GetString() : null), problem.ToString());
    }
}

/// <summary><c>GET /v1/audit</c>'s 422 names only the parameters that are wrong (it named <c>from</c> and <c>limit</c> always).</summary>
[Collection(ServiceCollection.Name)]
public sealed class AuditPageErrorTests(ServiceFixture f)
{
    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=1001", "limit")]
    [InlineData("?from=0", "from")]
    [InlineData("?from=-3&limit=5000", "from,limit")]
    public async Task AuditPage_422_NamesOnlyTheWrongParameters(string query, string fields)
    {
        using var client = f.Client("reader");
        var problem = await Problem.AssertAsync(await client.GetAsync("/v1/audit" + query), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal(fields.Split(','), problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }
}
