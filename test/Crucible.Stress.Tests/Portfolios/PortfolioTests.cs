using System.Text;
using Crucible.Data;
using Crucible.Stress.Portfolios;

namespace Crucible.Stress.Tests.Portfolios;

public sealed class PortfolioTests
{
    private static Portfolio Parse(string json) => Portfolio.Parse(Encoding.UTF8.GetBytes(json), "p.json");

    private static InvalidInputException Fails(string json) => Assert.Throws<InvalidInputException>(() => Parse(json));

    [Fact]
    public void Parse_Weights_KeepsOrderNameAndDefaultLeverage()
    {
        var p = Parse("""{"name": "60/40", "weights": {"SPY": 0.6, "TLT": 0.4}}""");
        Assert.Equal("60/40", p.Name);
        Assert.Equal(1.0, p.Leverage);
        Assert.Null(p.Capital);
        Assert.Equal(["SPY", "TLT"], p.Holdings.Select(h => h.Series));
        Assert.Equal([0.0, 0.4, 0.6], p.WeightsFor(["QQQ", "TLT", "SPY"]));
    }

    [Fact]
    public void Parse_Positions_DivideByCapital_AndDeriveLeverage()
    {
        var p = Parse("""{"positions": {"SPY": 900000, "TLT": 600000}, "capital": 1000000}""");
        Assert.Equal(1_000_000, p.Capital);
        Assert.Equal(1.5, p.Leverage, 12);
        Assert.Equal([0.9, 0.6], p.Holdings.Select(h => h.Weight));
        var q = Parse("""{"positions": {"SPY": 300, "TLT": 100}}""");
        Assert.Equal(400, q.Capital);
        Assert.Equal([0.75, 0.25], q.Holdings.Select(h => h.Weight));
    }

