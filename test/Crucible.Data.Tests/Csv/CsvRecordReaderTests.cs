using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// <see cref="CsvRecordReader"/>, the public face of the data loader's tokenizer for readers of other CSV layouts:
/// fields as written (quotes removed, doubled quotes undone, nothing trimmed), physical lines, and structural problems
/// as <see cref="InvalidInputException"/> with the rule, line and field the data loader reports.
/// </summary>
public class CsvRecordReaderTests
{
    private static CsvRecordReader Open(string text, CsvReadOptions? caps = null) =>
        CsvRecordReader.Open(new MemoryStream(Encoding.UTF8.GetBytes(text)), "t.csv", ',', caps);

    [Fact]
    public void Records_GiveFieldsAsWritten_WithTheirPhysicalLines()
    {
        using var ok = Open("\uFEFFa, b ,\"q\"\"r\",\"\"\r\n\n\"two\nlines\",2\r3\n");
        Assert.True(ok.Read());
        Assert.True(ok.HadUtf8Bom);
        Assert.Equal((1L, 4), (ok.Line, ok.FieldCount));
        Assert.Equal(["a", " b ", "q\"r", ""], Enumerable.Range(0, 4).Select(ok.FieldText));
        Assert.Equal([false, false, true, true], Enumerable.Range(0, 4).Select(ok.FieldQuoted));
        Assert.True(ok.Read());
        Assert.True(ok.IsBlank);
        Assert.True(ok.Read());
        Assert.Equal((3L, "two\nlines", "2"), (ok.Line, ok.FieldText(0), ok.FieldText(1)));
        Assert.True(ok.Read());
        Assert.Equal((5L, "3"), (ok.Line, ok.FieldText(0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ok.FieldText(1));
        Assert.False(ok.Read());
    }

    [Fact]
    public void StructuralProblems_NameRuleLineAndField()
    {
        // a space before the opening quote: the quote is a stray one in an unquoted field
        using var stray = Open("a, \"x,y\"\n");
        var e = Assert.Throws<InvalidInputException>(() => stray.Read());
        Assert.Equal((CsvRules.Quote, 1L, 2), (e.Rule, e.Location!.Line, e.Location.Column));

        using var unclosed = Open("a,b\n1,\"2\n3,4\n");
        e = Assert.Throws<InvalidInputException>(() => { while (unclosed.Read()) { } });
        Assert.Equal((CsvRules.Quote, "t.csv", 2L, 2), (e.Rule, e.Location!.File, e.Location.Line, e.Location.Column));

        using var wide = Open("a,b,c\n", new CsvReadOptions { MaxColumns = 2 });
        e = Assert.Throws<InvalidInputException>(() => wide.Read());
        Assert.Equal((CsvRules.Columns, 1L, 3), (e.Rule, e.Location!.Line, e.Location.Column));

        e = Assert.Throws<InvalidInputException>(() => CsvRecordReader.Open(new MemoryStream([0xFF, 0xFE, (byte)'a', 0]), "u.csv"));
        Assert.Equal((CsvRules.Encoding, "u.csv", 1L), (e.Rule, e.Location!.File, e.Location.Line));
    }
}
