using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Crucible.Service.Problems;

/// <summary>
/// The shared PostgreSQL store out of reach (<c>--store postgres:…</c>): a network error, a timeout, a transient server
/// error (Npgsql's <see cref="NpgsqlException.IsTransient"/>) or the server shutting down or restarting (57P01..57P03)
/// answers 503 <c>urn:crucible:problem:unavailable</c> with <c>Retry-After</c> instead of a 500. Nothing partial is left:
/// every write is one transaction, rolled back by the server when its connection is lost. The connection pool drops
/// broken connections, so requests after the database is back succeed without a restart of the service. A full disk
/// (53100) is <see cref="StorageFullHandler"/>'s.
/// </summary>
internal sealed class StoreUnavailableHandler : IExceptionHandler
{
    public static bool IsStoreUnavailable(Exception e) => e switch
    {
        PostgresException p => p.IsTransient || p.SqlState is "57P01" or "57P02" or "57P03",
        NpgsqlException => true, // not a server answer: the network, a timeout, a broken connection
        _ => e.InnerException is { } inner && IsStoreUnavailable(inner),
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsStoreUnavailable(exception)) return false;
        await StorageFullHandler.WriteIncompleteAsync(httpContext, "5", "the shared store cannot be reached right now", ProblemTypes.Unavailable).ConfigureAwait(false);
        return true;
    }
}
