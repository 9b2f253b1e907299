namespace Crucible.Diffusion.Tests;

/// <summary>
/// Tests that count a thread's allocations under <c>EngineThreads.Limit(1)</c> run alone: the limit is process-wide, so
/// a test class running beside them that sets or restores it sends their kernels through the fork-join (and, when the
/// workers are busy, through <c>Parallel.For</c>, about 1.5 KB a call), and the count then measures the neighbour.
/// </summary>
[CollectionDefinition(nameof(EngineThreadsCollection), DisableParallelization = true)]
public sealed class EngineThreadsCollection;
