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
}
