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
        var claim = store.Begin("c", "k", "f1");
        Assert.Equal(IdempotencyOutcome.Proceed, claim.Outcome);
        Assert.Equal(IdempotencyOutcome.InFlight, store.Begin("c", "k", "f1").Outcome);
        Assert.Equal(IdempotencyOutcome.InFlight, other.Begin("c", "k", "f1").Outcome);
        Assert.Equal(IdempotencyOutcome.Mismatch, other.Begin("c", "k", "f2").Outcome);
        Assert.Equal(IdempotencyOutcome.Proceed, other.Begin("other-client", "k", "f2").Outcome);
        var response = new StoredResponse(200, "text/csv", [1, 2, 3], [new("X-Crucible-Audit-Seq", "7")]);
        store.Complete("c", "k", claim.Claim, response);
        var (outcome, stored) = other.Begin("c", "k", "f1");
        Assert.Equal(IdempotencyOutcome.Replay, outcome);
        Assert.Equal(response.Body, stored!.Body);
        Assert.Equal(response.Headers, stored.Headers);
        Assert.Equal("text/csv", stored.ContentType);

        // a failed request is forgotten; a stored one is not abandoned by mistake
        var failed = store.Begin("c", "failed", "f");
        Assert.Equal(IdempotencyOutcome.Proceed, failed.Outcome);
        store.Abandon("c", "failed", failed.Claim);
        Assert.Equal(IdempotencyOutcome.Proceed, other.Begin("c", "failed", "f").Outcome);
        store.Abandon("c", "k", claim.Claim);
        Assert.Equal(IdempotencyOutcome.Replay, store.Begin("c", "k", "f1").Outcome);

        // a lease that ran out (a process died mid-request) frees the key; retention frees a stored one
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", "failed", "f-new").Outcome);
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", "k", "f9").Outcome);

        // capacity: the oldest stored responses go first
        for (int i = 0; i < 5; i++)
        {
            var n = store.Begin("c", $"n{i}", "f");
            Assert.Equal(IdempotencyOutcome.Proceed, n.Outcome);
            store.Complete("c", $"n{i}", n.Claim, response);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(IdempotencyOutcome.Proceed, store.Begin("c", "last", "f").Outcome);
        Assert.True(store.Count <= 4, store.Count.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(IdempotencyOutcome.Replay, other.Begin("c", "n4", "f").Outcome);
        Assert.Equal(IdempotencyOutcome.Proceed, other.Begin("c", "n0", "f").Outcome);

        // a request that outlived its lease (it waited that long for a generation slot) while a retry claimed the key again:
        // its late Complete or Abandon leaves the retry's claim alone, and the key answers the retry's bytes for good (the
        // late Complete stored the first request's answer under the retry's claim, whose own Complete then replaced it;
        // a late Abandon deleted the retry's claim, so a third request generated beside it)
        var late = new StoredResponse(200, "text/csv", [4], []);
        var retry = new StoredResponse(200, "text/csv", [5], []);
        var first = store.Begin("c", "slow", "f");
        Assert.Equal(IdempotencyOutcome.Proceed, first.Outcome);
        clock.Advance(TimeSpan.FromMinutes(2));
        var second = other.Begin("c", "slow", "f");
        Assert.Equal(IdempotencyOutcome.Proceed, second.Outcome);
        store.Complete("c", "slow", first.Claim, late);
        store.Abandon("c", "slow", first.Claim);
        Assert.Equal(IdempotencyOutcome.InFlight, store.Begin("c", "slow", "f").Outcome);
        other.Complete("c", "slow", second.Claim, retry);
        var (again, answer) = store.Begin("c", "slow", "f");
        Assert.Equal(IdempotencyOutcome.Replay, again);
        Assert.Equal(retry.Body, answer!.Body);
    }
}
