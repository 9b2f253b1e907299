using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// Proofs over the 8 reference leaves of transparency-dev/merkle: the published happy-path vectors
/// (testdata/inclusion/{1,3,4}, testdata/consistency/{0..4}) are generated bit for bit and accepted, and every
/// must-fail family of that test data, derived here from each vector, is rejected (LOG-2, LOG-6). The published files
/// themselves, must-fail vectors included, are run by <see cref="TransparencyDevMerkleVectorTests"/>.
/// </summary>
public class MerkleProofVectorTests
{
    private static readonly byte[][] Leaves =
        new[] { "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f" }
            .Select(h => MerkleTree.LeafHash(Convert.FromHexString(h))).ToArray();

    private static byte[] B(string base64) => Convert.FromBase64String(base64);

    public static TheoryData<int, int, string, string, string[]> Inclusion => new()
    {
        { 0, 8, "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
            ["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="] },
        { 2, 3, "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=",
            ["+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="] },
        { 1, 5, "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=", "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            ["bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="] },
    };

    public static TheoryData<int, int, string, string, string[]> Consistency => new()
    {
        { 1, 1, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", [] },
        { 1, 8, "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
            ["lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ="] },
        { 6, 8, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
            ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="] },
        { 2, 5, "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
            ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="] },
        { 6, 7, "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", "3bib5AOAnjJXUNPSY814kpwpQreUKjS3fhIslZSnTIw=",
            ["DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=", "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc="] },
    };

    [Theory]
    [MemberData(nameof(Inclusion))]
    public void Inclusion_PublishedVector_IsGeneratedAndAccepted_EveryMutationRejected(int index, int size, string root, string leaf, string[] proof)
    {
        var tree = Leaves.Take(size).ToList();
        Assert.Equal(B(root), MerkleTree.Root(tree));
        Assert.Equal(B(leaf), tree[index]);
        Assert.Equal(proof.Select(B), MerkleTree.InclusionProof(tree, index));
        var p = proof.Select(B).ToList();
        Assert.True(MerkleTree.VerifyInclusion(index, size, B(leaf), p, B(root)));

        var rejected = 0;
        void Reject(long i, long n, byte[] l, IReadOnlyList<byte[]> pr, byte[] r)
        {
            Assert.False(MerkleTree.VerifyInclusion(i, n, l, pr, r));
            rejected++;
        }

        var garbage = new byte[32];
        garbage[7] = 0x42;
        Reject(index, size, B(root), p, B(root));                                  // wrong leaf
        foreach (var (i, n) in new (long, long)[] { (index + 1, size), (index - 1, size), (index ^ 2, size), (index, size * 2), (index, size / 2) })
        {
            if (i == index && n == size) continue;
            Reject(i, n, B(leaf), p, B(root));                                     // index / size ±1, ^2, ×2, ÷2
        }

        Reject(index, size, B(leaf), [garbage, .. p], B(root));                    // preceding garbage
        Reject(index, size, B(leaf), [.. p, garbage], B(root));                    // trailing garbage
        Reject(index, size, B(leaf), [B(root), .. p], B(root));                    // preceding root
        Reject(index, size, B(leaf), [.. p, B(root)], B(root));                    // trailing root
        Reject(index, size, B(leaf), p, MerkleTree.EmptyRoot());                   // empty root
        Reject(index, size, B(leaf), p, garbage);                                  // random root
        for (var e = 0; e < p.Count; e++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var bad = p.Select(x => (byte[])x.Clone()).ToList();
                bad[e][bit * 4] ^= (byte)(1 << bit);
                Reject(index, size, B(leaf), bad, B(root));                        // modified element
            }

            Reject(index, size, B(leaf), p.Where((_, k) => k != e).ToList(), B(root)); // removed component
            var inserted = p.ToList();
            inserted.Insert(e, garbage);
            Reject(index, size, B(leaf), inserted, B(root));                       // inserted component
        }

        Assert.True(rejected >= 10);
    }

    [Theory]
    [MemberData(nameof(Consistency))]
    public void Consistency_PublishedVector_IsGeneratedAndAccepted_EveryMutationRejected(int m, int n, string root1, string root2, string[] proof)
    {
        Assert.Equal(B(root1), MerkleTree.Root(Leaves.Take(m).ToList()));
        Assert.Equal(B(root2), MerkleTree.Root(Leaves.Take(n).ToList()));
        Assert.Equal(proof.Select(B), MerkleTree.ConsistencyProof(Leaves.Take(n).ToList(), m));
        var p = proof.Select(B).ToList();
        Assert.True(MerkleTree.VerifyConsistency(m, n, B(root1), B(root2), p));

        var garbage = new byte[32];
        garbage[3] = 0x99;
        void Reject(long a, long b, byte[] r1, byte[] r2, IReadOnlyList<byte[]> pr) =>
            Assert.False(MerkleTree.VerifyConsistency(a, b, r1, r2, pr), $"{a},{b}");

        if (root1 != root2) Reject(m, n, B(root2), B(root1), p);                   // swapped roots
        if (m != n) Reject(m, n, B(root1), B(root2), []);                          // empty proof
        Reject(m, n, B(root1), B(root2), [garbage, .. p]);                         // preceding garbage
        Reject(m, n, B(root1), B(root2), [.. p, garbage]);                         // trailing garbage
        Reject(m, n, B(root1), B(root2), [B(root1), .. p]);                        // preceding root1
        Reject(m, n, B(root1), B(root2), [.. p, B(root2)]);                        // trailing root2
        Reject(m, n, garbage, B(root2), p);                                        // wrong root1
        Reject(m, n, B(root1), garbage, p);                                        // wrong root2
        foreach (var (a, b) in new (long, long)[] { (m + 1, n), (m - 1, n), (m ^ 2, n), (m, n * 2), (m, n / 2) })
        {
            if ((a == m && b == n) || a <= 0) continue;
            Reject(a, b, B(root1), B(root2), p);                                   // sizes ±1, ^2, ×2, ÷2
        }

        for (var e = 0; e < p.Count; e++)
        {
            var bad = p.Select(x => (byte[])x.Clone()).ToList();
            bad[e][4] ^= 0x10;
            Reject(m, n, B(root1), B(root2), bad);                                 // modified element
        }

        if (p.Count > 0) Reject(m, n, B(root1), B(root2), p.Take(p.Count - 1).ToList()); // truncated proof
    }

    [Fact]
    public void Consistency_AllPairsUpTo40_VerifyAndAllByteFlipsAreRejected()
    {
        var leaves = Enumerable.Range(0, 40).Select(i => MerkleTree.LeafHash(BitConverter.GetBytes(i * 31))).ToList();
        var flips = 0;
        for (var n = 1; n <= 40; n++)
        {
            var newRoot = MerkleTree.Root(leaves.Take(n).ToList());
            for (var m = 0; m <= n; m++)
            {
                var oldRoot = MerkleTree.Root(leaves.Take(m).ToList());
                var proof = MerkleTree.ConsistencyProof(leaves.Take(n).ToList(), m);
                // RFC 6962 defines consistency proofs for 0 < m only; one from the empty tree is rejected (LOG-2).
                Assert.True(MerkleTree.VerifyConsistency(m, n, oldRoot, newRoot, proof) == (m > 0), $"{m}->{n}");
                if (m == 0 || m == n || n % 7 != 0) continue;
                for (var e = 0; e < proof.Count; e++)
                {
                    for (var b = 0; b < 32; b += 5)
                    {
                        var bad = proof.Select(x => (byte[])x.Clone()).ToList();
                        bad[e][b] ^= 1;
                        Assert.False(MerkleTree.VerifyConsistency(m, n, oldRoot, newRoot, bad));
                        flips++;
                    }
                }
            }
        }

        Assert.True(flips > 200);
    }

    [Fact]
    public void AuditLog_LaterCheckpointExtendsEarlierOne()
    {
        using var t = new AuditTestHome(checkpointInterval: 5);
        t.Fill(23);
        using var log = t.Open();
        var cps = log.Checkpoints();
        for (var i = 0; i + 1 < cps.Count; i++)
        {
            var proof = log.ConsistencyProof(cps[i].Seq, cps[i + 1].Seq);
            Assert.True(MerkleTree.VerifyConsistency(cps[i].Seq, cps[i + 1].Seq, cps[i].MerkleRoot, cps[i + 1].MerkleRoot, proof));
        }
    }
}
