namespace Crucible.Data.Csv;

/// <summary>
/// Reads and validates CSV files of time series (prices or returns, one column per series, first column a date).
/// One streaming pass with bounded memory: <see cref="Validate(string, CsvReadOptions?)"/> never materialises the
/// file (except with the opt-in sort repair, which buffers accepted rows), and <see cref="Read(string, CsvReadOptions?)"/>
/// keeps only the accepted values. Reading a seekable stream (a file) first counts its line endings (a vectorised pass
/// over the bytes, not parsed), so that the accepted values go into one array that becomes the frame's and are never
/// held twice; an unseekable one (standard input, a pipe) is read once, its values in blocks copied into the frame. Parsing is culture-invariant. Every rule of RELIABILITY.md §6.2 has a declared
/// outcome; see <see cref="CsvRules"/>.
/// </summary>
public static class CsvSeriesReader
{
    /// <summary>Validates a file without keeping its values; returns the data-quality report.</summary>
    public static DataQualityReport Validate(string path, CsvReadOptions? options = null)
    {
        using var stream = OpenOrReport(path, options, out var failure);
        return failure ?? new CsvEngine(options ?? CsvReadOptions.Default, path, materialise: false).Run(stream!).Report;
    }

    /// <summary>Validates a stream; <paramref name="fileName"/> names it in messages.</summary>
    public static DataQualityReport Validate(Stream stream, string fileName, CsvReadOptions? options = null) =>
        new CsvEngine(options ?? CsvReadOptions.Default, fileName, materialise: false).Run(stream).Report;

    /// <summary>
    /// Reads a file into a frame of the accepted rows, with its report. The frame is complete only when
    /// <see cref="DataQualityReport.Usable"/> is true; callers must check it (or use <see cref="Load(string, CsvReadOptions?)"/>).
    /// </summary>
    public static (TimeSeriesFrame Frame, DataQualityReport Report) Read(string path, CsvReadOptions? options = null)
    {
        using var stream = OpenOrReport(path, options, out var failure);
        if (failure is not null) return (EmptyFrame(), failure);
        return new CsvEngine(options ?? CsvReadOptions.Default, path, materialise: true).Run(stream!);
    }

    /// <summary>Reads a stream into a frame with its report; <paramref name="fileName"/> names it in messages.</summary>
    public static (TimeSeriesFrame Frame, DataQualityReport Report) Read(Stream stream, string fileName, CsvReadOptions? options = null) =>
        new CsvEngine(options ?? CsvReadOptions.Default, fileName, materialise: true).Run(stream);

    /// <summary>Reads a file and throws <see cref="InvalidInputException"/> (first error: file, line, column, rule) unless it is usable.</summary>
    public static TimeSeriesFrame Load(string path, CsvReadOptions? options = null)
    {
        var (frame, report) = Read(path, options);
        if (report.FirstErrorAsException() is { } e) throw e;
        return frame;
    }

    /// <summary>Reads a stream and throws <see cref="InvalidInputException"/> unless it is usable.</summary>
    public static TimeSeriesFrame Load(Stream stream, string fileName, CsvReadOptions? options = null)
    {
        var (frame, report) = Read(stream, fileName, options);
        if (report.FirstErrorAsException() is { } e) throw e;
        return frame;
    }

    private static TimeSeriesFrame EmptyFrame() => new([], [], [], 0);

    private static FileStream? OpenOrReport(string path, CsvReadOptions? options, out DataQualityReport? failure)
    {
        failure = null;
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var message = e is FileNotFoundException or DirectoryNotFoundException ? "file not found"
                : Directory.Exists(path) ? IO.InputFile.FolderMessage // the system says "Access to the path is denied"
                : "cannot open the file: " + e.Message;
            var issue = new DataIssue(IssueSeverity.Error, CsvRules.FileUnreadable, path, 0, 0, 0, "", message);
            failure = new DataQualityReport
            {
                File = path,
                Input = (options ?? CsvReadOptions.Default).Input,
                Columns = [],
                RowsIn = 0,
                Accepted = 0,
                Rejected = 0,
                RejectedByError = 0,
                DroppedByRepair = 0,
                BlankLines = 0,
                Bytes = 0,
                MissingByColumn = new Dictionary<string, long>(),
                Repairs = [],
                Errors = [issue],
                Warnings = [],
                IssueCounts = new Dictionary<string, long> { [CsvRules.FileUnreadable] = 1 },
                Truncated = true,
            };
            return null;
        }
    }
}
