using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

public class CsvParsingTests
{
    private static MemoryStream Utf8(string s) => new(Encoding.UTF8.GetBytes(s));

    /// <summary>A stream that returns at most <c>chunk</c> bytes per read, to exercise every buffer boundary.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));
    }

    private static string Hash(TimeSeriesFrame frame, DataQualityReport report)
    {
        var sb = new StringBuilder();
        sb.AppendJoin('|', frame.Columns).Append('\n');
        foreach (var d in frame.Dates) sb.Append(d.DayNumber).Append(',');
        foreach (var v in frame.Values) sb.Append(BitConverter.DoubleToInt64Bits(v)).Append(',');
        sb.Append(report.ToJson());
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    private const string CultureProbe =
        "date,open,high,low,close,Volume\n" +
        "2020-01-02,1.5,2.25,1.25,2.0,1000\n" +
        "2020-01-03,2.0,3.5e0,1.75,3.125,1.2E3\n" +
        "2020-01-06,3.125,4,3,3.5,+1500.5\n" +
        "2020-01-07,3.5,3.75,0.0625,3.0,-0\n";

    // RELIABILITY CSV-5
    [Fact]
    public void Parsing_IsIdentical_UnderInvariantGermanAndTurkishCultures()
    {
        var options = new CsvReadOptions
        {
            Jumps = JumpPolicy.Warn,
            ColumnDomains = new Dictionary<string, ColumnDomain> { ["Volume"] = ColumnDomain.AnyFinite },
        };
        var files = new[] { "clean_prices.csv", "02_non_trading_days.csv", "07_nan_inf.csv", "12_ohlc.csv", "15_thousands.csv" };
        var hashes = new List<string>();
        var original = CultureInfo.CurrentCulture;
        try
        {
            foreach (var culture in new[] { "", "de-DE", "tr-TR" })
            {
                CultureInfo.CurrentCulture = new CultureInfo(culture);
                var sb = new StringBuilder();
                var (frame, report) = CsvSeriesReader.Read(Utf8(CultureProbe), "probe.csv", options);
                Assert.True(report.Usable, report.ToJson());
                sb.Append(Hash(frame, report));
                foreach (var f in files)
                {
                    // the Volume domain only for a file with that column (a domain for a column the file lacks is CSV-E-DOMAIN)
                    var fileOptions = File.ReadLines(TestFiles.Fixture(f)).First().Split(',').Contains("Volume") ? options : new CsvReadOptions { Jumps = JumpPolicy.Warn };
                    var (fr, rep) = CsvSeriesReader.Read(TestFiles.Fixture(f), fileOptions);
                    Assert.DoesNotContain(rep.Errors, e => e.Rule == CsvRules.Domain && e.Line == 1);
                    sb.Append(Hash(fr, rep));
                }

                hashes.Add(sb.ToString());
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = original;
        }

        Assert.Equal(hashes[0], hashes[1]);
        Assert.Equal(hashes[0], hashes[2]);
        var (probe, _) = CsvSeriesReader.Read(Utf8(CultureProbe), "probe.csv", options);
        Assert.Equal([1.5, 2.25, 1.25, 2.0, 1000], probe.Row(0).ToArray());
        Assert.Equal(1200, probe[1, 4]);
        Assert.Equal(1500.5, probe[2, 4]);
        Assert.Equal(3.5, probe[1, 1]);
    }

    [Fact]
    public void FastDouble_MatchesDoubleParse_Exactly()
    {
        var rng = new Random(20240601); // test data only
        for (var i = 0; i < 200_000; i++)
        {
            var digits = rng.Next(1, 20);
            var sb = new StringBuilder();
            if (rng.Next(3) == 0) sb.Append('-');
            for (var k = 0; k < digits; k++) sb.Append((char)('0' + rng.Next(10)));
            var dot = rng.Next(digits + 2);
            if (dot <= digits) sb.Insert(sb.Length - digits + dot, '.');
            if (rng.Next(20) == 0) sb.Append('e').Append(rng.Next(-30, 30));
            var s = sb.ToString();
            if (s is "." or "-." || s.StartsWith("-.e", StringComparison.Ordinal) || s.StartsWith(".e", StringComparison.Ordinal)) continue;
            var ok = double.TryParse(s, FastDouble.Style, CultureInfo.InvariantCulture, out var expected);
            var fast = FastDouble.TryParse(Encoding.ASCII.GetBytes(s), out var actual);
            Assert.Equal(ok, fast);
            if (ok) Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual), $"{s}: {actual:R} != {expected:R}");
        }
    }

    // RELIABILITY CSV-5
    [Fact]
    public void FastDouble_LiteralsParseButAreNotFinite()
    {
        Assert.True(FastDouble.TryParse("NaN"u8, out var nan) && double.IsNaN(nan));
        Assert.True(FastDouble.TryParse("Infinity"u8, out var inf) && double.IsPositiveInfinity(inf));
        Assert.True(FastDouble.TryParse("1e999"u8, out var big) && double.IsPositiveInfinity(big));
        Assert.False(FastDouble.TryParse("1,5"u8, out _));
        Assert.False(FastDouble.TryParse(""u8, out _));
    }

    [Fact]
    public void QuotedFields_WithDelimitersQuotesAndLineBreaks_KeepPhysicalLineNumbers()
    {
        var csv = "Date,\"A,1\",\"B\"\"x\"\n2020-01-02,\"1.5\",2\n2020-01-03,\"2\n\",3\n2020-01-06,abc,4\n";
        var r = CsvSeriesReader.Validate(Utf8(csv), "q.csv");
        Assert.Equal(["A,1", "B\"x"], r.Columns);
        Assert.Equal(2, r.Errors.Count);
        Assert.Equal((3L, 2), (r.Errors[0].Line, r.Errors[0].Column)); // "2\n" is not a number; the record starts on line 3
        Assert.Equal((5L, 2), (r.Errors[1].Line, r.Errors[1].Column)); // line 5: the quoted line break moved it down one line
    }

    [Fact]
    public void StrayQuoteInUnquotedField_IsQuoteError()
    {
        var r = CsvSeriesReader.Validate(Utf8("Date,A\n2020-01-02,1\"5\n"), "q.csv");
        Assert.Equal((CsvRules.Quote, 2L, 2), (r.Errors[0].Rule, r.Errors[0].Line, r.Errors[0].Column));
    }

    [Fact]
    public void EveryBufferBoundary_GivesTheSameReport()
    {
        var sb = new StringBuilder("Date,A,\"B\"\r\n");
        var d = new DateOnly(2000, 1, 3);
        for (var i = 0; i < 3000; i++)
        {
            sb.Append(d.AddDays(i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(',')
              .Append((100 + i * 0.01).ToString("R", CultureInfo.InvariantCulture)).Append(',')
              .Append(i % 7 == 0 ? "\"5\"" : "6").Append(i % 2 == 0 ? "\r\n" : "\n");
        }

        sb.Append("2100-01-01,x,1\n");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        var reference = CsvSeriesReader.Read(new MemoryStream(bytes), "b.csv", new CsvReadOptions { WarnOnWeekend = false });
        Assert.Equal(3000L, reference.Report.Accepted);
        Assert.Equal(3002L, reference.Report.Errors.Single().Line);
        foreach (var chunk in new[] { 1, 2, 3, 7, 64, 4093 })
        {
            var (frame, report) = CsvSeriesReader.Read(new TrickleStream(bytes, chunk), "b.csv", new CsvReadOptions { WarnOnWeekend = false });
            Assert.Equal(reference.Report.ToJson(), report.ToJson());
            Assert.Equal(reference.Frame.Values, frame.Values);
        }
    }

    // RELIABILITY CSV-6
    [Fact]
    public void LargeFile_RecordsSpanningRefills_AreReadExactly()
    {
        // About 3 MB: several 1 MB buffer refills, with a long quoted multi-line field near a boundary.
        var sb = new StringBuilder("Date,A\n");
        var d = new DateOnly(1900, 1, 1);
        var rows = 150_000;
        for (var i = 0; i < rows; i++) sb.Append(d.AddDays(i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(",1.25\n");
        var r = CsvSeriesReader.Validate(Utf8(sb.ToString()), "big.csv", new CsvReadOptions { WarnOnWeekend = false });
        Assert.True(r.Usable);
        Assert.Equal(rows, r.Accepted);
        Assert.Equal(Encoding.UTF8.GetByteCount(sb.ToString()), r.Bytes);
    }

    [Fact]
    public void NoDateColumn_ReadsRowsInOrder()
    {
        var (frame, report) = CsvSeriesReader.Read(Utf8("A,B\n1,2\n1.5,2.5\n"), "n.csv", new CsvReadOptions { HasDateColumn = false });
        Assert.True(report.Usable);
        Assert.Equal(2, frame.RowCount);
        Assert.Empty(frame.Dates);
        Assert.Equal([1.0, 2, 1.5, 2.5], frame.Values);
    }

    [Fact]
    public void WrongFirstColumn_IsHeaderError()
    {
        var r = CsvSeriesReader.Validate(Utf8("Time,A\n2020-01-02,1\n"), "h.csv");
        Assert.Equal((CsvRules.Header, 1L, 1), (r.Errors[0].Rule, r.Errors[0].Line, r.Errors[0].Column));
        Assert.Contains("no column is named 'Date', expected as the date column", r.Errors[0].Message, StringComparison.Ordinal);
        var dup = CsvSeriesReader.Validate(Utf8("Date,A,A\n2020-01-02,1,2\n"), "h.csv");
        Assert.Contains("duplicate column name 'A'", dup.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UncaughtLoadError_ItsTextNamesFileLineColumnAndRule()
    {
        // a library user who does not catch it sees the exception's ToString (the runtime prints it, so do loggers): it
        // said "InvalidInputException: not a number" and the stack, nowhere the file, line, column or rule
        var e = Assert.Throws<InvalidInputException>(() => CsvSeriesReader.Load(Utf8("Date,A,B\n2020-01-02,1,2\n2020-01-03,1,x\n"), "r.csv"));
        Assert.Equal("not a number", e.Message);
        var text = e.ToString();
        Assert.StartsWith("Crucible.Data.InvalidInputException: " + e.ToUserMessage(), text, StringComparison.Ordinal);
        Assert.Contains("r.csv:3:3", text, StringComparison.Ordinal);
        Assert.Contains("[CSV-E-NUM]", text, StringComparison.Ordinal);
        Assert.Contains("CsvSeriesReader.Load", text, StringComparison.Ordinal);   // the stack trace is kept
        // without a location: the rule still shows
        Assert.StartsWith("Crucible.Data.InvalidInputException: error [alpha]: bad", new InvalidInputException("alpha", "bad").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RejectedHeader_ReadReturnsTheReport_AndLoadNamesTheCell()
    {
        // a duplicate name used to reach the frame's constructor (ArgumentException, an internal error in every command
        // that loads a file: train, baseline, compare, backtest, stress --history) instead of the report's header error
        var (frame, report) = CsvSeriesReader.Read(Utf8("Date,A,A\n2020-01-02,1,2\n"), "h.csv");
        Assert.False(report.Usable);
        Assert.Equal(0, frame.RowCount);
        var e = Assert.Throws<InvalidInputException>(() => CsvSeriesReader.Load(Utf8("Date,A,A\n2020-01-02,1,2\n"), "h.csv"));
        Assert.Equal("h.csv:1:3: error [CSV-E-HEADER]: duplicate column name 'A' (columns 2 and 3)", e.ToUserMessage());
    }

    [Fact]
    public void EmptyFiles_AreEmptyErrors()
    {
        Assert.Equal(CsvRules.Empty, CsvSeriesReader.Validate(Utf8(""), "e.csv").Errors[0].Rule);
        Assert.Equal(CsvRules.Empty, CsvSeriesReader.Validate(Utf8("Date,A\n"), "e.csv").Errors[0].Rule);
    }

    [Fact]
    public void ToLogReturns_MatchesDefinitions()
    {
        var dates = new[] { new DateOnly(2020, 1, 2), new DateOnly(2020, 1, 3), new DateOnly(2020, 1, 6) };
        var prices = new TimeSeriesFrame(dates, ["A"], [100, 110, 99]);
        var lr = prices.ToLogReturns(InputKind.Prices);
        Assert.Equal(dates[1..], lr.Dates);
        Assert.Equal(Math.Log(1.1), lr.Values[0], 15);
        var pct = new TimeSeriesFrame(dates, ["A"], [10, -10, 0]).ToLogReturns(InputKind.PercentReturns);
        Assert.Equal(Math.Log(1.1), pct.Values[0], 14);
        Assert.Equal(Math.Log(0.9), pct.Values[1], 14);
        Assert.Equal(0.0, pct.Values[2]);
    }

    [Fact]
    public void ToLogReturns_OfLogReturns_IsTheFrameItself()
    {
        var frame = new TimeSeriesFrame([new DateOnly(2020, 1, 2), new DateOnly(2020, 1, 3)], ["A"], [0.01, -0.02]);
        Assert.Same(frame, frame.ToLogReturns(InputKind.LogReturns));
    }

    // the reader keeps accepted values in blocks of 65,536 values rounded down to whole rows (21,845 rows of 3, 9,362 of
    // 7): files that end inside a block, on its last row, and one row after it, with rejected rows between
    [Theory]
    [InlineData(1, 65_536 * 2 + 1)]
    [InlineData(3, 21_845 * 2)]
    [InlineData(3, 50_000)]
    [InlineData(7, 9_362 + 1)]
    public void Read_KeepsEveryAcceptedValueInOrder_AcrossValueBlocks(int columns, int rows)
    {
        var text = new StringBuilder("Date");
        for (int c = 0; c < columns; c++) text.Append(",S").Append(c);
        text.Append('\n');
        var expected = new List<double>();
        var day = new DateOnly(1900, 1, 1);
        for (int r = 0, line = 0; r < rows; line++)
        {
            text.Append(day.AddDays(line).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            bool rejected = line % 10_007 == 5; // an unparsable value: the row is rejected, not kept
            for (int c = 0; c < columns; c++)
            {
                double v = Math.Sin(line * 0.37 + c) * 0.05;
                text.Append(',').Append(rejected && c == columns - 1 ? "x" : v.ToString("R", CultureInfo.InvariantCulture));
                if (!rejected) expected.Add(v);
            }

            text.Append('\n');
            if (!rejected) r++;
        }

        var (frame, report) = CsvSeriesReader.Read(Utf8(text.ToString()), "blocks.csv", new CsvReadOptions { Input = InputKind.LogReturns });
        Assert.Equal(rows, report.Accepted);
        Assert.Equal(rows, frame.RowCount);
        Assert.Equal(expected.Count, frame.Values.Length);
        for (int i = 0; i < expected.Count; i++)
        {
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(frame.Values[i]))
                Assert.Fail($"value {i} (row {i / columns}, column {i % columns}): {frame.Values[i]:R}, expected {expected[i]:R}");
        }
    }
}
