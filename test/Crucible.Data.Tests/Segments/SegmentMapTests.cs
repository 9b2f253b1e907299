using Crucible.Data.Segments;

namespace Crucible.Data.Tests.Segments;

public sealed class SegmentMapTests
{
    [Fact]
    public void Parse_ReadsDimensionsInFileOrder_AndTheTolerance()
    {
        var map = SegmentMap.Parse("""
            // comments are allowed
            {"asset_class": {"SPY": "equity", "TLT": "government_bond", "DAX": "equity"},
             "tolerance": 0.3,
             "region": {"SPY": "us", "DAX": "europe"}}
            """, "s.json");
        Assert.Equal(0.3, map.Tolerance);
        Assert.Equal(["asset_class", "region"], map.Dimensions.Select(d => d.Name));
        var segments = map.Dimension("asset_class").SegmentsOf(["DAX", "GLD", "SPY", "TLT"]);
        Assert.Equal(["equity", "government_bond"], segments.Select(s => s.Label));
        Assert.Equal([0, 2], segments[0].Members);
        Assert.Equal([3], segments[1].Members);
        Assert.Equal(["GLD", "TLT"], map.Dimension("region").Unassigned(["DAX", "GLD", "SPY", "TLT"]));
        Assert.Equal(SegmentMap.DefaultTolerance, SegmentMap.Parse("""{"r": {"A": "x"}}""", "s").Tolerance);
    }

    [Theory]
    [InlineData("[1]", "SEG-E-SHAPE")]
    [InlineData("{}", "SEG-E-SHAPE")]
    [InlineData("""{"tolerance": 1.5, "r": {"A": "x"}}""", "SEG-E-SHAPE")]
    [InlineData("""{"r": {"A": 3}}""", "SEG-E-SHAPE")]
    [InlineData("""{"r": {"A": ""}}""", "SEG-E-SHAPE")]
    [InlineData("""{"r": {}}""", "SEG-E-SHAPE")]
    [InlineData("""{"r": ["A"]}""", "SEG-E-SHAPE")]
    [InlineData("""{"r": {"A": "x"}""", "SEG-E-JSON")]
    // the tolerance given twice kept the last silently (a dimension or a series given twice is refused)
    [InlineData("""{"tolerance": 0.1, "r": {"A": "x"}, "tolerance": 0.3}""", "SEG-E-SHAPE")]
    public void Parse_RefusesMalformedFiles_NamingTheFile(string json, string rule)
    {
        var e = Assert.Throws<InvalidInputException>(() => SegmentMap.Parse(json, "bad.json"));
        Assert.Equal(rule, e.Rule);
        Assert.Equal("bad.json", e.Location!.File);
    }

    [Fact]
    public void Default_CoversTheBundledAndTheMultiAssetColumns()
    {
        string[] demo = ["NoDur", "Durbl", "Manuf", "Enrgy", "HiTec", "Telcm", "Shops", "Hlth", "Utils", "Other"];
        string[] panel = ["SPY", "QQQ", "IWM", "XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "FTSE100", "DAX", "CAC40",
            "EUROSTOXX50", "TLT", "TIP", "LQD", "HYG", "BND", "GLD", "DBC", "GSG", "DXY", "USDJPY"];
        var map = SegmentMap.Default;
        foreach (var dim in new[] { "asset_class", "region" })
        {
            Assert.Empty(map.Dimension(dim).Unassigned(demo));
            Assert.Empty(map.Dimension(dim).Unassigned(panel));
        }

        Assert.Equal(["commodity", "credit", "equity", "fx", "government_bond"], map.Dimension("asset_class").SegmentsOf(panel).Select(s => s.Label));
        Assert.Equal(["defensive", "cyclical"], map.Dimension("cyclicality").SegmentsOf(demo).OrderBy(s => s.Members[0]).Select(s => s.Label));
        Assert.Throws<InvalidInputException>(() => map.Dimension("sector"));
    }

    [Fact]
    public void EqualSegmentWeights_GiveEverySegmentTheSameTotal()
    {
        // 4 series: segment a has 3, b has 1 → w = D / (G·n_g) = 4/6 for a, 2 for b; each segment sums to D/G = 2
        var dim = SegmentMap.Parse("""{"r": {"A": "a", "B": "a", "C": "b", "D": "a"}}""", "s").Dimension("r");
        var w = SegmentMap.EqualSegmentWeights(dim, ["A", "B", "C", "D"]);
        Assert.Equal([4.0 / 6, 4.0 / 6, 2.0, 4.0 / 6], w);
        Assert.Equal(4.0, w.Sum(), 1e-12);
        var e = Assert.Throws<InvalidInputException>(() => SegmentMap.EqualSegmentWeights(dim, ["A", "E"]));
        Assert.Equal("SEG-E-UNASSIGNED", e.Rule);
        Assert.Contains("'E'", e.Message, StringComparison.Ordinal);
    }
}
