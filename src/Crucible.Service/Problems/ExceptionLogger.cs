using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Crucible.Service.Problems;

/// <summary>
/// Logs every exception that reaches the exception handler middleware, with the request's method, path and the
/// <c>traceId</c> its problem carries, then lets the handlers after it answer (it never handles one). Since ASP.NET Core
/// 10 the middleware records nothing for an exception an <see cref="IExceptionHandler"/> handled, so a 503 for a full
/// disk, an unreachable PostgreSQL store or a rotated audit key left only "Request finished … 503" in the log, and an
/// operator could not see why; and the framework's own line for a 500 does not show the <c>traceId</c> the client is
/// asked to quote. The framework's line is suppressed (<c>SuppressDiagnosticsCallback</c>): this one replaces it.
/// A request the client sent wrong (<see cref="BadHttpRequestException"/>: a 4xx) is logged at Information without a
/// stack trace; anything else at Error with it.
/// </summary>
internal sealed class ExceptionLogger(ILogger<ExceptionLogger> logger) : IExceptionHandler
{
    public ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var traceId = ProblemTypes.TraceIdOf(httpContext);
        var request = httpContext.Request;
        if (exception is BadHttpRequestException bad)
            logger.LogInformation("{Method} {Path} refused with {Status} (traceId {TraceId}): {Message}", request.Method, request.Path.Value, bad.StatusCode, traceId, bad.Message);
        else
            logger.LogError(exception, "{Method} {Path} failed (traceId {TraceId}): {Message}", request.Method, request.Path.Value, traceId, exception.Message);
        return ValueTask.FromResult(false);
    }
}
