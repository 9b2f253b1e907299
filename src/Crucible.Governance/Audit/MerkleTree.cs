using System.Security.Cryptography;

namespace Crucible.Governance.Audit;

/// <summary>
/// RFC 6962 (Certificate Transparency, §2.1) Merkle tree hashing, as RFC 9162 restates it: leaf hash
/// SHA-256(0x00 ‖ data), node hash SHA-256(0x01 ‖ left ‖ right) (the prefixes separate the two domains against
/// second-preimage attacks), the empty tree hashes to SHA-256(""), and a tree of n &gt; 1 leaves splits at the largest
/// power of two below n. Audit inclusion proofs are generated and verified as in RFC 9162 §2.1.3.
/// </summary>
public static class MerkleTree
{
    /// <summary>SHA-256 of the empty string: the root of the empty tree.</summary>
    public static byte[] EmptyRoot() => SHA256.HashData([]);

    /// <summary>SHA-256(0x00 ‖ <paramref name="data"/>).</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> data)
    {
        var buffer = new byte[data.Length + 1];
        data.CopyTo(buffer.AsSpan(1));
        return SHA256.HashData(buffer);
    }

    /// <summary>SHA-256(0x01 ‖ <paramref name="left"/> ‖ <paramref name="right"/>).</summary>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var buffer = new byte[1 + left.Length + right.Length];
        buffer[0] = 1;
        left.CopyTo(buffer.AsSpan(1));
        right.CopyTo(buffer.AsSpan(1 + left.Length));
        return SHA256.HashData(buffer);
    }

    /// <summary>The root (MTH) of the tree whose leaf hashes are <paramref name="leafHashes"/>, by the recursive definition.</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leafHashes) => Root(leafHashes, 0, leafHashes.Count);

    private static byte[] Root(IReadOnlyList<byte[]> leaves, int start, int count)
    {
        if (count == 0) return EmptyRoot();
        if (count == 1) return leaves[start];
        var k = LargestPowerOfTwoBelow(count);
        return NodeHash(Root(leaves, start, k), Root(leaves, start + k, count - k));
    }

    /// <summary>The audit path of leaf <paramref name="index"/> in the tree of <paramref name="leafHashes"/> (RFC 6962 §2.1.1 PATH).</summary>
    public static IReadOnlyList<byte[]> InclusionProof(IReadOnlyList<byte[]> leafHashes, long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, leafHashes.Count);
        var proof = new List<byte[]>();
        Path((int)index, 0, leafHashes.Count);
        return proof;

        void Path(int m, int start, int n)
        {
            if (n <= 1) return;
            var k = LargestPowerOfTwoBelow(n);
            if (m < k)
            {
                Path(m, start, k);
                proof.Add(Root(leafHashes, start + k, n - k));
            }
            else
            {
                Path(m - k, start + k, n - k);
                proof.Add(Root(leafHashes, start, k));
            }
        }
    }

    /// <summary>
    /// Verifies an inclusion proof (RFC 9162 §2.1.3.2): true only when every element is used and the recomputed root
    /// equals <paramref name="root"/>. Never throws for a malformed proof; it is simply rejected.
    /// </summary>
    public static bool VerifyInclusion(long index, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof,
        ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= treeSize || leafHash.Length != 32 || root.Length != 32) return false;
        long fn = index, sn = treeSize - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (p is null || p.Length != 32 || sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                r = NodeHash(p, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = NodeHash(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(r, root);
    }

    /// <summary>
    /// The consistency proof that the tree of the first <paramref name="oldSize"/> leaves is a prefix of the tree of all
    /// <paramref name="leafHashes"/> (RFC 6962 §2.1.2 PROOF / SUBPROOF). Empty when the sizes are equal or the old tree is empty
    /// (<see cref="VerifyConsistency"/> rejects every proof from the empty tree).
    /// </summary>
    public static IReadOnlyList<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leafHashes, long oldSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, leafHashes.Count);
        var proof = new List<byte[]>();
        if (oldSize == 0 || oldSize == leafHashes.Count) return proof;
        SubProof((int)oldSize, 0, leafHashes.Count, true);
        return proof;

        void SubProof(int m, int start, int n, bool complete)
        {
            if (m == n)
            {
                if (!complete) proof.Add(Root(leafHashes, start, n));
                return;
            }

            var k = LargestPowerOfTwoBelow(n);
            if (m <= k)
            {
                SubProof(m, start, k, complete);
                proof.Add(Root(leafHashes, start + k, n - k));
            }
            else
            {
                SubProof(m - k, start + k, n - k, false);
                proof.Add(Root(leafHashes, start, k));
            }
        }
    }

    /// <summary>
    /// Verifies a consistency proof between the tree of <paramref name="oldSize"/> leaves with root <paramref name="oldRoot"/>
    /// and the tree of <paramref name="newSize"/> leaves with root <paramref name="newRoot"/> (RFC 9162 §2.1.4.2): every
    /// element is used, both roots are recomputed, and nothing is left over. Never throws for malformed input.
    /// A proof from the empty tree (<paramref name="oldSize"/> = 0) is rejected: RFC 6962 §2.1.2 defines consistency proofs
    /// for 0 &lt; m only, and such a proof would vouch for any pair of roots. Equal sizes (&gt; 0) are consistent exactly when
    /// the proof is empty and the two roots are the same bytes (whatever their length: the claim is then a tautology).
    /// Both rules are those of the transparency-dev/merkle vectors (LOG-2, TransparencyDevMerkleVectorTests): the former
    /// rule "the empty tree is a prefix of every tree" accepted "size1 is zero and does not equal size2" and "size1 is zero
    /// and size2 is not zero", and a 32-byte check on equal roots rejected "sizes are equal (one) and proof is empty".
    /// </summary>
    public static bool VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot,
        IReadOnlyList<byte[]> proof)
    {
        if (oldSize <= 0 || newSize < oldSize || proof.Any(p => p is null || p.Length != 32)) return false;
        if (oldSize == newSize) return proof.Count == 0 && oldRoot.SequenceEqual(newRoot);
        if (proof.Count == 0 || oldRoot.Length != 32 || newRoot.Length != 32) return false;
        var path = new List<byte[]>(proof.Count + 1);
        if ((oldSize & (oldSize - 1)) == 0) path.Add(oldRoot.ToArray());
        path.AddRange(proof);
        long fn = oldSize - 1, sn = newSize - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        byte[] fr = path[0], sr = path[0];
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = NodeHash(c, fr);
                sr = NodeHash(c, sr);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                sr = NodeHash(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(fr, oldRoot) && CryptographicOperations.FixedTimeEquals(sr, newRoot);
    }

    internal static int LargestPowerOfTwoBelow(int n)
    {
        var k = 1;
        while (k << 1 < n) k <<= 1;
        return k;
    }
}

