using Crucible.Data;
using Crucible.Governance.Audit;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Crucible.Service.Problems;

/// <summary>
/// An append refused because the audit log's signing key was rotated after the service started (it still holds the
/// retired key, and would sign checkpoints that no longer verify): 503 <c>urn:crucible:problem:unavailable</c> naming the
/// new key id, instead of a 500. Nothing was appended (the refusal is inside the append's transaction); readiness is
/// unhealthy until the service is restarted with the new key.
/// </summary>
internal sealed class AuditKeyRotatedHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not InvalidInputException { Rule: AuditLog.KeyRule } refused) return false;
        await StorageFullHandler.WriteIncompleteAsync(httpContext, "60", refused.Message, ProblemTypes.Unavailable).ConfigureAwait(false);
        return true;
    }
}
