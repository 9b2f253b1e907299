namespace Crucible.Tensors;

/// <summary>
/// The engine's fork-join: runs the parts of one kernel call on the caller and on persistent worker threads, with a
/// start-up of about a microsecond and no allocation (<see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>
/// costs 5–20 µs and about 1.5 KB per call, which adds up over the 20–40 parallel kernels of a training step).
/// </summary>
/// <remarks>
/// Workers spin briefly after each job, then sleep on a semaphore. One job runs at a time: a call made while the
/// workers are busy (a nested call, or a second thread such as a sampler's) runs through
/// <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> instead. Parts must not depend on async-local
/// state (<see cref="GradMode"/>, <see cref="TensorArena.Current"/>): workers do not inherit the caller's context.
/// Which thread runs which part never affects results, as every part computes a fixed range.
/// </remarks>
internal static class ForkJoin
{
    private const int SpinIterations = 64;

    private static readonly Lock Gate = new();
    private static readonly SemaphoreSlim Wake = new(0);
    private static readonly Job Current = new();
    private static Thread[]? _workers;
    private static int _busy;
    private static int _generation;
    private static int _sleeping;

    /// <summary>
    /// Runs <paramref name="body"/>(0 … parts − 1), part by part on at most <see cref="EngineThreads.MaxDegreeOfParallelism"/>
    /// threads (the caller included).
    /// </summary>
    public static void Run(int parts, Action<int> body)
    {
        int threads = Math.Min(parts, EngineThreads.MaxDegreeOfParallelism);
        if (parts <= 1)
        {
            if (parts == 1) body(0);
            return;
        }

        if (Environment.ProcessorCount < 2 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, body);
            return;
        }

        try
        {
            EnsureWorkers();
            var job = Current;
            int generation = _generation + 1;
            job.Publish(generation, body, parts, threads);
            Interlocked.Exchange(ref _generation, generation);
            int sleeping = Volatile.Read(ref _sleeping);
            if (sleeping > 0 && threads > 1) Wake.Release(Math.Min(sleeping, threads - 1));

            job.Work();
            var spinner = default(SpinWait);
            while (Volatile.Read(ref job.Pending) > 0) spinner.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref job.Body, null);
            if (job.Error is { } error) throw new AggregateException(error);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private static void EnsureWorkers()
    {
        if (Volatile.Read(ref _workers) is not null) return;
        lock (Gate)
        {
            if (_workers is not null) return;
            var workers = new Thread[Math.Clamp(Environment.ProcessorCount - 1, 1, 63)];
            for (int i = 0; i < workers.Length; i++)
            {
                workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"Crucible engine worker {i + 1}" };
                workers[i].Start();
            }

            Volatile.Write(ref _workers, workers);
        }
    }

    private static void WorkerLoop()
    {
        int seen = Volatile.Read(ref _generation);
        while (true)
        {
            // wait for the next job: spin a little, then sleep (a job started meanwhile is seen before sleeping)
            var spinner = default(SpinWait);
            while (Volatile.Read(ref _generation) == seen)
            {
                if (spinner.Count < SpinIterations)
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                Interlocked.Increment(ref _sleeping);
                if (Volatile.Read(ref _generation) == seen) Wake.Wait();
                Interlocked.Decrement(ref _sleeping);
                spinner = default;
            }

            seen = Volatile.Read(ref _generation);
            Current.Work();
        }
    }

    private sealed class Job
    {
        public Action<int>? Body;
        public int Pending;
        public Exception? Error;
        private int _parts;
        private int _seats;     // threads that may still join
        private int _generation;
        private long _next;     // generation << 32 | parts claimed so far

        /// <summary>
        /// Sets up job <paramref name="generation"/>. Its generation is written first, so a worker still claiming from
        /// the previous job finds a mismatch and runs nothing of this one with a stale claim.
        /// </summary>
        public void Publish(int generation, Action<int> body, int parts, int threads)
        {
            Volatile.Write(ref _generation, generation);
            Volatile.Write(ref Body, body);
            Volatile.Write(ref _parts, parts);
            Volatile.Write(ref _seats, threads);
            Error = null;
            Volatile.Write(ref Pending, parts);
            Interlocked.Exchange(ref _next, (long)generation << 32);
        }

        /// <summary>Takes a seat (at most the job's thread count join), then claims and runs parts until none is left.</summary>
        public void Work()
        {
            if (Interlocked.Decrement(ref _seats) < 0) return;
            while (true)
            {
                long claim = Interlocked.Increment(ref _next);
                int part = (int)(claim & 0xFFFF_FFFF) - 1;
                var body = Volatile.Read(ref Body);
                int parts = Volatile.Read(ref _parts);
                if (Volatile.Read(ref _generation) != (int)(claim >> 32) || part >= parts || body is null) return;
                try
                {
                    body(part);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref Error, e, null);
                }
                finally
                {
                    Interlocked.Decrement(ref Pending);
                }
            }
        }
    }
}
