using System.Net;
using System.Text.Json;

namespace Crucible.Service.Tests;

/// <summary>Models, audit, health, OpenAPI, authentication and scopes, and problem details for routing errors.</summary>
[Collection(ServiceCollection.Name)]
public sealed class SurfaceTests(ServiceFixture f)
{
    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Models_ListsTheRegistry_AndShowsOne()
    {
        using var client = f.Client("reader");
        var list = await Json(await client.GetAsync("/v1/models"));
        var model = list.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("id").GetString() == f.ModelId);
        Assert.Equal("candidate", model.GetProperty("status").GetString());
        Assert.Equal("tabular", model.GetProperty("kind").GetString());
        Assert.Equal(["A", "B"], model.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(100, model.GetProperty("diffusion_steps").GetInt32());
        Assert.False(model.GetProperty("private").GetBoolean());

        var one = await Json(await client.GetAsync($"/v1/models/{f.ModelId}"));
        Assert.Equal(f.ModelId, one.GetProperty("model").GetProperty("id").GetString());
        Assert.Equal(f.ModelId, one.GetProperty("manifest").GetProperty("weights").GetProperty("sha256").GetString());

        await Problem.AssertAsync(await client.GetAsync($"/v1/models/{new string('a', 64)}"), HttpStatusCode.NotFound, "not-found");
        await Problem.AssertAsync(await client.GetAsync("/v1/models/not-an-id"), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Audit_ListsPages_AndVerifies()
    {
        using var client = f.Client("reader");
        var first = await Json(await client.GetAsync("/v1/audit?from=1&limit=1"));
        var entry = first.GetProperty("entries").EnumerateArray().Single();
        Assert.Equal(1, entry.GetProperty("seq").GetInt64());
        Assert.Equal("model.registered", entry.GetProperty("kind").GetString());
        Assert.Equal(f.ModelId, entry.GetProperty("payload").GetProperty("model_id").GetString());
        Assert.Equal(64, entry.GetProperty("entry_hash").GetString()!.Length);
        long total = AuditLogEntries();
        if (total > 1) Assert.Equal(2, first.GetProperty("next").GetInt64());
        else Assert.Equal(JsonValueKind.Null, first.GetProperty("next").ValueKind);
        var all = await Json(await client.GetAsync("/v1/audit?limit=1000"));
        Assert.Equal(total, all.GetProperty("entries").GetArrayLength());
        Assert.Equal(Enumerable.Range(1, (int)total).Select(i => (long)i), all.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("seq").GetInt64()));

        var verify = await Json(await client.GetAsync("/v1/audit/verify"));
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        Assert.Equal("none", verify.GetProperty("problem").GetString());
        Assert.Equal(0, verify.GetProperty("findings").GetArrayLength());
        Assert.True(verify.GetProperty("entries").GetInt64() >= 1);

        var bad = await Problem.AssertAsync(await client.GetAsync("/v1/audit?limit=5000"), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(bad.GetProperty("errors").TryGetProperty("limit", out _));
    }

    // GET /v1/jobs and GET /v1/audit read limit with one parser: the same bounds, messages and problem types, each
    // detail naming its request; a malformed value is a 400 naming only it, even beside an invalid one
    [Theory]
    [InlineData("limit=abc", 400, "malformed", "limit", "must be an integer in 1..1000, got 'abc'")]
    [InlineData("limit=99999999999", 400, "malformed", "limit", "must be an integer in 1..1000, got '99999999999'")]
    [InlineData("limit=0", 422, "invalid", "limit", "must be in 1..1000, got 0")]
    [InlineData("limit=1001", 422, "invalid", "limit", "must be in 1..1000, got 1001")]
    [InlineData("limit=-3", 422, "invalid", "limit", "must be in 1..1000, got -3")]
    public async Task PageLimit_IsReadAlikeByTheJobListAndTheAuditPage(string query, int status, string kind, string field, string message)
    {
        using var client = f.Client("admin");
        foreach (var (path, request, extra) in new[] { ("/v1/jobs", "the job list request", "&state=finished"), ("/v1/audit", "the audit page request", "&from=0") })
        {
            foreach (var q in new[] { query, query + (status == 400 ? extra : "") }) // beside an invalid value, a malformed one answers alone
            {
                var p = await Problem.AssertAsync(await client.GetAsync(path + "?" + q), (HttpStatusCode)status, status == 400 ? "malformed-request" : "validation");
                Assert.Equal($"{request} has {kind} values: {field}: {message}", p.GetProperty("detail").GetString());
                var errors = p.GetProperty("errors");
                Assert.Equal([field], errors.EnumerateObject().Select(e => e.Name));
                Assert.Equal(message, errors.GetProperty(field)[0].GetString());
            }
        }

        // both wrong values of one kind are named, in the order read
        var both = await Problem.AssertAsync(await client.GetAsync("/v1/audit?from=0&limit=0"), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal("the audit page request has invalid values: from: must be ≥ 1, got 0; limit: must be in 1..1000, got 0", both.GetProperty("detail").GetString());
        var jobs = await Problem.AssertAsync(await client.GetAsync("/v1/jobs?state=finished&limit=0&before=x"), HttpStatusCode.UnprocessableEntity, "validation");
        Assert.Equal(["state", "limit", "before"], jobs.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    private long AuditLogEntries() => Crucible.Governance.Audit.AuditLog.Read(Path.Combine(f.Home, "audit.db")).Count;

    [Fact]
    public async Task Health_And_OpenApi_NeedNoKey()
    {
        using var client = f.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        var ready = await Json(await client.GetAsync("/health/ready"));
        Assert.Equal("healthy", ready.GetProperty("status").GetString());

        var doc = await Json(await client.GetAsync("/openapi/v1.json"));
        var paths = doc.GetProperty("paths");
        foreach (var p in new[] { "/v1/models", "/v1/models/{id}", "/v1/scenarios", "/v1/audit", "/v1/audit/verify", "/v1/jobs/{id}", "/v1/evaluations", "/v1/ensembles", "/v1/runs/{id}" })
            Assert.True(paths.TryGetProperty(p, out _), p);
        var body = paths.GetProperty("/v1/scenarios").GetProperty("post").GetProperty("requestBody").GetRawText();
        Assert.Contains("ScenarioRequest", body, StringComparison.Ordinal);
        var training = doc.GetProperty("components").GetProperty("schemas").GetProperty("TrainingRequest").GetProperty("properties");
        foreach (var field in new[] { "data_csv", "kind", "window", "state_csv", "state_columns", "calibrate_guidance" })
            Assert.True(training.TryGetProperty(field, out _), field);
        var scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());
        Assert.True(doc.GetProperty("security")[0].TryGetProperty("ApiKey", out _));
    }

    // RELIABILITY SVC-4
    [Theory]
    [InlineData("GET", "/v1/models")]
    [InlineData("GET", "/v1/models/x")]
    [InlineData("POST", "/v1/scenarios")]
    [InlineData("GET", "/v1/audit")]
    [InlineData("GET", "/v1/audit/verify")]
    [InlineData("POST", "/v1/ensembles")]
    [InlineData("GET", "/v1/runs/x")]
    public async Task NoKey_Or_UnknownKey_Is401(string method, string path)
    {
        using var anonymous = f.Client(null);
        var none = await Problem.AssertAsync(await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)),
            HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Contains("X-Api-Key", none.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var wrong = f.Factory.CreateClient();
        var forged = f.Keys["admin"][..^2] + (f.Keys["admin"].EndsWith("AA", StringComparison.Ordinal) ? "BB" : "AA");
        wrong.DefaultRequestHeaders.Add("X-Api-Key", forged);
        var response = await wrong.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.True(response.Headers.WwwAuthenticate.Count > 0);
        await Problem.AssertAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
    }

    // RELIABILITY SVC-4
    [Theory]
    [InlineData("reader", "POST", "/v1/scenarios", "generate")]
    [InlineData("generator", "GET", "/v1/models", "read")]
    [InlineData("trainer", "GET", "/v1/audit", "read")]
    [InlineData("generator", "POST", "/v1/ensembles", "read")]
    public async Task KeyWithoutTheScope_Is403(string key, string method, string path, string scope)
    {
        using var client = f.Client(key);
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST") request.Content = ServiceFixture.Json("{}");
        var problem = await Problem.AssertAsync(await client.SendAsync(request), HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains($"'{scope}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(f.Keys[key], problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_HoldsEveryScope()
    {
        using var client = f.Client("admin");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/audit")).StatusCode);
    }

    // RELIABILITY SVC-1
    [Fact]
    public async Task RoutingErrors_AreProblems()
    {
        using var client = f.Client("admin");
        await Problem.AssertAsync(await client.GetAsync("/v1/nothing-here"), HttpStatusCode.NotFound, "not-found");
        await Problem.AssertAsync(await client.GetAsync("/v1/scenarios"), HttpStatusCode.MethodNotAllowed, "method-not-allowed");
    }
}
