using System.Globalization;
using System.Text;
using Crucible.Data.Csv;

namespace Crucible.Data.Tests.Csv;

/// <summary>
/// Reading a seekable file counts its records first, so that the accepted values go into one array of the rows it can
/// hold, which becomes the frame's own: the values are held once, not in blocks beside the frame's copy. The frames and
/// reports are those of a plain (unseekable) read of the same bytes.
/// </summary>
public sealed class CsvReadMemoryTests
{
    private static readonly CsvReadOptions LogReturns = new() { Input = InputKind.LogReturns };

    // a clean file of rows × columns log returns, with the line ending given
    private static string Clean(int rows, int columns, string newline, bool finalNewline = true)
    {
        var text = new StringBuilder("Date");
        for (var c = 0; c < columns; c++) text.Append(",S").Append(c);
        text.Append(newline);
        var day = new DateOnly(1950, 1, 2); // a Monday: business days only (a weekend date is warned of, which allocates)
        for (var r = 0; r < rows; r++, day = day.AddDays(day.DayOfWeek == DayOfWeek.Friday ? 3 : 1))
        {
            text.Append(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            for (var c = 0; c < columns; c++) text.Append(',').Append((Math.Sin(r * 0.37 + c) * 0.05).ToString("R", CultureInfo.InvariantCulture));
            if (finalNewline || r < rows - 1) text.Append(newline);
        }

        return text.ToString();
    }

    // bytes allocated on this thread by reading the file at path (after a first read: the code is jitted)
    private static long AllocatedReading(string path, CsvReadOptions options, out TimeSeriesFrame frame)
    {
        _ = CsvSeriesReader.Read(path, options);
        long before = GC.GetAllocatedBytesForCurrentThread();
        (frame, var report) = CsvSeriesReader.Read(path, options);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(report.Usable, report.ToJson());
        return allocated;
    }

    [Theory]
    [InlineData("\n", true)]
    [InlineData("\r\n", true)]
    [InlineData("\r", true)]
    [InlineData("\n", false)]
    [InlineData("\r\n", false)]
    public void AFileWhoseRowsAreAllAccepted_HoldsItsValuesOnce(string newline, bool finalNewline)
    {
        const int rows = 200_000, columns = 5;
        var path = Path.Combine(Path.GetTempPath(), $"crucible-read-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, Clean(rows, columns, newline, finalNewline));
            long allocated = AllocatedReading(path, LogReturns, out var frame);
            Assert.Equal(rows, frame.RowCount);
            long valueBytes = (long)rows * columns * sizeof(double);
            // the values (8 MB), the dates (a list of their exact count and its array: 1.6 MB) and the reader's buffers;
            // the blocks beside the frame's copy were twice the values, 2.3 times with the dates' growth
            Assert.True(allocated < valueBytes * 3 / 2, $"{allocated:N0} bytes allocated for {valueBytes:N0} bytes of values");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ACrLfAcrossTheCountersReads_IsOneLineEnding()
    {
        // the counter reads 1 MiB at a time: pad the header so that a row's CR ends the first read and its LF starts the second
        const int chunk = 1 << 20;
        var body = Clean(200_000, 5, "\r\n");
        var padding = chunk - 1 - body.LastIndexOf("\r\n", chunk - 1, StringComparison.Ordinal);
        var headerEnd = body.IndexOf("\r\n", StringComparison.Ordinal);
        var text = body[..headerEnd] + new string(' ', padding) + body[headerEnd..]; // the header's names are trimmed
        Assert.Equal("\r\n", text.Substring(chunk - 1, 2));

        var path = Path.Combine(Path.GetTempPath(), $"crucible-read-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllText(path, text);
            long allocated = AllocatedReading(path, LogReturns, out var frame);
            Assert.Equal(200_000, frame.RowCount);
            Assert.True(allocated < 200_000L * 5 * sizeof(double) * 3 / 2, $"{allocated:N0} bytes: the count was not exact");
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string, string> Texts() => new()
    {
        { "clean", Clean(500, 3, "\n") },
        { "crlf without a final newline", Clean(500, 3, "\r\n", finalNewline: false) },
        { "cr", Clean(500, 3, "\r") },
        { "mixed endings", "Date,A,B\r\n2020-01-02,0.01,0.02\n2020-01-03,0.01,0.02\r2020-01-06,0.03,0.04\r\n2020-01-07,0.01,0.01" },
        { "blank lines", "\n\nDate,A,B\n\n2020-01-02,0.01,0.02\n\n\n2020-01-03,0.01,0.02\n\n" },
        { "rejected rows", "Date,A,B\n2020-01-02,0.01,0.02\n2020-01-03,x,0.02\n2020-01-06,0.03\n2020-01-07,0.01,0.01\n" },
        { "a quoted newline in the header", "Date,\"A\nB\",C\n2020-01-02,0.01,0.02\n2020-01-03,0.01,0.02\n" },
        { "a trailing delimiter", "Date,A,B,\n2020-01-02,0.01,0.02,\n2020-01-03,0.01,0.02,\n" },
        { "header only", "Date,A,B\n" },
        { "empty", "" },
        { "one row, no newline", "Date,A\n2020-01-02,0.5" },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void ACountedRead_GivesThePlainReadsFrameAndReport(string what, string text)
    {
        _ = what;
        foreach (var options in new[]
                 {
                     LogReturns,
                     LogReturns with { SortByDate = true },
                 })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var counted = CsvSeriesReader.Read(new MemoryStream(bytes), "f.csv", options);
            var plain = CsvSeriesReader.Read(new Unseekable(new MemoryStream(bytes)), "f.csv", options);
            AssertSame(plain, counted);
        }
    }

    [Fact]
    public void ARowsSelection_ReadsTheSameWhenCounted()
    {
        var bytes = Encoding.UTF8.GetBytes(Clean(3_000, 6, "\n"));
        var options = LogReturns with { Columns = ["S4", "S1"] };
        var counted = CsvSeriesReader.Read(new MemoryStream(bytes), "f.csv", options);
        var plain = CsvSeriesReader.Read(new Unseekable(new MemoryStream(bytes)), "f.csv", options);
        Assert.Equal(3_000, counted.Frame.RowCount);
        AssertSame(plain, counted);
    }

    [Fact]
    public void AFileThatGrewAfterItWasCounted_IsReadWhole()
    {
        // a live export appended to between the count and the read: the rows past the bound go on in blocks
        var first = Encoding.UTF8.GetBytes(Clean(1_000, 4, "\n"));
        var whole = Encoding.UTF8.GetBytes(Clean(80_000, 4, "\n"));
        Assert.Equal(first, whole[..first.Length]);
        var (frame, report) = CsvSeriesReader.Read(new GrowsAfterFirstPass(first, whole), "live.csv", LogReturns);
        var plain = CsvSeriesReader.Read(new Unseekable(new MemoryStream(whole)), "live.csv", LogReturns);
        Assert.Equal(80_000, frame.RowCount);
        AssertSame(plain, (frame, report));
    }

    [Fact]
    public void BlankLinesUnderAWideHeader_DoNotAskForAnArrayPerLine()
    {
        // 1,000,000 blank lines under a header of 1,001 fields, then one row: one value array per line would be 8 GB;
        // the bytes bound allows about 1,000 rows of 1,000 values (8 MB)
        var header = "Date," + string.Join(',', Enumerable.Range(0, 1000).Select(c => "S" + c.ToString(CultureInfo.InvariantCulture)));
        var row = "2020-01-02," + string.Join(',', Enumerable.Repeat("0.01", 1000));
        var text = header + "\n" + new string('\n', 1_000_000) + row + "\n";
        var bytes = Encoding.UTF8.GetBytes(text);
        _ = CsvSeriesReader.Read(new MemoryStream(bytes), "wide.csv", LogReturns);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var (frame, report) = CsvSeriesReader.Read(new MemoryStream(bytes), "wide.csv", LogReturns);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(report.Usable, report.ToJson());
        Assert.Equal(1, frame.RowCount);
        Assert.Equal(1_000_000, report.BlankLines);
        Assert.True(allocated < 24L << 20, $"{allocated:N0} bytes allocated");
    }

    // files built from pieces that move the count away from the rows (blank lines, quoted line endings, rejected and
    // duplicate rows, every line ending, a missing final one) or stop the reading early (the row and error caps)
    private static string Generated(int seed)
    {
        var random = new Random(seed); // test data only: model maths never uses System.Random
        string[] endings = ["\n", "\r\n", "\r"];
        string Ending() => endings[random.Next(endings.Length)];
        var columns = random.Next(1, 5);
        var text = new StringBuilder();
        if (random.Next(8) == 0) text.Append('\uFEFF');
        if (random.Next(6) == 0) text.Append(Ending());
        text.Append("Date");
        for (var c = 0; c < columns; c++) text.Append(random.Next(10) == 0 ? $",\"S{c}{Ending()}x\"" : $",S{c}");
        var trailing = random.Next(8) == 0;
        if (trailing) text.Append(',');
        var rows = random.Next(0, 60);
        var day = new DateOnly(2001, 1, 1);
        for (var r = 0; r < rows; r++)
        {
            text.Append(Ending());
            switch (random.Next(14))
            {
                case 0: continue; // a blank line
                case 1: day = day.AddDays(-random.Next(1, 4)); break; // out of order
                case 2: break; // a duplicate date
                default: day = day.AddDays(random.Next(1, 4)); break;
            }

            text.Append(day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            var fields = random.Next(25) == 0 ? columns + 1 : random.Next(25) == 0 ? columns - 1 : columns;
            for (var c = 0; c < fields; c++)
            {
                text.Append(',');
                text.Append(random.Next(30) switch
                {
                    0 => "",
                    1 => "x",
                    2 => $"\"0.0{random.Next(10)}\"",
                    3 => $"\"0.01{Ending()}\"",
                    _ => (random.NextDouble() * 0.1 - 0.05).ToString("R", CultureInfo.InvariantCulture),
                });
            }

            if (trailing) text.Append(',');
        }

        if (random.Next(2) == 0) text.Append(Ending());
        return text.ToString();
    }

    [Fact]
    public void ACountedRead_OfGeneratedFiles_GivesThePlainReads()
    {
        CsvReadOptions[] settings =
        [
            LogReturns,
            LogReturns with { SortByDate = true, DropExactDuplicates = true, Missing = MissingValuePolicy.ForwardFill },
            LogReturns with { Missing = MissingValuePolicy.Keep, MaxRows = 20, MaxErrors = 3 },
        ];
        for (var seed = 0; seed < 400; seed++)
        {
            var bytes = Encoding.UTF8.GetBytes(Generated(seed));
            foreach (var options in settings)
            {
                var counted = CsvSeriesReader.Read(new MemoryStream(bytes), "f.csv", options);
                var plain = CsvSeriesReader.Read(new Unseekable(new MemoryStream(bytes)), "f.csv", options);
                try
                {
                    AssertSame(plain, counted);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Assert.Fail($"seed {seed}, {options.SortByDate}/{options.Missing}: {e.Message}");
                }
            }
        }
    }

    private static void AssertSame((TimeSeriesFrame Frame, DataQualityReport Report) expected, (TimeSeriesFrame Frame, DataQualityReport Report) actual)
    {
        Assert.Equal(expected.Report.ToJson(), actual.Report.ToJson());
        Assert.Equal(expected.Frame.Columns, actual.Frame.Columns);
        Assert.Equal(expected.Frame.Dates, actual.Frame.Dates);
        Assert.Equal(expected.Frame.RowCount, actual.Frame.RowCount);
        Assert.Equal(expected.Frame.Values.Select(BitConverter.DoubleToInt64Bits), actual.Frame.Values.Select(BitConverter.DoubleToInt64Bits));
    }

    // a stream that cannot seek (standard input, a pipe): the reader keeps its values in blocks
    private sealed class Unseekable(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // serves `first` until it is rewound, then `whole` (a file appended to between two reads)
    private sealed class GrowsAfterFirstPass(byte[] first, byte[] whole) : Stream
    {
        private byte[] _bytes = first;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => _bytes.Length;

        public override long Position
        {
            get => _position;
            set
            {
                if (value < _position) _bytes = whole;
                _position = value;
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, _bytes.Length - _position);
            if (n <= 0) return 0;
            Array.Copy(_bytes, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => _bytes.Length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
