using System.Collections.Concurrent;

namespace Crucible.Service.Scenarios;

/// <summary>A stored response, replayed byte for byte.</summary>
/// <param name="Status">The status code.</param>
/// <param name="ContentType">The content type.</param>
/// <param name="Body">The body bytes.</param>
/// <param name="Headers">Extra response headers (audit seq, hashes).</param>
public sealed record StoredResponse(int Status, string ContentType, byte[] Body, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>What <see cref="IdempotencyStore.Begin"/> decided.</summary>
public enum IdempotencyOutcome
{
    /// <summary>A new key: process the request, then <see cref="IdempotencyStore.Complete"/> or <see cref="IdempotencyStore.Abandon"/>.</summary>
    Proceed,

    /// <summary>The key was used for the same request: replay the stored response.</summary>
    Replay,

    /// <summary>The key was used for a different request (422).</summary>
    Mismatch,

    /// <summary>The first request with this key is still running (409).</summary>
    InFlight,
}

/// <summary>
/// Idempotency keys for scenario requests (draft-ietf-httpapi-idempotency-key-header, RELIABILITY.md SVC-5), scoped to
/// the API key that sent them. The store keeps a fingerprint (SHA-256 of the request's <c>Accept</c> and body) and,
/// once the request succeeded, the response bytes, for the retention window and up to a capacity (oldest dropped).
/// A failed request is forgotten, so the client may retry it with the same key. The store is in memory: a restart or
/// another replica does not see it (see the report's PostgreSQL note).
/// </summary>
public sealed class IdempotencyStore(TimeProvider clock, TimeSpan retention, int capacity)
{
    private sealed record Entry(string Fingerprint, DateTimeOffset Created, StoredResponse? Response);

    private readonly ConcurrentDictionary<(string Client, string Key), Entry> _entries = new();
    private readonly Lock _trim = new();

    /// <summary>The entries held (in flight and stored).</summary>
    public int Count => _entries.Count;

    /// <summary>Claims <paramref name="key"/> for <paramref name="client"/>, or tells why not.</summary>
    public (IdempotencyOutcome Outcome, StoredResponse? Response) Begin(string client, string key, string fingerprint)
    {
        var now = clock.GetUtcNow();
        var id = (client, key);
        while (true)
        {
            var fresh = new Entry(fingerprint, now, null);
            if (_entries.TryAdd(id, fresh))
            {
                Trim(now);
                return (IdempotencyOutcome.Proceed, null);
            }

            if (!_entries.TryGetValue(id, out var existing)) continue;
            if (existing.Response is not null && now - existing.Created > retention)
            {
                _entries.TryRemove(new KeyValuePair<(string, string), Entry>(id, existing));
                continue;
            }

            if (!string.Equals(existing.Fingerprint, fingerprint, StringComparison.Ordinal)) return (IdempotencyOutcome.Mismatch, null);
            return existing.Response is null ? (IdempotencyOutcome.InFlight, null) : (IdempotencyOutcome.Replay, existing.Response);
        }
    }

    /// <summary>Stores the response of a request that <see cref="Begin"/> let proceed.</summary>
    public void Complete(string client, string key, StoredResponse response)
    {
        var id = (client, key);
        if (_entries.TryGetValue(id, out var e)) _entries[id] = e with { Response = response, Created = clock.GetUtcNow() };
    }

    /// <summary>Forgets a request that failed, so that it may be retried with the same key.</summary>
    public void Abandon(string client, string key) => _entries.TryRemove((client, key), out _);

    private void Trim(DateTimeOffset now)
    {
        if (_entries.Count <= capacity) return;
        lock (_trim)
        {
            foreach (var (k, e) in _entries)
            {
                if (e.Response is not null && now - e.Created > retention) _entries.TryRemove(k, out _);
            }

            if (_entries.Count <= capacity) return;
            foreach (var (k, _) in _entries.Where(p => p.Value.Response is not null).OrderBy(p => p.Value.Created).Take(_entries.Count - capacity).ToList())
                _entries.TryRemove(k, out _);
        }
    }
}
