using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Crucible.Governance.Audit;
using Crucible.Service.Scenarios;
using Crucible.Service.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Crucible.Service.Metrics;

/// <summary>
/// The service's metrics, answered by <c>GET /metrics</c> in the Prometheus text exposition format 0.0.4 (written here,
/// no package): requests by method, route template and status class, their duration histogram, requests in flight, generation requests in
/// flight and waiting for a slot, training jobs by state (read from the job store at each scrape), the audit log's
/// appends and failed appends (this process's, since it started) and readiness. Counters only grow while the process
/// lives; a restart starts them at 0, which Prometheus's <c>rate()</c> reads as a counter reset.
/// </summary>
public sealed class ServiceMetrics
{
    /// <summary>The content type of the exposition format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The duration histogram's upper bounds, in seconds (and <c>+Inf</c>).</summary>
    public static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private const string Unmatched = "unmatched";
    private readonly ConcurrentDictionary<(string Method, string Route, string Status), long[]> _requests = new();
    private readonly ConcurrentDictionary<(string Method, string Route), Histogram> _durations = new();
    private readonly GenerationSlots _slots;
    private long _requestsInFlight;

    private sealed class Histogram
    {
        public readonly Lock Gate = new();
        public readonly long[] Counts = new long[Buckets.Length];
        public long Count;
        public double Sum;
    }

    /// <summary>The metrics of a service whose generation slots are <paramref name="slots"/>.</summary>
    public ServiceMetrics(GenerationSlots slots) => _slots = slots ?? throw new ArgumentNullException(nameof(slots));

    /// <summary>Generation requests (scenario, evaluation, ensemble) holding a generation slot now.</summary>
    public long GenerationsInFlight => _slots.InFlight;

    /// <summary>Generation requests waiting for a slot now.</summary>
    public long GenerationsWaiting => _slots.Waiting;

    /// <summary>
    /// Requests that have reached the service's middleware and are not answered yet (a request whose body is still
    /// arriving included; the scrape that reads this counts itself).
    /// </summary>
    public long RequestsInFlight => Interlocked.Read(ref _requestsInFlight);

