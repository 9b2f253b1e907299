namespace Crucible.Tensors.Random;

/// <summary>
/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as
/// 1, 2, 3" (SC 2011). Each 128-bit counter is enciphered under a 64-bit key into a block of four uint32 words, so the
/// output at any position is a pure function of (seed, stream, position): streams never overlap, jumping ahead is
/// free, and parallel sampling does not depend on the thread count.
/// </summary>
/// <remarks>
/// <para>Layout (as in PyTorch's and cuRAND's Philox): key = (k0, k1) = (seed low 32 bits, seed high 32 bits);
/// counter = (c0, c1, c2, c3) = (block low, block high, stream low, stream high). Words of a block are handed out in
/// order c-word 0, 1, 2, 3; then the block counter is incremented.</para>
/// <para>Not thread-safe: use one instance per thread, or <see cref="Split"/> / <see cref="ParallelFill"/>.</para>
/// <para>Not a cryptographic generator.</para>
/// </remarks>
public sealed partial class Philox
{
    /// <summary>Round multipliers of Philox4x32 (Random123 PHILOX_M4x32_0 / _1).</summary>
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;

    /// <summary>Weyl key increments (golden ratio and sqrt(3) - 1, as 32-bit fractions).</summary>
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>The number of rounds of Philox4x32-10.</summary>
    public const int Rounds = 10;

    private const float FloatUnit = 1.0f / (1 << 24);       // 2^-24
    private const double DoubleUnit = 1.0 / (1UL << 53);    // 2^-53

    private readonly ulong _seed;
    private readonly ulong _stream;
    private ulong _counter;          // next block to compute
    private int _bufferIndex = 4;    // next word of _buffer to hand out; 4 = empty
    private uint _b0, _b1, _b2, _b3; // block _counter - 1
    private bool _hasCachedNormal;
    private double _cachedNormal;

    /// <summary>Creates a generator at position 0 of stream <paramref name="stream"/> under key <paramref name="seed"/>.</summary>
    /// <param name="seed">The 64-bit key.</param>
    /// <param name="stream">The stream (counter high half); different streams give disjoint sequences.</param>
    public Philox(ulong seed, ulong stream = 0)
    {
        _seed = seed;
        _stream = stream;
    }

    /// <summary>The seed (the Philox key) this generator was created with.</summary>
    public ulong Seed => _seed;

    /// <summary>The stream id (counter words c2, c3).</summary>
    public ulong Stream => _stream;

    /// <summary>
    /// The raw Philox4x32-R bijection: enciphers <paramref name="counter"/> (4 words) under <paramref name="key"/>
    /// (2 words) into <paramref name="destination"/> (4 words). With <paramref name="rounds"/> = 10 this is the
    /// function the Random123 known-answer tests (<c>tests/kat_vectors</c>) pin down.
    /// </summary>
    /// <remarks>One round: (lo0, hi0) = M0 · x0, (lo1, hi1) = M1 · x2 (64-bit products);
    /// x ← (hi1 ⊕ x1 ⊕ k0, lo1, hi0 ⊕ x3 ⊕ k1, lo0); then k ← k + (W0, W1) before the next round.</remarks>
    /// <exception cref="ArgumentException">A span has the wrong length, or <paramref name="rounds"/> is not in 1..16.</exception>
    public static void Block(ReadOnlySpan<uint> counter, ReadOnlySpan<uint> key, Span<uint> destination, int rounds = Rounds)
    {
        if (counter.Length != 4)
            throw new ArgumentException("The counter must have exactly 4 words.", nameof(counter));
        if (key.Length != 2)
            throw new ArgumentException("The key must have exactly 2 words.", nameof(key));
        if (destination.Length < 4)
            throw new ArgumentException("Destination is too short: it needs 4 words.", nameof(destination));
        if (rounds is < 1 or > 16)
            throw new ArgumentOutOfRangeException(nameof(rounds), rounds, "Philox is defined for 1 to 16 rounds.");

        uint x0 = counter[0], x1 = counter[1], x2 = counter[2], x3 = counter[3];
        Encipher(ref x0, ref x1, ref x2, ref x3, key[0], key[1], rounds);
        destination[0] = x0;
        destination[1] = x1;
        destination[2] = x2;
        destination[3] = x3;
    }

