using System.Text;

namespace Crucible.Data.Csv;

/// <summary>
/// The one reading of a header cell that every reader of Crucible's CSV files shares: the price and return reader
/// (<see cref="CsvSeriesReader"/>) and the readers of other layouts over <see cref="CsvRecordReader"/> (the evaluation's
/// series files, a scenario file's metadata check), so that a header names the same series in every command.
/// </summary>
public static class CsvHeader
{
    /// <summary>
    /// The name in header cell <paramref name="cell"/> (its UTF-8 bytes, quotes removed, as the tokenizer gives them):
    /// the cell without the spaces and tabs around it, quoted or not (<c>" SPX ",VIX</c> names <c>SPX</c> and
    /// <c>VIX</c>), decoded from UTF-8 (an invalid sequence becomes U+FFFD; the price and return reader refuses one
    /// first). Nothing else changes: other white space (a no-break space) is part of the name, and a name that needs
    /// no trimming keeps its bytes (no Unicode normalisation).
    /// </summary>
    public static string CellName(ReadOnlySpan<byte> cell) => Encoding.UTF8.GetString(AsciiBytes.Trim(cell));
}
