namespace Crucible.Tensors;

/// <summary>
/// A per-step arena for the buffers of intermediate tensors: while an arena is in use (<see cref="Use"/>), ops take
/// their output buffers, the gradient buffers of non-leaf tensors and their backward scratch from it instead of the
/// garbage-collected heap; <see cref="Reset"/> hands every buffer taken since the last reset back for reuse. A loop
/// whose steps build the same graph (training, sampling) allocates on its first step only.
/// </summary>
/// <remarks>
/// <para>
/// The contract: a tensor produced while the arena is in use, and its gradient, are valid until the arena's next
/// <see cref="Reset"/>; after that their storage belongs to later tensors. Read what must outlive a step (the loss
/// value, a copy of the output) before resetting. Leaf tensors (parameters, inputs built by the caller) never use
/// the arena, so parameters and their gradients are untouched by a reset.
/// </para>
/// <para>
/// The active arena flows with the execution context, like <see cref="GradMode"/>. Renting and resetting are
/// thread-safe, but one arena serves one step at a time: concurrent steps (sampler threads) each use their own.
/// </para>
/// </remarks>
public sealed class TensorArena
{
    private static readonly AsyncLocal<TensorArena?> Active = new();

    private readonly Dictionary<int, Stack<float[]>> _free = [];
    private readonly List<float[]> _rented = [];
    private readonly Lock _gate = new();
    private long _capacityBytes;

    /// <summary>The arena in use on this execution context, or null (ops then allocate from the heap).</summary>
    public static TensorArena? Current => Active.Value;

    /// <summary>Bytes held by the arena (rented and free): its high-water mark.</summary>
    public long CapacityBytes
    {
        get
        {
            lock (_gate) return _capacityBytes;
        }
    }

    /// <summary>
    /// Makes this the current arena until the returned scope is disposed (which restores the previous one):
    /// <c>using (arena.Use()) { … }</c>.
    /// </summary>
    public Scope Use()
    {
        var previous = Active.Value;
        Active.Value = this;
        return new Scope(previous);
    }

    /// <summary>Makes every buffer rented since the last reset available again; their tensors become invalid.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            foreach (var buffer in _rented)
            {
                if (!_free.TryGetValue(buffer.Length, out var stack)) _free[buffer.Length] = stack = new Stack<float[]>();
                stack.Push(buffer);
            }

            _rented.Clear();
        }
    }

    /// <summary>A buffer of exactly <paramref name="length"/> floats, zeroed when <paramref name="clear"/>.</summary>
    public float[] Rent(int length, bool clear)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0) return [];
        float[] buffer;
        lock (_gate)
        {
            if (_free.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                buffer = stack.Pop();
                if (clear) Array.Clear(buffer);
            }
            else
            {
                buffer = GC.AllocateUninitializedArray<float>(length);
                if (clear) Array.Clear(buffer);
                _capacityBytes += (long)length * sizeof(float);
            }

            _rented.Add(buffer);
        }

        return buffer;
    }

    /// <summary>A buffer for an op's output that the op overwrites entirely: from the current arena, else the heap.</summary>
    internal static float[] Output(int length) => Active.Value?.Rent(length, clear: false) ?? new float[length];

    /// <summary>A zeroed buffer (gradients, accumulators): from the current arena, else the heap.</summary>
    internal static float[] Zeroed(int length) => Active.Value?.Rent(length, clear: true) ?? new float[length];

    /// <summary>The scope returned by <see cref="Use"/>.</summary>
    public readonly struct Scope : IDisposable, IEquatable<Scope>
    {
        private readonly TensorArena? _previous;

        internal Scope(TensorArena? previous) => _previous = previous;

        /// <summary>Restores the arena that was current before <see cref="Use"/>.</summary>
        public void Dispose() => Active.Value = _previous;

        /// <inheritdoc />
        public bool Equals(Scope other) => ReferenceEquals(_previous, other._previous);

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is Scope other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => _previous?.GetHashCode() ?? 0;

        /// <summary>Value equality.</summary>
        public static bool operator ==(Scope left, Scope right) => left.Equals(right);

        /// <summary>Value inequality.</summary>
        public static bool operator !=(Scope left, Scope right) => !left.Equals(right);
    }
}
