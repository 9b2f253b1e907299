using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Crucible.Data;
using Crucible.Governance.Audit;

namespace Crucible.Governance.Tests.Audit;

public class CanonicalJsonTests
{
    private static string Canon(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(json));

    // RELIABILITY LOG-7
    [Fact]
    public void Canonicalize_Rfc8785Section323Example()
    {
        // RFC 8785 §3.2.3, the "sample input" and its canonical output.
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expected = """{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""";
        Assert.Equal(expected, Canon(input));
    }

    [Fact]
    public void Canonicalize_SortsMembersByUtf16CodeUnits()
    {
        // RFC 8785 §3.2.3, sorting example: "\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33".
        const string input = """{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}""";
        var canon = Canon(input);
        var order = new[] { "Carriage Return", "One", "Control", "Latin Small", "Euro Sign", "Emoji", "Hebrew" }
            .Select(s => canon.IndexOf(s, StringComparison.Ordinal)).ToArray();
        Assert.All(order, i => Assert.True(i > 0));
        Assert.Equal(order.OrderBy(i => i), order);
    }

    [Theory]
    // ECMAScript Number.prototype.toString, the examples of RFC 8785 Appendix B and the boundaries of §7.1.12.1.
    // RELIABILITY LOG-7
    [InlineData(0.0, "0")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(-5e-324, "-5e-324")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(9007199254740992.0, "9007199254740992")]
    [InlineData(-9007199254740992.0, "-9007199254740992")]
    [InlineData(295147905179352830000.0, "295147905179352830000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e-6, "0.000001")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1.5e-7, "1.5e-7")]
    [InlineData(123.456, "123.456")]
    [InlineData(0.1, "0.1")]
    [InlineData(4.5, "4.5")]
    [InlineData(333333333.33333329, "333333333.3333333")]
    [InlineData(1e23, "1e+23")]
    [InlineData(-1.25e-10, "-1.25e-10")]
    [InlineData(100.0, "100")]
    public void FormatNumber_MatchesEcmaScript(double value, string expected) =>
        Assert.Equal(expected, CanonicalJson.FormatNumber(value));

    [Fact]
    public void FormatNumber_NegativeZeroIsZero() => Assert.Equal("0", CanonicalJson.FormatNumber(-0.0));

    [Fact]
    public void FormatNumber_RoundTripsRandomDoubles()
    {
        var rng = new System.Random(20260101);
        Span<byte> bytes = stackalloc byte[8];
        for (var i = 0; i < 20000; i++)
        {
            rng.NextBytes(bytes);
            var d = BitConverter.ToDouble(bytes);
            if (!double.IsFinite(d)) continue;
            var s = CanonicalJson.FormatNumber(d);
            Assert.Equal(d == 0 ? 0.0 : d, double.Parse(s, CultureInfo.InvariantCulture));
            Assert.DoesNotContain("E", s, StringComparison.Ordinal);
        }
    }

    // RELIABILITY LOG-7
    [Fact]
    public void Serialize_SameBytesUnderEveryCulture()
    {
        var node = new JsonObject { ["b"] = 1.5, ["a"] = new JsonArray(1e-7, 12345.678, -0.25), ["i"] = "I ı İ" };
        var previous = CultureInfo.CurrentCulture;
        try
        {
            var results = new List<string>();
            foreach (var name in new[] { "", "de-DE", "tr-TR", "fr-FR" })
            {
                CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(name);
                results.Add(Encoding.UTF8.GetString(CanonicalJson.Serialize(node)));
            }

            Assert.All(results, r => Assert.Equal("""{"a":[1e-7,12345.678,-0.25],"b":1.5,"i":"I ı İ"}""", r));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Theory]
    [InlineData("""{"a":1,"a":2}""")]
    [InlineData("""{"a":123456789012345678901}""")]
    [InlineData("""{"a":-18446744073709551616}""")]
    [InlineData("""[1,]""")]
    [InlineData("""{"a":1e400}""")]
    public void Canonicalize_RefusesAmbiguousInput(string json) =>
        Assert.Throws<InvalidInputException>(() => CanonicalJson.Canonicalize(json));

    [Theory]
    [InlineData("9007199254740993")] // 2^53 + 1: the double it parses to is 2^53, which used to be written
    [InlineData("-9007199254740993")]
    [InlineData("18446744073709551615")] // ulong.MaxValue, a seed
    [InlineData("12345678901234567890")]
    public void Canonicalize_KeepsIntegersBeyondTwoToThe53Exactly(string integer)
    {
        var bytes = CanonicalJson.Canonicalize($$"""{"seed": {{integer}}, "b": [1.0, 9007199254740992]}""");
        Assert.Equal($$"""{"b":[1,9007199254740992],"seed":{{integer}}}""", System.Text.Encoding.UTF8.GetString(bytes));
        Assert.Equal(bytes, CanonicalJson.Canonicalize(System.Text.Encoding.UTF8.GetString(bytes))); // a fixed point
        var seed = new System.Text.Json.Nodes.JsonObject { ["seed"] = ulong.MaxValue };
        Assert.Equal("""{"seed":18446744073709551615}""", System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(seed)));
    }
    [Theory]
    [InlineData("\"\\ud800\"")]        // a lone high surrogate, escaped
    [InlineData("{\"\\udc00\":1}")]     // a lone low surrogate in a member name
    [InlineData("[\"a\\ud800b\"]")]
    public void Canonicalize_ALoneSurrogateEscape_IsInvalidInput_NotACrash(string json) =>
        Assert.Equal("JSON-E", Assert.Throws<InvalidInputException>(() => CanonicalJson.Canonicalize(json)).Rule);

    [Fact]
    public void Serialize_ALoneSurrogate_IsInvalidInput_NotWrittenAsTheReplacementCharacter()
    {
        // ToJsonString wrote "x\ud800" as "x\ufffd": two strings, one canonical form and one hash
        Assert.Equal("JSON-E", Assert.Throws<InvalidInputException>(() => CanonicalJson.Serialize(new System.Text.Json.Nodes.JsonObject { ["a"] = "x\ud800" })).Rule);
        Assert.Equal("JSON-E", Assert.Throws<InvalidInputException>(() => CanonicalJson.Serialize(new System.Text.Json.Nodes.JsonObject { ["\udc00"] = 1 })).Rule);
        Assert.Equal("JSON-E", Assert.Throws<InvalidInputException>(() => CanonicalJson.Serialize(new System.Text.Json.Nodes.JsonArray("ok", "\ud800"))).Rule);
        Assert.Equal("JSON-E", Assert.Throws<InvalidInputException>(() => CanonicalJson.Serialize(System.Text.Json.Nodes.JsonNode.Parse("{\"a\":\"\\ud800\"}"))).Rule);
        Assert.Equal("{\"a\":\"\ud83d\ude00\"}", System.Text.Encoding.UTF8.GetString(CanonicalJson.Serialize(new System.Text.Json.Nodes.JsonObject { ["a"] = "\ud83d\ude00" })));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Serialize_ANumberThatIsNotFinite_IsInvalidInput_NotACrash(double value)
    {
        var e = Assert.Throws<InvalidInputException>(() => CanonicalJson.Serialize(new System.Text.Json.Nodes.JsonObject { ["lr"] = value }));
        Assert.Equal("JSON-E", e.Rule);
        Assert.Equal("JSON-E", Assert.Throws<InvalidInputException>(() => CanonicalJson.Serialize(new System.Text.Json.Nodes.JsonArray(1.0, (float)value))).Rule);
    }
}