    private static void Encipher(ref uint x0, ref uint x1, ref uint x2, ref uint x3, uint k0, uint k1, int rounds)
    {
        for (int r = 0; r < rounds; r++)
        {
            if (r > 0)
            {
                k0 += W0;
                k1 += W1;
            }
            ulong p0 = (ulong)M0 * x0;
            ulong p1 = (ulong)M1 * x2;
            uint y0 = (uint)(p1 >> 32) ^ x1 ^ k0;
            uint y1 = (uint)p1;
            uint y2 = (uint)(p0 >> 32) ^ x3 ^ k1;
            uint y3 = (uint)p0;
            x0 = y0;
            x1 = y1;
            x2 = y2;
            x3 = y3;
        }
    }

    private void Refill()
    {
        uint x0 = (uint)_counter, x1 = (uint)(_counter >> 32), x2 = (uint)_stream, x3 = (uint)(_stream >> 32);
        Encipher(ref x0, ref x1, ref x2, ref x3, (uint)_seed, (uint)(_seed >> 32), Rounds);
        _b0 = x0;
        _b1 = x1;
        _b2 = x2;
        _b3 = x3;
        _counter++;
        _bufferIndex = 0;
    }

    /// <summary>Returns the next 32 uniformly distributed bits.</summary>
    public uint NextUInt32()
    {
        if (_bufferIndex == 4)
            Refill();
        return _bufferIndex++ switch
        {
            0 => _b0,
            1 => _b1,
            2 => _b2,
            _ => _b3,
        };
    }

    /// <summary>Returns the next 64 uniformly distributed bits: two words, the first one as the low half.</summary>
    public ulong NextUInt64()
    {
        ulong lo = NextUInt32();
        ulong hi = NextUInt32();
        return (hi << 32) | lo;
    }

    /// <summary>Returns a uniform float in [0, 1): the high 24 bits of one word times 2^-24 (every value is exact).</summary>
    public float NextFloat() => (NextUInt32() >> 8) * FloatUnit;

    /// <summary>Returns a uniform double in [0, 1): the high 53 bits of <see cref="NextUInt64"/> times 2^-53.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * DoubleUnit;

    /// <summary>
    /// Returns a standard normal variate by the Box–Muller transform, in double:
    /// z0 = r cos(2π u2), z1 = r sin(2π u2), r = sqrt(-2 ln u1), with u1 = 1 - <see cref="NextDouble"/> in (0, 1]
    /// so that ln 0 never occurs. Values come in pairs: z0 is returned and z1 is cached for the next call
    /// (the cache is part of <see cref="GetState"/>).
    /// </summary>
    public double NextNormal()
    {
        if (_hasCachedNormal)
        {
            _hasCachedNormal = false;
            return _cachedNormal;
        }
        double u1 = 1.0 - NextDouble();  // (0, 1]
        double u2 = NextDouble();        // [0, 1)
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        (double sin, double cos) = Math.SinCos(2.0 * Math.PI * u2);
        _cachedNormal = r * sin;
        _hasCachedNormal = true;
        return r * cos;
    }