    /// <summary>
    /// The middleware that counts every request once it is answered, under its endpoint's route template (a path that
    /// matched no route counts as <c>unmatched</c>, so that random paths cannot grow the series without bound); an
    /// exception that escapes counts as a 5xx. Goes after routing.
    /// </summary>
    public async Task Track(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        long start = Stopwatch.GetTimestamp();
        bool threw = false;
        Interlocked.Increment(ref _requestsInFlight);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            threw = true;
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _requestsInFlight);
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? Unmatched;
            if (route.Length == 0 || route[0] != '/') route = "/" + route;
            if (context.GetEndpoint() is null) route = Unmatched;
            var method = context.Request.Method is "GET" or "POST" or "PUT" or "DELETE" or "HEAD" or "OPTIONS" or "PATCH" ? context.Request.Method : "OTHER";
            var status = threw ? "5xx" : (context.Response.StatusCode / 100).ToString(CultureInfo.InvariantCulture) + "xx";
            Interlocked.Increment(ref _requests.GetOrAdd((method, route, status), _ => new long[1])[0]);
            var h = _durations.GetOrAdd((method, route), _ => new Histogram());
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            lock (h.Gate)
            {
                for (int i = 0; i < Buckets.Length; i++)
                {
                    if (seconds <= Buckets[i]) h.Counts[i]++;
                }

                h.Count++;
                h.Sum += seconds;
            }
        }
    }

    /// <summary>The exposition of every metric (readiness and the job counts are read now).</summary>
    public async Task<string> RenderAsync(TrainingJobs jobs, AuditLog audit, HealthCheckService health, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentNullException.ThrowIfNull(audit);
        ArgumentNullException.ThrowIfNull(health);
        ArgumentNullException.ThrowIfNull(logger);
        var o = new StringBuilder();
        Family(o, "crucible_http_requests_total", "counter", "HTTP requests answered, by method, route template (unmatched: no route) and status class.");
        foreach (var ((method, route, status), n) in _requests.OrderBy(e => e.Key.Route, StringComparer.Ordinal).ThenBy(e => e.Key.Method, StringComparer.Ordinal).ThenBy(e => e.Key.Status, StringComparer.Ordinal))
            Sample(o, "crucible_http_requests_total", [("method", method), ("route", route), ("status", status)], Interlocked.Read(ref n[0]));

        Family(o, "crucible_http_request_duration_seconds", "histogram", "Time from a request's arrival at the service's middleware to its answer, in seconds.");
        foreach (var ((method, route), h) in _durations.OrderBy(e => e.Key.Route, StringComparer.Ordinal).ThenBy(e => e.Key.Method, StringComparer.Ordinal))
        {
            long[] counts;
            long count;
            double sum;
            lock (h.Gate) (counts, count, sum) = ((long[])h.Counts.Clone(), h.Count, h.Sum);
            (string, string)[] labels = [("method", method), ("route", route)];
            for (int i = 0; i < Buckets.Length; i++)
                Sample(o, "crucible_http_request_duration_seconds_bucket", [.. labels, ("le", Number(Buckets[i]))], counts[i]);
            Sample(o, "crucible_http_request_duration_seconds_bucket", [.. labels, ("le", "+Inf")], count);
            Sample(o, "crucible_http_request_duration_seconds_sum", labels, sum);
            Sample(o, "crucible_http_request_duration_seconds_count", labels, count);
        }

        Family(o, "crucible_http_requests_in_flight", "gauge", "HTTP requests that reached the service's middleware and are not answered yet (this scrape included).");
        Sample(o, "crucible_http_requests_in_flight", [], RequestsInFlight);

        Family(o, "crucible_generations_in_flight", "gauge", "Generation requests (scenarios, evaluations, ensembles) holding a generation slot.");
        Sample(o, "crucible_generations_in_flight", [], GenerationsInFlight);
        Family(o, "crucible_generations_queued", "gauge", "Generation requests waiting for a generation slot.");
        Sample(o, "crucible_generations_queued", [], GenerationsWaiting);

        Family(o, "crucible_training_jobs", "gauge", "Training jobs in the job store, by state (every replica's on a shared store).");
        try
        {
            foreach (var (state, n) in jobs.CountByStatus()) Sample(o, "crucible_training_jobs", [("state", state.WireName())], n);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException or InvalidOperationException)
        {
            logger.LogWarning("metrics: cannot count the training jobs: {Message}", e.Message); // the family is left without samples
        }

        Family(o, "crucible_audit_appends_total", "counter", "Audit log entries this process appended since it started.");
        Sample(o, "crucible_audit_appends_total", [], audit.AppendedEntries);
        Family(o, "crucible_audit_append_failures_total", "counter", "Audit appends this process tried since it started that failed and wrote nothing.");
        Sample(o, "crucible_audit_append_failures_total", [], audit.FailedAppends);

        var report = await health.CheckHealthAsync(c => c.Tags.Contains("ready"), ct).ConfigureAwait(false);
        Family(o, "crucible_ready", "gauge", "1 when GET /health/ready answers 200 (healthy or degraded), else 0.");
        Sample(o, "crucible_ready", [], report.Status == HealthStatus.Unhealthy ? 0 : 1);
        return o.ToString();
    }

    private static void Family(StringBuilder o, string name, string type, string help)
    {
        o.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        o.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void Sample(StringBuilder o, string name, (string Name, string Value)[] labels, double value)
    {
        o.Append(name);
        if (labels.Length > 0)
        {
            o.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0) o.Append(',');
                o.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }

            o.Append('}');
        }

        o.Append(' ').Append(Number(value)).Append('\n');
    }

    /// <summary>A label value escaped as the format asks: backslash, double quote and line feed.</summary>
    public static string Escape(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    private static string Number(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Maps <c>GET /metrics</c> (scope <c>read</c>).</summary>
    public static void Map(WebApplication app, string policy)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/metrics", async (HttpContext context, ServiceMetrics metrics, TrainingJobs jobs, AuditLog audit, HealthCheckService health, ILoggerFactory loggers) =>
            {
                var text = await metrics.RenderAsync(jobs, audit, health, loggers.CreateLogger("Crucible.Service.Metrics"), context.RequestAborted).ConfigureAwait(false);
                return Results.Text(text, ContentType, Encoding.UTF8);
            })
            .RequireAuthorization(policy)
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithName("Metrics")
            .WithSummary("Prometheus text exposition 0.0.4: requests by route and status class, request durations, generations in flight and queued, training jobs by state, audit appends and failures, readiness");
    }
}
