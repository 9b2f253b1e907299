using System.Globalization;
using Crucible.Service.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Crucible.Service.Endpoints;

/// <summary>
/// The page parameters of a list endpoint (<c>GET /v1/jobs</c>'s <c>limit</c>, <c>GET /v1/audit</c>'s <c>from</c> and
/// <c>limit</c>), read as text rather than bound by the framework (whose 400 for <c>limit=abc</c> named no parameter),
/// and the endpoint's own checks (<c>state</c>, <c>before</c>): a value that is not an integer is a 400
/// <c>malformed-request</c> naming it, one out of its range a 422 <c>validation</c> problem, each with <c>errors</c>
/// keyed by the parameter (only the wrong ones, in the order they were read).
/// </summary>
/// <param name="request">What the problem's detail calls the request (<c>the job list request</c>).</param>
internal sealed class PageParameters(string request)
{
    /// <summary>A page's size when the request names none.</summary>
    public const int DefaultLimit = 100;

    private readonly Dictionary<string, string[]> _malformed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _invalid = new(StringComparer.Ordinal);

    /// <summary>Whether some value was malformed or invalid so far.</summary>
    public bool HasErrors => _malformed.Count > 0 || _invalid.Count > 0;

    /// <summary><c>limit</c>: an integer in 1..<paramref name="max"/>, <see cref="DefaultLimit"/> when absent.</summary>
    public int Limit(string? text, int max)
    {
        int take = DefaultLimit;
        if (text is not null && !int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out take))
        {
            _malformed["limit"] = [string.Create(CultureInfo.InvariantCulture, $"must be an integer in 1..{max}, got '{text}'")];
            return DefaultLimit;
        }

        if (take < 1 || take > max) Invalid("limit", string.Create(CultureInfo.InvariantCulture, $"must be in 1..{max}, got {take}"));
        return take;
    }

    /// <summary><c>from</c>: the first sequence number, an integer ≥ 1, 1 when absent.</summary>
    public long From(string? text)
    {
        long start = 1;
        if (text is not null && !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out start))
        {
            _malformed["from"] = [$"must be an integer ≥ 1 (the first sequence number), got '{text}'"];
            return 1;
        }

        if (start < 1) Invalid("from", string.Create(CultureInfo.InvariantCulture, $"must be ≥ 1, got {start}"));
        return start;
    }

    /// <summary>Records an invalid value of <paramref name="name"/> (the endpoint's own check); the first message kept.</summary>
    public void Invalid(string name, string message) => _invalid.TryAdd(name, [message]);

    /// <summary>The problem to answer (400 when a value is malformed, else 422 when one is invalid), or null.</summary>
    public IResult? Problem()
    {
        var (status, errors, kind) = _malformed.Count > 0 ? (400, _malformed, "malformed") : _invalid.Count > 0 ? (422, _invalid, "invalid") : (0, null, null);
        if (errors is null) return null;
        var p = ProblemTypes.Create(status, $"{request} has {kind} values: " + string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value[0]}")));
        p.Extensions["errors"] = errors;
        return Results.Problem(p);
    }

    /// <summary>Documents the named query parameters, read as text, as the integers they are (<c>from</c> int64, others int32).</summary>
    public static RouteHandlerBuilder AsIntegers(RouteHandlerBuilder endpoint, params string[] names) =>
        endpoint.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            foreach (var parameter in operation.Parameters ?? [])
            {
                if (parameter is Microsoft.OpenApi.OpenApiParameter p && names.Contains(p.Name, StringComparer.Ordinal))
                    p.Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.Integer, Format = p.Name == "from" ? "int64" : "int32" };
            }

            return Task.CompletedTask;
        });
}
