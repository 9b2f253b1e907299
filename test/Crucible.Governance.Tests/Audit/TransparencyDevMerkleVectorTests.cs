using System.Globalization;
using System.Text.Json;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

/// <summary>
/// LOG-2: every published proof vector of transparency-dev/merkle (testdata/inclusion and testdata/consistency, the
/// tree its cmd/proofgen writes today: 98 inclusion vectors, 6 accept / 92 reject, and 98 consistency vectors, 6 / 92)
/// is fed to <see cref="MerkleTree.VerifyInclusion"/> / <see cref="MerkleTree.VerifyConsistency"/>, which must accept
/// exactly the vectors marked <c>wantErr: false</c> and reject (return false, never throw) all others. The vectors are
/// stored verbatim in Audit/TestData/transparency-dev-merkle-vectors.json; TRANSPARENCY-DEV-MERKLE.md beside it gives
/// the source, commits, licence and how they were obtained, and check_transparency_dev_merkle_vectors.py re-derives
/// every vector from RFC 6962 and the generator's rules independently of this verifier.
/// Sizes and indices are uint64 upstream; a value above <see cref="long.MaxValue"/> (0 − 1 wrapped, in
/// leafIdx-sub-@1 of folder 0) reaches our long-based API as its two's-complement value, which must be rejected.
/// </summary>
public class TransparencyDevMerkleVectorTests
{
    private static readonly Lazy<JsonDocument> Fixture = new(() => JsonDocument.Parse(File.ReadAllText(
        Path.Combine(AppContext.BaseDirectory, "Audit", "TestData", "transparency-dev-merkle-vectors.json"))));

    private static IEnumerable<JsonElement> Vectors(string kind) => Fixture.Value.RootElement.GetProperty(kind).EnumerateArray();

    private static JsonElement Vector(string kind, string path) =>
        Vectors(kind).Single(v => v.GetProperty("path").GetString() == path);

    private static TheoryData<string, bool> Paths(string kind)
    {
        var data = new TheoryData<string, bool>();
        foreach (var v in Vectors(kind)) data.Add(v.GetProperty("path").GetString()!, v.GetProperty("wantErr").GetBoolean());
        return data;
    }

    public static TheoryData<string, bool> InclusionVectors => Paths("inclusion");

    public static TheoryData<string, bool> ConsistencyVectors => Paths("consistency");

    private static byte[] Bytes(JsonElement v, string name) => Convert.FromBase64String(v.GetProperty(name).GetString()!);

    private static List<byte[]> Proof(JsonElement v)
    {
        var p = v.GetProperty("proof");
        return p.ValueKind == JsonValueKind.Null ? [] : p.EnumerateArray().Select(e => Convert.FromBase64String(e.GetString()!)).ToList();
    }

    /// <summary>The upstream uint64 as our long: unchanged up to long.MaxValue, else its two's complement (negative).</summary>
    private static long Size(JsonElement v, string name) => unchecked((long)v.GetProperty(name).GetUInt64());

    [Theory]
    [MemberData(nameof(InclusionVectors))]
    public void Inclusion_PublishedVector_AcceptedExactlyWhenExpected(string path, bool wantErr)
    {
        var v = Vector("inclusion", path);
        var ok = MerkleTree.VerifyInclusion(Size(v, "leafIdx"), Size(v, "treeSize"), Bytes(v, "leafHash"), Proof(v), Bytes(v, "root"));
        Assert.True(ok == !wantErr, $"{path} ({v.GetProperty("desc").GetString()}): verified {ok}, published wantErr {wantErr}");
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectors))]
    public void Consistency_PublishedVector_AcceptedExactlyWhenExpected(string path, bool wantErr)
    {
        var v = Vector("consistency", path);
        var ok = MerkleTree.VerifyConsistency(Size(v, "size1"), Size(v, "size2"), Bytes(v, "root1"), Bytes(v, "root2"), Proof(v));
        Assert.True(ok == !wantErr, $"{path} ({v.GetProperty("desc").GetString()}): verified {ok}, published wantErr {wantErr}");
    }

    [Theory]
    [InlineData("inclusion")]
    [InlineData("consistency")]
    public void Fixture_HoldsThePublishedCounts_98Vectors6Accept92Reject(string kind)
    {
        var all = Vectors(kind).ToList();
        Assert.Equal(98, all.Count);
        Assert.Equal(6, all.Count(v => !v.GetProperty("wantErr").GetBoolean()));
        Assert.Equal(92, all.Count(v => v.GetProperty("wantErr").GetBoolean()));
        Assert.Equal(all.Count, all.Select(v => v.GetProperty("path").GetString()).Distinct(StringComparer.Ordinal).Count());
        Assert.All(all, v => Assert.StartsWith($"testdata/{kind}/", v.GetProperty("path").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Fixture_IndicesBeyondLongRange_AreAllMustFail()
    {
        var wide = Vectors("inclusion").Where(v => v.GetProperty("leafIdx").GetUInt64() > long.MaxValue).ToList();
        Assert.NotEmpty(wide);
        Assert.All(wide, v => Assert.True(v.GetProperty("wantErr").GetBoolean(), v.GetProperty("path").GetString()));
        Assert.DoesNotContain(Vectors("consistency"), v => v.GetProperty("size1").GetUInt64() > long.MaxValue ||
            v.GetProperty("size2").GetUInt64() > long.MaxValue);
        Assert.Equal("18446744073709551615", wide[0].GetProperty("leafIdx").GetUInt64().ToString(CultureInfo.InvariantCulture));
    }
}
