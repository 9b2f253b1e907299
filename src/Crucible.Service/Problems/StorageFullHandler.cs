using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace Crucible.Service.Problems;

/// <summary>
/// Disk full (RELIABILITY.md SVC-10): SQLite's SQLITE_FULL (13) from the audit log, registry or idempotency store, and
/// ENOSPC from a file write, answer 503 <c>urn:crucible:problem:storage-full</c> instead of a 500. Nothing partial is
/// left: the audit append is one transaction (a run's entries and manifest together) and files are written to a
/// temporary name and renamed.
/// </summary>
internal sealed class StorageFullHandler : IExceptionHandler
{
    /// <summary>The problem type.</summary>
    public const string Type = ProblemTypes.Prefix + "storage-full";

    private const int SqliteFull = 13;
    private const int Enospc = 28;

    public static bool IsStorageFull(Exception e) => e switch
    {
        SqliteException s => s.SqliteErrorCode == SqliteFull,
        Npgsql.PostgresException p => p.SqlState == "53100", // disk_full, on the shared PostgreSQL store
        IOException io => (io.HResult & 0xFFFF) == Enospc || io.Message.Contains("No space left on device", StringComparison.Ordinal),
        _ => e.InnerException is { } inner && IsStorageFull(inner),
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsStorageFull(exception)) return false;
        await WriteIncompleteAsync(httpContext, "60", "the service's storage is full", Type, "Storage full").ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// A 503 for a request the store failed (this handler's and <see cref="StoreUnavailableHandler"/>'s): Retry-After
    /// <paramref name="retryAfter"/> seconds, the detail <paramref name="cause"/> and what became of the run, which is
    /// recorded whole or not at all.
    /// </summary>
    internal static Task WriteIncompleteAsync(HttpContext httpContext, string retryAfter, string cause, string type, string? title = null)
    {
        httpContext.Response.Headers.RetryAfter = retryAfter;
        return ProblemTypes.WriteAsync(httpContext, ProblemTypes.Create(503,
            cause + "; the request did not complete. A run is recorded whole or not at all (its audit entries and manifest are one transaction); " +
            "one recorded before the failure (e.g. whose answer could not be kept under its Idempotency-Key) is in the audit log, unanswered", type, title));
    }
}
