namespace Crucible.Tensors;

/// <summary>
/// The process-wide thread budget of the engine's parallel kernels (the GEMMs, which split C by rows or columns above
/// <see cref="Kernels.Kernels.ParallelThreshold"/>, and the large elementwise passes of the fused ops), run on the
/// engine's own fork-join workers. Results do not depend on it: every output element is computed by
/// the same sequence of float operations whichever thread computes it, so 1 and N threads give bit-identical outputs.
/// </summary>
/// <remarks>
/// The setting is global (not per async flow): a parallel kernel reads it when it starts. Use <see cref="Limit"/> to
/// change it for a scope: <c>using (EngineThreads.Limit(1)) { … }</c>.
/// </remarks>
public static class EngineThreads
{
    private static int _maxDegreeOfParallelism = Environment.ProcessorCount;

    /// <summary>
    /// The most threads one kernel call may use; 1 runs every kernel on the calling thread.
    /// Defaults to <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MaxDegreeOfParallelism
    {
        get => Volatile.Read(ref _maxDegreeOfParallelism);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref _maxDegreeOfParallelism, value);
        }
    }

    /// <summary>
    /// Sets <see cref="MaxDegreeOfParallelism"/> to <paramref name="maxDegreeOfParallelism"/> until the returned scope
    /// is disposed, which restores the previous value.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is less than 1.</exception>
    public static LimitScope Limit(int maxDegreeOfParallelism)
    {
        int previous = MaxDegreeOfParallelism;
        MaxDegreeOfParallelism = maxDegreeOfParallelism;
        return new LimitScope(previous);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) split into contiguous ranges, one
    /// per thread, when there is at least <paramref name="minPerThread"/> work per thread; else on the calling thread
    /// as one range. For elementwise passes, whose results do not depend on the split.
    /// </summary>
    internal static void For(int count, int minPerThread, Action<int, int> body)
    {
        int parts = Math.Min(MaxDegreeOfParallelism, count / Math.Max(1, minPerThread));
        if (parts <= 1)
        {
            body(0, count);
            return;
        }

        ForkJoin.Run(parts, part => body((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts)));
    }

    /// <summary>The scope returned by <see cref="Limit"/>; disposing it restores the previous thread budget.</summary>
    public readonly struct LimitScope : IDisposable, IEquatable<LimitScope>
    {
        private readonly int _previous;

        internal LimitScope(int previous) => _previous = previous;

        /// <summary>Restores the thread budget that was in force when the scope was created.</summary>
        public void Dispose()
        {
            if (_previous >= 1) MaxDegreeOfParallelism = _previous;
        }

        /// <inheritdoc />
        public bool Equals(LimitScope other) => _previous == other._previous;

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is LimitScope other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => _previous;

        /// <summary>Value equality.</summary>
        public static bool operator ==(LimitScope left, LimitScope right) => left.Equals(right);

        /// <summary>Value inequality.</summary>
        public static bool operator !=(LimitScope left, LimitScope right) => !left.Equals(right);
    }
}
