using System.Globalization;
using Crucible.Service.Scenarios;

namespace Crucible.Service.Tests;

/// <summary>A clock the tests move by hand.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// The rules every <see cref="IIdempotencyStore"/> keeps (SVC-5), checked on two instances over one store (two service
/// processes on one home, or two replicas on one database), both made with retention 10 min, capacity 3 and lease 1 min
/// on <paramref name="clock"/>.
/// </summary>
internal static class IdempotencyStoreContract
{
    public static void Check(IIdempotencyStore store, IIdempotencyStore other, ManualClock clock)
    {
        Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", "k", "f1").Outcome);
        Assert.Equal(IdempotencyOutcome.InFlight, store.Begin("c", "k", "f1").Outcome);
        Assert.Equal(IdempotencyOutcome.InFlight, other.Begin("c", "k", "f1").Outcome);
        Assert.Equal(IdempotencyOutcome.Mismatch, other.Begin("c", "k", "f2").Outcome);
        Assert.Equal(IdempotencyOutcome.Proceed, other.Begin("other-client", "k", "f2").Outcome);
        var response = new StoredResponse(200, "text/csv", [1, 2, 3], [new("X-Crucible-Audit-Seq", "7")]);
        store.Complete("c", "k", response);
        var (outcome, stored) = other.Begin("c", "k", "f1");
        Assert.Equal(IdempotencyOutcome.Replay, outcome);
        Assert.Equal(response.Body, stored!.Body);
        Assert.Equal(response.Headers, stored.Headers);
        Assert.Equal("text/csv", stored.ContentType);

        // a failed request is forgotten; a stored one is not abandoned by mistake
        Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", "failed", "f").Outcome);
        store.Abandon("c", "failed");
        Assert.Equal(IdempotencyOutcome.Proceed, other.Begin("c", "failed", "f").Outcome);
        store.Abandon("c", "k");
        Assert.Equal(IdempotencyOutcome.Replay, store.Begin("c", "k", "f1").Outcome);

        // a lease that ran out (a process died mid-request) frees the key; retention frees a stored one
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", "failed", "f-new").Outcome);
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", "k", "f9").Outcome);

        // capacity: the oldest stored responses go first
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", $"n{i}", "f").Outcome);
            store.Complete("c", $"n{i}", response);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", "last", "f").Outcome);
        Assert.True(store.Count <= 4, store.Count.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(IdempotencyOutcome.Replay, other.Begin("c", "n4", "f").Outcome);
        Assert.Equal(IdempotencyOutcome.Proceed, other.Begin("c", "n0", "f").Outcome);
    }
}