    /// <summary>
    /// Returns an integer uniformly distributed in [0, <paramref name="maxExclusive"/>) without modulo bias, by
    /// Lemire's multiply-and-reject method ("Fast random integer generation in an interval", ACM TOMACS 2019):
    /// m = x · s (64-bit); reject while (m mod 2^32) &lt; (2^32 - s) mod s; return m / 2^32.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> ≤ 0.</exception>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        uint s = (uint)maxExclusive;
        ulong m = (ulong)NextUInt32() * s;
        uint low = (uint)m;
        if (low < s)
        {
            uint threshold = (0u - s) % s;
            while (low < threshold)
            {
                m = (ulong)NextUInt32() * s;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>Effectively computes <c>destination[i] = NextFloat()</c> in order.</summary>
    public void FillUniform(Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = NextFloat();
    }

    /// <summary>
    /// Effectively computes <c>destination[i] = (float)(mean + std * NextNormal())</c> in order. The result depends
    /// only on the generator's position, never on how a caller splits the span into calls (the pending Box–Muller
    /// value carries over). Scalar on purpose: vectorised log/sin/cos would not match <see cref="NextNormal"/> bit
    /// for bit.
    /// </summary>
    public void FillNormal(Span<float> destination, float mean = 0f, float std = 1f)
    {
        for (int i = 0; i < destination.Length; i++)
            destination[i] = (float)(mean + std * NextNormal());
    }

    /// <summary>Shuffles <paramref name="values"/> in place by Fisher–Yates (Durstenfeld): for i = n-1..1, swap i and NextInt(i + 1).</summary>
    public void Shuffle<T>(Span<T> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>
    /// Returns an independent generator for child <paramref name="streamId"/>: its key is
    /// SplitMix64(SplitMix64(SplitMix64(seed) ⊕ stream) ⊕ streamId) and it starts at position 0 of stream 0.
    /// Depends only on (seed, stream, streamId), not on how far this generator has advanced, and consumes nothing.
    /// </summary>
    public Philox Split(ulong streamId)
    {
        ulong key = SplitMix64.Mix(SplitMix64.Mix(SplitMix64.Mix(_seed) ^ _stream) ^ streamId);
        return new Philox(key);
    }

    /// <summary>
    /// Jumps the block counter ahead by <paramref name="blocks"/> blocks (4 words each), discarding any words left
    /// in the current block and any cached normal. From a fresh generator, <c>Advance(n)</c> makes the next
    /// <see cref="NextUInt32"/> return word 0 of block n, the same value as the (4n+1)-th draw of a fresh generator.
    /// </summary>
    public void Advance(ulong blocks)
    {
        _counter += blocks;
        _bufferIndex = 4;
        _hasCachedNormal = false;
        _cachedNormal = 0;
    }

    /// <summary>Captures the complete position of this generator.</summary>
    public PhiloxState GetState() =>
        new(_seed, _stream, _counter, _bufferIndex, _hasCachedNormal, _hasCachedNormal ? _cachedNormal : 0);

    /// <summary>
    /// Restores a state captured by <see cref="GetState"/> (possibly from another instance): the generator takes the
    /// state's seed and stream and continues exactly where the snapshot was taken.
    /// </summary>
    /// <remarks>Returns a new generator because seed and stream are immutable.</remarks>
    /// <exception cref="ArgumentException">The state is inconsistent (buffer index outside 0..4).</exception>
    public static Philox FromState(PhiloxState state)
    {
        var g = new Philox(state.Seed, state.Stream);
        g.SetStateCore(state);
        return g;
    }

    /// <summary>
    /// Restores this generator's position from <paramref name="state"/>; the state's seed and stream must be this
    /// generator's own (use <see cref="FromState"/> to restore into a new instance).
    /// </summary>
    /// <exception cref="ArgumentException">Seed or stream differ, or the state is inconsistent.</exception>
    public void SetState(PhiloxState state)
    {
        if (state.Seed != _seed || state.Stream != _stream)
            throw new ArgumentException(
                $"State belongs to seed {state.Seed}, stream {state.Stream}; this generator has seed {_seed}, stream {_stream}. " +
                "Use Philox.FromState to restore into a new generator.", nameof(state));
        SetStateCore(state);
    }

    private void SetStateCore(PhiloxState state)
    {
        if (state.BufferIndex is < 0 or > 4)
            throw new ArgumentException($"BufferIndex must be in 0..4, got {state.BufferIndex}.", nameof(state));

        if (state.BufferIndex < 4)
        {
            _counter = state.Counter - 1;   // Counter 0 with words left: block 2^64 − 1, after which the counter wrapped
            Refill();                       // recomputes block Counter - 1 and sets _counter = Counter
        }
        _counter = state.Counter;
        _bufferIndex = state.BufferIndex;
        _hasCachedNormal = state.HasCachedNormal;
        _cachedNormal = state.HasCachedNormal ? state.CachedNormal : 0;
    }
}
