using System.Runtime.InteropServices;

namespace Crucible.Evaluation.Privacy;

/// <summary>
/// Row numbers of a row-major table (<paramref name="d"/> values to a row) compared by their rows' bits: equal when every
/// value has the same bits. The caller stores each value as v + 0.0, so that −0 and 0 are one value (the exact-copy
/// count of <see cref="PrivacyAudit"/>, the distinct rows of <see cref="SinglingOut"/>).
/// </summary>
internal sealed class RowBits(double[] rows, int d) : IEqualityComparer<int>
{
    private ReadOnlySpan<long> Bits(int row) => MemoryMarshal.Cast<double, long>(rows.AsSpan(row * d, d));

    public bool Equals(int x, int y) => Bits(x).SequenceEqual(Bits(y));

    public int GetHashCode(int obj)
    {
        var hash = default(HashCode);
        hash.AddBytes(MemoryMarshal.AsBytes(Bits(obj)));
        return hash.ToHashCode();
    }
}
