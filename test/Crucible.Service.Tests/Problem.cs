using System.Net;
using System.Text.Json;

namespace Crucible.Service.Tests;

/// <summary>Reads and checks an RFC 9457 problem response.</summary>
internal static class Problem
{
    // RELIABILITY SVC-1
    /// <summary>Asserts the response is a problem of <paramref name="status"/> with the full shape; returns its JSON.</summary>
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status, string? type = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)status, root.GetProperty("status").GetInt32());
        var t = root.GetProperty("type").GetString()!;
        Assert.StartsWith("urn:crucible:problem:", t, StringComparison.Ordinal);
        if (type is not null) Assert.Equal("urn:crucible:problem:" + type, t);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("traceId").GetString()));
        Assert.True(root.TryGetProperty("instance", out _), body);
        // never a stack trace or an exception type in a body
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        return root;
    }
}
