using System.Net;
using System.Text.Json;

namespace Crucible.Service.Tests;

/// <summary>
/// The OpenAPI document describes the bodies the service accepts: request bodies are read strictly (a number in a string
/// is a 400), so no numeric member may be documented as <c>"type": ["integer", "string"]</c> with a digits pattern (the
/// document was generated with ASP.NET's web defaults, which read numbers from strings).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class OpenApiContractTests(ServiceFixture f)
{
    [Fact]
    public async Task Document_ListsTheJobAndMetricsEndpoints()
    {
        using var anonymous = f.Client(null);
        using var doc = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths");
        Assert.True(paths.GetProperty("/v1/jobs").TryGetProperty("get", out var list));
        Assert.Equal(["state", "before", "limit"], list.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.True(paths.GetProperty("/v1/jobs/{id}/cancel").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/metrics").TryGetProperty("get", out _));
    }

    [Fact]
    public async Task AJobsStatus_IsDocumentedAsItsFiveNames()
    {
        using var anonymous = f.Client(null);
        using var doc = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        var schemas = doc.RootElement.GetProperty("components").GetProperty("schemas");
        var status = schemas.GetProperty("JobView").GetProperty("properties").GetProperty("status");
        if (status.TryGetProperty("$ref", out var reference)) status = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
        Assert.Equal(["queued", "running", "succeeded", "failed", "cancelled"], status.GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task NumericMembers_AreNotDocumentedAsStrings_AndAStringNumberIs400()
    {
        using var anonymous = f.Client(null);
        using var doc = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        var schemas = doc.RootElement.GetProperty("components").GetProperty("schemas");
        foreach (var schema in new[] { "ScenarioRequest", "TrainingRequest", "EvaluationRequest", "EnsembleRequest" })
        {
            foreach (var member in schemas.GetProperty(schema).GetProperty("properties").EnumerateObject())
            {
                if (!member.Value.TryGetProperty("format", out var format) || format.GetString() is not ("int32" or "int64" or "uint64" or "double")) continue;
                var types = member.Value.GetProperty("type");
                var names = types.ValueKind == JsonValueKind.Array ? types.EnumerateArray().Select(t => t.GetString()).ToList() : [types.GetString()];
                Assert.False(names.Contains("string"), $"{schema}.{member.Name} is documented as {types}");
                Assert.False(member.Value.TryGetProperty("pattern", out _), $"{schema}.{member.Name} has a string pattern");
            }
        }

        using var generator = f.Client("generator");
        var body = ServiceFixture.Json($$"""{"model": "{{f.ModelId}}", "count": "3"}""");
        await Problem.AssertAsync(await generator.PostAsync("/v1/scenarios", body), HttpStatusCode.BadRequest, "malformed-request");
    }
}
