using System.Text.Json;
using Crucible.Governance.Audit;
using Crucible.Service.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Crucible.Service;

/// <summary>
/// Readiness (RELIABILITY.md SVC-6): not ready while the service is stopping, or when the audit log of the home does
/// not verify, in SQLite or PostgreSQL (checked at start and again on each probe at most every <see cref="RecheckInterval"/>).
/// </summary>
internal sealed class ReadinessCheck(AuditLog log, IHostApplicationLifetime lifetime, TimeProvider clock) : IHealthCheck
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private (DateTimeOffset At, AuditVerification Result)? _last;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested) return Task.FromResult(HealthCheckResult.Unhealthy("the service is stopping"));
        _ = log.Count; // the database answers
        AuditVerification v;
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            if (_last is not { } last || now - last.At > RecheckInterval) _last = (now, log.VerifyStored());
            v = _last.Value.Result;
        }

        return Task.FromResult(v.Ok
            ? HealthCheckResult.Healthy($"audit log verified ({v.Entries} entries)")
            : HealthCheckResult.Unhealthy("the audit log does not verify: " + v.Message));
    }

    /// <summary>Writes 200 as <c>{"status":"healthy"}</c> and 503 as a problem.</summary>
    public static Task Write(HttpContext context, HealthReport report)
    {
        if (report.Status == HealthStatus.Healthy)
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                status = "healthy",
                checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Description),
            }));
        }

        var detail = string.Join("; ", report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy)
            .Select(e => e.Value.Description ?? e.Value.Exception?.GetType().Name ?? "unhealthy"));
        return ProblemTypes.WriteAsync(context, ProblemTypes.Create(503, "not ready: " + detail));
    }
}