/// <summary>
/// An append-only Merkle accumulator: the roots of the perfect subtrees that make up the tree so far (a "compact
/// range"), so that appending a leaf and reading the RFC 6962 root cost O(log n) each.
/// </summary>
public sealed class MerkleAccumulator
{
    private readonly List<(int Height, byte[] Hash)> _peaks = [];

    /// <summary>The number of leaves appended.</summary>
    public long Size { get; private set; }

    /// <summary>Appends one leaf hash (already SHA-256(0x00 ‖ data)).</summary>
    public void Append(byte[] leafHash)
    {
        if (leafHash.Length != 32) throw new ArgumentException("a leaf hash has 32 bytes", nameof(leafHash));
        _peaks.Add((0, leafHash));
        while (_peaks.Count >= 2 && _peaks[^1].Height == _peaks[^2].Height)
        {
            var right = _peaks[^1];
            var left = _peaks[^2];
            _peaks.RemoveRange(_peaks.Count - 2, 2);
            _peaks.Add((left.Height + 1, MerkleTree.NodeHash(left.Hash, right.Hash)));
        }

        Size++;
    }

    /// <summary>The RFC 6962 root of the leaves appended so far: the peaks folded from the right.</summary>
    public byte[] Root()
    {
        if (_peaks.Count == 0) return MerkleTree.EmptyRoot();
        var r = _peaks[^1].Hash;
        for (var i = _peaks.Count - 2; i >= 0; i--) r = MerkleTree.NodeHash(_peaks[i].Hash, r);
        return r;
    }
}
