using System.Text;

namespace Crucible.Data.Csv;

/// <summary>
/// A forward-only reader of a CSV file's records over the data loader's own RFC 4180 tokenizer (the one
/// <see cref="CsvSeriesReader"/> uses): records split on CRLF, LF or CR; quoted fields with doubled quotes and line
/// breaks; a UTF-8 byte-order mark stripped; UTF-16 refused; the caps of <see cref="CsvReadOptions"/> on field length,
/// record length and column count. It gives fields as they are in the file (quotes removed, nothing trimmed or
/// converted), for readers of other CSV layouts that must tokenize exactly as the data loader does.
/// </summary>
/// <remarks>
/// A structural problem (a quote never closed or a stray quote, a cap exceeded, UTF-16) throws
/// <see cref="InvalidInputException"/> with the <see cref="CsvRules"/> identifier (<see cref="CsvRules.Quote"/>,
/// <see cref="CsvRules.FieldLength"/>, <see cref="CsvRules.Columns"/>, <see cref="CsvRules.Encoding"/>), the file, the
/// 1-based line and the 1-based field (0 when it concerns the whole file).
/// </remarks>
public sealed class CsvRecordReader : IDisposable
{
    private readonly CsvTokenizer _tokenizer;
    private readonly string _file;

    private CsvRecordReader(CsvTokenizer tokenizer, string file)
    {
        _tokenizer = tokenizer;
        _file = file;
    }

    /// <summary>
    /// Opens <paramref name="path"/> with <paramref name="delimiter"/> and the caps of <paramref name="caps"/>
    /// (<see cref="CsvReadOptions.Default"/> when null; only its caps are used).
    /// </summary>
    /// <exception cref="InvalidInputException">The file is UTF-16 (rule <see cref="CsvRules.Encoding"/>).</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static CsvRecordReader Open(string path, char delimiter = ',', CsvReadOptions? caps = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return Open(stream, path, delimiter, caps);
    }

    /// <summary>
    /// As <see cref="Open(string, char, CsvReadOptions?)"/> over a stream (disposed with the reader);
    /// <paramref name="fileName"/> names it in errors.
    /// </summary>
    public static CsvRecordReader Open(Stream stream, string fileName, char delimiter = ',', CsvReadOptions? caps = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(fileName);
        var o = caps ?? CsvReadOptions.Default;
        try
        {
            return new CsvRecordReader(new CsvTokenizer(stream, delimiter, o.MaxFieldLength, o.MaxRecordLength, o.MaxColumns), fileName);
        }
        catch (CsvFatalException e)
        {
            stream.Dispose();
            throw Located(e, fileName);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The 1-based physical line where the current record starts.</summary>
    public long Line => _tokenizer.RecordLine;

    /// <summary>The number of fields of the current record (an empty line has one empty field).</summary>
    public int FieldCount => _tokenizer.FieldCount;

    /// <summary>True when the current record is an empty line.</summary>
    public bool IsBlank => _tokenizer.IsBlank;

    /// <summary>True when the file began with a UTF-8 byte-order mark (stripped).</summary>
    public bool HadUtf8Bom => _tokenizer.HadUtf8Bom;

    /// <summary>Reads the next record; false at the end of the file.</summary>
    /// <exception cref="InvalidInputException">A structural problem (see the remarks of <see cref="CsvRecordReader"/>).</exception>
    public bool Read()
    {
        try
        {
            return _tokenizer.ReadRecord();
        }
        catch (CsvFatalException e)
        {
            throw Located(e, _file);
        }
    }

    /// <summary>
    /// The UTF-8 bytes of field <paramref name="i"/> (0-based) of the current record, quotes removed and doubled quotes
    /// undone; valid until the next <see cref="Read"/> or <see cref="Field(int)"/> call.
    /// </summary>
    public ReadOnlySpan<byte> Field(int i)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, FieldCount);
        return _tokenizer.Field(i);
    }

    /// <summary>Field <paramref name="i"/> decoded from UTF-8 (an invalid sequence becomes U+FFFD).</summary>
    public string FieldText(int i) => Encoding.UTF8.GetString(Field(i));

    /// <summary>Whether field <paramref name="i"/> was quoted in the file.</summary>
    public bool FieldQuoted(int i)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, FieldCount);
        return _tokenizer.FieldQuoted(i);
    }

    /// <inheritdoc />
    public void Dispose() => _tokenizer.Dispose();

    private static InvalidInputException Located(CsvFatalException e, string file) =>
        new(e.Rule, e.Message, new InputLocation(file, e.Line, e.Column));
}
