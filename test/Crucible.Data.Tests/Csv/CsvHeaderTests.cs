using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// <see cref="CsvHeader.CellName"/>, the one header-cell rule of every CSV reader: spaces and tabs around a cell go,
/// nothing else changes.
/// </summary>
public class CsvHeaderTests
{
    [Theory]
    [InlineData(" SPX ", "SPX")]
    [InlineData("\tSPX\t \t", "SPX")]
    [InlineData("S P X", "S P X")]
    [InlineData("\u00A0SPX\u3000", "\u00A0SPX\u3000")]
    [InlineData("  ", "")]
    public void CellName_TrimsSpacesAndTabsOnly(string cell, string name) =>
        Assert.Equal(name, CsvHeader.CellName(Encoding.UTF8.GetBytes(cell)));

    [Theory]
    [InlineData("DAX_Pr\u00E4mie")]
    [InlineData("Pra\u0308mie")] // decomposed: not normalised to the composed form
    [InlineData("\u65E5\u7D4C")]
    [InlineData("\U0001D400x")]
    public void CellName_KeepsTheBytesOfANameThatNeedsNoTrimming(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        Assert.Equal(bytes, Encoding.UTF8.GetBytes(CsvHeader.CellName(bytes)));
    }

    // a quoted header cell holding a line break ("A<LF>B") was read as a series name, which every CSV and JSON output that
    // names the series, and any --stress or --columns spec, then carries on two lines; it is a header error now, at its cell
    [Theory]
    [InlineData("Date,\"SP\nX\",VIX\n2020-01-02,1,2\n", 2)]
    [InlineData("Date,VIX,\"SPX\r\"\n2020-01-02,1,2\n", 3)]
    [InlineData("Date,VIX,\"SP\r\nX\"\n2020-01-02,1,2\n", 3)]
    [InlineData("\"Da\nte\",VIX\n2020-01-02,1\n", 1)]
    public void Reader_HeaderCellWithALineBreak_IsAHeaderErrorAtItsCell(string csv, int column)
    {
        var r = CsvSeriesReader.Validate(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "h.csv", new CsvReadOptions());
        var e = Assert.Single(r.Errors);
        Assert.Equal((CsvRules.Header, 1L, column), (e.Rule, e.Line, e.Column));
        Assert.Equal($"column {column}'s name holds a line break (CR or LF), which would split it over two lines in every CSV, JSON and --stress or --columns spec that names it: rename the column",
            e.Message);
    }

    [Theory]
    [InlineData("SP\nX")]
    [InlineData("\rSPX")]
    [InlineData(" SPX\r\n")]
    public void CellName_WithALineBreak_IsRefused(string cell)
    {
        var unlocated = Assert.Throws<InvalidInputException>(() => CsvHeader.CellName(Encoding.UTF8.GetBytes(cell)));
        Assert.Equal((CsvRules.Header, null), (unlocated.Rule, unlocated.Location));
        Assert.Equal("a header cell's name holds a line break (CR or LF), which would split it over two lines in every CSV, JSON and --stress or --columns spec that names it: rename the column",
            unlocated.Message);

        var located = Assert.Throws<InvalidInputException>(() => CsvHeader.CellNameAt(Encoding.UTF8.GetBytes(cell), new InputLocation("s.csv", 1, 4)));
        Assert.Equal((CsvRules.Header, new InputLocation("s.csv", 1, 4)), (located.Rule, located.Location));
        Assert.StartsWith("column 4's name holds a line break", located.Message, StringComparison.Ordinal);
    }
}
