using System.Text;
using System.Text.Json;
using Crucible.Data.IO;
using Crucible.Data.Segments;

namespace Crucible.Data.Tests.IO;

public sealed class JsonNonFiniteTests
{
    private static JsonException ReaderError(string json)
    {
        try
        {
            using var _ = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            return e;
        }

        throw new InvalidOperationException("the document parsed");
    }

    [Theory]
    [InlineData("{\"a\": NaN}", "NaN", 6)]
    [InlineData("{\"a\": -Infinity}", "-Infinity", 6)]
    [InlineData("{\"a\": 1,\n \"b\": nan}", "nan", 6)]            // read as a broken "null": the reader stops inside it
    [InlineData("{\"a\": [1, Infinity]}", "Infinity", 10)]
    public void At_NamesTheLiteral_AndItsByteInTheLine(string json, string literal, long column)
    {
        var (found, at) = JsonNonFinite.At(Encoding.UTF8.GetBytes(json), ReaderError(json));
        Assert.Equal(literal, found);
        Assert.Equal(column, at);
    }

    [Theory]
    [InlineData("{\"a\": }")]
    [InlineData("{\"a\": Nope}")]
    [InlineData("{\"a\": nullx}")]
    [InlineData("{\"a\": 1")]
    public void At_OtherReaderErrors_AreNotNonFinite(string json)
    {
        Assert.Null(JsonNonFinite.At(Encoding.UTF8.GetBytes(json), ReaderError(json)).Literal);
        Assert.Null(JsonNonFinite.Refusal(json, ReaderError(json), "x.json"));
    }

    [Fact]
    public void SegmentsFile_WithNaNTolerance_IsRefusedNamingTheLiteralAndWhere()
    {
        var e = Assert.Throws<InvalidInputException>(() => SegmentMap.Parse("{\"asset_class\": {\"SPY\": \"equity\"},\n \"tolerance\": NaN}", "s.json"));
        Assert.Equal("non-finite", e.Rule);
        Assert.Contains("NaN is not a JSON number", e.Message, StringComparison.Ordinal);
        Assert.Equal(new InputLocation("s.json", 2, 15), e.Location);
    }
}
