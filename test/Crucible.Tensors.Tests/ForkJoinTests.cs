namespace Crucible.Tensors.Tests;

[Collection(nameof(Tests.Optim.EngineThreadsCollection))]
public class ForkJoinTests
{
    [Fact]
    public void EveryPartRunsOnce_ManyTimesOver()
    {
        using var limit = EngineThreads.Limit(4);
        for (int round = 0; round < 2000; round++)
        {
            int parts = 1 + (round % 9);
            var hits = new int[parts];
            ForkJoin.Run(parts, p => Interlocked.Increment(ref hits[p]));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void NestedAndConcurrentCalls_FallBack_AndStillRunEveryPart()
    {
        using var limit = EngineThreads.Limit(2);
        var total = 0;
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 100; i++)
            {
                ForkJoin.Run(3, _ => ForkJoin.Run(2, _ => Interlocked.Increment(ref total)));
            }
        });
        Assert.Equal(4 * 100 * 3 * 2, total);
    }

    [Fact]
    public void AnExceptionInAPart_ReachesTheCaller()
    {
        using var limit = EngineThreads.Limit(2);
        var e = Assert.Throws<AggregateException>(() => ForkJoin.Run(4, p =>
        {
            if (p == 3) throw new InvalidOperationException("part 3");
        }));
        Assert.Equal("part 3", e.InnerException!.Message);
        var ran = 0;
        ForkJoin.Run(4, _ => Interlocked.Increment(ref ran));    // the pool is usable afterwards
        Assert.Equal(4, ran);
    }
}
