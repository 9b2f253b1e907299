using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Crucible.Service.Web;

/// <summary>
/// <c>GET /</c>: one self-contained page (HTML, inline CSS and JavaScript, embedded in the assembly; nothing fetched
/// from elsewhere) that lists the models, sets a sequence model's conditions, stress preset, guidance and regime guidance
/// (starting at the model's defaults and sent only when changed) and the sampler, calls <c>POST /v1/scenarios</c> with
/// the key typed in, and draws the portfolio fan chart, the correlation heatmap, the VaR/ES table and what the answer
/// says it used. The page itself needs no key; every call it makes does.
/// </summary>
public static class WebPage
{
    /// <summary>The embedded resource's logical name.</summary>
    public const string ResourceName = "Crucible.Service.Web.index.html";

    private static readonly Lazy<byte[]> Html = new(() =>
    {
        using var stream = typeof(WebPage).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded resource {ResourceName} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>The page's bytes (UTF-8).</summary>
    public static ReadOnlyMemory<byte> Bytes => Html.Value;

    /// <summary>Maps <c>GET /</c>.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext context) =>
            {
                context.Response.Headers.CacheControl = "no-cache";
                context.Response.Headers["Content-Security-Policy"] =
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
                context.Response.Headers.XContentTypeOptions = "nosniff";
                return Results.Bytes(Html.Value, "text/html; charset=utf-8");
            })
            .AllowAnonymous()
            .ExcludeFromDescription();
    }
}
