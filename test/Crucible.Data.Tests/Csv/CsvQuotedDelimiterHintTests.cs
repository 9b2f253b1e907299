using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// A bank export with quoted header cells and ';' (<c>"Date";"S&amp;P 500 (USD)"</c>) read with the default ','
/// stopped at 1:1 with "unexpected character after a closing quote", which does not say what to change; an unquoted
/// header already named the delimiter.
/// </summary>
public class CsvQuotedDelimiterHintTests
{
    [Theory]
    [InlineData("\"Date\";\"S&P 500 (USD)\";\"Euro Stoxx 50 €\"\r\n11/04/2007;3.067,28;4.293,20\r\n", ',', ";")]
    [InlineData("\"Date\"\t\"SPY\"\n2020-01-02\t300\n", ',', "\\t")]
    [InlineData("\"Date\",\"SPY\"\n2020-01-02,300\n", ';', ",")]
    public void AQuotedFieldFollowedByAnotherDelimiter_NamesThatDelimiter(string csv, char declared, string seen)
    {
        var (_, report) = CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "bank.csv", new CsvReadOptions { Delimiter = declared });
        var e = Assert.Single(report.Errors);
        Assert.Equal((CsvRules.Quote, 1L, 1), (e.Rule, e.Line, e.Column));
        Assert.Equal($"unexpected '{seen}' after a closing quote: the file looks '{seen}'-delimited; declare that delimiter", e.Message);
    }

    [Fact]
    public void AnotherCharacterAfterAClosingQuote_KeepsTheGeneralMessage()
    {
        var (_, report) = CsvSeriesReader.Read(new MemoryStream(Encoding.UTF8.GetBytes("Date,A\n2020-01-02,\"1\"x\n")), "q.csv", new CsvReadOptions());
        Assert.Equal("unexpected character after a closing quote", Assert.Single(report.Errors).Message);
    }
}
