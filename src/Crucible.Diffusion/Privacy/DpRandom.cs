using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Crucible.Tensors.Random;

namespace Crucible.Diffusion.Privacy;

/// <summary>
/// Where DP-SGD's guarantee-carrying randomness comes from: the Poisson inclusion draws of the batches and the Gaussian
/// noise added to the clipped sum. The (ε, δ) guarantee assumes the adversary cannot predict these draws.
/// </summary>
/// <remarks>
/// The initialisation of the network stays seeded in both modes: it does not depend on the data, and the guarantee holds
/// for any starting point. Each example's timestep and diffusion noise are part of its gradient function; they must be
/// that example's own and unknown, and the trainer assigns them by position in the batch, so in secure mode it draws
/// them from the secure source too (a reader who knew them by position could tell which records a batch held: the
/// sensitivity bound C pairs each record with its own draw). In reproducible mode everything is known to whoever holds
/// the seed, which is why the guarantee then holds only against a reader who does not.
/// </remarks>
public interface IDpRandom
{
    /// <summary>True when the draws cannot be regenerated from anything recorded (secure mode).</summary>
    bool IsSecure { get; }

    /// <summary>The generator, as the manifest names it.</summary>
    string Description { get; }

    /// <summary>A uniform double in [0, 1).</summary>
    double NextDouble();

    /// <summary>A standard normal draw.</summary>
    double NextNormal();

    /// <summary>
    /// Fills <paramref name="destination"/> with standard normal draws: by default <see cref="NextNormal"/> for each
    /// element in order (so a seeded source draws exactly what the loop would); a source may compute them in bulk.
    /// </summary>
    void NextNormals(Span<double> destination)
    {
        for (var i = 0; i < destination.Length; i++) destination[i] = NextNormal();
    }
}

/// <summary>
/// The reproducible source (the default): a seeded <see cref="Philox"/> stream. Anyone who knows the seed, which the model
/// manifest records, can regenerate every batch and every noise draw, so the guarantee holds only against a reader who
/// does not know it. Draws exactly what the stream's own <see cref="Philox.NextDouble"/> and
/// <see cref="Philox.NextNormal"/> draw, in order.
/// </summary>
/// <param name="rng">The stream (shared with its other users in the order they draw).</param>
public sealed class PhiloxDpRandom(Philox rng) : IDpRandom
{
    /// <summary>The manifest's name of this generator.</summary>
    public const string Name = "philox4x32-10 (seeded, reproducible; not cryptographically secure: the guarantee holds only against a reader who does not know the seed)";

    /// <inheritdoc />
    public bool IsSecure => false;

    /// <inheritdoc />
    public string Description => Name;

    /// <summary>The underlying stream.</summary>
    public Philox Stream { get; } = rng ?? throw new ArgumentNullException(nameof(rng));

    /// <inheritdoc />
    public double NextDouble() => Stream.NextDouble();

    /// <inheritdoc />
    public double NextNormal() => Stream.NextNormal();
}

/// <summary>
/// The secure source (Opacus's <c>secure_mode</c>): every bit comes from the operating system's cryptographically secure
/// generator (<see cref="RandomNumberGenerator.Fill(Span{byte})"/>), so nothing recorded with the model (seed,
/// config) lets anyone regenerate the batches or the noise. Not reproducible by design: two runs on the same seed differ.
/// </summary>
/// <remarks>
/// Uniforms take 53 random bits: (w &gt;&gt; 11)·2⁻⁵³. Normals are robust to the floating-point attacks on a single
/// Box–Muller draw (whose low bits can betray the noise; Holohan &amp; Braghin 2021, arXiv 2107.10138, method 3): each is
/// the sum of 2n = 4 standard normals from two Box–Muller pairs computed in double (the two values of a pair share their
/// uniforms, hence 2n and not n), scaled by 1/√4 to unit variance. Bits are drawn 8 KiB at a time into a reused buffer:
/// no garbage per draw. <see cref="NextNormals"/> computes the same construction a chunk at a time with
/// <see cref="TensorPrimitives"/> (the DP noise of a step is one normal per parameter). The OS generator was chosen
/// over an AES-256-CTR keystream of our own after measuring both (README, Limits): its 1.3–3.5 GB/s is far from the bottleneck (the transcendental functions are), and it leaves no key
/// in this process to guard or dispose. Not thread-safe.
/// </remarks>
public sealed class SecureDpRandom : IDpRandom
{
    /// <summary>The manifest's name of this generator.</summary>
    public const string Name = "os-csprng (System.Security.Cryptography.RandomNumberGenerator; secure mode; not reproducible)";

    private const int BufferWords = 1024;
    private const int Chunk = 256;
    private const double DoubleUnit = 1.0 / (1UL << 53);
    private readonly ulong[] _words = new ulong[BufferWords];
    private readonly ulong[] _chunkWords = new ulong[4 * Chunk];
    private readonly double[] _planes = new double[6 * Chunk];
    private int _next = BufferWords;

