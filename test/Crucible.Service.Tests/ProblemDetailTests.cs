using System.Net;

namespace Crucible.Service.Tests;

/// <summary>
/// Every problem has a <c>detail</c> (README, Errors), including those the framework raises itself: an unknown route, a
/// wrong method, a body that is not JSON, a query value that does not bind (they had none).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ProblemDetailTests(ServiceFixture f)
{
    // RELIABILITY SVC-1
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

    [Theory]
    [InlineData("?from=abc", "from", "from: must be an integer ≥ 1 (the first sequence number), got 'abc'")]
    [InlineData("?limit=ten", "limit", "limit: must be an integer in 1..1000, got 'ten'")]
    [InlineData("?limit=99999999999", "limit", "limit: must be an integer in 1..1000, got '99999999999'")]
    [InlineData("?from=1.5&limit=x", "from,limit", "from: must be an integer")]
    public async Task AuditPage_400_NamesTheParameterThatIsNotAnInteger(string query, string fields, string detail)
    {
        // it was the framework's binding failure: a 400 whose detail named neither parameter
        using var client = f.Client("reader");
        var problem = await Problem.AssertAsync(await client.GetAsync("/v1/audit" + query), HttpStatusCode.BadRequest, "malformed-request");
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(fields.Split(','), problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AuditPage_FromAndLimit_AreStillDocumentedAsIntegers()
    {
        using var anonymous = f.Client(null);
        using var doc = System.Text.Json.JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        var parameters = doc.RootElement.GetProperty("paths").GetProperty("/v1/audit").GetProperty("get").GetProperty("parameters");
        foreach (var name in new[] { "from", "limit" })
        {
            var schema = parameters.EnumerateArray().Single(p => p.GetProperty("name").GetString() == name).GetProperty("schema");
            Assert.Equal("integer", schema.GetProperty("type").GetString());
        }
    }
}
