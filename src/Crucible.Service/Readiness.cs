using System.Text.Json;
using Crucible.Governance.Audit;
using Crucible.Governance.Storage;
using Crucible.Service.Problems;
using Crucible.Service.Scenarios;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

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
        // the signing key rotated by another process (crucible audit rotate-key) since this one started: appends are refused
        if (log.KeyRotatedTo() is { } rotated)
            return Task.FromResult(HealthCheckResult.Unhealthy($"the audit log's signing key was rotated to {rotated}: restart the service with the new key"));
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

    /// <summary>
    /// Writes 200 as <c>{"status":"healthy"}</c> (or <c>"degraded"</c>, still 200, with what is wrong in <c>checks</c>)
    /// and 503 as a problem: <c>storage-full</c> when a store is full, else <c>unavailable</c>, naming each failed check.
    /// </summary>
    public static Task Write(HttpContext context, HealthReport report)
    {
        if (report.Status != HealthStatus.Unhealthy)
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(JsonSerializer.Serialize(new
            {
                status = report.Status == HealthStatus.Healthy ? "healthy" : "degraded",
                checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Description),
            }));
        }

        var failed = report.Entries.Where(e => e.Value.Status == HealthStatus.Unhealthy).ToList();
        // a check that threw (a store that did not answer in time) is named, its exception's text stays in the log
        var detail = string.Join("; ", failed.Select(e => e.Value.Exception is not null ? $"{e.Key}: the check failed with an error (see the service log)" : e.Value.Description ?? e.Key + ": unhealthy"));
        bool full = failed.Any(e => e.Value.Data.TryGetValue(StorageReadinessCheck.StateKey, out var state) && state is StorageState.Full);
        var problem = ProblemTypes.Create(503, "not ready: " + detail, full ? StorageFullHandler.Type : null, full ? "Storage full" : null);
        if (full) context.Response.Headers.RetryAfter = "60";
        return ProblemTypes.WriteAsync(context, problem);
    }
}

/// <summary>
/// Readiness's storage probe (RELIABILITY.md SVC-6, SVC-10), run on every call since it is cheap: the audit log's
/// database, the idempotency store and (home store) the training jobs' <c>jobs.db</c> must each grant the write lock within
/// <see cref="ServiceOptions.ReadinessLockWaitMilliseconds"/> and, for SQLite, have at least
/// <see cref="ServiceOptions.ReadinessMinFreeBytes"/> of room (under the file's page quota and on its disk). A write in a
/// transaction that is rolled back: nothing is written. A locked database or a full disk is 503.
/// </summary>
internal sealed class StorageReadinessCheck(AuditLog log, IIdempotencyStore idempotency, Training.TrainingJobs jobs, StoreLocation store,
    IOptions<ServiceOptions> settings) : IHealthCheck
{
    /// <summary>The key of the <see cref="StorageState"/> of the worst store in the result's data.</summary>
    public const string StateKey = "state";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var o = settings.Value;
        var wait = TimeSpan.FromMilliseconds(o.ReadinessLockWaitMilliseconds);
        var audit = log.DatabasePath is { } path
            ? StorageProbe.SqliteFile("audit", path, wait, o.ReadinessMinFreeBytes)
            : StorageProbe.PostgresTable("audit (postgres)", () =>
            {
                var c = new Npgsql.NpgsqlConnection(store.Value);
                c.Open();
                return c;
            }, "audit_entry", wait);
        var probes = new[] { audit, idempotency.Probe(wait, o.ReadinessMinFreeBytes), jobs.Probe(wait, o.ReadinessMinFreeBytes) }.OfType<StorageHealth>().ToList();
        var bad = probes.Where(p => !p.Ok).ToList();
        if (bad.Count == 0) return Task.FromResult(HealthCheckResult.Healthy(string.Join("; ", probes.Select(p => p.Detail))));
        var worst = bad.Any(p => p.State == StorageState.Full) ? StorageState.Full : bad[0].State;
        return Task.FromResult(HealthCheckResult.Unhealthy(string.Join("; ", bad.Select(p => p.Detail)),
            data: new Dictionary<string, object> { [StateKey] = worst }));
    }
}

/// <summary>
/// The models that failed their integrity check when last loaded (SVC-9): readiness stays 200 but reports
/// <c>"degraded"</c> and names them. Each such model answers 503 on every request, never a fallback; the others serve.
/// One bad model does not take the service out of the load balancer: every replica reads the same registry, so a 503
/// here would take every healthy model down with it.
/// </summary>
internal sealed class ModelReadinessCheck(ModelCatalog catalog) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failed = catalog.Failed.OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
        return Task.FromResult(failed.Count == 0
            ? HealthCheckResult.Healthy("no model has failed its integrity check")
            : HealthCheckResult.Degraded(string.Join("; ", failed.Select(f => f.Value))));
    }
}
