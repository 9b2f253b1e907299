using System.Globalization;
using System.Text;
using Crucible.Data;
using Crucible.Data.Csv;
using Crucible.Tensors.Random;

namespace Crucible.Evaluation.Tests;

/// <summary>
/// <see cref="SeriesSetCsv"/> reads through the data loader's RFC 4180 tokenizer (session 17; it had its own header
/// parser and split data rows on every comma). The numbers must read exactly as
/// <c>double.TryParse(cell, NumberStyles.Float, InvariantCulture)</c> read them; the differences are where the old
/// reader was not RFC 4180 (quoted data cells, spaces or a stray quote around a header name, UTF-16), now as the data
/// loader reads the same file.
/// </summary>
public sealed class SeriesSetCsvTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("crucible-seriescsv-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text, Encoding? encoding = null)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".csv");
        File.WriteAllText(path, text, encoding ?? new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public void Numbers_ReadBitForBitAsDoubleParseReadsThem()
    {
        // round-trip strings of seeded random doubles over many magnitudes, plus the cases where the fast path of the
        // data loader's parser hands over to .NET's: long mantissas, many decimals, exponents, signs, surrounding white space
        var rng = new Philox(17);
        var cells = new List<string>
        {
            "0", "-0", "+1", "1.", ".5", "-.5", "1e-300", "4.9e-324", "1.7976931348623157e308", "9007199254740993",
            "9007199254740992", "123456789012345678901234567890", "0.1000000000000000055511151231257827",
            "0.30000000000000004", "1.0000000000000000000000001", "  0.25", "0.25\t", "1E5", "-2.5e+3", "000123.4500",
        };
        for (var i = 0; i < 400; i++)
        {
            var v = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.NextInt(40) - 20);
            cells.Add(v.ToString(i % 2 == 0 ? "R" : "G17", CultureInfo.InvariantCulture));
            cells.Add(v.ToString("F" + rng.NextInt(25), CultureInfo.InvariantCulture));
        }

        var text = new StringBuilder("date,x\n");
        foreach (var c in cells) text.Append("2020-01-01,").Append(c).Append('\n');
        var read = SeriesSetCsv.Read(Write(text.ToString())).Columns[0];
        Assert.Equal(cells.Count, read.Length);
        for (var i = 0; i < cells.Count; i++)
        {
            var want = double.Parse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.True(BitConverter.DoubleToInt64Bits(want) == BitConverter.DoubleToInt64Bits(read[i]),
                $"'{cells[i]}': {want:R} vs {read[i]:R}");
        }
    }

    [Theory]
    [InlineData("date,A,B\n2020-01-01,0.1,0.2\n2020-01-02,,0.2\n", 3L, 2, "A")]     // empty
    [InlineData("date,A,B\n2020-01-01,0.1,0.2\n2020-01-02,0.1, \n", 3L, 3, "B")]    // white space only
    [InlineData("scenario,step,A\n1,1,\"\"\n", 2L, 3, "A")]                        // a quoted empty cell
    public void BlankCell_IsAMissingValue_NamedAsTheDataLoaderNamesIt(string text, long line, int column, string series)
    {
        // was: "error [non-numeric]: '' is not a number", which reads as a parser fault, not as a gap in the data
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(Write(text)));
        Assert.Equal(CsvRules.Missing, e.Rule);
        Assert.Equal((line, column, series), (e.Location!.Line, e.Location.Column, e.Location.ColumnName));
        Assert.Contains("missing value (a blank cell)", e.Message, StringComparison.Ordinal);
        Assert.Contains("fill the gap or drop its row", e.Message, StringComparison.Ordinal);
        // the service's evaluation uploads reach this message too: it names no command line flag (it said "train's --missing")
        Assert.DoesNotContain("--", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QuotedDataCells_AreTheirContents()
    {
        // was: a quoted date holding a comma was a ragged row, and a quoted number was not a number
        var set = SeriesSetCsv.Read(Write("date,A,B\n\"Jan 2, 2020\",\"0.5\",0.25\r\n\"Jan 3, 2020\",-0.125,\"1e-3\"\n"));
        Assert.Equal(["A", "B"], set.Names);
        Assert.Equal([0.5, -0.125], set.Columns[0]);
        Assert.Equal([0.25, 0.001], set.Columns[1]);

        // a quoted decimal comma is one cell, refused as a number where it stands (was: a ragged row)
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(Write("scenario,step,A\n1,1,\"0,5\"\n")));
        Assert.Equal("non-numeric", e.Rule);
        Assert.Equal((2L, 3, "A"), (e.Location!.Line, e.Location.Column, e.Location.ColumnName));

        // a line break inside a quoted (skipped) cell: the next row's line is its physical line
        e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(Write("date,A\n\"2020-01-01\n(holiday)\",0.1\n2020-01-02,x\n")));
        Assert.Equal(("non-numeric", 4L, 2), (e.Rule, e.Location!.Line, e.Location.Column));
    }

    [Theory]
    [InlineData("scenario, \"x,y\"\n1,0.1\n", 2)] // a space before the opening quote (was: read as x,y)
    [InlineData("scenario,\"x\" ,y\n1,0.1,0.2\n", 2)] // a space after the closing quote (was: read as x)
    [InlineData("scenario,a\"b\n1,0.1\n", 2)] // a stray quote in an unquoted name (was: read as a"b)
    public void QuotesOutsideRfc4180_AreRefusedAsTheDataLoaderRefusesThem(string text, int column)
    {
        var path = Write(text);
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(path));
        Assert.Equal("unclosed-quote", e.Rule);
        Assert.Equal((1L, column), (e.Location!.Line, e.Location.Column));
        var report = Crucible.Data.Csv.CsvSeriesReader.Validate(path, new() { HasDateColumn = false });
        Assert.Equal(Crucible.Data.Csv.CsvRules.Quote, report.Errors[0].Rule);
    }

    [Theory]
    [InlineData("date,\" SPX \",VIX", "SPX", "VIX")]
    [InlineData("date,\"SPX\t\",\" VIX\"", "SPX", "VIX")]
    [InlineData("date, SPX\t,VIX ", "SPX", "VIX")]
    [InlineData("date,\u00A0SPX,VIX\u3000", "\u00A0SPX", "VIX\u3000")]
    [InlineData("date,\"\u00A0SPX\",\u2003VIX", "\u00A0SPX", "\u2003VIX")]
    [InlineData("date, DAX_Pr\u00E4mie ,\u65E5\u7D4C", "DAX_Pr\u00E4mie", "\u65E5\u7D4C")]
    [InlineData("date,Pra\u0308mie,x", "Pra\u0308mie", "x")]
    public void HeaderNames_AreTheDataLoadersNames(string header, string first, string second)
    {
        // the price/return reader trimmed spaces and tabs around every header cell, quoted or not; this reader trimmed an
        // unquoted cell of every Unicode white space (a no-break space, an ideographic space) and a quoted one of nothing:
        // " SPX " was SPX to train and " SPX " to evaluate, and a no-break space the other way round
        var path = Write(header + "\n2020-01-02,0.01,0.02\n2020-01-03,-0.01,0.03\n");
        var loader = CsvSeriesReader.Load(path, new CsvReadOptions { Input = InputKind.LogReturns }).Columns;
        Assert.Equal([first, second], loader);
        Assert.Equal([first, second], SeriesSetCsv.Read(path).Names);
        Assert.Equal([second, first], SeriesSetCsv.Read(path, [second, first]).Names);
    }

    [Theory]
    [InlineData("date,x\n2020-01-02,1\n2020-01-03,2\n2020-01-06,3\n", 0, null, 0, null)]
    [InlineData("date,x\n2020-01-02,1\n2020-01-06,2\n2020-01-03,3\n2020-01-01,4\n", 4, "2020-01-03", 3, "2020-01-06")]
    [InlineData("Date,x\r\n2020-01-02,1\r\n\r\n 2020-01-02 ,2\r\n", 4, "2020-01-02", 2, "2020-01-02")]
    [InlineData("when,x\n2020-01-03,1\n2020-01-02,2\n", 3, "2020-01-02", 2, "2020-01-03")] // a first column of text, skipped
    [InlineData("date,x\n03/01/2020,1\n02/01/2020,2\n", 0, null, 0, null)]                  // not ISO dates: order unknown
    [InlineData("date,x\n2020-01-03,1\n2020-01-02,2\nlater,3\n", 0, null, 0, null)]          // not all dates
    [InlineData("x,y\n0.1,1\n0.2,2\n", 0, null, 0, null)]                                      // no date column
    [InlineData("scenario,step,x\n2,1,0.1\n1,1,0.2\n", 0, null, 0, null)]                     // a scenario file
    public void DateOrder_IsTheFirstRowNotDatedAfterThePrevious(string text, long line, string? date, long previousLine, string? previous)
    {
        var set = SeriesSetCsv.Read(Write(text), null, out _, out var order);
        DateOrderBreak? want = date is null ? null
            : new(line, DateOnly.Parse(date, CultureInfo.InvariantCulture), previousLine, DateOnly.Parse(previous!, CultureInfo.InvariantCulture));
        Assert.Equal(want, order);
        Assert.Equal(set, SeriesSetCsv.Read(Write(text)), SeriesSetComparer.Instance); // the rows are read in file order all the same
    }

    private sealed class SeriesSetComparer : IEqualityComparer<SeriesSet>
    {
        public static readonly SeriesSetComparer Instance = new();

        public bool Equals(SeriesSet? a, SeriesSet? b) =>
            a is not null && b is not null && a.Names.SequenceEqual(b.Names) && a.Columns.Zip(b.Columns).All(p => p.First.SequenceEqual(p.Second))
            && (a.ScenarioIds ?? []).SequenceEqual(b.ScenarioIds ?? []);

        public int GetHashCode(SeriesSet obj) => 0;
    }

    [Fact]
    public void Utf16_IsRefusedAsTheDataLoaderRefusesIt()
    {
        // was: decoded by StreamReader; the data loader (data check, train) refuses UTF-16, and so does this reader now
        var path = Write("date,A\n2020-01-01,0.1\n", new UnicodeEncoding(false, true));
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(path));
        Assert.Equal("encoding", e.Rule);
        Assert.Equal(1L, e.Location!.Line);
    }

    [Theory]
    [InlineData("scenario,step,A\n1,2,0.1\n1,1,0.2\n", 3L)]          // a scenario's steps in reverse order
    [InlineData("scenario,step,A\n1,1,0.1\n1,1,0.2\n", 3L)]          // a step given twice
    [InlineData("scenario,step,A\n1,1,0.1\n1,3,0.2\n", 3L)]          // a step left out
    [InlineData("scenario,step,A\n1,1,0.1\n2,1,0.3\n1,1,0.2\n", 4L)] // a scenario's step again after another scenario
    [InlineData("scenario,step,A\n1,x,0.1\n", 2L)]                    // a step that is no integer
    public void StepsOutOfOrder_AreRefusedAtTheirCell(string text, long line)
    {
        // was: the step column was skipped unread, so a file whose paths ran backwards or repeated a day was read in file
        // order as if its steps were 1, 2, … and every path statistic (ACF, drawdown, horizon VaR) measured a scrambled path
        var e = Assert.Throws<InvalidInputException>(() => SeriesSetCsv.Read(Write(text)));
        Assert.Equal(("step-order", line, 2), (e.Rule, e.Location!.Line, e.Location.Column));
    }

    [Fact]
    public void Steps_FromZeroOrOne_InterleavedScenarios_AreRead()
    {
        // eval_ref.py's files count from 0, ScenarioCsv's from 1; a scenario's rows need not be contiguous
        var set = SeriesSetCsv.Read(Write("scenario,step,A\n0,0,0.1\n1,0,0.3\n0,1,0.2\n1,1,0.4\n"));
        Assert.Equal([0, 1, 0, 1], set.ScenarioIds!);
        set = SeriesSetCsv.Read(Write("scenario,step,A\n1,1,0.1\n1,2,0.2\n2,1,0.3\n"));
        Assert.Equal([0.1, 0.2, 0.3], set.Columns[0]);
    }
}
