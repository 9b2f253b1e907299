using Microsoft.AspNetCore.Http;

namespace Crucible.Service.Security;

/// <summary>
/// The response headers every answer carries (OWASP Secure Headers; ASVS V14.4), set just before the headers are sent
/// so that answers the exception handler or the status-code pages rewrote carry them too:
/// <c>X-Content-Type-Options: nosniff</c> (a JSON or CSV body is never sniffed as HTML), <c>X-Frame-Options: DENY</c>
/// and the CSP's <c>frame-ancestors 'none'</c> (no page may frame the service: no click-jacking of the scenario page),
/// <c>Referrer-Policy: no-referrer</c>, and, for every answer but the page (which sets its own policy, see
/// <see cref="Web.WebPage"/>), <c>Content-Security-Policy: default-src 'none'; frame-ancestors 'none'</c>, so that a
/// body opened in a browser runs nothing. Answers under <c>/v1</c> hold a bank's data (scenarios, models, the audit
/// log) and carry <c>Cache-Control: no-store</c> unless they set their own. Kestrel sends no <c>Server</c> header
/// (<c>AddServerHeader = false</c>).
/// </summary>
public static class SecurityHeaders
{
    /// <summary>The policy of every answer that sets none itself: nothing may load, run or frame it.</summary>
    public const string ApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

    /// <summary>The middleware: registers the headers to add when the answer starts.</summary>
    public static Task Apply(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        context.Response.OnStarting(static state =>
        {
            var c = (HttpContext)state;
            var h = c.Response.Headers;
            h.XContentTypeOptions = "nosniff";
            h.XFrameOptions = "DENY";
            h["Referrer-Policy"] = "no-referrer";
            if (string.IsNullOrEmpty(h.ContentSecurityPolicy)) h.ContentSecurityPolicy = ApiContentSecurityPolicy;
            if (c.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal) && string.IsNullOrEmpty(h.CacheControl)) h.CacheControl = "no-store";
            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
