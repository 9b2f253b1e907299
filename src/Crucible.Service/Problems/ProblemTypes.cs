using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Crucible.Service.Problems;

/// <summary>
/// The stable <c>type</c> URIs of the service's problem details (RFC 9457), one per error class, and the writer that
/// turns every error response into <c>application/problem+json</c> with a <c>traceId</c> and no stack trace.
/// </summary>
public static class ProblemTypes
{
    /// <summary>The prefix of every type URI.</summary>
    public const string Prefix = "urn:crucible:problem:";

    /// <summary>400: the body is not JSON of the expected shape (syntax, types, duplicate or unknown members, depth).</summary>
    public const string Malformed = Prefix + "malformed-request";

    /// <summary>401: no API key, or a key the service does not know.</summary>
    public const string Unauthenticated = Prefix + "unauthenticated";

    /// <summary>403: the key lacks the scope the endpoint needs.</summary>
    public const string Forbidden = Prefix + "forbidden";

    /// <summary>404: no such resource or route.</summary>
    public const string NotFound = Prefix + "not-found";

    /// <summary>405: the route exists, the method does not.</summary>
    public const string MethodNotAllowed = Prefix + "method-not-allowed";

    /// <summary>409: a request with the same idempotency key is still being processed (with <c>Retry-After</c>: retrying later replays its answer).</summary>
    public const string InFlight = Prefix + "idempotency-in-flight";

    /// <summary>409: the training job has succeeded or failed, so it cannot be cancelled (retrying never succeeds: no <c>Retry-After</c>).</summary>
    public const string JobFinished = Prefix + "job-finished";

    /// <summary>413: the request body is larger than the limit.</summary>
    public const string TooLarge = Prefix + "payload-too-large";

    /// <summary>415: the body is not <c>application/json</c>.</summary>
    public const string UnsupportedMediaType = Prefix + "unsupported-media-type";

    /// <summary>406: the response cannot be given in a media type the client accepts.</summary>
    public const string NotAcceptable = Prefix + "not-acceptable";

    /// <summary>422: the request is well-formed but its values are invalid (each field and rule listed in <c>errors</c>).</summary>
    public const string Validation = Prefix + "validation";

    /// <summary>422: an idempotency key reused with a different request.</summary>
    public const string IdempotencyMismatch = Prefix + "idempotency-key-reused";

    /// <summary>429: the key's rate limit or the generation queue is full; <c>Retry-After</c> says when to retry.</summary>
    public const string RateLimited = Prefix + "rate-limited";

    /// <summary>503: a model failed its integrity check, or the service is not ready.</summary>
    public const string Unavailable = Prefix + "unavailable";

    /// <summary>503: the scenario request sampled longer than <c>GenerationTimeoutSeconds</c> and was stopped.</summary>
    public const string GenerationTimeout = Prefix + "generation-timeout";

    /// <summary>
    /// Not an answer (the client is gone): the audit status of a scenario request whose client disconnected while it was
    /// sampled (recorded with the nginx convention 499).
    /// </summary>
    public const string ClientClosed = Prefix + "client-closed";

    /// <summary>500: a bug; the <c>traceId</c> finds it in the logs.</summary>
    public const string Internal = Prefix + "internal";

    /// <summary>The <c>traceId</c> of a request's problem (the W3C id of its activity), which the service log names too.</summary>
    public static string TraceIdOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Activity.Current?.Id ?? context.TraceIdentifier;
    }

    /// <summary>The type of a bare status code.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => Malformed,
        401 => Unauthenticated,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        406 => NotAcceptable,
        409 => InFlight,
        413 => TooLarge,
        415 => UnsupportedMediaType,
        422 => Validation,
        429 => RateLimited,
        503 => Unavailable,
        >= 500 => Internal,
        _ => Prefix + "http-" + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The standard title of a status code.</summary>
    public static string TitleOf(int status) => status switch
    {
        400 => "Malformed request",
        401 => "Unauthenticated",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        406 => "Not acceptable",
        409 => "Conflict",
        413 => "Payload too large",
        415 => "Unsupported media type",
        422 => "Invalid request",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => ReasonPhrases(status),
    };

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } p ? p : "Error";

    /// <summary>A problem of <paramref name="status"/>, with <paramref name="type"/> defaulting to the status's type.</summary>
    public static ProblemDetails Create(int status, string detail, string? type = null, string? title = null) => new()
    {
        Status = status,
        Type = type ?? ForStatus(status),
        Title = title ?? TitleOf(status),
        Detail = detail,
    };

    /// <summary>Writes <paramref name="problem"/> as the response (status from the problem).</summary>
    public static Task WriteAsync(HttpContext context, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status ?? 500;
        return ProblemJsonWriter.Write(context, problem);
    }
}

/// <summary>
/// Writes every problem as <c>application/problem+json</c>, whatever the request's <c>Accept</c> (a CSV client still
/// gets a readable error), and completes it: the type from the status, the title, the instance (the request path) and
/// the <c>traceId</c>. Nothing of an exception reaches the body.
/// </summary>
internal sealed class ProblemJsonWriter : IProblemDetailsWriter
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context) => new(Write(context.HttpContext, context.ProblemDetails));

    public static Task Write(HttpContext context, ProblemDetails problem)
    {
        int status = problem.Status ?? context.Response.StatusCode;
        problem.Status = status;
        if (string.IsNullOrEmpty(problem.Type) || problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal)
            || problem.Type.StartsWith("https://datatracker.ietf.org/", StringComparison.Ordinal))
            problem.Type = ProblemTypes.ForStatus(status);
        if (status >= 500 && problem.Type == ProblemTypes.Internal)
        {
            problem.Title = ProblemTypes.TitleOf(status);
            problem.Detail = "an internal error occurred; quote the traceId when you report it";
        }

        problem.Title ??= ProblemTypes.TitleOf(status);
        if (string.IsNullOrEmpty(problem.Detail)) problem.Detail = DefaultDetail(status, context.Request);
        problem.Instance ??= context.Request.Path.Value;
        problem.Extensions["traceId"] = ProblemTypes.TraceIdOf(context);
        problem.Extensions.Remove("exception");
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(problem, Json), context.RequestAborted);
    }

    // the detail of a problem the framework raised without one (routing, content negotiation, parameter binding), so
    // every problem says what went wrong as the README promises
    private static string DefaultDetail(int status, HttpRequest request) => status switch
    {
        400 => "the request could not be read: a query, route or header value is not of the expected form",
        404 => $"nothing is served at {request.Path.Value} (GET /openapi/v1.json lists the API)",
        405 => $"{request.Method} is not allowed on {request.Path.Value}",
        406 => "the response cannot be given in a media type the Accept header allows",
        415 => "the body must be application/json",
        _ => ProblemTypes.TitleOf(status),
    };
}
