using System.Text;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

/// <summary>RFC 6962 hashing against transparency-dev/merkle's rfc6962_test.go and testonly/constants.go (LOG-1).</summary>
public class MerkleTreeTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s);

    private static readonly byte[][] LeafInputs =
        new[] { "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f" }
            .Select(Hex).ToArray();

    private static readonly string[] RootsBySize =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Fact]
    public void KnownHashes_Rfc6962Test()
    {
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(MerkleTree.EmptyRoot()));
        Assert.Equal("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", Convert.ToHexStringLower(MerkleTree.LeafHash([])));
        // RELIABILITY.md LOG-1 quotes these as 395aa064…4d56 and aa217fe8…6bbb.
        Assert.Equal("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56",
            Convert.ToHexStringLower(MerkleTree.LeafHash(Encoding.ASCII.GetBytes("L123456"))));
        Assert.Equal("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb",
            Convert.ToHexStringLower(MerkleTree.NodeHash(Encoding.ASCII.GetBytes("N123"), Encoding.ASCII.GetBytes("N456"))));
    }

    [Fact]
    public void Roots_AllNineReferenceSizes_RecursiveAndAccumulator()
    {
        var leaves = LeafInputs.Select(l => MerkleTree.LeafHash(l)).ToList();
        var acc = new MerkleAccumulator();
        for (var n = 0; n <= 8; n++)
        {
            Assert.Equal(RootsBySize[n], Convert.ToHexStringLower(MerkleTree.Root(leaves.Take(n).ToList())));
            Assert.Equal(RootsBySize[n], Convert.ToHexStringLower(acc.Root()));
            if (n < 8) acc.Append(leaves[n]);
        }
    }

    [Fact]
    public void Accumulator_EqualsRecursiveRoot_UpTo130Leaves()
    {
        var leaves = Enumerable.Range(0, 130).Select(i => MerkleTree.LeafHash(BitConverter.GetBytes(i))).ToList();
        var acc = new MerkleAccumulator();
        for (var n = 1; n <= leaves.Count; n++)
        {
            acc.Append(leaves[n - 1]);
            Assert.Equal(MerkleTree.Root(leaves.Take(n).ToList()), acc.Root());
        }
    }

    [Fact]
    public void InclusionProofs_VerifyForEveryLeafAndSize_AndEveryByteFlipIsRejected()
    {
        var leaves = Enumerable.Range(0, 37).Select(i => MerkleTree.LeafHash(BitConverter.GetBytes(i * 7919))).ToList();
        var mutations = 0;
        for (var size = 1; size <= leaves.Count; size++)
        {
            var tree = leaves.Take(size).ToList();
            var root = MerkleTree.Root(tree);
            for (var i = 0; i < size; i++)
            {
                var proof = MerkleTree.InclusionProof(tree, i);
                Assert.True(MerkleTree.VerifyInclusion(i, size, tree[i], proof, root));
                // The root binds the tree size: the same path does not prove inclusion in the next tree.
                if (size < leaves.Count)
                    Assert.False(MerkleTree.VerifyInclusion(i, size + 1, tree[i], proof, MerkleTree.Root(leaves.Take(size + 1).ToList())));
                if (size > 1) Assert.False(MerkleTree.VerifyInclusion((i + 1) % size, size, tree[i], proof, root));
                Assert.False(MerkleTree.VerifyInclusion(i, size, tree[i], proof.Concat([root]).ToList(), root));
                if (proof.Count > 0) Assert.False(MerkleTree.VerifyInclusion(i, size, tree[i], proof.Take(proof.Count - 1).ToList(), root));
                if (size != 19) continue;
                // LOG-6: flip each bit of one byte in every element of the proof, the leaf and the root.
                for (var e = 0; e < proof.Count; e++)
                {
                    for (var b = 0; b < 32; b++)
                    {
                        var bad = proof.Select(p => (byte[])p.Clone()).ToList();
                        bad[e][b] ^= (byte)(1 << (b % 8));
                        Assert.False(MerkleTree.VerifyInclusion(i, size, tree[i], bad, root));
                        mutations++;
                    }
                }

                for (var b = 0; b < 32; b++)
                {
                    var leaf = (byte[])tree[i].Clone();
                    leaf[b] ^= 0x80;
                    Assert.False(MerkleTree.VerifyInclusion(i, size, leaf, proof, root));
                    var badRoot = (byte[])root.Clone();
                    badRoot[b] ^= 0x01;
                    Assert.False(MerkleTree.VerifyInclusion(i, size, tree[i], proof, badRoot));
                    mutations += 2;
                }
            }
        }

        Assert.True(mutations > 1000);
    }
}
