using System.Globalization;
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
    /// <exception cref="InvalidInputException">Rule <see cref="CsvRules.Header"/>: the cell holds a line break (CR or LF,
    /// which only a quoted cell can), so that a series name would be split over two lines wherever it is written; without
    /// a location (<see cref="CellNameAt"/> names the cell).</exception>
    public static string CellName(ReadOnlySpan<byte> cell)
    {
        if (HasLineBreak(cell)) throw new InvalidInputException(CsvRules.Header, LineBreakMessage("a header cell's name"));
        return Encoding.UTF8.GetString(AsciiBytes.Trim(cell));
    }

    /// <summary>As <see cref="CellName(ReadOnlySpan{byte})"/>; a cell with a line break is refused at <paramref name="at"/> (its file, line and column).</summary>
    /// <exception cref="InvalidInputException">Rule <see cref="CsvRules.Header"/> at <paramref name="at"/>: the cell holds a line break.</exception>
    public static string CellNameAt(ReadOnlySpan<byte> cell, InputLocation at)
    {
        ArgumentNullException.ThrowIfNull(at);
        if (HasLineBreak(cell))
            throw new InvalidInputException(CsvRules.Header, LineBreakMessage(string.Create(CultureInfo.InvariantCulture, $"column {at.Column}'s name")), at);
        return CellName(cell);
    }

    /// <summary>Whether header cell <paramref name="cell"/> holds a CR or LF, which no name may.</summary>
    internal static bool HasLineBreak(ReadOnlySpan<byte> cell) => cell.IndexOfAny((byte)'\r', (byte)'\n') >= 0;

    /// <summary>The refusal of a name with a line break; <paramref name="what"/> is the cell (<c>column 2's name</c>).</summary>
    internal static string LineBreakMessage(string what) =>
        what + " holds a line break (CR or LF), which would split it over two lines in every CSV, JSON and --stress or --columns spec that names it: rename the column";
}
