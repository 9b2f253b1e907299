using System.Text;

namespace Crucible.Data.IO;

/// <summary>
/// The checks on a path the user named as an input file (<c>--data</c>, <c>--real</c>, <c>--synthetic</c>,
/// <c>--scenarios</c>, <c>--portfolio</c>, a config file): a folder is not taken for a missing or unreadable file, and a
/// file read whole into memory (JSON, a config, a key file, a trainer state) is refused by its size before it is read.
/// CSV data files stream and have their own caps (<see cref="Csv.CsvReadOptions"/>).
/// </summary>
public static class InputFile
{
    /// <summary>The message of a path that names a folder where a file is expected.</summary>
    public const string FolderMessage = "a folder, not a file: name the file itself";

    /// <summary>The rule of a file read whole that is larger than its limit: <c>FILE-E-SIZE</c>.</summary>
    public const string TooLargeRule = "FILE-E-SIZE";

    /// <summary>
    /// The largest JSON or config-like file read whole (64 MiB): a portfolio, <c>--config</c>, <c>--thresholds</c>,
    /// <c>--segments</c>, <c>--start-prices</c>, <c>--evidence</c>, a report, a run manifest, a scenario's
    /// <c>.meta.json</c>, a key or checkpoint file. A real one is a few kB.
    /// </summary>
    public const long MaxJsonBytes = 64L << 20;

    /// <summary>
    /// The largest trainer state (<c>train --checkpoint</c>) read whole: the largest byte array .NET allocates
    /// (<see cref="Array.MaxLength"/>, about 2 GiB).
    /// </summary>
    public const long MaxStateBytes = 0x7FFFFFC7;

    /// <summary>
    /// The rule of a folder named where a file is read whole (<see cref="ReadAllBytes"/>, <see cref="ReadAllText"/>,
    /// <see cref="ReadAllLines"/>): <c>not-a-file</c>, as the CSV and JSON readers that check first name it.
    /// </summary>
    public const string NotAFileRule = "not-a-file";

    /// <summary>
    /// Throws <see cref="InvalidInputException"/> (<paramref name="rule"/>, located at <paramref name="path"/>) when
    /// <paramref name="path"/> names a folder (opening one used to answer "Access to the path is denied", or "file not
    /// found"); a file, or a path that names nothing, passes (the caller reports those its own way).
    /// </summary>
    public static void ThrowIfFolder(string path, string rule)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new InvalidInputException(rule, FolderMessage, new InputLocation(path, 0, 0));
    }

    /// <summary>
    /// The bytes of the file at <paramref name="path"/>, as <see cref="File.ReadAllBytes"/> gives them, when it holds at
    /// most <paramref name="maxBytes"/>: a larger file is <see cref="TooLargeRule"/> (naming the file, its size and the
    /// limit) before a byte is read, and a file that reports no length (a device, a pipe) is refused after
    /// <paramref name="maxBytes"/> + 1 bytes, never read to an end that may not come.
    /// </summary>
    /// <exception cref="InvalidInputException"><see cref="TooLargeRule"/>, or <see cref="NotAFileRule"/> for a folder.</exception>
    /// <exception cref="IOException">The file cannot be opened or read (as <see cref="File.ReadAllBytes"/>).</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes = MaxJsonBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        ThrowIfFolder(path, NotAFileRule); // opened as a file, a folder answers UnauthorizedAccessException ("access denied")
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        long length = stream.CanSeek ? stream.Length : 0;
        if (length > maxBytes) throw TooLarge(path, length, maxBytes);
        if (length > 0)
        {
            // as File.ReadAllBytes: the length the file had when opened (a file that shrinks meanwhile gives what it holds)
            var bytes = new byte[length];
            int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            return read == bytes.Length ? bytes : bytes[..read];
        }

        // no length (a device, a pipe, a file under /proc): read up to the limit, never to an end that may not come
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        long limit = Math.Min(maxBytes, Array.MaxLength - 1);
        int n;
        while ((n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, limit + 1 - memory.Length))) > 0)
        {
            memory.Write(buffer, 0, n);
            if (memory.Length > limit) throw TooLarge(path, memory.Length, maxBytes, atLeast: true);
        }

        return memory.ToArray();
    }

    /// <summary>
    /// The text of the file at <paramref name="path"/>, decoded as <see cref="File.ReadAllText(string)"/> decodes it
    /// (UTF-8 unless a byte order mark says otherwise), refused by size as <see cref="ReadAllBytes"/>.
    /// </summary>
    /// <exception cref="InvalidInputException"><see cref="TooLargeRule"/>, or <see cref="NotAFileRule"/> for a folder.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static string ReadAllText(string path, long maxBytes = MaxJsonBytes)
    {
        var bytes = ReadAllBytes(path, maxBytes);
        using var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// The length of the UTF-8 byte-order mark that <paramref name="bytes"/> start with: 3, or 0 without one. JSON read
    /// from bytes (<c>JsonDocument.Parse</c>, <c>Utf8JsonReader</c>) refuses the mark, which some editors save; skip it as
    /// <see cref="ReadAllText"/> and the CSV readers do.
    /// </summary>
    public static int Utf8BomLength(ReadOnlySpan<byte> bytes) => bytes.StartsWith("\uFEFF"u8) ? 3 : 0;

    /// <summary>
    /// The lines of the file at <paramref name="path"/>, as <see cref="File.ReadAllLines(string)"/> splits them, refused
    /// by size as <see cref="ReadAllBytes"/>.
    /// </summary>
    /// <exception cref="InvalidInputException"><see cref="TooLargeRule"/>, or <see cref="NotAFileRule"/> for a folder.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    public static string[] ReadAllLines(string path, long maxBytes = MaxJsonBytes)
    {
        using var reader = new StringReader(ReadAllText(path, maxBytes));
        var lines = new List<string>();
        while (reader.ReadLine() is { } line) lines.Add(line);
        return [.. lines];
    }

    /// <summary>
    /// Throws <see cref="TooLargeRule"/> when the file at <paramref name="path"/> holds more than
    /// <paramref name="maxBytes"/>; a path that names no file passes (the caller reports it its own way).
    /// </summary>
    /// <exception cref="InvalidInputException"><see cref="TooLargeRule"/>.</exception>
    public static void ThrowIfTooLarge(string path, long maxBytes = MaxJsonBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (info.Exists && info.Length > maxBytes) throw TooLarge(path, info.Length, maxBytes);
    }

    private static InvalidInputException TooLarge(string path, long size, long maxBytes, bool atLeast = false) =>
        new(TooLargeRule,
            $"the file is {(atLeast ? "at least " : "")}{size} bytes{Size(size)}, more than the {maxBytes} bytes{Size(maxBytes)} a file read whole into memory may hold here: not read",
            new InputLocation(path, 0, 0));

    // " (64 MiB)": the size in the largest binary unit it reaches, for a reader; nothing under 1 KiB
    private static string Size(long bytes) =>
        bytes >= 1L << 30 ? FormattableString.Invariant($" ({bytes / (double)(1L << 30):0.##} GiB)")
        : bytes >= 1L << 20 ? FormattableString.Invariant($" ({bytes / (double)(1L << 20):0.##} MiB)")
        : bytes >= 1L << 10 ? FormattableString.Invariant($" ({bytes / 1024.0:0.##} KiB)")
        : "";
}