    [Fact]
    public void Parse_DeclaredLeverage_AllowsWeightsThatSumToIt()
    {
        var p = Parse("""{"weights": {"SPY": 1.2, "TLT": 0.8}, "leverage": 2}""");
        Assert.Equal(2, p.Leverage);
        var e = Fails("""{"weights": {"SPY": 1.2, "TLT": 0.8}}""");
        Assert.Equal("weight-sum", e.Rule);
        Assert.Contains("leverage", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WeightsInMoney_AreSteeredToPositions_NotToALeverageOfAMillion()
    {
        // the hint said only 'declare "leverage": 1000000', a book a million times its capital that the stress test
        // then finds wiped out; amounts of money are positions
        var e = Fails("""{"weights": {"SPY": 600000, "TLT": 400000}}""");
        Assert.Equal("weight-sum", e.Rule);
        Assert.Contains("give amounts of money as \"positions\"", e.Message, StringComparison.Ordinal);
        var p = Parse("""{"positions": {"SPY": 600000, "TLT": 400000}}""");
        Assert.Equal([0.6, 0.4], p.Holdings.Select(h => h.Weight));
    }

    [Fact]
    public void Parse_WeightsSummingToZero_DoNotSuggestALeverageOfZero()
    {
        // the hint used to say 'declare "leverage": 0', which the leverage rule then refuses
        var e = Fails("""{"weights": {"SPY": 0.5, "TLT": -0.5}}""");
        Assert.Equal("weight-sum", e.Rule);
        Assert.DoesNotContain("declare \"leverage\": 0", e.Message, StringComparison.Ordinal);
        Assert.Contains("weights summing to 0 (a dollar-neutral book) cannot be declared", e.Message, StringComparison.Ordinal);
        var big = Fails("""{"weights": {"SPY": 1e308, "TLT": 1e308}}""");
        Assert.DoesNotContain("Infinity if", big.Message, StringComparison.Ordinal);
        Assert.Contains("too large to add up", big.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"weights\": {\"SPY\": 0.6,\n  \"TLT\": \"x\"}}", "type", 2, 10)]
    [InlineData("{\"weights\": {\"SPY\": 1},\n \"leverag\": 1}", "unknown-key", 2, 2)]
    [InlineData("{\"name\": \"a\"}", "missing-holdings", 0, 0)]
    [InlineData("{\"weights\": {\"SPY\": 1}, \"positions\": {\"SPY\": 1}}", "both-holdings", 1, 25)]
    [InlineData("{\"weights\": {\"SPY\": 0.5,\n\"SPY\": 0.5}}", "duplicate-series", 2, 1)]
    [InlineData("{\"weights\": {}}", "empty-holdings", 1, 2)]
    [InlineData("{\"weights\": {\"SPY\": 1}, \"capital\": -5}", "capital", 1, 36)]
    [InlineData("{\"weights\": {\"SPY\": 1},\n \"leverage\": 0}", "leverage", 2, 14)]
    [InlineData("{\"positions\": {\"SPY\": 5},\n\"capital\": 0}", "capital", 2, 12)]
    [InlineData("{\"positions\": {\"SPY\": 5, \"TLT\": -5}, \"capital\": 10}", "leverage", 1, 2)]
    [InlineData("{\"weights\": {\"SPY\": 1},\n\n   \"groups\": {\"eq\": [\"SPY\"], \"eq2\": [\"SPY\"]}}", "group-overlap", 3, 30)]
    [InlineData("{\"weights\": {\"SPY\": 1}\n, }", "portfolio-json", 2, 3)]
    [InlineData("[1, 2]", "type", 1, 1)]
    public void Parse_BadInput_NamesRuleLineAndColumn(string json, string rule, int line, int column)
    {
        var e = Fails(json);
        Assert.Equal(rule, e.Rule);
        Assert.NotNull(e.Location);
        Assert.Equal("p.json", e.Location!.File);
        Assert.Equal(line, e.Location.Line);
        Assert.Equal(column, e.Location.Column);
        Assert.StartsWith(line > 0 ? $"p.json:{line}:{column}: error [{rule}]" : $"p.json: error [{rule}]", e.ToUserMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AGroupNamingASeriesTwice_SaysSo_NotThatItIsInTwoGroups()
    {
        // one group was the only group: "series 'SPY' is in more than one group" sent the user looking for a second one
        var e = Fails("{\"weights\": {\"SPY\": 1},\n \"groups\": {\"eq\": [\"SPY\", \"SPY\"]}}");
        Assert.Equal("duplicate-series", e.Rule);
        Assert.Equal("group 'eq' names series 'SPY' twice", e.Message);
        Assert.Equal(new InputLocation("p.json", 2, 13), e.Location);
    }

    [Theory]
    [InlineData("{\"weights\": {\"SPY\": NaN}}", "NaN", 1, 21)]
    [InlineData("{\"weights\": {\"SPY\": 0.5,\n  \"TLT\": -Infinity}}", "-Infinity", 2, 10)]
    [InlineData("{\"weights\": {\"SPY\": nan}}", "nan", 1, 21)]
    public void Parse_NonFiniteLiteral_IsNamedWhereItStands(string json, string literal, int line, int column)
    {
        // session 15 QA: the reader's own "'N' is an invalid start of a value" before
        var e = Fails(json);
        Assert.Equal("non-finite", e.Rule);
        Assert.Equal($"p.json:{line}:{column}: error [non-finite]: {literal} is not a JSON number (JSON has no NaN or Infinity): give a finite number", e.ToUserMessage());
    }

    [Theory]
    [InlineData("{\"weights\": {\"SPY\": 1},\n \"name\": \"caf\u00ff\"}", 2, 14)] // a Latin-1 é in a string: GetString threw InvalidOperationException
    [InlineData("{\"weights\": {\"S\u00ffY\": 1}}", 1, 16)]
    public void Parse_InvalidUtf8_IsBadInput_WhereItStands(string latin1, int line, int column)
    {
        // the text's 'ÿ' written as the single byte 0xFF, which UTF-8 never has
        var bytes = Encoding.Latin1.GetBytes(latin1);
        var e = Assert.Throws<InvalidInputException>(() => Portfolio.Parse(bytes, "p.json"));
        Assert.Equal("portfolio-json", e.Rule);
        Assert.Equal((line, column), (e.Location!.Line, e.Location.Column));
        Assert.Contains("UTF-8", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Session 33 (found by the stress defect hunt): a portfolio saved with a UTF-8 byte-order mark (Notepad's "UTF-8 with
    /// BOM") was refused ("'0xEF' is an invalid start of a value", at 1:1) while every CSV reader skips the mark; it is read
    /// as without it, and a later error's column is counted without it.
    /// </summary>
    [Fact]
    public void Parse_AUtf8ByteOrderMark_IsSkipped()
    {
        byte[] bom = [0xEF, 0xBB, 0xBF];
        var p = Portfolio.Parse([.. bom, .. "{\"weights\": {\"A\": 0.5, \"B\": 0.5}}"u8], "p.json");
        Assert.Equal(["A", "B"], p.Holdings.Select(h => h.Series));
        var e = Assert.Throws<InvalidInputException>(() => Portfolio.Parse([.. bom, .. "{\"weights\": {\"A\": \"x\"}}"u8], "p.json"));
        Assert.Equal((1, 19), (e.Location!.Line, e.Location.Column)); // the "x", counted without the mark
        var plain = Assert.Throws<InvalidInputException>(() => Portfolio.Parse("{\"weights\": {\"A\": \"x\"}}"u8, "p.json"));
        Assert.Equal((plain.Rule, plain.Location!.Column), (e.Rule, e.Location.Column));
    }

    [Theory]
    [InlineData("{\"weights\": {\"A\\ud800\": 1}}", 1, 14)] // GetString threw InvalidOperationException ("missing low surrogate")
    [InlineData("{\"name\": \"x\\udc00y\", \"weights\": {\"A\": 1}}", 1, 10)]
    [InlineData("{\"weights\": {\"A\": 1},\n \"groups\": {\"g\": [\"A\\ud800\"]}}", 2, 19)]
    public void Parse_AnUnpairedSurrogateEscape_IsBadInput_WhereItStands(string json, int line, int column)
    {
        // JSON lets a string escape half a UTF-16 surrogate pair, which no .NET string of text can hold
        var e = Fails(json);
        Assert.Equal("portfolio-json", e.Rule);
        Assert.Equal((line, column), (e.Location!.Line, e.Location.Column));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n\r\n")]
    public void Parse_EmptyFile_SaysSo(string json) =>
        Assert.Equal("p.json: error [portfolio-json]: the file is empty: a portfolio is a JSON object", Fails(json).ToUserMessage());

    [Fact]
    public void WeightsFor_UnknownSeries_PointsAtTheHolding()
    {
        var p = Parse("{\n  \"weights\": {\"SPY\": 0.5, \"XYZ\": 0.5}\n}");
        var e = Assert.Throws<InvalidInputException>(() => p.WeightsFor(["SPY", "TLT"]));
        Assert.Equal("unknown-series", e.Rule);
        Assert.Equal(2, e.Location!.Line);
        Assert.Equal(27, e.Location.Column);
    }

    [Fact]
    public void WeightsFor_GroupWithUnknownSeries_Throws()
    {
        var p = Parse("""{"weights": {"SPY": 1}, "groups": {"rates": ["TLT"]}}""");
        Assert.Equal("unknown-series", Assert.Throws<InvalidInputException>(() => p.WeightsFor(["SPY"])).Rule);
    }

    [Fact]
    public void Load_MissingFile_IsBadInput()
    {
        Assert.Equal("file-not-found", Assert.Throws<InvalidInputException>(() => Portfolio.Load("/nonexistent/p.json")).Rule);
    }
}
