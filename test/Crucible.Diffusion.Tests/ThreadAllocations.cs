namespace Crucible.Diffusion.Tests;

/// <summary>
/// Counts the bytes this thread allocates (<see cref="GC.GetAllocatedBytesForCurrentThread"/>): under
/// <c>EngineThreads.Limit(1)</c> every allocation of the engine's kernels is on it (<see cref="EngineThreadsCollection"/>).
/// </summary>
internal static class ThreadAllocations
{
    /// <summary>The bytes one call of <paramref name="action"/> allocates.</summary>
    public static long Of(Action action) => PerCall(action, calls: 1);

    /// <summary>The bytes a call of <paramref name="action"/> allocates, averaged over <paramref name="calls"/> calls.</summary>
    public static long PerCall(Action action, int calls)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) action();
        return (GC.GetAllocatedBytesForCurrentThread() - before) / calls;
    }
}