    /// <inheritdoc />
    public bool IsSecure => true;

    /// <inheritdoc />
    public string Description => Name;

    /// <summary>64 random bits.</summary>
    public ulong NextUInt64()
    {
        if (_next == BufferWords)
        {
            RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(_words.AsSpan()));
            _next = 0;
        }

        return _words[_next++];
    }

    /// <inheritdoc />
    public double NextDouble() => Uniform(NextUInt64());

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>), exactly (64-bit words beyond the last whole multiple are redrawn).</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong n = (ulong)maxExclusive;
        ulong max = ulong.MaxValue - (((ulong.MaxValue % n) + 1) % n); // 2⁶⁴ − (2⁶⁴ mod n) − 1
        ulong x;
        do
        {
            x = NextUInt64();
        }
        while (x > max);
        return (int)(x % n);
    }

    /// <inheritdoc />
    public double NextNormal() => Normal(NextDouble(), NextDouble(), NextDouble(), NextDouble());

    /// <summary>
    /// Fills <paramref name="destination"/> with normals of <see cref="Normal"/>'s construction, each from its own four
    /// fresh uniforms, computed 256 at a time: 1,024 words straight from the OS generator, turned into uniforms as
    /// <see cref="Uniform"/> does and into normals by <see cref="Normals"/>. No garbage.
    /// </summary>
    public void NextNormals(Span<double> destination)
    {
        var planes = _planes.AsSpan();
        var uniforms = planes[..(4 * Chunk)];
        var words = _chunkWords.AsSpan();
        while (!destination.IsEmpty)
        {
            var m = Math.Min(Chunk, destination.Length);
            RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(words));
            TensorPrimitives.ShiftRightLogical(words, 11, words);
            TensorPrimitives.ConvertTruncating<ulong, double>(words, uniforms);
            TensorPrimitives.Multiply(uniforms, DoubleUnit, uniforms);
            Normals(planes.Slice(0, m), planes.Slice(Chunk, m), planes.Slice(2 * Chunk, m), planes.Slice(3 * Chunk, m),
                destination[..m], planes.Slice(4 * Chunk, m), planes.Slice(5 * Chunk, m));
            destination = destination[m..];
        }
    }

    /// <summary>The uniform of 64 random bits: the top 53, (bits &gt;&gt; 11)·2⁻⁵³, in [0, 1).</summary>
    public static double Uniform(ulong bits) => (bits >> 11) * DoubleUnit;

    /// <summary>
    /// (z0 + z1 + z2 + z3) / 2 for the Box–Muller pairs of (a1, a2) and (b1, b2), uniforms in [0, 1): each pair gives
    /// z = r cos θ, z' = r sin θ with r = √(−2 ln(1 − u1)), θ = 2π u2. The sum of 2n = 4 N(0, 1) values over √4 is N(0, 1).
    /// </summary>
    public static double Normal(double a1, double a2, double b1, double b2) => 0.5 * (PairSum(a1, a2) + PairSum(b1, b2));

    /// <summary>
    /// destination[j] = <see cref="Normal"/>(a1[j], a2[j], b1[j], b2[j]) with vectorised transcendental functions (equal
    /// to the scalar formula up to rounding, about 1e-15). The four uniform planes and the two scratch spans, all of
    /// destination's length, are overwritten.
    /// </summary>
    public static void Normals(
        Span<double> a1, Span<double> a2, Span<double> b1, Span<double> b2, Span<double> destination, Span<double> scratch, Span<double> sines)
    {
        var m = destination.Length;
        if (a1.Length != m || a2.Length != m || b1.Length != m || b2.Length != m || scratch.Length != m || sines.Length != m)
            throw new ArgumentException("the planes, scratch spans and destination must have one length");
        PairSums(a1, a2, scratch, sines);
        PairSums(b1, b2, destination, sines);
        TensorPrimitives.Add(scratch, destination, destination);
        TensorPrimitives.Multiply(destination, 0.5, destination);
    }

    // result = r (cos θ + sin θ), r = √(−2 ln(1 − u1)), θ = 2π u2; u1 and u2 are overwritten
    private static void PairSums(Span<double> u1, Span<double> u2, Span<double> result, Span<double> sines)
    {
        TensorPrimitives.Subtract(1.0, u1, u1);
        TensorPrimitives.Log(u1, u1);
        TensorPrimitives.Multiply(u1, -2.0, u1);
        TensorPrimitives.Sqrt(u1, u1);
        TensorPrimitives.Multiply(u2, 2.0 * Math.PI, u2);
        TensorPrimitives.SinCos(u2, sines, result);
        TensorPrimitives.Add(result, sines, result);
        TensorPrimitives.Multiply(result, u1, result);
    }

    private static double PairSum(double u1, double u2)
    {
        double r = Math.Sqrt(-2.0 * Math.Log(1.0 - u1));
        var (sin, cos) = Math.SinCos(2.0 * Math.PI * u2);
        return (r * cos) + (r * sin);
    }
}
