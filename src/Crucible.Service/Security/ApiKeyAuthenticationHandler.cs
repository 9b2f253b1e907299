using System.Security.Claims;
using System.Text.Encodings.Web;
using Crucible.Service.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Crucible.Service.Security;

/// <summary>
/// Authenticates the <c>X-Api-Key</c> header against the keys file as it is now (<see cref="ApiKeyFile"/>): the principal carries the key id
/// (<see cref="KeyIdClaim"/>) and one <see cref="ScopeClaim"/> per scope (all of them for <c>admin</c>). Challenges
/// answer 401 and forbidden requests 403, both as problem details; the key itself is never logged.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyFile keyFile)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string KeyIdClaim = "crucible:key_id";
    public const string ScopeClaim = "crucible:scope";
    public const string PolicyPrefix = "scope:";

    private bool _presented;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[0]))
            return Task.FromResult(AuthenticateResult.NoResult());
        _presented = true;
        if (values.Count > 1) return Task.FromResult(AuthenticateResult.Fail("more than one API key"));
        var key = keyFile.Current.Authenticate(values[0]);
        if (key is null) return Task.FromResult(AuthenticateResult.Fail("unknown API key"));
        var claims = new List<Claim> { new(KeyIdClaim, key.Id), new(ClaimTypes.Name, key.Id) };
        foreach (var scope in Scopes.All)
        {
            if (key.Allows(scope)) claims.Add(new Claim(ScopeClaim, scope));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{HeaderName}\"";
        var detail = _presented
            ? $"the {HeaderName} header does not hold a key this service knows"
            : $"this endpoint needs an API key in the {HeaderName} header";
        if (keyFile.Current.Count == 0) detail += " (the service was started without API keys: give --api-keys FILE)";
        return ProblemTypes.WriteAsync(Context, ProblemTypes.Create(StatusCodes.Status401Unauthorized, detail));
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var needed = Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>()
            .Select(a => a.Policy).Where(p => p is not null && p.StartsWith(PolicyPrefix, StringComparison.Ordinal))
            .Select(p => p![PolicyPrefix.Length..]).ToList() ?? [];
        var who = Context.User.FindFirst(KeyIdClaim)?.Value ?? "?";
        var detail = needed.Count > 0
            ? $"key '{who}' lacks the scope '{string.Join("', '", needed)}' that this endpoint needs"
            : $"key '{who}' may not use this endpoint";
        return ProblemTypes.WriteAsync(Context, ProblemTypes.Create(StatusCodes.Status403Forbidden, detail));
    }
}
